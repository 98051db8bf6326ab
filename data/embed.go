// Package data is the bundled dataset: the seed documents Annals ships with
// and the curated records that go with them, embedded in the binary, and the
// code that loads them into a store.
//
// Layout:
//
//	seeds/*.txt                   documents in the seed format, imported through package ingest
//	curated/actors/{id}.textproto  one annals.v1.Actor each
//	curated/places/{id}.textproto  one annals.v1.Place each
//	curated/events/{id}.textproto  one annals.v1.Event each; when a seed document
//	                               gives an event of the same name, the file is an
//	                               overlay holding only what the document does not say
package data

import "embed"

// FS holds the bundled dataset.
//
//go:embed seeds/*.txt curated
var FS embed.FS
