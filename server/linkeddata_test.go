package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/synth"
)

// ldServer serves the bundled archive over a real socket (httptest), with
// its base IRI the server's own address, and returns the base.
func ldServer(t *testing.T, opts ...exporter.Option) (string, *exporter.Exporter) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ld.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv.Start()
	t.Cleanup(srv.Close)
	x, err := exporter.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if h, err = NewHTTPHandler(HTTPConfig{Store: st, Exporter: x, Pages: testPagesOf(t, st, x)}); err != nil {
		t.Fatal(err)
	}
	return srv.URL, x
}

// do sends one request as curl would (no redirect followed, no automatic
// decompression) and returns the response and its raw body.
func do(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

const pactPath = "/events/soviet-japanese-neutrality-pact"

// TestCoolURIs: a record's IRI answers 303 See Other to its document in
// the negotiated format (Vary: Accept), for every format; the document is
// served 200 and names the record as its primary topic; the vocabulary, a
// document, is served 200 with Content-Location.
func TestCoolURIs(t *testing.T) {
	base, _ := ldServer(t)
	for _, tc := range []struct{ accept, ext, ctype, want string }{
		{"text/turtle", ".ttl", "text/turtle", "foaf:primaryTopic\tevent:soviet-japanese-neutrality-pact"},
		{"application/n-triples", ".nt", "application/n-triples", "<http://xmlns.com/foaf/0.1/primaryTopic>"},
		{"application/ld+json", ".jsonld", "application/ld+json", `"foaf:primaryTopic": {"@id": "event:soviet-japanese-neutrality-pact"}`},
		{"text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", ".html", "text/html", `<script type="application/ld+json">`},
		{"", ".ttl", "text/turtle", "@prefix"},
	} {
		resp, _ := do(t, "GET", base+pactPath, "Accept", tc.accept)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || loc != "soviet-japanese-neutrality-pact"+tc.ext || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept") {
			t.Errorf("Accept %q: %d Location %q Vary %q, want 303 to %s", tc.accept, resp.StatusCode, loc, resp.Header.Get("Vary"), tc.ext)
			continue
		}
		doc := resp.Request.URL.ResolveReference(mustURL(t, loc)).String()
		resp, body := do(t, "GET", doc)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s: %d %s, lacks %q", doc, resp.StatusCode, resp.Header.Get("Content-Type"), tc.want)
		}
		if !strings.Contains(string(body), "creativecommons.org/licenses/by-sa/4.0") {
			t.Errorf("GET %s: no licence", doc)
		}
	}
	if resp, _ := do(t, "GET", base+"/events/no-such-event", "Accept", "text/turtle"); resp.StatusCode != 404 {
		t.Errorf("unknown record: %d, want 404 (not a redirect to nothing)", resp.StatusCode)
	}
	resp, _ := do(t, "GET", base+"/dataset", "Accept", "text/turtle")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ".well-known/void" {
		t.Errorf("/dataset: %d %q, want 303 to its description", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := do(t, "GET", base+"/vocab", "Accept", "application/ld+json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Location") != "vocab.jsonld" || !strings.Contains(string(body), `"annals:endedBy"`) {
		t.Errorf("/vocab as JSON-LD: %d Content-Location %q", resp.StatusCode, resp.Header.Get("Content-Location"))
	}
}

func mustURL(t *testing.T, ref string) *url.URL {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCORS: every GET answer allows any origin and exposes the headers a
// linked-data client reads; an OPTIONS preflight is answered 204 with the
// methods and headers allowed; /metrics is not shared; an unknown path is 404.
func TestCORS(t *testing.T) {
	base, _ := ldServer(t)
	for _, p := range []string{pactPath + ".ttl", pactPath, "/dataset.nt", "/.well-known/void", "/vocab", "/context.jsonld", "/events/no-such-event"} {
		resp, _ := do(t, "GET", base+p, "Origin", "https://app.example.org")
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("GET %s: Allow-Origin %q, Expose %q", p, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	resp, body := do(t, "OPTIONS", base+pactPath, "Origin", "https://app.example.org",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "accept, range")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") || resp.Header.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := do(t, "OPTIONS", base+"/no/such/route", "Origin", "https://app.example.org", "Access-Control-Request-Method", "GET"); resp.StatusCode != 404 {
		t.Errorf("preflight of an unknown path: %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", base+"/metrics", "Origin", "https://app.example.org"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/metrics is shared with other origins")
	}
}

// TestGzip: documents, descriptions and dumps are gzip-coded when the client
// accepts it (with their own ETag and Vary: Accept-Encoding) and unzip to
// the identity bytes; the .nt.gz file is the N-Triples dump compressed.
func TestGzip(t *testing.T) {
	base, _ := ldServer(t)
	for _, p := range []string{pactPath + ".ttl", pactPath + ".jsonld", "/.well-known/void", "/dataset.ttl", "/dataset.nt", "/dataset.jsonld", "/vocab.ttl", "/context.jsonld"} {
		plainResp, plainBody := do(t, "GET", base+p)
		zResp, zBody := do(t, "GET", base+p, "Accept-Encoding", "gzip")
		vary := strings.Join(zResp.Header.Values("Vary"), ", ")
		if zResp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(vary, "Accept-Encoding") {
			t.Errorf("%s: Content-Encoding %q Vary %q", p, zResp.Header.Get("Content-Encoding"), vary)
			continue
		}
		if zResp.Header.Get("ETag") == plainResp.Header.Get("ETag") {
			t.Errorf("%s: the gzip-coded and identity forms share an ETag", p)
		}
		if got := gunzipBody(t, zBody); !bytes.Equal(got, plainBody) {
			t.Errorf("%s: the gzip-coded body unzips to %d bytes, the identity body has %d", p, len(got), len(plainBody))
		}
		if len(zBody) >= len(plainBody) {
			t.Errorf("%s: %d bytes gzip-coded, %d not", p, len(zBody), len(plainBody))
		}
	}
	_, nt := do(t, "GET", base+"/dataset.nt")
	resp, gz := do(t, "GET", base+"/dataset.nt.gz", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(gunzipBody(t, gz), nt) {
		t.Errorf("dataset.nt.gz: Content-Encoding %q; unzips to the N-Triples dump: %v", resp.Header.Get("Content-Encoding"), bytes.Equal(gunzipBody(t, gz), nt))
	}
}

func gunzipBody(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRange: a dump can be fetched in ranges (a resumed download), each the
// same bytes as that range of the whole file, with Content-Range; a range
// outside the file is 416; If-Range with another ETag gets the whole file;
// the sizes and digests the description states are those of the files.
func TestRange(t *testing.T) {
	base, _ := ldServer(t)
	for _, file := range []string{"/dataset.nt", "/dataset.ttl", "/dataset.jsonld", "/dataset.nt.gz"} {
		resp, whole := do(t, "GET", base+file)
		if resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("%s: Accept-Ranges %q", file, resp.Header.Get("Accept-Ranges"))
		}
		n := int64(len(whole))
		tag := resp.Header.Get("ETag")
		for _, tc := range []struct {
			rng        string
			start, end int64
		}{{"bytes=0-99", 0, 99}, {"bytes=100-", 100, n - 1}, {"bytes=-50", n - 50, n - 1}, {"bytes=" + strconv.FormatInt(n-10, 10) + "-" + strconv.FormatInt(n+1000, 10), n - 10, n - 1}} {
			resp, part := do(t, "GET", base+file, "Range", tc.rng, "If-Range", tag)
			want := whole[tc.start : tc.end+1]
			cr := "bytes " + strconv.FormatInt(tc.start, 10) + "-" + strconv.FormatInt(tc.end, 10) + "/" + strconv.FormatInt(n, 10)
			if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != cr || !bytes.Equal(part, want) {
				t.Errorf("%s %s: %d %q, %d bytes; want 206 %q, %d bytes", file, tc.rng, resp.StatusCode, resp.Header.Get("Content-Range"), len(part), cr, len(want))
			}
		}
		if resp, _ := do(t, "GET", base+file, "Range", "bytes="+strconv.FormatInt(n, 10)+"-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != "bytes */"+strconv.FormatInt(n, 10) {
			t.Errorf("%s: range past the end: %d %q", file, resp.StatusCode, resp.Header.Get("Content-Range"))
		}
		if resp, body := do(t, "GET", base+file, "Range", "bytes=0-9", "If-Range", `"stale"`); resp.StatusCode != 200 || int64(len(body)) != n {
			t.Errorf("%s: If-Range with a stale ETag: %d, %d bytes; want the whole file", file, resp.StatusCode, len(body))
		}
		if resp, _ := do(t, "HEAD", base+file); resp.Header.Get("Content-Length") != strconv.FormatInt(n, 10) {
			t.Errorf("%s: HEAD Content-Length %q, want %d (known once surveyed)", file, resp.Header.Get("Content-Length"), n)
		}
	}
	// The description states each file's size and digest.
	_, void := do(t, "GET", base+"/.well-known/void", "Accept", "application/n-triples")
	for _, file := range []string{"/dataset.nt", "/dataset.ttl", "/dataset.jsonld", "/dataset.nt.gz"} {
		_, body := do(t, "GET", base+file)
		sum := sha256.Sum256(body)
		for _, want := range []string{
			`"` + strconv.Itoa(len(body)) + `"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>`,
			`"` + hex.EncodeToString(sum[:]) + `"^^<http://www.w3.org/2001/XMLSchema#hexBinary>`,
		} {
			if !bytes.Contains(void, []byte(want)) {
				t.Errorf("the description does not state %s of %s", want, file)
			}
		}
	}
}

// TestIfModifiedSince: documents and dumps answer 304 to If-Modified-Since
// at or after their Last-Modified, and 200 before.
func TestIfModifiedSince(t *testing.T) {
	base, _ := ldServer(t)
	for _, p := range []string{pactPath + ".ttl", pactPath + ".html", "/dataset.nt", "/dataset.nt.gz", "/.well-known/void", "/sitemap.xml"} {
		resp, _ := do(t, "GET", base+p)
		lm := resp.Header.Get("Last-Modified")
		mod, err := http.ParseTime(lm)
		if err != nil {
			t.Errorf("%s: Last-Modified %q: %v", p, lm, err)
			continue
		}
		if resp, body := do(t, "GET", base+p, "If-Modified-Since", lm); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("%s: If-Modified-Since its Last-Modified: %d, want 304", p, resp.StatusCode)
		}
		if resp, _ := do(t, "GET", base+p, "If-Modified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)); resp.StatusCode != 200 {
			t.Errorf("%s: If-Modified-Since an hour earlier: %d, want 200", p, resp.StatusCode)
		}
	}
}

// TestJSONLDNegotiation: application/ld+json is negotiated for records, the
// description and the vocabulary, and every JSON-LD answer refers to the
// context the server serves, whose prefixes are the data's.
func TestJSONLDNegotiation(t *testing.T) {
	base, x := ldServer(t, exporter.WithSPARQLEndpoint("https://sparql.example.org/annals"))
	_, ctxBody := do(t, "GET", base+"/context.jsonld")
	var c struct {
		Context map[string]string `json:"@context"`
	}
	if err := json.Unmarshal(ctxBody, &c); err != nil || c.Context["annals"] != base+"/vocab#" || c.Context["event"] != base+"/events/" || c.Context["schema"] != "http://schema.org/" {
		t.Fatalf("context: %v %v", err, c.Context)
	}
	for _, p := range []string{pactPath + ".jsonld", "/.well-known/void", "/vocab", "/dataset.jsonld"} {
		resp, body := do(t, "GET", base+p, "Accept", "application/ld+json")
		var doc struct {
			Context string            `json:"@context"`
			Graph   []json.RawMessage `json:"@graph"`
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/ld+json") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Context != x.ContextIRI() || len(doc.Graph) == 0 {
			t.Errorf("%s: not a JSON-LD document with the served context: %v", p, err)
		}
	}
	_, void := do(t, "GET", base+"/.well-known/void", "Accept", "application/ld+json")
	if !bytes.Contains(void, []byte(`"void:sparqlEndpoint": {"@id": "https://sparql.example.org/annals"}`)) {
		t.Error("the description does not name the configured SPARQL endpoint")
	}
	_, page := do(t, "GET", base+pactPath+".html")
	if !bytes.Contains(page, []byte(`href="https://sparql.example.org/annals"`)) {
		t.Error("the page does not link the SPARQL endpoint")
	}
}

// TestServedVocabulary: the annals: namespace dereferences: every annals:
// term the data uses is defined, with a label and a comment, in the
// vocabulary the server answers at {base}/vocab, in Turtle, N-Triples,
// JSON-LD and HTML.
func TestServedVocabulary(t *testing.T) {
	base, _ := ldServer(t)
	_, nt := do(t, "GET", base+"/dataset.nt")
	_, vocab := do(t, "GET", base+"/vocab.nt")
	_, page := do(t, "GET", base+"/vocab", "Accept", "text/html")
	used := map[string]bool{}
	for _, line := range strings.Split(string(nt), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "<"+base+"/vocab#") && f != "<"+base+"/vocab#>" {
				used[strings.Trim(f, "<>")] = true
			}
		}
	}
	if len(used) < 5 {
		t.Fatalf("only %d annals: terms in the dump", len(used))
	}
	for term := range used {
		for _, p := range []string{"label", "comment"} {
			if !bytes.Contains(vocab, []byte("<"+term+"> <http://www.w3.org/2000/01/rdf-schema#"+p+"> ")) {
				t.Errorf("%s has no rdfs:%s in the served vocabulary", term, p)
			}
		}
		name := strings.TrimPrefix(term, base+"/vocab#")
		if !bytes.Contains(page, []byte(`id="`+name+`"`)) {
			t.Errorf("the vocabulary page has no section for %s", name)
		}
	}
	for _, accept := range []string{"text/turtle", "application/n-triples", "application/ld+json", "text/html"} {
		if resp, _ := do(t, "GET", base+"/vocab", "Accept", accept); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), accept) {
			t.Errorf("/vocab as %s: %d %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestSitemap: the sitemap lists the page of every record.
func TestSitemap(t *testing.T) {
	base, _ := ldServer(t)
	resp, body := do(t, "GET", base+"/sitemap.xml")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<urlset", "<loc>" + base + "/</loc>", "<loc>" + base + pactPath + ".html</loc>", "<loc>" + base + "/places/moscow.html</loc>", "<loc>" + base + "/actors/vyacheslav-molotov.html</loc>"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("sitemap lacks %s", want)
		}
	}
}

// FuzzParseRange: any Range header against any size gives either no range
// (the whole file), a satisfiable range inside the file, or "outside".
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=100-", "bytes=-50", "bytes=5-2", "bytes=0-0,5-9", "bytes=-0", "bytes=99999999999999999999-", "bytes= 1 - 2", "bytes=-", "lines=1-2"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return // math.MinInt64
		}
		r, ok := parseRange(h, size)
		if !ok {
			if r != nil {
				t.Fatalf("parseRange(%q, %d): a range and unsatisfiable", h, size)
			}
			return
		}
		if r != nil && (r.start < 0 || r.length < 1 || r.start+r.length > size) {
			t.Fatalf("parseRange(%q, %d) = %+v: outside the file", h, size, *r)
		}
	})
}

// walkCounter is a store that counts the walks of events (each a pass over
// the archive).
type walkCounter struct {
	store.Store
	walks atomic.Int64
}

func (w *walkCounter) WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error {
	w.walks.Add(1)
	return w.Store.WalkEvents(ctx, fn)
}

// TestDescriptionOncePerVersion: many clients asking for the dataset
// description at once cost one pass over the archive, later ones none, a
// conditional request none even when nothing is cached, and a write makes
// the next request compute it again.
func TestDescriptionOncePerVersion(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "void.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := synth.New(3, 2000).Batches(1000, func(b *store.Batch) error { _, err := st.Put(ctx, b); return err }); err != nil {
		t.Fatal(err)
	}
	wc := &walkCounter{Store: st}
	x, _ := exporter.New("http://annals.test")
	h, err := NewHTTPHandler(HTTPConfig{Store: wc, Exporter: x, MaxConcurrentExports: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(header ...string) (*http.Response, []byte) {
		return do(t, "GET", srv.URL+"/.well-known/void", header...)
	}

	var wg sync.WaitGroup
	codes := make(chan int, 40)
	for range 40 {
		wg.Go(func() {
			resp, _ := get("Accept", "text/turtle")
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a concurrent description request got %d", c)
		}
	}
	if n := wc.walks.Load(); n > 1 {
		t.Errorf("40 concurrent description requests walked the archive %d times; want once", n)
	}
	resp, _ := get("Accept", "text/turtle")
	tag := resp.Header.Get("ETag")
	if n := wc.walks.Load(); n > 1 {
		t.Errorf("a later description request walked the archive again (%d walks)", n)
	}

	// A write: the tag changes; a client holding the old one gets 200.
	ev := synth.New(3, 2000).EventAt(1)
	ev.Summary += " (revised)"
	ev.CreateTime, ev.UpdateTime, ev.Etag = nil, nil, ""
	if _, err := st.Put(ctx, &store.Batch{Events: []*annalsv1.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	resp, _ = get("Accept", "text/turtle", "If-None-Match", tag)
	newTag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || newTag == tag {
		t.Errorf("after a write, a request with the old tag got %d, tag %q", resp.StatusCode, newTag)
	}
	// A conditional request is answered before any work: a new server,
	// with nothing cached, answers the current tag 304 without a walk.
	h2, err := NewHTTPHandler(HTTPConfig{Store: wc, Exporter: x})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(h2)
	t.Cleanup(srv2.Close)
	wc.walks.Store(0)
	resp, _ = do(t, "GET", srv2.URL+"/.well-known/void", "Accept", "text/turtle", "If-None-Match", newTag)
	if resp.StatusCode != http.StatusNotModified || wc.walks.Load() != 0 {
		t.Errorf("a conditional request with the current tag: %d after %d walks; want 304 and none", resp.StatusCode, wc.walks.Load())
	}
}
