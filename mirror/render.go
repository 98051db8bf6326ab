package mirror

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// Renderer writes the RDF the mirror puts in the SPARQL store, as
// N-Triples: one record's triples (its named graph), and the triples of the
// dump that belong to no record (the dataset graph). A dump of the archive
// must be exactly the union of every record's triples and the dataset's.
type Renderer interface {
	// Record writes the triples of one record (*annalsv1.Event, Actor,
	// Place or Source): only those of its own description, so that replacing
	// its graph when it changes is all a change needs.
	Record(ctx context.Context, w io.Writer, rec proto.Message) error
	// Dataset writes the triples of the dump that no record has: the
	// document header and the VoID/DCAT description, whose void:triples
	// counts the whole dump.
	Dataset(ctx context.Context, w io.Writer) error
}

// exporterRenderer is Renderer over the exporter as it is today:
// EventTriples (ActorTriples, …) for a record; for the dataset, the dump's
// full header and Description's VoID/DCAT triples. Description maps the
// whole archive to count its triples, so Dataset costs about as much as a
// dump: the mirror refreshes the dataset graph at most every
// Config.DatasetInterval.
//
// When the exporter offers per-record N-Triples and the dataset description
// itself (issue 11), NewRenderer is the one place to switch to them.
type exporterRenderer struct {
	x      *exporter.Exporter
	r      store.Reader
	header func() ([]byte, error)
}

// NewRenderer returns the Renderer of x's mapping over the archive r.
func NewRenderer(x *exporter.Exporter, r store.Reader) Renderer {
	er := &exporterRenderer{x: x, r: r}
	er.header = sync.OnceValues(er.fullHeader)
	return er
}

func (er *exporterRenderer) Record(ctx context.Context, w io.Writer, rec proto.Message) error {
	var ts []rdf.Triple
	var err error
	switch rec := rec.(type) {
	case *annalsv1.Event:
		ts, err = er.x.EventTriples(rec)
	case *annalsv1.Actor:
		ts, err = er.x.ActorTriples(rec)
	case *annalsv1.Place:
		ts, err = er.x.PlaceTriples(rec)
	case *annalsv1.Source:
		ts, err = er.x.SourceTriples(rec)
	default:
		return fmt.Errorf("mirror: cannot render a %T", rec)
	}
	if err != nil {
		return err
	}
	enc := rdf.NewTripleEncoder(w, rdf.NTriples)
	if err := enc.EncodeAll(ts); err != nil {
		return err
	}
	return enc.Close()
}

// vannPrefix is the predicate of the header triples every document starts with.
const vannPrefix = "<http://purl.org/vocab/vann/preferredNamespacePrefix>"

func (er *exporterRenderer) Dataset(ctx context.Context, w io.Writer) error {
	h, err := er.header()
	if err != nil {
		return err
	}
	var desc bytes.Buffer
	if err := er.x.Description(ctx, er.r, &desc, exporter.NTriples); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(h)
	// Description starts with the header lines its own triples use; the
	// dump's header (all of them) is already written.
	for line := range strings.Lines(desc.String()) {
		if !isHeader(line) {
			bw.WriteString(line)
		}
	}
	return bw.Flush()
}

func isHeader(line string) bool {
	_, rest, ok := strings.Cut(line, " ")
	return ok && strings.HasPrefix(rest, vannPrefix)
}

// fullHeader returns the header of a dump: the dump of an archive without
// records, less its description.
func (er *exporterRenderer) fullHeader() ([]byte, error) {
	var dump bytes.Buffer
	if _, err := er.x.Dataset(context.Background(), noRecords{er.r}, &dump, exporter.NTriples, nil); err != nil {
		return nil, err
	}
	var h bytes.Buffer
	for line := range strings.Lines(dump.String()) {
		if isHeader(line) {
			h.WriteString(line)
		}
	}
	return h.Bytes(), nil
}

// noRecords is a Reader whose walks find nothing.
type noRecords struct{ store.Reader }

func (noRecords) WalkEvents(context.Context, func(*annalsv1.Event) error) error   { return nil }
func (noRecords) WalkActors(context.Context, func(*annalsv1.Actor) error) error   { return nil }
func (noRecords) WalkPlaces(context.Context, func(*annalsv1.Place) error) error   { return nil }
func (noRecords) WalkSources(context.Context, func(*annalsv1.Source) error) error { return nil }
