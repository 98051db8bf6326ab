package ingest

// This file fixes the package's contract before its implementation lands, so
// that the server and the command line can be written against it.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/annals-project/annals/store"
)

// MaxDocumentBytes is the largest document Annals accepts (1 MiB).
const MaxDocumentBytes = 1 << 20

// ErrTooLarge is returned (inside a *ParseError) for a document above MaxDocumentBytes.
var ErrTooLarge = errors.New("document too large")

// ParseError says why a document was refused: the file, the 1-based line
// (0 when the problem is the document as a whole) and what was expected.
type ParseError struct {
	File string
	Line int
	Msg  string
	Err  error // an underlying sentinel such as ErrTooLarge, or nil
}

func (e *ParseError) Error() string {
	f := e.File
	if f == "" {
		f = "document"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", f, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", f, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Options change how Import works.
type Options struct {
	// DryRun parses and reconciles but writes nothing; the report says what would change.
	DryRun bool
	// ImportTime is stamped on a new source as its import_time; zero means
	// the current time.
	ImportTime time.Time
	// Amend, when set, may change the batch reconciling gives before it is
	// written, in the same transaction (the bundled dataset adds its curated
	// overlays so). It must be deterministic: it may run more than once.
	Amend func(*store.Batch)
}

// Report says what importing one document did (or, in a dry run, would do).
type Report struct {
	// Event and Source are the resource names of the document's event and source revision.
	Event, Source string
	// Changes has one entry per record written, sorted by name.
	Changes []store.Change
	// Warnings name unreconciled and ambiguous names, for a curator.
	Warnings []string
	// Batch is what was (or would be) written.
	Batch *store.Batch
}

// Importer is the contract of Import, for callers that want to substitute it in tests.
type Importer func(ctx context.Context, st store.Store, filename string, text []byte, opts Options) (*Report, error)
