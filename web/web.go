// Package web is Annals' face for people: server-rendered HTML pages of the
// archive — a home page with search, "on this day", a timeline by century,
// decade and year, and the newest imports; a page for each event, actor,
// place and source; and lists with the API's filters and paging at
// bookmarkable URLs. Pages need no JavaScript and print cleanly.
//
// Pages read through the archive's read RPCs in process (server.ReadService),
// so their filters, validation, page tokens and errors are the API's, and
// through a store.Reader for what the API has no call for (the timeline's
// counts, the newest imports). Labels are shown in the reader's language
// (Accept-Language), falling back to English, each foreign one with its
// lang attribute.
//
// The server's HTTP side mounts the pages (server.HTTPConfig.Pages): Routes
// beside the linked-data routes, Resource where a record is asked for as HTML.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// Archive is what the pages read records through: ArchiveService's read
// RPCs, answered in process (server.ReadService), with errors as gRPC
// statuses.
type Archive interface {
	GetEvent(context.Context, *annalsv1.GetEventRequest) (*annalsv1.GetEventResponse, error)
	ListEvents(context.Context, *annalsv1.ListEventsRequest) (*annalsv1.ListEventsResponse, error)
	GetActor(context.Context, *annalsv1.GetActorRequest) (*annalsv1.GetActorResponse, error)
	ListActors(context.Context, *annalsv1.ListActorsRequest) (*annalsv1.ListActorsResponse, error)
	GetPlace(context.Context, *annalsv1.GetPlaceRequest) (*annalsv1.GetPlaceResponse, error)
	ListPlaces(context.Context, *annalsv1.ListPlacesRequest) (*annalsv1.ListPlacesResponse, error)
	GetSource(context.Context, *annalsv1.GetSourceRequest) (*annalsv1.GetSourceResponse, error)
}

// Config is what New needs.
type Config struct {
	// Logger receives the detail of failures. Nil discards.
	Logger *slog.Logger
	// Archive answers the read RPCs (server.ReadService). Required.
	Archive Archive
	// Store is the archive itself, read for the timeline's counts and the
	// newest imports, which no RPC gives. Required.
	Store store.Reader
	// GRPCAddr returns the address the gRPC server listens on ("host:port"),
	// for the grpcurl commands the pages show; its port is combined with the
	// host the reader reached the pages by. Nil leaves the commands out.
	GRPCAddr func() string
	// TLS says whether the servers speak TLS (the commands then lose
	// -plaintext and use https).
	TLS bool
	// Now gives today's date for "on this day" (in UTC). Nil means time.Now.
	Now func() time.Time
	// JSONLD, when not nil, gives a record's schema.org description as
	// JSON-LD, embedded in its page as <script type="application/ld+json">
	// (exporter.SchemaOrg).
	JSONLD func(ctx context.Context, name string) ([]byte, error)
	// SPARQLEndpoint, when set, is the SPARQL endpoint that holds the
	// archive (annals serve --sparql-endpoint): every page links it.
	SPARQLEndpoint string
}

// Pages serves the HTML; see the package comment. It implements
// server.Pages.
type Pages struct {
	cfg      Config
	log      *slog.Logger
	timeline *timeline
}

//go:embed templates/*.html templates/annals.css
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"href":    href,
	"count":   count,
	"grouped": grouped,
	"year":    yearName,
	"jsonld":  func(b []byte) template.JS { return template.JS(jsonLDSafe(b)) },
}).ParseFS(templateFS, "templates/*.html"))

// New returns the pages of cfg.Archive.
func New(cfg Config) (*Pages, error) {
	if cfg.Archive == nil || cfg.Store == nil {
		return nil, errors.New("web: Config needs Archive and Store")
	}
	p := &Pages{cfg: cfg, log: cfg.Logger, timeline: &timeline{st: cfg.Store}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.cfg.Now == nil {
		p.cfg.Now = time.Now
	}
	return p, nil
}

// Routes returns the browsable pages by http.ServeMux pattern:
//
//	GET /                        home: search, on this day, timeline, newest imports
//	GET /search?query=           events, actors and places matching a full-text query
//	GET /events                  events, with ListEvents' filters and paging as parameters
//	GET /actors, GET /places     actors and places, with their List filters
//	GET /timeline                centuries, with counts
//	GET /timeline/{period}       a century's decades, a decade's years, a year's events
//	GET /on-this-day             events of today's date (or ?month=&day=)
//	GET /annals.css              the pages' stylesheet
//
// The records' own pages are /{collection}/{id}.html (see Resource).
func (p *Pages) Routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /{$}":               p.home,
		"GET /search":            p.search,
		"GET /events":            p.events,
		"GET /actors":            p.actors,
		"GET /places":            p.places,
		"GET /timeline":          p.timelinePage,
		"GET /timeline/{period}": p.timelinePeriod,
		"GET /on-this-day":       p.onThisDay,
		"GET /annals.css":        p.stylesheet,
	}
}

// stylesheet serves the pages' one stylesheet (screen and print).
func (p *Pages) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", cssTag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(css))
}

// css is the stylesheet, and cssTag its entity tag.
var css, cssTag = func() ([]byte, string) {
	b, err := templateFS.ReadFile("templates/annals.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return b, `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// href is the page of a resource name: "events/x" -> "/events/x.html".
func href(name string) string { return "/" + name + ".html" }

// layout is what every page's frame needs.
type layout struct {
	Title       string
	Description string
	Query       string // the search box's text
	Nav         string // the current section: "timeline", "events", …
	// Alternates are the page's other forms (<link rel="alternate">): the
	// record's RDF, say.
	Alternates []alternate
	// JSONLD is the record's schema.org JSON-LD, when Config.JSONLD gives one.
	JSONLD []byte
	// Commands show how to get the same data from the API.
	Commands []command
	// SPARQL is the SPARQL endpoint holding the archive, if one is configured.
	SPARQL string
	// Status is the HTTP status the page is sent with.
	Status int
}

type alternate struct{ Type, Href string }

// command is a shell command with a caption.
type command struct{ Caption, Line string }

// render writes page (a template name) with data; a failure to render is
// logged and answered 500, before anything is written.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, page string, data interface{ frame() *layout }) {
	data.frame().SPARQL = p.cfg.SPARQLEndpoint
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, page, data); err != nil {
		p.log.ErrorContext(r.Context(), "web: rendering failed", "page", page, "error", err.Error(), "request_id", w.Header().Get("X-Request-Id"))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", pageLang)
	w.Header().Set("Vary", "Accept-Language")
	code := data.frame().Status
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// Resource writes the page of rec, the record named name; it implements
// server.Pages. The server answers conditional requests and sets ETag.
func (p *Pages) Resource(w io.Writer, r *http.Request, name string, rec proto.Message) error {
	var (
		page string
		data interface{ frame() *layout }
		err  error
	)
	rd := readerOf(r)
	switch rec := rec.(type) {
	case *annalsv1.Event:
		page = "event.html"
		data, err = p.eventPage(r, rd, rec)
	case *annalsv1.Actor:
		page = "actor.html"
		data, err = p.actorPage(r, rd, rec)
	case *annalsv1.Place:
		page = "place.html"
		data, err = p.placePage(r, rd, rec)
	case *annalsv1.Source:
		page = "source.html"
		data, err = p.sourcePage(r, rd, rec)
	default:
		return fmt.Errorf("web: no page for %T", rec)
	}
	if err != nil {
		return err
	}
	f := data.frame()
	f.SPARQL = p.cfg.SPARQLEndpoint
	f.Alternates = append(f.Alternates,
		alternate{"text/turtle", "/" + name + ".ttl"},
		alternate{"application/n-triples", "/" + name + ".nt"},
		alternate{"application/ld+json", "/" + name + ".jsonld"})
	if p.cfg.JSONLD != nil {
		if b, err := p.cfg.JSONLD(r.Context(), name); err == nil {
			f.JSONLD = b
		} else {
			p.log.WarnContext(r.Context(), "web: no JSON-LD for the page", "name", name, "error", err.Error())
		}
	}
	return templates.ExecuteTemplate(w, page, data)
}

// jsonLDSafe makes JSON safe inside <script>: "</" cannot end the element.
func jsonLDSafe(b []byte) string {
	return strings.ReplaceAll(string(b), "</", `<\/`)
}

// grpcurl returns the grpcurl command that calls method with the JSON
// request body, against the gRPC server's own address as the reader
// reached this server; "" when Config.GRPCAddr is nil.
func (p *Pages) grpcurl(r *http.Request, method, body string) string {
	if p.cfg.GRPCAddr == nil {
		return ""
	}
	flag := "-plaintext "
	if p.cfg.TLS {
		flag = ""
	}
	return fmt.Sprintf("grpcurl %s-d '%s' %s annals.v1.ArchiveService/%s", flag, body, p.grpcTarget(r), method)
}

// grpcTarget is host:port of the gRPC server for the reader: the host they
// used to reach these pages (the gRPC listener's own address may be a
// wildcard or a loopback the reader cannot use) and the gRPC port.
func (p *Pages) grpcTarget(r *http.Request) string {
	addr := p.cfg.GRPCAddr()
	lhost, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || !hostLike(host) {
		host = lhost
	}
	return net.JoinHostPort(host, port)
}

// hostLike reports whether h looks like a host name or an IP address, so
// that a hostile Host header cannot write into the command shown.
func hostLike(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == ':':
		default:
			return false
		}
	}
	return true
}

// curl returns the curl command that calls method over the Connect
// protocol on this server, as the reader reached it.
func (p *Pages) curl(r *http.Request, service, method, body string) string {
	scheme := "http"
	if p.cfg.TLS {
		scheme = "https"
	}
	host := r.Host
	if !hostLike(strings.Trim(host, "[]")) {
		host = "localhost:8080"
	}
	return fmt.Sprintf("curl -H 'Content-Type: application/json' -d '%s' %s://%s/annals.v1.%s/%s", body, scheme, host, service, method)
}

// errorPage is the page of a request that failed.
type errorPage struct {
	layout
	Heading    string
	Message    string
	Violations []violation
	RequestID  string
}

type violation struct{ Field, Description string }

func (e *errorPage) frame() *layout { return &e.layout }

// fail answers with the page err calls for: the status of a gRPC error
// from the Archive (InvalidArgument 400 with its field violations,
// NotFound 404, …); anything else is logged and answered 500 without detail.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	page := &errorPage{RequestID: w.Header().Get("X-Request-Id")}
	st, ok := status.FromError(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		ok && (st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded):
		page.Status, page.Heading, page.Message = http.StatusServiceUnavailable, "Try again", "The request was canceled or ran out of time."
	case errors.Is(err, store.ErrNotFound), ok && st.Code() == codes.NotFound:
		page.Status, page.Heading = http.StatusNotFound, "Not found"
		page.Message = "There is no such record in the archive."
		if ok {
			page.Message = upperFirst(st.Message()) + "."
		}
	case ok && st.Code() == codes.InvalidArgument:
		page.Status, page.Heading = http.StatusBadRequest, "The request cannot be answered"
		page.Message = "Some of what was asked for is not valid:"
		for _, d := range st.Details() {
			if br, isBR := d.(*errdetails.BadRequest); isBR {
				for _, v := range br.GetFieldViolations() {
					page.Violations = append(page.Violations, violation{v.GetField(), v.GetDescription()})
				}
			}
		}
		if len(page.Violations) == 0 {
			page.Message = upperFirst(st.Message()) + "."
		}
	default:
		p.log.ErrorContext(r.Context(), "web: request failed", "path", r.URL.Path, "error", err.Error(), "request_id", page.RequestID)
		page.Status, page.Heading, page.Message = http.StatusInternalServerError, "Something went wrong", "The server failed to answer. The request id below finds the detail in its log."
	}
	page.Title = page.Heading
	p.render(w, r, "error.html", page)
}

// badRequest answers 400 with violations found by the pages themselves
// (a date they cannot read, say).
func (p *Pages) badRequest(w http.ResponseWriter, r *http.Request, vs []violation) {
	page := &errorPage{Heading: "The request cannot be answered", Message: "Some of what was asked for is not valid:", Violations: vs, RequestID: w.Header().Get("X-Request-Id")}
	page.Status, page.Title = http.StatusBadRequest, page.Heading
	p.render(w, r, "error.html", page)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// names is a cache of the labels of the records a page links to.
type names struct {
	p   *Pages
	ctx context.Context
	rd  reader
	m   map[string]text
}

func (p *Pages) names(ctx context.Context, rd reader) *names {
	return &names{p: p, ctx: ctx, rd: rd, m: map[string]text{}}
}

// label is the label of the record name, in the reader's language; the
// name itself when the record cannot be read.
func (n *names) label(name string) text {
	if t, ok := n.m[name]; ok {
		return t
	}
	var labels []*annalsv1.Label
	var err error
	k, _, perr := resource.Parse(name)
	switch {
	case perr != nil:
		err = perr
	case k == resource.Events:
		var resp *annalsv1.GetEventResponse
		if resp, err = n.p.cfg.Archive.GetEvent(n.ctx, &annalsv1.GetEventRequest{Name: name}); err == nil {
			labels = resp.GetEvent().GetLabels()
		}
	case k == resource.Actors:
		var resp *annalsv1.GetActorResponse
		if resp, err = n.p.cfg.Archive.GetActor(n.ctx, &annalsv1.GetActorRequest{Name: name}); err == nil {
			labels = resp.GetActor().GetLabels()
		}
	case k == resource.Places:
		var resp *annalsv1.GetPlaceResponse
		if resp, err = n.p.cfg.Archive.GetPlace(n.ctx, &annalsv1.GetPlaceRequest{Name: name}); err == nil {
			labels = resp.GetPlace().GetLabels()
		}
	case k == resource.Sources:
		var resp *annalsv1.GetSourceResponse
		if resp, err = n.p.cfg.Archive.GetSource(n.ctx, &annalsv1.GetSourceRequest{Name: name}); err == nil && resp.GetSource().GetTitle() != "" {
			labels = []*annalsv1.Label{{Language: pageLang, Value: resp.GetSource().GetTitle()}}
		}
	}
	t := n.rd.pick(labels)
	if err != nil || t.Value == "" {
		t = text{Value: name}
	}
	n.m[name] = t
	return t
}

// link is a link to a record, by its label.
type link struct {
	Href  string
	Label text
	Name  string // the resource name
}

func (n *names) link(name string) link {
	return link{Href: href(name), Label: n.label(name), Name: name}
}
