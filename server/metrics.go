package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// Metrics are the Prometheus metrics of one Annals process, on a registry of
// its own (never the global default, so tests and embedders stay
// independent). Labels take only bounded values — method names, route
// patterns, codes, outcomes — never a raw path or a resource name.
//
//	grpc_server_started_total, grpc_server_handled_total{grpc_service, grpc_method, grpc_type, grpc_code},
//	grpc_server_handling_seconds, grpc_server_msg_{received,sent}_total   (go-grpc-middleware's provider)
//	annals_http_requests_total{route, method, code}
//	annals_http_request_duration_seconds{route, method}
//	annals_store_operation_duration_seconds{operation, outcome}
//	annals_imports_total{outcome}
//	go_*, process_*                                                       (runtime and process collectors)
type Metrics struct {
	reg      *prometheus.Registry
	grpc     *grpcprom.ServerMetrics
	httpReqs *prometheus.CounterVec
	httpDur  *prometheus.HistogramVec
	storeDur *prometheus.HistogramVec
	imports  *prometheus.CounterVec
}

// Import outcomes, the values of annals_imports_total's label.
const (
	ImportCreatedOrUpdated = "imported"  // stored, with at least one record created or updated
	ImportUnchanged        = "unchanged" // stored already: every record unchanged
	ImportValidated        = "validated" // validate_only, and the document is good
	ImportRefused          = "refused"   // the document or request is bad (InvalidArgument)
	ImportFailed           = "failed"    // the server could not store it
)

// NewMetrics creates the metrics and registers them, with Go runtime and
// process collectors, on reg. Pass a fresh prometheus.NewRegistry().
func NewMetrics(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{
		reg: reg,
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}))),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "annals_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for none), method and status code.",
		}, []string{"route", "method", "code"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "annals_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		storeDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "annals_store_operation_duration_seconds",
			Help:    "Time of each store operation, by operation and outcome (ok, not_found, canceled, error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"operation", "outcome"}),
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "annals_imports_total",
			Help: "ImportDocument calls that reached the importer or its validation, by outcome (imported, unchanged, validated, refused, failed).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{
		m.grpc, m.httpReqs, m.httpDur, m.storeDur, m.imports,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// countImport counts one ImportDocument by outcome; m may be nil.
func (m *Metrics) countImport(rep *ingest.Report, validateOnly bool, err error) {
	if m == nil {
		return
	}
	outcome := ImportFailed
	switch {
	case err != nil && refusal(err):
		outcome = ImportRefused
	case err != nil:
	case validateOnly:
		outcome = ImportValidated
	default:
		outcome = ImportUnchanged
		for _, c := range rep.Changes {
			if c.Kind != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
				outcome = ImportCreatedOrUpdated
				break
			}
		}
	}
	m.imports.WithLabelValues(outcome).Inc()
}

// refusal reports whether err is the client's fault, as toStatus maps it.
func refusal(err error) bool {
	var (
		bad  *badRequestError
		perr *ingest.ParseError
	)
	return errors.As(err, &bad) || errors.As(err, &perr) || errors.Is(err, ingest.ErrTooLarge)
}

// observeHTTP records one answered HTTP request. pattern is the ServeMux
// pattern that matched ("" for none).
func (m *Metrics) observeHTTP(pattern, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	route := "unmatched"
	if pattern != "" {
		// "GET /events/{id}" -> "/events/{id}": the method has a label of its own.
		_, path, ok := strings.Cut(pattern, " ")
		if !ok {
			path = pattern
		}
		route = path
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions:
	default:
		method = "other" // made-up methods must not make new series
	}
	m.httpReqs.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDur.WithLabelValues(route, method).Observe(d.Seconds())
}

// InstrumentStore returns st with every method timed into
// annals_store_operation_duration_seconds. With m nil it returns st.
func InstrumentStore(st store.Store, m *Metrics) store.Store {
	if m == nil {
		return st
	}
	return &instrumentedStore{st: st, m: m}
}

// instrumentedStore is a store.Store that times each call of the one it wraps.
type instrumentedStore struct {
	st store.Store
	m  *Metrics
}

var _ store.Store = (*instrumentedStore)(nil)

func (s *instrumentedStore) observe(op string, start time.Time, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		outcome = "not_found"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		outcome = "canceled"
	default:
		outcome = "error"
	}
	s.m.storeDur.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

// timed runs f as operation op.
func timed[T any](s *instrumentedStore, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	s.observe(op, start, err)
	return v, err
}

func (s *instrumentedStore) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	return timed(s, "GetEvent", func() (*annalsv1.Event, error) { return s.st.GetEvent(ctx, name) })
}

func (s *instrumentedStore) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	return timed(s, "GetActor", func() (*annalsv1.Actor, error) { return s.st.GetActor(ctx, name) })
}

func (s *instrumentedStore) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	return timed(s, "GetPlace", func() (*annalsv1.Place, error) { return s.st.GetPlace(ctx, name) })
}

func (s *instrumentedStore) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	return timed(s, "GetSource", func() (*annalsv1.Source, error) { return s.st.GetSource(ctx, name) })
}

func (s *instrumentedStore) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	return timed(s, "ListEvents", func() (store.Result[*annalsv1.Event], error) { return s.st.ListEvents(ctx, f, p) })
}

// GetEventEncoded times the wrapped store's GetEventEncoded, or encodes its
// GetEvent when it keeps no encodings.
func (s *instrumentedStore) GetEventEncoded(ctx context.Context, name string) ([]byte, error) {
	return timed(s, "GetEvent", func() ([]byte, error) {
		if enc, ok := s.st.(store.Encoded); ok {
			return enc.GetEventEncoded(ctx, name)
		}
		e, err := s.st.GetEvent(ctx, name)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(e)
	})
}

// ListEventsEncoded times the wrapped store's ListEventsEncoded, or encodes
// its ListEvents when it keeps no encodings.
func (s *instrumentedStore) ListEventsEncoded(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[[]byte], error) {
	return timed(s, "ListEvents", func() (store.Result[[]byte], error) {
		if enc, ok := s.st.(store.Encoded); ok {
			return enc.ListEventsEncoded(ctx, f, p)
		}
		return encodeResult(s.st.ListEvents(ctx, f, p))
	})
}

func (s *instrumentedStore) ListActors(ctx context.Context, f store.ActorFilter, p store.Page) (store.Result[*annalsv1.Actor], error) {
	return timed(s, "ListActors", func() (store.Result[*annalsv1.Actor], error) { return s.st.ListActors(ctx, f, p) })
}

func (s *instrumentedStore) ListPlaces(ctx context.Context, f store.PlaceFilter, p store.Page) (store.Result[*annalsv1.Place], error) {
	return timed(s, "ListPlaces", func() (store.Result[*annalsv1.Place], error) { return s.st.ListPlaces(ctx, f, p) })
}

func (s *instrumentedStore) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	return timed(s, "MatchNames", func() ([]string, error) { return s.st.MatchNames(ctx, k, key) })
}

// The walks are timed whole, fn included: they stream an export.

func (s *instrumentedStore) WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error {
	_, err := timed(s, "WalkEvents", func() (struct{}, error) { return struct{}{}, s.st.WalkEvents(ctx, fn) })
	return err
}

func (s *instrumentedStore) WalkActors(ctx context.Context, fn func(*annalsv1.Actor) error) error {
	_, err := timed(s, "WalkActors", func() (struct{}, error) { return struct{}{}, s.st.WalkActors(ctx, fn) })
	return err
}

func (s *instrumentedStore) WalkPlaces(ctx context.Context, fn func(*annalsv1.Place) error) error {
	_, err := timed(s, "WalkPlaces", func() (struct{}, error) { return struct{}{}, s.st.WalkPlaces(ctx, fn) })
	return err
}

func (s *instrumentedStore) WalkSources(ctx context.Context, fn func(*annalsv1.Source) error) error {
	_, err := timed(s, "WalkSources", func() (struct{}, error) { return struct{}{}, s.st.WalkSources(ctx, fn) })
	return err
}

func (s *instrumentedStore) Stats(ctx context.Context) (store.Stats, error) {
	return timed(s, "Stats", func() (store.Stats, error) { return s.st.Stats(ctx) })
}

func (s *instrumentedStore) Changes(ctx context.Context, after int64, limit int) ([]store.LogEntry, error) {
	return timed(s, "Changes", func() ([]store.LogEntry, error) { return s.st.Changes(ctx, after, limit) })
}

func (s *instrumentedStore) LastSeq(ctx context.Context) (int64, error) {
	return timed(s, "LastSeq", func() (int64, error) { return s.st.LastSeq(ctx) })
}

func (s *instrumentedStore) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	return timed(s, "Update", func() ([]store.Change, error) { return s.st.Update(ctx, fn) })
}

// Check passes the wrapped store's health on, when it has one.
func (s *instrumentedStore) Check(ctx context.Context) error {
	if c, ok := s.st.(store.Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

func (s *instrumentedStore) Put(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	return timed(s, "Put", func() ([]store.Change, error) { return s.st.Put(ctx, b) })
}

func (s *instrumentedStore) Meta(ctx context.Context, key string) (string, error) {
	return timed(s, "Meta", func() (string, error) { return s.st.Meta(ctx, key) })
}

func (s *instrumentedStore) SetMeta(ctx context.Context, key, value string) error {
	_, err := timed(s, "SetMeta", func() (struct{}, error) { return struct{}{}, s.st.SetMeta(ctx, key, value) })
	return err
}

// Close closes the wrapped store; it is not timed.
func (s *instrumentedStore) Close() error { return s.st.Close() }
