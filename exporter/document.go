package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// The per-resource documents: what {base}/events/{id} and its siblings
// dereference to ({base}/events/{id}.ttl, .nt, .jsonld, .html). A document
// holds the record's own triples (those of the dump), and, so that a reader
// can follow their nose without fetching every link first, what depends on
// other records: the labels of the resources it links to, and for an actor
// or a place the events that link to it (inverse links, with their labels).
// It ends with its own description: for each of the record's documents,
// foaf:primaryTopic the record, its licence and its media type. None of
// that is in the dump, where each record's triples depend on the record
// alone.

// listPage is how many events a document's inverse links are read at a time.
const listPage = 500

// MaxInverseEvents bounds the events an actor's or a place's document lists
// (the first ones by date, as ListEvents orders them), so that a document
// stays small whatever the archive: the dump and a SPARQL store have them
// all.
const MaxInverseEvents = 1000

// DocumentFormats are the representations of a record's document, with the
// file extension each has under the record's IRI ({iri}.ttl …) and its media
// type: Turtle, N-Triples, JSON-LD and the HTML page.
var DocumentFormats = []struct {
	Ext, MediaType string
}{
	{".ttl", "text/turtle"},
	{".nt", "application/n-triples"},
	{".jsonld", "application/ld+json"},
	{".html", "text/html"},
}

// Resource writes the document of one record, named "events/{id}",
// "actors/{id}", "places/{id}" or "sources/{id}", to w in format f: the
// triples of Document. A name that does not exist gives an error wrapping
// store.ErrNotFound; a malformed one, an error wrapping resource.ErrMalformed.
func (x *Exporter) Resource(ctx context.Context, r store.Reader, name string, w io.Writer, f Format) error {
	ts, err := x.Document(ctx, r, name)
	if err != nil {
		return err
	}
	_, err = x.writeDoc(w, f, ts)
	return err
}

// Document returns the triples of the document of the named record, in the
// order documents write them: the record's own triples (Triples), then the
// labels of the records it links to, the events that link to it (for an
// actor or a place), and the description of the document itself.
func (x *Exporter) Document(ctx context.Context, r store.Reader, name string) ([]rdf.Triple, error) {
	rec, err := store.Get(ctx, r, name)
	if err != nil {
		return nil, fmt.Errorf("exporter: %s: %w", name, err)
	}
	own, err := x.Triples(rec)
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		return nil, fmt.Errorf("exporter: %s: %w", name, store.ErrNotFound)
	}
	self := x.iri(name)
	extra := x.newBuilder()

	// The events that link to an actor or a place: their triples whose
	// object is this record, as the dump has them.
	var inverse []*annalsv1.Event
	k, _, _ := resource.Parse(name)
	if k == resource.Actors || k == resource.Places {
		if inverse, err = x.linkingEvents(ctx, r, k, name); err != nil {
			return nil, err
		}
	}
	linked := map[string]bool{}
	for _, e := range inverse {
		ets, err := x.EventTriples(e)
		if err != nil {
			return nil, err
		}
		for _, t := range ets {
			if o, ok := t.Obj.(rdf.IRI); ok && o == self {
				extra.ts = append(extra.ts, t)
			}
		}
		linked[x.IRI(e.GetName())] = true
	}

	// The labels of every record the document links to.
	for _, t := range own {
		if o, ok := t.Obj.(rdf.IRI); ok {
			if s := o.String(); s != self.String() && x.isRecordIRI(s) {
				linked[s] = true
			}
		}
	}
	names := make([]string, 0, len(linked))
	for iri := range linked {
		names = append(names, strings.TrimPrefix(iri, x.base+"/"))
	}
	slices.Sort(names)
	for _, n := range names {
		m, err := store.Get(ctx, r, n)
		if errors.Is(err, store.ErrNotFound) {
			continue // a dangling link: nothing to say about it
		}
		if err != nil {
			return nil, fmt.Errorf("exporter: %s: %w", n, err)
		}
		x.labelsOf(extra, m)
	}

	// The documents of the record.
	for _, df := range DocumentFormats {
		doc := mustIRI(self.String() + df.Ext)
		extra.add(doc, rdfType, foafDocument)
		extra.add(doc, foafPrimaryTopic, self)
		extra.add(doc, dctermsLicense, licenseCCBYSA4)
		extra.add(doc, dctermsFormat, mustIRI("https://www.iana.org/assignments/media-types/"+df.MediaType))
	}
	more, err := extra.done()
	if err != nil {
		return nil, err
	}
	return append(own, more...), nil
}

// isRecordIRI reports whether iri is the IRI of a record of this exporter
// (not of a node under one).
func (x *Exporter) isRecordIRI(iri string) bool {
	rest, ok := strings.CutPrefix(iri, x.base+"/")
	if !ok || strings.ContainsRune(rest, '#') {
		return false
	}
	_, _, err := resource.Parse(rest)
	return err == nil
}

// labelsOf adds the names of record m: its rdfs:label (a source's
// dcterms:title).
func (x *Exporter) labelsOf(b *builder, m proto.Message) {
	switch m := m.(type) {
	case *annalsv1.Event:
		for _, l := range m.GetLabels() {
			b.label(x.iri(m.GetName()), l, rdfsLabel)
		}
	case *annalsv1.Actor:
		for _, l := range m.GetLabels() {
			b.label(x.iri(m.GetName()), l, rdfsLabel)
		}
	case *annalsv1.Place:
		for _, l := range m.GetLabels() {
			b.label(x.iri(m.GetName()), l, rdfsLabel)
		}
	case *annalsv1.Source:
		b.english(x.iri(m.GetName()), dctermsTitle, m.GetTitle())
	}
}

// linkingEvents returns every event that has the actor (or the place) name.
func (x *Exporter) linkingEvents(ctx context.Context, r store.Reader, k resource.Kind, name string) ([]*annalsv1.Event, error) {
	f := store.EventFilter{Actor: name}
	if k == resource.Places {
		f = store.EventFilter{Place: name}
	}
	var out []*annalsv1.Event
	p := store.Page{Limit: listPage}
	for {
		res, err := r.ListEvents(ctx, f, p)
		if err != nil {
			return nil, fmt.Errorf("exporter: events of %s: %w", name, err)
		}
		out = append(out, res.Items...)
		if len(out) >= MaxInverseEvents {
			return out[:MaxInverseEvents], nil
		}
		if res.Next == "" {
			return out, nil
		}
		p.After = res.Next
	}
}
