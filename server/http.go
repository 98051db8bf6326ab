package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// HTTPConfig is what NewHTTPHandler needs.
type HTTPConfig struct {
	// Logger receives request failures. Nil discards them.
	Logger *slog.Logger
	// Store is the archive. Required.
	Store store.Reader
	// Exporter writes the RDF; its base IRI should be this server's public address.
	Exporter *exporter.Exporter
	// Ready reports whether the archive is loaded (for /readyz). Nil means always.
	Ready func() bool
	// MaxConcurrentExports bounds the dataset dumps streaming at once; past it
	// requests get 429. 0 means DefaultMaxConcurrentExports.
	MaxConcurrentExports int
	// Metrics, when not nil, counts the HTTP requests and is served at /metrics.
	Metrics *Metrics
	// Pages, when not nil, renders the HTML: the browsable pages (home,
	// search, timeline, lists: Pages.Routes) and the resource pages, offered
	// beside the RDF by content negotiation and at /{collection}/{id}.html.
	// Without it the HTTP side serves no HTML.
	Pages Pages
	// API, when not nil, is mounted at /annals.v1.ArchiveService/ and
	// /annals.v1.ExportService/: the gRPC services for browsers and other
	// HTTP clients (Server.BrowserHandler: Connect, gRPC-Web).
	API http.Handler
}

// RequestIDHTTPHeader is the HTTP header of the request id: read from the
// request when the client sets a usable one (printable ASCII, at most 128
// bytes), generated otherwise, sent back in the response and logged.
const RequestIDHTTPHeader = "X-Request-Id"

// Media types the HTTP side offers for a resource, in order of preference.
const (
	mediaTurtle   = "text/turtle"
	mediaNTriples = "application/n-triples"
	mediaHTML     = "text/html"
)

var (
	resourceOffers    = []string{mediaTurtle, mediaNTriples, mediaHTML}
	resourceOffersRDF = []string{mediaTurtle, mediaNTriples} // without Pages
)

// httpHandler serves the archive's linked data over HTTP.
type httpHandler struct {
	cfg      HTTPConfig
	log      *slog.Logger
	limit    chan struct{}
	mux      *http.ServeMux
	patterns []string // the routes, as registered
}

// NewHTTPHandler returns the HTTP side of Annals:
//
//	GET /dataset.ttl, /dataset.nt, /dataset.nt.gz   the whole archive (streamed)
//	GET /dataset, /.well-known/void                 the VoID/DCAT description of the dataset
//	GET /{events,actors,places,sources}/{id}        one resource: Turtle, N-Triples or HTML by Accept
//	GET /{…}/{id}.ttl, /{…}/{id}.nt, /{…}/{id}.html one resource in the named format (HTML with Pages)
//	GET /, /search, /timeline, …                    the browsable pages (HTTPConfig.Pages.Routes)
//	GET /healthz, /readyz                           liveness and readiness
//	GET /metrics                                    Prometheus metrics (when HTTPConfig.Metrics is set)
//	/annals.v1.ArchiveService/…, /annals.v1.ExportService/…
//	                                                the RPCs over Connect and gRPC-Web (when HTTPConfig.API is set)
//
// Resource answers carry ETag and Last-Modified and honour conditional
// requests; what cannot be produced in an acceptable format gets 406.
func NewHTTPHandler(cfg HTTPConfig) (http.Handler, error) {
	if cfg.Store == nil || cfg.Exporter == nil {
		return nil, errors.New("server: HTTPConfig needs Store and Exporter")
	}
	h := &httpHandler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	n := cfg.MaxConcurrentExports
	if n <= 0 {
		n = DefaultMaxConcurrentExports
	}
	h.limit = make(chan struct{}, n)
	h.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) { plain(w, http.StatusOK, "ok") })
	h.handle("GET /readyz", h.readyz)
	h.handle("GET /dataset.ttl", h.dump(exporter.Turtle, false))
	h.handle("GET /dataset.nt", h.dump(exporter.NTriples, false))
	h.handle("GET /dataset.nt.gz", h.dump(exporter.NTriples, true))
	h.handle("GET /dataset", h.description)
	h.handle("GET /.well-known/void", h.description)
	for _, k := range resource.Kinds {
		h.handle("GET /"+string(k)+"/{id}", h.resource(k))
	}
	if cfg.Metrics != nil {
		h.handle("GET /metrics", cfg.Metrics.Handler().ServeHTTP)
	}
	if cfg.Pages != nil {
		routes := cfg.Pages.Routes()
		patterns := make([]string, 0, len(routes))
		for p := range routes {
			patterns = append(patterns, p)
		}
		slices.Sort(patterns) // registered, and so listed, in a stable order
		for _, p := range patterns {
			h.handle(p, routes[p])
		}
	}
	if cfg.API != nil {
		for _, name := range BrowserServices {
			h.handle("/"+name+"/", h.api)
		}
	}
	return h, nil
}

// handle registers a route and notes its pattern.
func (h *httpHandler) handle(pattern string, fn http.HandlerFunc) {
	h.patterns = append(h.patterns, pattern)
	h.mux.HandleFunc(pattern, fn)
}

func (h *httpHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get(RequestIDHTTPHeader)
	if !usableRequestID(id) {
		id = newRequestID()
	}
	rw.Header().Set(RequestIDHTTPHeader, id)
	// The mux sets the matched pattern on this request, for done.
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	w := &statusWriter{ResponseWriter: rw}
	defer h.done(w, r, start)

	// Every response must be written within HTTPWriteTimeout; dataset
	// downloads move this deadline forward as they go (progressWriter).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(HTTPWriteTimeout))
	// A Range in a unit other than bytes must be ignored (RFC 9110 §14.2);
	// http.ServeContent would answer 416.
	if rg := r.Header.Get("Range"); rg != "" && !strings.HasPrefix(rg, "bytes=") {
		r.Header.Del("Range")
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("http handler panicked", "path", clip(r.URL.Path), "panic", fmt.Sprint(p), "request_id", requestID(r.Context()))
			plain(w, http.StatusInternalServerError, "internal error")
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// done logs and counts an answered request: its method, route pattern,
// path (never the query, which may hold anything), status, size, duration
// and request id; no header, no body. Probes and scrapes log at debug level.
func (h *httpHandler) done(w *statusWriter, r *http.Request, start time.Time) {
	d := time.Since(start)
	code := w.code
	if code == 0 {
		code = http.StatusOK // nothing written: net/http sends 200
	}
	h.cfg.Metrics.observeHTTP(r.Pattern, r.Method, code, d)
	level := slog.LevelInfo
	switch {
	case code >= 500:
		level = slog.LevelError
	case r.Pattern == "GET /healthz" || r.Pattern == "GET /readyz" || r.Pattern == "GET /metrics":
		level = slog.LevelDebug
	}
	method := r.Method
	if len(method) > 16 {
		method = method[:16]
	}
	h.log.LogAttrs(r.Context(), level, "http request",
		slog.String("method", method),
		slog.String("route", r.Pattern),
		slog.String("path", clip(strings.ToValidUTF8(r.URL.Path, "\uFFFD"))),
		slog.Int("status", code),
		slog.Int64("bytes", w.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", requestID(r.Context())),
	)
}

// statusWriter remembers the status and counts the body bytes of a response.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

func (h *httpHandler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Ready != nil && !h.cfg.Ready() {
		plain(w, http.StatusServiceUnavailable, "not ready: the archive is loading")
		return
	}
	plain(w, http.StatusOK, "ready")
}

// fail answers with the status an error calls for; unknown errors are logged
// and answered 500 without detail.
func (h *httpHandler) fail(w http.ResponseWriter, r *http.Request, name string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		plain(w, http.StatusNotFound, fmt.Sprintf("%s not found", name))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		plain(w, http.StatusServiceUnavailable, "request canceled or timed out")
	default:
		h.log.ErrorContext(r.Context(), "http request failed", "path", clip(r.URL.Path), "error", err.Error(), "request_id", requestID(r.Context()))
		plain(w, http.StatusInternalServerError, "internal error")
	}
}

// datasetTag is an entity tag for the whole archive in one format: it
// changes whenever a record does.
func (h *httpHandler) datasetTag(ctx context.Context, what string) (string, time.Time, error) {
	st, err := h.cfg.Store.Stats(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%d|%d|%d|%d", h.cfg.Exporter.Base(), what,
		st.Events, st.Actors, st.Places, st.Sources, st.LastModified))
	return `"` + hex.EncodeToString(sum[:8]) + `"`, time.Unix(0, st.LastModified).UTC(), nil
}

func notModified(r *http.Request, etag string) bool {
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// dump streams the whole archive.
func (h *httpHandler) dump(f exporter.Format, gz bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tag, mod, err := h.datasetTag(r.Context(), f.String()+fmt.Sprint(gz))
		if err != nil {
			h.fail(w, r, "dataset", err)
			return
		}
		w.Header().Set("ETag", tag)
		if !mod.IsZero() && mod.Unix() > 0 {
			w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
		}
		if notModified(r, tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		select {
		case h.limit <- struct{}{}:
			defer func() { <-h.limit }()
		default:
			w.Header().Set("Retry-After", "5")
			plain(w, http.StatusTooManyRequests, "too many dataset downloads running; try again shortly")
			return
		}
		if gz {
			w.Header().Set("Content-Type", "application/gzip")
			w.Header().Set("Content-Disposition", `attachment; filename="dataset.nt.gz"`)
		} else {
			w.Header().Set("Content-Type", f.ContentType())
		}
		if r.Method == http.MethodHead {
			return
		}
		// A download may take longer than HTTPWriteTimeout; it is cut only
		// when the client stops reading for that long.
		pw := newProgressWriter(w)
		var out io.Writer = pw
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(pw) // no name or time in the header: the same archive gives the same bytes
			out = zw
		}
		if _, err := h.cfg.Exporter.Dataset(r.Context(), h.cfg.Store, out, f, nil); err != nil {
			// The status line is gone; cutting the connection tells the client the body is incomplete.
			h.log.ErrorContext(r.Context(), "dataset download failed", "path", r.URL.Path, "error", err.Error(), "request_id", requestID(r.Context()))
			panic(http.ErrAbortHandler)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				panic(http.ErrAbortHandler)
			}
		}
	}
}

// description serves the VoID/DCAT description of the dataset.
func (h *httpHandler) description(w http.ResponseWriter, r *http.Request) {
	media := Negotiate(r.Header.Get("Accept"), []string{mediaTurtle, mediaNTriples})
	w.Header().Set("Vary", "Accept")
	if media == "" {
		plain(w, http.StatusNotAcceptable, "the dataset description is available as text/turtle or application/n-triples")
		return
	}
	f, _ := exporter.ParseFormat(media)
	tag, mod, err := h.datasetTag(r.Context(), "void-"+f.String())
	if err != nil {
		h.fail(w, r, "dataset", err)
		return
	}
	var buf bytes.Buffer
	if err := h.cfg.Exporter.Description(r.Context(), h.cfg.Store, &buf, f); err != nil {
		h.fail(w, r, "dataset", err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.Header().Set("ETag", tag)
	http.ServeContent(w, r, "", mod, bytes.NewReader(buf.Bytes()))
}

// resource serves one record of collection k.
func (h *httpHandler) resource(k resource.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		offers := resourceOffersRDF
		if h.cfg.Pages != nil {
			offers = resourceOffers
		}
		var media string
		switch {
		case strings.HasSuffix(id, ".ttl"):
			id, media = strings.TrimSuffix(id, ".ttl"), mediaTurtle
		case strings.HasSuffix(id, ".nt"):
			id, media = strings.TrimSuffix(id, ".nt"), mediaNTriples
		case strings.HasSuffix(id, ".html") && h.cfg.Pages != nil:
			id, media = strings.TrimSuffix(id, ".html"), mediaHTML
			w.Header().Set("Vary", "Accept-Language")
		default:
			w.Header().Set("Vary", "Accept, Accept-Language")
			media = Negotiate(r.Header.Get("Accept"), offers)
		}
		if err := resource.CheckID(id); err != nil {
			plain(w, http.StatusBadRequest, nameProblem(err))
			return
		}
		name := resource.Name(k, id)
		if media == "" {
			plain(w, http.StatusNotAcceptable, "this resource is available as "+strings.Join(offers, ", "))
			return
		}
		rec, mod, err := h.get(r.Context(), name)
		if err != nil {
			h.fail(w, r, name, err)
			return
		}
		var buf bytes.Buffer
		ctype := ""
		if media == mediaHTML {
			ctype = "text/html; charset=utf-8"
			if err := h.cfg.Pages.Resource(&buf, r, name, rec.(proto.Message)); err != nil {
				h.fail(w, r, name, err)
				return
			}
		} else {
			f, _ := exporter.ParseFormat(media)
			ctype = f.ContentType()
			if err := h.cfg.Exporter.Resource(r.Context(), h.cfg.Store, name, &buf, f); err != nil {
				h.fail(w, r, name, err)
				return
			}
		}
		w.Header().Set("Content-Type", ctype)
		// A strong validator of exactly these bytes.
		sum := sha256.Sum256(buf.Bytes())
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
		base := h.cfg.Exporter.IRI(name)
		w.Header().Add("Link", fmt.Sprintf(`<%s.ttl>; rel="alternate"; type="text/turtle"`, base))
		w.Header().Add("Link", fmt.Sprintf(`<%s.nt>; rel="alternate"; type="application/n-triples"`, base))
		http.ServeContent(w, r, "", mod, bytes.NewReader(buf.Bytes()))
	}
}

// get reads one record with its update time (zero when unknown).
func (h *httpHandler) get(ctx context.Context, name string) (any, time.Time, error) {
	rec, err := store.Get(ctx, h.cfg.Store, name)
	if err != nil {
		return nil, time.Time{}, err
	}
	var ts time.Time
	if r, ok := rec.(interface{ GetUpdateTime() *timestamppb.Timestamp }); ok && r.GetUpdateTime() != nil {
		ts = r.GetUpdateTime().AsTime()
	}
	return rec, ts, nil
}
