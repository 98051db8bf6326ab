package mirror

import (
	"context"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/annals-project/annals/exporter"
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

// exporterRenderer is Renderer over the exporter: RecordTriples for a
// record, DatasetTriples for the dataset description. DatasetTriples maps
// the whole archive to count its triples, so Dataset costs about as much as
// a dump: the mirror refreshes the dataset graph at most every
// Config.DatasetInterval.
type exporterRenderer struct {
	x *exporter.Exporter
	r store.Reader
}

// NewRenderer returns the Renderer of x's mapping over the archive r.
func NewRenderer(x *exporter.Exporter, r store.Reader) Renderer {
	return &exporterRenderer{x: x, r: r}
}

func (er *exporterRenderer) Record(ctx context.Context, w io.Writer, rec proto.Message) error {
	_, err := er.x.RecordTriples(ctx, w, rec)
	return err
}

func (er *exporterRenderer) Dataset(ctx context.Context, w io.Writer) error {
	_, err := er.x.DatasetTriples(ctx, er.r, w)
	return err
}
