// Package store keeps the archive's records behind one interface. The SQLite
// backend (package store/sqlite) is the embedded default; package
// store/storetest holds the conformance suite every backend must pass.
package store

import (
	"context"
	"errors"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"google.golang.org/protobuf/proto"
)

// MaxQueryWords is the most different words a full-text query may have; a
// backend refuses more with ErrInvalidQuery.
const MaxQueryWords = 32

// Errors a backend returns, wrapped with context. The server maps them to gRPC codes.
var (
	// ErrNotFound means the named record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidCursor means a page cursor was not made by this backend for this query.
	ErrInvalidCursor = errors.New("invalid page cursor")
	// ErrInvalidQuery means a full-text query has nothing to search for.
	ErrInvalidQuery = errors.New("invalid full-text query")
	// ErrReadOnly means the database cannot be written (read-only file, full disk).
	ErrReadOnly = errors.New("database is not writable")
	// ErrUnavailable means the database cannot answer now but may later: it
	// is locked by another process, restarting, unreachable, or a primary
	// is down. Callers may retry; the server answers Unavailable.
	ErrUnavailable = errors.New("database unavailable")
	// ErrDataLoss means a stored record is corrupt: its bytes do not match
	// the checksum kept with them, or do not decode.
	ErrDataLoss = errors.New("stored record is corrupt")
	// ErrIncompatible means the database was made by a newer program, or is
	// not an Annals database at all.
	ErrIncompatible = errors.New("incompatible database")
)

// CorruptError names a stored record whose bytes are damaged. It wraps
// ErrDataLoss.
type CorruptError struct {
	// Name is the record's resource name.
	Name string
	// Problem says what is wrong, e.g. "its stored bytes do not match their checksum".
	Problem string
}

func (e *CorruptError) Error() string { return e.Name + ": " + ErrDataLoss.Error() + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrDataLoss) true.
func (e *CorruptError) Unwrap() error { return ErrDataLoss }

// EventFilter selects events; zero fields do not filter. Fields combine with AND.
type EventFilter struct {
	// Month and Day select "on this day" events: Month needs a date known to
	// the month, Day (which needs Month) a date known to the day.
	Month, Day int32
	// From and To bound the day keys (see histdate.Key) of the events' spans,
	// inclusive: an event matches when it overlaps [From, To]. Zero means open.
	From, To int64
	// HasFrom and HasTo say whether From and To are set.
	HasFrom, HasTo bool
	// Actor and Place are resource names ("actors/{id}", "places/{id}").
	Actor, Place string
	// WikidataID is a Wikidata item id such as "Q649".
	WikidataID string
	// Query is a full-text query: words, all of which must occur; a word ending in * matches as a prefix.
	Query string
}

// ActorFilter selects actors; zero fields do not filter.
type ActorFilter struct {
	Kind       annalsv1.ActorKind
	WikidataID string
	Query      string
}

// PlaceFilter selects places; zero fields do not filter.
type PlaceFilter struct {
	WikidataID string
	Query      string
}

// Page asks for at most Limit records after the cursor After ("" for the first page).
type Page struct {
	Limit int
	After string
}

// Result is one page of records and the cursor of the next page ("" at the end).
type Result[T any] struct {
	Items []T
	Next  string
}

// Batch is a set of records written together in one transaction: all of them or none.
// Records are complete: a record replaces the stored one with the same name.
type Batch struct {
	Sources []*annalsv1.Source
	Events  []*annalsv1.Event
	Actors  []*annalsv1.Actor
	Places  []*annalsv1.Place
	// Deletes names records to remove. A name that is not stored is
	// ignored; a name may not also be written by the same batch.
	Deletes []string
	// Verbatim keeps the output-only fields the records carry (create_time,
	// update_time, etag) instead of stamping new ones: a copy of an archive
	// (annals copy) keeps its records exactly. Records without them are
	// stamped as usual.
	Verbatim bool
}

// ChangeKind is what a write did to one record.
type ChangeKind = annalsv1.ChangeKind

// Change is what a write did to one record.
type Change struct {
	Name string
	Kind ChangeKind
}

// LogEntry is one entry of the change log: what one committed write did to
// one record. Every write appends, in its own transaction, one entry per
// record it created, updated or deleted (none for an unchanged one), so the
// log and the records never disagree, whatever happens to the process.
type LogEntry struct {
	// Seq numbers the entries in commit order: strictly increasing, starting
	// at 1, never reused. An entry appears to readers only once every entry
	// with a smaller Seq has, so a reader that has seen Seq n has seen every
	// entry up to n. Numbers may be skipped.
	Seq int64
	// Name is the record's resource name.
	Name string
	// Kind is CHANGE_KIND_CREATED, CHANGE_KIND_UPDATED or CHANGE_KIND_DELETED.
	Kind ChangeKind
	// Time is when the write happened, in Unix nanoseconds: the record's new
	// update_time (for a deletion, the time of the deleting write).
	Time int64
	// Etag is the record's new etag; "" for a deletion.
	Etag string
}

// Lookup is what a write transaction reads through (see Writer.Update): the
// records by name and the name matches the reconciler needs.
type Lookup interface {
	GetEvent(ctx context.Context, name string) (*annalsv1.Event, error)
	GetActor(ctx context.Context, name string) (*annalsv1.Actor, error)
	GetPlace(ctx context.Context, name string) (*annalsv1.Place, error)
	GetSource(ctx context.Context, name string) (*annalsv1.Source, error)

	// MatchNames returns, sorted, the names of the records of collection k
	// (resource.Actors or resource.Places) that have a label or alias whose
	// resource.MatchKey equals key.
	MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error)
}

// Reader is the read side of the archive.
type Reader interface {
	Lookup

	// ListEvents returns events ordered by the start of their span, then by name.
	ListEvents(ctx context.Context, f EventFilter, p Page) (Result[*annalsv1.Event], error)
	// ListActors returns actors ordered by name.
	ListActors(ctx context.Context, f ActorFilter, p Page) (Result[*annalsv1.Actor], error)
	// ListPlaces returns places ordered by name.
	ListPlaces(ctx context.Context, f PlaceFilter, p Page) (Result[*annalsv1.Place], error)

	// WalkEvents, WalkActors, WalkPlaces and WalkSources call fn for every
	// record of their collection in name order, streaming: memory does not
	// grow with the archive. They stop at the first error fn returns and return it.
	WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error
	WalkActors(ctx context.Context, fn func(*annalsv1.Actor) error) error
	WalkPlaces(ctx context.Context, fn func(*annalsv1.Place) error) error
	WalkSources(ctx context.Context, fn func(*annalsv1.Source) error) error

	// Stats counts the records of each collection and gives the time of the last write.
	Stats(ctx context.Context) (Stats, error)

	// Changes returns, in order, at most limit entries of the change log
	// with Seq greater than after (limit < 1 means 1000, and more than
	// 1000 is cut to 1000).
	Changes(ctx context.Context, after int64, limit int) ([]LogEntry, error)
	// LastSeq is the Seq of the newest entry of the change log, 0 when it is empty.
	LastSeq(ctx context.Context) (int64, error)
}

// Encoded is implemented by backends that keep each event's deterministic
// protobuf encoding (with its output-only fields) and can hand it out
// without decoding it. The gRPC service answers GetEvent and ListEvents from
// these bytes, sparing a decode and an encode of every event it sends; the
// records are the same as GetEvent's and ListEvents'.
type Encoded interface {
	// GetEventEncoded is GetEvent's record, encoded. The bytes may be
	// shared with other callers (a backend may keep them in memory): they
	// must not be changed.
	GetEventEncoded(ctx context.Context, name string) ([]byte, error)
	// ListEventsEncoded is ListEvents' page, each record encoded.
	ListEventsEncoded(ctx context.Context, f EventFilter, p Page) (Result[[]byte], error)
}

// UpdateFunc computes the batch a write stores from the archive as the
// write's transaction sees it (tx). It may be called more than once for one
// write (a backend retries a transaction that lost to a concurrent one), so
// it must have no effect besides its result, and must not use the store
// except through tx. The batch it returns belongs to the store.
type UpdateFunc func(ctx context.Context, tx Lookup) (*Batch, error)

// Writer is the write side of the archive.
type Writer interface {
	// Update is one atomic read-modify-write: it runs fn in a write
	// transaction, where tx sees every write committed before it and no
	// other write can interleave, and writes the batch fn returns in the
	// same transaction, as Put does. Concurrent Updates, from this process
	// or any other using the same database, give the archive the same
	// records as running them one by one in their commit order. An error
	// from fn aborts the write and is returned as it is.
	Update(ctx context.Context, fn UpdateFunc) ([]Change, error)
	// Put writes a batch in one transaction and reports, per record, whether it
	// was created, updated, unchanged (content equal, ignoring output-only
	// fields) or deleted. It sets create_time, update_time and etag on the stored copies
	// (an unchanged record keeps its stored ones; see Batch.Verbatim) and indexes the match keys of
	// every actor's and place's labels and aliases for MatchNames, and it
	// appends a LogEntry per created, updated or deleted record. Changes are
	// sorted by name.
	Put(ctx context.Context, b *Batch) ([]Change, error)
	// Meta and SetMeta read and write small named values, such as the version
	// of the bundled dataset loaded into the database.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Stats describes the archive as a whole.
type Stats struct {
	Events, Actors, Places, Sources int64
	// LastModified is the latest update_time of any record, in Unix nanoseconds (0 if empty).
	LastModified int64
}

// Checker is implemented by backends that can say whether they can serve
// now. Check returns nil when they can, or an error wrapping ErrUnavailable
// (unreachable, or the database file replaced underneath) or ErrReadOnly.
// The server polls it to keep its health status true.
type Checker interface {
	Check(ctx context.Context) error
}

// Store is a complete backend.
type Store interface {
	Reader
	Writer
	Close() error
}

// Records returns every record of the batch as a proto message: sources,
// events, actors, then places, each in batch order.
func (b *Batch) Records() []proto.Message {
	if b == nil {
		return nil
	}
	ms := make([]proto.Message, 0, len(b.Sources)+len(b.Events)+len(b.Actors)+len(b.Places))
	for _, m := range b.Sources {
		ms = append(ms, m)
	}
	for _, m := range b.Events {
		ms = append(ms, m)
	}
	for _, m := range b.Actors {
		ms = append(ms, m)
	}
	for _, m := range b.Places {
		ms = append(ms, m)
	}
	return ms
}

// Get reads the record a resource name names, whatever its collection: an
// *annalsv1.Event, Actor, Place or Source. A malformed name gives an error
// wrapping resource.ErrMalformed; an unknown one, ErrNotFound.
func Get(ctx context.Context, r Reader, name string) (proto.Message, error) {
	k, _, err := resource.Parse(name)
	if err != nil {
		return nil, err
	}
	switch k {
	case resource.Events:
		return r.GetEvent(ctx, name)
	case resource.Actors:
		return r.GetActor(ctx, name)
	case resource.Places:
		return r.GetPlace(ctx, name)
	default:
		return r.GetSource(ctx, name)
	}
}

// Bulk is implemented by backends with a faster way to fill a new archive
// with many large batches (annals gen). BeginBulk prepares the store for
// the load; the returned end, which must be called before the store is used
// otherwise, makes what was loaded durable and ready to query.
type Bulk interface {
	BeginBulk(ctx context.Context) (end func(context.Context) error, err error)
}

// MetaLister is implemented by backends that can list the keys of the
// values kept with SetMeta (annals copy copies them all).
type MetaLister interface {
	MetaKeys(ctx context.Context) ([]string, error)
}
