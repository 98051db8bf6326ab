package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// exportChunkBytes is the most dump bytes one ExportDataset message carries,
// well under gRPC's default 4 MiB message limit.
const exportChunkBytes = 1 << 20

// exportService implements annals.v1.ExportService over a store and an exporter.
type exportService struct {
	annalsv1.UnimplementedExportServiceServer

	store    store.Reader
	exporter *exporter.Exporter
	log      *slog.Logger
	limit    chan struct{} // one token per concurrent export allowed
	stall    time.Duration // cut a stream whose client reads nothing this long (0: DefaultStreamStallTimeout)
}

// RegisterExportService adds ExportService, writing RDF through x, to s.
// maxConcurrent bounds the ExportDataset streams running at once (0 means
// DefaultMaxConcurrentExports); past it, calls get ResourceExhausted.
func RegisterExportService(s *Server, st store.Reader, x *exporter.Exporter, maxConcurrent int) {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrentExports
	}
	annalsv1.RegisterExportServiceServer(s, &exportService{
		store: st, exporter: x, log: s.log, limit: make(chan struct{}, maxConcurrent), stall: s.stall,
	})
}

// DefaultMaxConcurrentExports is how many whole-archive exports (gRPC streams
// and HTTP dumps, each counted on its own side) may run at once.
const DefaultMaxConcurrentExports = 4

// ExportResource returns one resource's RDF.
func (e *exportService) ExportResource(ctx context.Context, req *annalsv1.ExportResourceRequest) (*annalsv1.ExportResourceResponse, error) {
	f, err := validateExportResource(req)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := e.exporter.Resource(ctx, e.store, req.GetName(), &buf, f); err != nil {
		return nil, withResource(req.GetName(), err)
	}
	return &annalsv1.ExportResourceResponse{ContentType: f.ContentType(), Content: buf.String()}, nil
}

// ExportDataset streams the whole archive in chunks of at most exportChunkBytes.
func (e *exportService) ExportDataset(req *annalsv1.ExportDatasetRequest, stream annalsv1.ExportService_ExportDatasetServer) error {
	f, err := validateExportDataset(req)
	if err != nil {
		return err
	}
	select {
	case e.limit <- struct{}{}:
		defer func() { <-e.limit }()
	default:
		return errTooManyExports
	}
	w := &chunkWriter{send: func(b []byte, first bool) error {
		msg := &annalsv1.ExportDatasetResponse{Data: b}
		if first {
			msg.ContentType = f.ContentType()
		}
		return sendWithin(stream, msg, e.stallTimeout())
	}}
	if _, err := e.exporter.Dataset(stream.Context(), e.store, w, f, nil); err != nil {
		return fmt.Errorf("export dataset: %w", err)
	}
	return w.flush()
}

// chunkWriter cuts a byte stream into messages of exportChunkBytes.
type chunkWriter struct {
	buf  []byte
	sent bool
	send func(b []byte, first bool) error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := exportChunkBytes - len(w.buf)
		take := min(room, len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == exportChunkBytes {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// flush sends what is buffered; the first message is sent even when empty,
// so that the client always learns the content type.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.sent {
		return nil
	}
	first := !w.sent
	w.sent = true
	err := w.send(w.buf, first)
	w.buf = make([]byte, 0, exportChunkBytes)
	return err
}

// DefaultStreamStallTimeout is how long a server stream may wait for its
// client to read (its flow-control window full) before the server cuts it
// with DeadlineExceeded (reason CLIENT_STALLED): a client that reads
// nothing cannot hold an export slot, or any stream, for ever. It matches
// the HTTP side's HTTPWriteTimeout; Config.StreamStallTimeout changes it.
const DefaultStreamStallTimeout = HTTPWriteTimeout

// stallTimeout is the service's stream stall timeout.
func (e *exportService) stallTimeout() time.Duration {
	if e.stall <= 0 {
		return DefaultStreamStallTimeout
	}
	return e.stall
}

// errStalled means a streaming client read nothing for the stream stall timeout.
var errStalled = errors.New("the client read nothing for too long")

// sender is the sending half of a server stream.
type sender[M any] interface {
	Send(M) error
}

// sendWithin sends msg on stream, or gives up with errStalled when the send
// has not gone out within d (the client reads nothing, so the stream's
// flow-control window stays full). The handler then returns, which ends the
// stream and unblocks the abandoned send; the stream is not used again.
func sendWithin[M any](stream sender[M], msg M, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- stream.Send(msg) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errStalled
	}
}

// errTooManyExports means the cap on concurrent exports is reached.
var errTooManyExports = fmt.Errorf("too many exports running; try again later")

// validateExportResource checks an ExportResource request and returns its format.
func validateExportResource(req *annalsv1.ExportResourceRequest) (exporter.Format, error) {
	var c checker
	if req.GetName() == "" {
		c.add("name", "a resource name such as \"events/{id}\" is required")
	} else if _, _, err := resource.Parse(req.GetName()); err != nil {
		c.add("name", "%s", nameProblem(err))
	}
	f := c.format("format", req.GetFormat())
	return f, c.err()
}

// validateExportDataset checks an ExportDataset request and returns its format.
func validateExportDataset(req *annalsv1.ExportDatasetRequest) (exporter.Format, error) {
	var c checker
	f := c.format("format", req.GetFormat())
	return f, c.err()
}

// format turns an RdfFormat into the exporter's; unset means Turtle.
func (c *checker) format(field string, f annalsv1.RdfFormat) exporter.Format {
	switch f {
	case annalsv1.RdfFormat_RDF_FORMAT_UNSPECIFIED, annalsv1.RdfFormat_RDF_FORMAT_TURTLE:
		return exporter.Turtle
	case annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES:
		return exporter.NTriples
	case annalsv1.RdfFormat_RDF_FORMAT_JSON_LD:
		return exporter.JSONLD
	}
	c.add(field, "unknown format %d; want RDF_FORMAT_TURTLE, RDF_FORMAT_N_TRIPLES or RDF_FORMAT_JSON_LD", int32(f))
	return 0
}

// nameProblem says what is wrong with a resource name, for a person.
func nameProblem(err error) string {
	return strings.Replace(err.Error(), resource.ErrMalformed.Error(), "malformed resource name", 1)
}
