package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// The linked-data routes. Records are things, not documents, as the W3C's
// "Cool URIs for the Semantic Web" distinguishes them and as Wikidata
// (/entity/Q… → Special:EntityData) and DBpedia (/resource/… → /data/…,
// /page/…) serve them: a record's IRI answers 303 See Other to its document
// in the format the client accepts ({iri}.ttl, .nt, .jsonld or .html), and
// each document says which thing it is about (foaf:primaryTopic).

// BuildVersion names a release build, set at link time:
//
//	go build -ldflags "-X github.com/annals-project/annals/server.BuildVersion=v1.4.0" ./cmd/annals
//
// It is part of every dataset entity tag (programVersion), beside what the
// build itself records.
var BuildVersion string

// programVersion names the program that writes the dumps: its module
// version and the commit it was built from (when the build recorded one),
// and exporter.OutputVersion. It is part of every dataset entity tag, so
// that a new Annals, which may write other bytes for the same records,
// never answers 304 to a client holding the old ones.
var programVersion = func() string {
	v := exporter.OutputVersion + "|" + BuildVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += "|" + bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				v += "|" + s.Value
			}
		}
	}
	return v
}()

// datasetTag is an entity tag for the whole archive in one form: it
// changes whenever a record does, and with the program (programVersion). It also returns the archive's last change.
func (h *httpHandler) datasetTag(ctx context.Context, what string) (string, time.Time, error) {
	st, err := h.cfg.Store.Stats(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%s|%d|%d|%d|%d|%d", programVersion, h.cfg.Exporter.Base(), h.cfg.Exporter.SPARQLEndpoint(), what,
		st.Events, st.Actors, st.Places, st.Sources, st.LastModified))
	return `"` + hex.EncodeToString(sum[:8]) + `"`, lastModified(st), nil
}

// lastModified is the time of the archive's last change, as HTTP dates
// have it (whole seconds), or zero for an empty archive.
func lastModified(st store.Stats) time.Time {
	if st.LastModified <= 0 {
		return time.Time{}
	}
	return time.Unix(0, st.LastModified).UTC().Truncate(time.Second)
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

// unmodifiedSince reports whether the request's If-Modified-Since (taken
// only when it has no If-None-Match, as RFC 9110 says) is not before mod.
func unmodifiedSince(r *http.Request, mod time.Time) bool {
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || r.Header.Get("If-None-Match") != "" || mod.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !mod.After(t)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// gzipTag is the entity tag of the gzip-coded form of what tag names.
func gzipTag(tag string) string { return strings.TrimSuffix(tag, `"`) + `-gzip"` }

// minGzip is the smallest body worth compressing.
const minGzip = 512

// serveDoc answers with body, a whole document of media type ctype:
// gzip-coded when the client accepts it, with a strong ETag of its bytes,
// Last-Modified mod (when not zero), and what http.ServeContent gives
// (conditional requests, Range, HEAD).
func serveDoc(w http.ResponseWriter, r *http.Request, body []byte, ctype string, mod time.Time) {
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Add("Vary", "Accept-Encoding")
	sum := sha256.Sum256(body)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	if len(body) >= minGzip && acceptsGzip(r) {
		var buf bytes.Buffer
		zw := exporter.NewGzipWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
		tag = gzipTag(tag)
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("ETag", tag)
	http.ServeContent(w, r, "", mod, bytes.NewReader(body))
}

// errBusy means the cap on concurrent whole-archive work is reached.
var errBusy = errors.New("too many dataset exports running")

func (h *httpHandler) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	plain(w, http.StatusTooManyRequests, "too many dataset downloads running; try again shortly")
}

// surveyed returns the survey of the archive (the dataset description with
// every dump's size and digest), computing it when the archive changed
// since the last one. A survey writes every dump once, so it counts as a
// download against the cap (errBusy past it).
func (h *httpHandler) surveyed(ctx context.Context) (*exporter.Survey, error) {
	tag, _, err := h.datasetTag(ctx, "survey")
	if err != nil {
		return nil, err
	}
	h.surveyMu.Lock()
	defer h.surveyMu.Unlock()
	if h.surveyTag == tag {
		return h.survey, nil
	}
	select {
	case h.limit <- struct{}{}:
		defer func() { <-h.limit }()
	default:
		return nil, errBusy
	}
	s, err := h.cfg.Exporter.Survey(ctx, h.cfg.Store)
	if err != nil {
		return nil, err
	}
	h.survey, h.surveyTag = s, tag
	return s, nil
}

// cachedSurvey returns the survey of the archive as tagged, if one is at
// hand; it never computes one.
func (h *httpHandler) cachedSurvey(ctx context.Context) *exporter.Survey {
	tag, _, err := h.datasetTag(ctx, "survey")
	if err != nil || !h.surveyMu.TryLock() {
		return nil
	}
	defer h.surveyMu.Unlock()
	if h.surveyTag == tag {
		return h.survey
	}
	return nil
}

// dump streams the whole archive: the file as published (the same bytes as
// `annals export`, whose size and digest the description states), gzip-coded
// in transit when the client accepts it, or the byte range a resumed
// download asks for (the dump is deterministic, so a range of it is the
// range of the file).
func (h *httpHandler) dump(f exporter.Format, gz bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tag, mod, err := h.datasetTag(ctx, f.String()+fmt.Sprint(gz))
		if err != nil {
			h.fail(w, r, "dataset", err)
			return
		}
		hd := w.Header()
		hd.Set("Accept-Ranges", "bytes")
		if !gz {
			hd.Add("Vary", "Accept-Encoding")
		}
		rangeHeader := r.Header.Get("Range")
		if rangeHeader != "" && !ifRangeHolds(r, tag, mod) {
			rangeHeader = ""
		}
		encode := !gz && rangeHeader == "" && acceptsGzip(r)
		etag := tag
		if encode {
			etag = gzipTag(tag)
		}
		hd.Set("ETag", etag)
		if !mod.IsZero() {
			hd.Set("Last-Modified", mod.Format(http.TimeFormat))
		}
		if notModified(r, etag) || unmodifiedSince(r, mod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		var size int64 = -1
		if s := h.cachedSurvey(ctx); s != nil {
			if d, ok := s.Dist(f, gz); ok {
				size = d.Bytes
			}
		}
		var rng *byteRange
		if rangeHeader != "" && r.Method == http.MethodGet {
			if size < 0 {
				s, err := h.surveyed(ctx)
				if errors.Is(err, errBusy) {
					h.busy(w)
					return
				} else if err != nil {
					h.fail(w, r, "dataset", err)
					return
				}
				d, _ := s.Dist(f, gz)
				size = d.Bytes
			}
			var satisfiable bool
			if rng, satisfiable = parseRange(rangeHeader, size); !satisfiable {
				hd.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
				plain(w, http.StatusRequestedRangeNotSatisfiable, "the range is outside the file")
				return
			}
		}
		select {
		case h.limit <- struct{}{}:
			defer func() { <-h.limit }()
		default:
			h.busy(w)
			return
		}
		if gz {
			hd.Set("Content-Type", "application/gzip")
			hd.Set("Content-Disposition", `attachment; filename="`+exporter.Distribution{Format: f, Gzip: true}.File()+`"`)
		} else {
			hd.Set("Content-Type", f.ContentType())
		}
		switch {
		case rng != nil:
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.length-1, size))
			hd.Set("Content-Length", strconv.FormatInt(rng.length, 10))
			w.WriteHeader(http.StatusPartialContent)
		case encode:
			hd.Set("Content-Encoding", "gzip")
		case size >= 0:
			hd.Set("Content-Length", strconv.FormatInt(size, 10))
		}
		if r.Method == http.MethodHead {
			return
		}
		// A download may take longer than HTTPWriteTimeout; it is cut only
		// when the client stops reading for that long. Its first bytes are
		// held back (headWriter), so that a failure early on (a damaged
		// record, the database gone) is answered with a status, not with
		// a 200 whose body ends short.
		head := &headWriter{w: newProgressWriter(w), flushed: rng != nil} // a 206's status is already sent
		var out io.Writer = head
		if rng != nil {
			out = &rangeWriter{w: out, skip: rng.start, remain: rng.length}
		}
		var zw *gzip.Writer
		if gz || encode {
			zw = exporter.NewGzipWriter(out)
			out = zw
		}
		_, err = h.cfg.Exporter.Dataset(ctx, h.cfg.Store, out, f, nil)
		if err == nil && zw != nil {
			err = zw.Close()
		}
		if err == nil || errors.Is(err, errRangeDone) {
			err = head.flush()
		}
		if err != nil && !errors.Is(err, errRangeDone) && !head.flushed {
			for _, k := range []string{"Content-Length", "Content-Range", "Content-Encoding", "Content-Disposition", "ETag", "Last-Modified", "Accept-Ranges"} {
				hd.Del(k)
			}
			h.fail(w, r, "dataset", err)
			return
		}
		if err != nil && !errors.Is(err, errRangeDone) {
			// The status line is gone; cutting the connection tells the client the body is incomplete.
			h.log.ErrorContext(ctx, "dataset download failed", "path", r.URL.Path, "error", err.Error(), "request_id", requestID(ctx))
			panic(http.ErrAbortHandler)
		}
	}
}

// headBytes is how much of a dump is held back before the response starts.
const headBytes = 64 << 10

// headWriter holds back the first headBytes written to it, then writes
// through: until it has flushed, a failure can still be answered with an
// error status.
type headWriter struct {
	w       io.Writer
	buf     []byte
	flushed bool
}

func (h *headWriter) Write(p []byte) (int, error) {
	if h.flushed {
		return h.w.Write(p)
	}
	h.buf = append(h.buf, p...)
	if len(h.buf) >= headBytes {
		if err := h.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush writes what is held back and lets the rest through.
func (h *headWriter) flush() error {
	if h.flushed {
		return nil
	}
	h.flushed = true
	_, err := h.w.Write(h.buf)
	h.buf = nil
	return err
}

// byteRange is a satisfiable range of a file: length bytes from start.
type byteRange struct{ start, length int64 }

// parseRange reads a Range header ("bytes=…") against a file of size
// bytes. One range is served; several ranges, or a malformed header, are
// ignored (nil, true: the whole file is sent, as RFC 9110 allows). It
// reports false for a range that lies outside the file.
func parseRange(h string, size int64) (*byteRange, bool) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil, true
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil, true
	}
	if first == "" { // the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return nil, true
		}
		if n == 0 || size == 0 {
			return nil, false
		}
		n = min(n, size)
		return &byteRange{size - n, n}, true
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return nil, true
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return nil, true
		}
		end = min(end, size-1)
	}
	if start >= size {
		return nil, false
	}
	return &byteRange{start, end - start + 1}, true
}

// ifRangeHolds reports whether a Range request applies: without If-Range,
// or when If-Range names the current representation (its strong entity
// tag, or its Last-Modified date exactly).
func ifRangeHolds(r *http.Request, tag string, mod time.Time) bool {
	ir := strings.TrimSpace(r.Header.Get("If-Range"))
	switch {
	case ir == "":
		return true
	case strings.HasPrefix(ir, `"`):
		return ir == tag
	case strings.HasPrefix(ir, "W/"):
		return false
	}
	t, err := http.ParseTime(ir)
	return err == nil && !mod.IsZero() && t.Equal(mod)
}

// errRangeDone ends a dump once its range is written.
var errRangeDone = errors.New("range written")

// rangeWriter passes on the bytes of a range of what is written through it.
type rangeWriter struct {
	w            io.Writer
	skip, remain int64
}

func (rw *rangeWriter) Write(p []byte) (int, error) {
	n := len(p)
	if rw.skip >= int64(len(p)) {
		rw.skip -= int64(len(p))
		return n, nil
	}
	p = p[rw.skip:]
	rw.skip = 0
	if int64(len(p)) > rw.remain {
		p = p[:rw.remain]
	}
	if len(p) > 0 {
		if _, err := rw.w.Write(p); err != nil {
			return 0, err
		}
	}
	rw.remain -= int64(len(p))
	if rw.remain == 0 {
		return n, errRangeDone
	}
	return n, nil
}

// description serves the VoID/DCAT description of the dataset: the one that
// ends every dump, with each dump's size and SHA-256.
func (h *httpHandler) description(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept")
	media := Negotiate(r.Header.Get("Accept"), rdfOffers)
	if media == "" {
		plain(w, http.StatusNotAcceptable, "the dataset description is available as text/turtle, application/n-triples or application/ld+json")
		return
	}
	f, _ := exporter.ParseFormat(media)
	// Conditional requests are answered before any work: the description's
	// entity tag is the dataset's, not its bytes' (which take a pass over
	// the archive to compute, once per data version: surveyed).
	tag, mod, err := h.datasetTag(r.Context(), "void-"+f.String())
	if err != nil {
		h.fail(w, r, "dataset", err)
		return
	}
	encode := acceptsGzip(r)
	if encode {
		tag = gzipTag(tag)
	}
	w.Header().Add("Vary", "Accept-Encoding")
	w.Header().Set("ETag", tag)
	if !mod.IsZero() {
		w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
	}
	if notModified(r, tag) || unmodifiedSince(r, mod) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s, err := h.surveyed(r.Context())
	if errors.Is(err, errBusy) {
		h.busy(w)
		return
	} else if err != nil {
		h.fail(w, r, "dataset", err)
		return
	}
	var buf bytes.Buffer
	if err := h.cfg.Exporter.WriteDescription(&buf, f, s); err != nil {
		h.fail(w, r, "dataset", err)
		return
	}
	body := buf.Bytes()
	if encode {
		var zb bytes.Buffer
		zw := exporter.NewGzipWriter(&zb)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = zb.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Type", f.ContentType())
	http.ServeContent(w, r, "", mod, bytes.NewReader(body))
}

// datasetThing answers for the dataset itself ({base}/dataset): 303 See
// Other to its description, or to the home page for a browser.
func (h *httpHandler) datasetThing(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept")
	switch Negotiate(r.Header.Get("Accept"), resourceOffers) {
	case "":
		plain(w, http.StatusNotAcceptable, "the dataset is described as text/turtle, application/n-triples, application/ld+json or text/html")
	case mediaHTML:
		seeOther(w, "./")
	default:
		seeOther(w, ".well-known/void")
	}
}

// seeOther answers 303 See Other to location, a reference relative to the
// request's URL (so that it holds behind a proxy that serves Annals under a
// path).
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	plain(w, http.StatusSeeOther, "See "+location)
}

// resource serves the records of collection k: the record itself (a
// thing) answers 303 See Other to its document in the negotiated format;
// {id}.ttl, .nt, .jsonld and .html are the documents.
func (h *httpHandler) resource(k resource.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		media := ""
		for m, ext := range extensionOf {
			if rest, ok := strings.CutSuffix(id, ext); ok {
				id, media = rest, m
				break
			}
		}
		if err := resource.CheckID(id); err != nil {
			plain(w, http.StatusBadRequest, nameProblem(err))
			return
		}
		name := resource.Name(k, id)
		if media == "" {
			h.thing(w, r, name, id)
			return
		}
		if media == mediaHTML && h.cfg.Pages == nil {
			plain(w, http.StatusNotFound, "this server has no HTML pages; "+name+" is described as "+strings.Join(rdfOffers, ", "))
			return
		}
		rec, err := store.Get(r.Context(), h.cfg.Store, name)
		if err != nil {
			h.fail(w, r, name, err)
			return
		}
		st, err := h.cfg.Store.Stats(r.Context())
		if err != nil {
			h.fail(w, r, name, err)
			return
		}
		var buf bytes.Buffer
		ctype := "text/html; charset=utf-8"
		if media == mediaHTML {
			w.Header().Add("Vary", "Accept-Language")
			if err := h.cfg.Pages.Resource(&buf, r, name, rec); err != nil {
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
		iri := h.cfg.Exporter.IRI(name)
		for _, a := range h.cfg.Exporter.Alternates(name) {
			if a.Type != media {
				w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="alternate"; type="%s"`, a.Href, a.Type))
			}
		}
		if media != mediaHTML && h.cfg.Pages != nil {
			w.Header().Add("Link", fmt.Sprintf(`<%s.html>; rel="alternate"; type="text/html"`, iri))
		}
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="describedby"`, iri)) // the thing, which this describes
		// A document holds the labels of the records it links to and the
		// events that link to it: it changes with the archive, not only
		// with its record.
		serveDoc(w, r, buf.Bytes(), ctype, lastModified(st))
	}
}

// thing answers for a record's IRI: 303 See Other to its document in the
// format the client prefers, 406 when it accepts none, 404 when there is no
// such record.
func (h *httpHandler) thing(w http.ResponseWriter, r *http.Request, name, id string) {
	w.Header().Set("Vary", "Accept")
	offers := rdfOffers
	if h.cfg.Pages != nil {
		offers = resourceOffers
	}
	media := Negotiate(r.Header.Get("Accept"), offers)
	if media == "" {
		plain(w, http.StatusNotAcceptable, "this resource is described as "+strings.Join(offers, ", "))
		return
	}
	if _, err := store.Get(r.Context(), h.cfg.Store, name); err != nil {
		h.fail(w, r, name, err)
		return
	}
	seeOther(w, id+extensionOf[media])
}

func (h *httpHandler) context(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := h.cfg.Exporter.Context(&buf); err != nil {
		h.fail(w, r, "context", err)
		return
	}
	serveDoc(w, r, buf.Bytes(), "application/ld+json", time.Time{})
}

// shapes serves the SHACL shapes the data keeps.
func (h *httpHandler) shapes(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := h.cfg.Exporter.Shapes(&buf); err != nil {
		h.fail(w, r, "shapes", err)
		return
	}
	serveDoc(w, r, buf.Bytes(), exporter.Turtle.ContentType(), time.Time{})
}

// vocabulary serves Annals' vocabulary, the document of the annals:
// namespace ({base}/vocab#…): in the format ext names, or, at {base}/vocab,
// in the negotiated one (200, with Content-Location naming that format's
// document: the vocabulary is a document, not a thing).
func (h *httpHandler) vocabulary(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		media := ""
		for m, e := range extensionOf {
			if e == ext {
				media = m
			}
		}
		if ext == "" {
			w.Header().Set("Vary", "Accept")
			if media = Negotiate(r.Header.Get("Accept"), resourceOffers); media == "" {
				plain(w, http.StatusNotAcceptable, "the vocabulary is available as text/turtle, application/n-triples, application/ld+json or text/html")
				return
			}
			w.Header().Set("Content-Location", strings.TrimPrefix(exporter.VocabPath, "/")+extensionOf[media])
		}
		x := h.cfg.Exporter
		var buf bytes.Buffer
		ctype := "text/html; charset=utf-8"
		if media == mediaHTML {
			terms, err := x.VocabTerms()
			if err != nil {
				h.fail(w, r, "vocabulary", err)
				return
			}
			err = pageTemplates.ExecuteTemplate(&buf, "vocab.html", struct {
				IRI, Base  string
				Terms      []exporter.VocabTerm
				Alternates []exporter.Alternate
				JSONLD     template.JS
			}{x.VocabIRI(), x.Base(), terms, []exporter.Alternate{
				{Href: x.VocabIRI() + ".ttl", Type: mediaTurtle, Title: "Turtle"},
				{Href: x.VocabIRI() + ".nt", Type: mediaNTriples, Title: "N-Triples"},
				{Href: x.VocabIRI() + ".jsonld", Type: mediaJSONLD, Title: "JSON-LD"},
			}, ""})
			if err != nil {
				h.fail(w, r, "vocabulary", err)
				return
			}
		} else {
			f, _ := exporter.ParseFormat(media)
			ctype = f.ContentType()
			if err := x.Vocabulary(&buf, f); err != nil {
				h.fail(w, r, "vocabulary", err)
				return
			}
		}
		serveDoc(w, r, buf.Bytes(), ctype, time.Time{})
	}
}

// sitemapMax is the most URLs one sitemap file may list (sitemaps.org).
const sitemapMax = 50_000

// sitemap serves the sitemap of every record's HTML page: one file when
// they fit in sitemapMax URLs, else a sitemap index of /sitemap.xml?page=N.
func (h *httpHandler) sitemap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := h.cfg.Store.Stats(ctx)
	if err != nil {
		h.fail(w, r, "sitemap", err)
		return
	}
	total := 1 + st.Events + st.Actors + st.Places + st.Sources // the home page and the records
	pages := (total + sitemapMax - 1) / sitemapMax
	page := int64(0)
	if p := r.URL.Query().Get("page"); p != "" {
		if page, err = strconv.ParseInt(p, 10, 64); err != nil || page < 1 || page > pages {
			plain(w, http.StatusNotFound, "no such sitemap page")
			return
		}
	}
	x := h.cfg.Exporter
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if mod := lastModified(st); !mod.IsZero() {
		w.Header().Set("Last-Modified", mod.Format(http.TimeFormat))
		if unmodifiedSince(r, mod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriter(newProgressWriter(w))
	loc := func(u string) {
		bw.WriteString("  <url><loc>")
		_ = xml.EscapeText(bw, []byte(u))
		bw.WriteString("</loc></url>\n")
	}
	bw.WriteString(xml.Header)
	if pages > 1 && page == 0 {
		bw.WriteString(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
		for p := int64(1); p <= pages; p++ {
			bw.WriteString("  <sitemap><loc>")
			_ = xml.EscapeText(bw, []byte(x.Base()+"/sitemap.xml?page="+strconv.FormatInt(p, 10)))
			bw.WriteString("</loc></sitemap>\n")
		}
		bw.WriteString("</sitemapindex>\n")
		_ = bw.Flush()
		return
	}
	if page == 0 {
		page = 1
	}
	first, end := (page-1)*sitemapMax, page*sitemapMax
	bw.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	var i int64
	emit := func(u string) error {
		if i >= first && i < end {
			loc(u)
		}
		i++
		if i >= end {
			return errSitemapFull
		}
		return nil
	}
	err = emit(x.Base() + "/")
	name := func(m interface{ GetName() string }) error { return emit(x.IRI(m.GetName()) + ".html") }
	for _, walk := range []func() error{
		func() error { return h.cfg.Store.WalkEvents(ctx, func(e *annalsv1.Event) error { return name(e) }) },
		func() error { return h.cfg.Store.WalkActors(ctx, func(a *annalsv1.Actor) error { return name(a) }) },
		func() error { return h.cfg.Store.WalkPlaces(ctx, func(p *annalsv1.Place) error { return name(p) }) },
		func() error { return h.cfg.Store.WalkSources(ctx, func(s *annalsv1.Source) error { return name(s) }) },
	} {
		if err == nil {
			err = walk()
		}
	}
	if err != nil && !errors.Is(err, errSitemapFull) {
		h.log.ErrorContext(ctx, "sitemap failed", "error", err.Error(), "request_id", requestID(ctx))
		panic(http.ErrAbortHandler)
	}
	bw.WriteString("</urlset>\n")
	_ = bw.Flush()
}

var errSitemapFull = errors.New("sitemap page full")
