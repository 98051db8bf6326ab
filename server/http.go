package server

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
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
	// search, timeline, lists: Pages.Routes) and the record pages, offered
	// beside the RDF by content negotiation and at /{collection}/{id}.html.
	// Without it the HTTP side serves no record pages.
	Pages Pages
	// API, when not nil, is mounted at /annals.v1.ArchiveService/ and
	// /annals.v1.ExportService/: the gRPC services for browsers and other
	// HTTP clients (Server.BrowserHandler: Connect, gRPC-Web), with CORS of
	// their own.
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
	mediaJSONLD   = "application/ld+json"
	mediaHTML     = "text/html"
)

// resourceOffers are the documents of a record, by media type, in the
// server's order of preference, with the extension of each under the
// record's IRI.
var resourceOffers = []string{mediaTurtle, mediaNTriples, mediaJSONLD, mediaHTML}

var extensionOf = map[string]string{mediaTurtle: ".ttl", mediaNTriples: ".nt", mediaJSONLD: ".jsonld", mediaHTML: ".html"}

// rdfOffers are the RDF formats of documents that have no HTML form (and of
// every record when the server has no Pages).
var rdfOffers = []string{mediaTurtle, mediaNTriples, mediaJSONLD}

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"date": histdate.String,
	// head is what the "head" template gets: the page title and the page.
	"head": func(title string, page any) map[string]any { return map[string]any{"Title": title, "Page": page} },
	// enum writes an enum value for people: PARTICIPANT_ROLE_SIGNATORY -> "signatory".
	"enum": func(s fmt.Stringer) string {
		parts := strings.SplitN(s.String(), "_", 3)
		return strings.ToLower(strings.ReplaceAll(parts[len(parts)-1], "_", " "))
	},
}).ParseFS(templateFS, "templates/*.html"))

// httpHandler serves the archive's linked data over HTTP.
type httpHandler struct {
	cfg      HTTPConfig
	log      *slog.Logger
	limit    chan struct{}
	mux      *http.ServeMux
	patterns []string // the routes, as registered

	surveyMu  sync.Mutex // held while a survey is computed
	surveyTag string     // the dataset tag the cached survey belongs to
	survey    *exporter.Survey
}

// NewHTTPHandler returns the HTTP side of Annals:
//
//	GET /dataset.ttl, .nt, .nt.gz, .jsonld            the whole archive (streamed; Range, gzip)
//	GET /.well-known/void                             the VoID/DCAT description of the dataset (Turtle, N-Triples, JSON-LD)
//	GET /dataset                                      the dataset: 303 See Other to its description (or to / for HTML)
//	GET /{events,actors,places,sources}/{id}          a record (a thing): 303 See Other to its document in the negotiated format
//	GET /{…}/{id}.ttl, .nt, .jsonld, .html            the record's document in that format
//	GET /vocab, /vocab.ttl, .nt, .jsonld, .html       Annals' vocabulary (the annals: namespace)
//	GET /context.jsonld                               the JSON-LD @context of every JSON-LD document
//	GET /shapes.ttl                                   the SHACL shapes the data keeps
//	GET /sitemap.xml                                  a sitemap of every record's page
//	GET /, /search, /timeline, …                      the browsable pages (HTTPConfig.Pages.Routes)
//	GET /healthz, /readyz                             liveness and readiness
//	GET /metrics                                      Prometheus metrics (when HTTPConfig.Metrics is set)
//	OPTIONS on any of them                            CORS preflight
//	/annals.v1.ArchiveService/…, /annals.v1.ExportService/…
//	                                                  the RPCs over Connect and gRPC-Web (when HTTPConfig.API is set)
//
// Every GET answer but /metrics allows any origin (CORS). Documents carry
// ETag and Last-Modified, honour conditional requests and Range, and are
// gzip-compressed when the client accepts it; what cannot be produced in an
// acceptable format gets 406.
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
	for _, d := range exporter.Distributions {
		h.handle("GET /"+d.File(), h.dump(d.Format, d.Gzip))
	}
	h.handle("GET /dataset", h.datasetThing)
	h.handle("GET /.well-known/void", h.description)
	h.handle("GET "+exporter.ContextPath, h.context)
	h.handle("GET "+exporter.ShapesPath, h.shapes)
	h.handle("GET "+exporter.VocabPath, h.vocabulary(""))
	for _, ext := range []string{".ttl", ".nt", ".jsonld", ".html"} {
		h.handle("GET "+exporter.VocabPath+ext, h.vocabulary(ext))
	}
	h.handle("GET /sitemap.xml", h.sitemap)
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

// isAPI reports whether a path is one of the browser API's (which answers
// its own CORS).
func isAPI(path string) bool {
	for _, name := range BrowserServices {
		if strings.HasPrefix(path, "/"+name+"/") {
			return true
		}
	}
	return false
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
	if h.cfg.API != nil && isAPI(r.URL.Path) {
		h.mux.ServeHTTP(w, r) // CORS, preflights included, are the API's own
		return
	}
	if r.Method == http.MethodOptions {
		h.options(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/metrics") {
		allowOrigin(w.Header())
	}
	h.mux.ServeHTTP(w, r)
}

// CORS: every route but /metrics may be read by a page of any origin (the
// data is public and no route takes credentials). corsRequestHeaders are
// the request headers a browser may send: those content negotiation,
// conditional and range requests use, and the request id.
const (
	corsRequestHeaders = "Accept, Accept-Language, If-None-Match, If-Modified-Since, If-Range, Range, X-Request-Id"
	corsExposeHeaders  = "Content-Location, Content-Range, Accept-Ranges, ETag, Last-Modified, Link, Location, Vary, Retry-After, " + RequestIDHTTPHeader
	corsMaxAge         = "86400"
)

func allowOrigin(hd http.Header) {
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

// options answers OPTIONS: for a path a GET route serves, 204 with the
// methods it allows and, when the request is a CORS preflight, what a
// browser may send; 404 for any other path.
func (h *httpHandler) options(w http.ResponseWriter, r *http.Request) {
	probe := r.Clone(r.Context())
	probe.Method = http.MethodGet
	_, pattern := h.mux.Handler(probe)
	r.Pattern = strings.Replace(pattern, "GET ", "OPTIONS ", 1)
	if pattern == "" {
		plain(w, http.StatusNotFound, "404 page not found")
		return
	}
	hd := w.Header()
	hd.Set("Allow", "GET, HEAD, OPTIONS")
	if pattern != "GET /metrics" {
		allowOrigin(hd)
		hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		hd.Set("Access-Control-Allow-Headers", corsRequestHeaders)
		hd.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
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
	case errors.Is(err, store.ErrUnavailable):
		h.log.WarnContext(r.Context(), "archive unavailable", "path", clip(r.URL.Path), "error", err.Error(), "request_id", requestID(r.Context()))
		w.Header().Set("Retry-After", "5")
		plain(w, http.StatusServiceUnavailable, "the archive's database cannot answer at the moment; try again shortly")
	case errors.Is(err, store.ErrDataLoss):
		h.log.ErrorContext(r.Context(), "corrupt record", "path", clip(r.URL.Path), "error", err.Error(), "request_id", requestID(r.Context()))
		var ce *store.CorruptError
		if errors.As(err, &ce) {
			name = ce.Name
		}
		plain(w, http.StatusInternalServerError, fmt.Sprintf("the stored record %s is damaged; the operator has been told in the server's log", name))
	default:
		h.log.ErrorContext(r.Context(), "http request failed", "path", clip(r.URL.Path), "error", err.Error(), "request_id", requestID(r.Context()))
		plain(w, http.StatusInternalServerError, "internal error")
	}
}
