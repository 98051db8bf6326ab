package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/annals-project/annals/exporter"
)

func newHTTP(t *testing.T, ready bool) http.Handler {
	t.Helper()
	x, err := exporter.New("http://annals.test")
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	h, err := NewHTTPHandler(HTTPConfig{Store: st, Exporter: x, Ready: func() bool { return ready }, Pages: testPagesOf(t, st, x)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHTTPRoutes sends every route normal and odd requests: each must get
// the documented status, and none a 5xx.
func TestHTTPRoutes(t *testing.T) {
	h := newHTTP(t, true)
	tests := []struct {
		method, path, accept string
		want                 int
		wantType             string
		wantBody             string
	}{
		{"GET", "/", "", 200, "text/html", "dataset.ttl"},
		{"GET", "/healthz", "", 200, "text/plain", "ok"},
		{"GET", "/readyz", "", 200, "text/plain", "ready"},
		{"GET", "/dataset.ttl", "", 200, "text/turtle", "void:triples"},
		{"GET", "/dataset.nt", "", 200, "application/n-triples", "http://rdfs.org/ns/void#triples"},
		{"GET", "/dataset.nt.gz", "", 200, "application/gzip", ""},
		{"HEAD", "/dataset.nt", "", 200, "application/n-triples", ""},
		{"GET", "/.well-known/void", "", 200, "text/turtle", "void:Dataset"},
		{"GET", "/.well-known/void", "application/n-triples", 200, "application/n-triples", "void#Dataset"},
		{"GET", "/.well-known/void", "text/html", 406, "text/plain", "text/turtle"},
		{"GET", "/.well-known/void", "application/ld+json", 200, "application/ld+json", "void:Dataset"},
		{"GET", "/dataset", "", 303, "text/plain", "See .well-known/void"},
		{"GET", "/dataset", "text/html", 303, "text/plain", "See ./"},
		{"GET", "/dataset", "application/json", 406, "text/plain", "text/turtle"},
		{"GET", "/dataset.jsonld", "", 200, "application/ld+json", `"@graph"`},
		{"GET", "/context.jsonld", "", 200, "application/ld+json", `"annals": "http://annals.test/vocab#"`},
		{"GET", "/shapes.ttl", "", 200, "text/turtle", "sh:NodeShape"},
		{"GET", "/vocab", "", 200, "text/turtle", "annals:endedBy"},
		{"GET", "/vocab", "text/html", 200, "text/html", "annals:endedBy"},
		{"GET", "/vocab", "application/ld+json", 200, "application/ld+json", `"@id": "annals:endedBy"`},
		{"GET", "/vocab.nt", "", 200, "application/n-triples", "<http://annals.test/vocab#endedBy>"},
		{"GET", "/vocab", "application/json", 406, "text/plain", "text/turtle"},
		{"GET", "/sitemap.xml", "", 200, "application/xml", "<loc>http://annals.test/events/soviet-japanese-neutrality-pact.html</loc>"},
		{"GET", "/" + pact, "", 303, "text/plain", "See soviet-japanese-neutrality-pact.ttl"},
		{"GET", "/" + pact, "application/n-triples", 303, "text/plain", "See soviet-japanese-neutrality-pact.nt"},
		{"GET", "/" + pact, "application/ld+json", 303, "text/plain", "See soviet-japanese-neutrality-pact.jsonld"},
		{"GET", "/" + pact, "text/html", 303, "text/plain", "See soviet-japanese-neutrality-pact.html"},
		{"GET", "/" + pact + ".html", "", 200, "text/html", "Soviet–Japanese Neutrality Pact"},
		{"GET", "/" + pact + ".html", "", 200, "text/html", `<script type="application/ld+json">`},
		{"GET", "/" + pact + ".html", "", 200, "text/html", `<link rel="alternate" type="application/ld&#43;json" href="/events/soviet-japanese-neutrality-pact.jsonld">`},
		{"GET", "/" + pact + ".ttl", "application/json", 200, "text/turtle", "wdt:P585"},
		{"GET", "/" + pact + ".nt", "", 200, "application/n-triples", "P585"},
		{"GET", "/" + pact + ".jsonld", "", 200, "application/ld+json", `"wdt:P585"`},
		{"GET", "/" + pact, "application/json", 406, "text/plain", "text/turtle"},
		{"GET", "/" + pact, "text/turtle;q=0", 406, "text/plain", ""},
		{"GET", "/" + pact, "text/turtle;q=0, application/n-triples;q=0, application/ld+json;q=0, text/html;q=0", 406, "text/plain", ""},
		{"GET", "/" + pact, "*/*, text/turtle;q=0", 303, "text/plain", ".nt"},
		{"GET", "/" + molotov + ".html", "text/html", 200, "text/html", "Q132899"},
		{"GET", "/" + moscow + ".ttl", "", 200, "text/turtle", "Q649"},
		{"GET", "/" + pactSource + ".html", "text/html", 200, "text/html", "SHA-256"},
		{"GET", "/events/no-such-event", "", 404, "text/plain", "events/no-such-event not found"},
		{"GET", "/events/Not-A-Slug", "", 400, "text/plain", "malformed"},
		{"GET", "/events/a%00b", "", 400, "text/plain", "malformed"},
		{"GET", "/events/" + strings.Repeat("a", 300), "", 400, "text/plain", "limit"},
		{"GET", "/events/..%2Fetc", "", 400, "text/plain", ""},
		{"GET", "/events/", "", 404, "", ""},
		{"GET", "/planets/mars", "", 404, "", ""},
		{"POST", "/" + pact, "", 405, "", ""},
		{"DELETE", "/dataset.ttl", "", 405, "", ""},
		{"PUT", "/healthz", "", 405, "", ""},
		{"GET", "/" + pact, strings.Repeat("text/x, ", 2000), 406, "text/plain", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path[:min(len(tt.path), 60)]+" "+tt.accept[:min(len(tt.accept), 30)], func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, body)
			}
			if ct := rec.Header().Get("Content-Type"); tt.wantType != "" && !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q:\n%.400s", tt.wantBody, body)
			}
		})
	}
}

func TestHTTPReadiness(t *testing.T) {
	rec := httptest.NewRecorder()
	newHTTP(t, false).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while loading: %d, want 503", rec.Code)
	}
}

// TestHTTPExportLimit checks that dataset downloads past the cap get 429.
func TestHTTPExportLimit(t *testing.T) {
	x, _ := exporter.New("http://annals.test")
	h, err := NewHTTPHandler(HTTPConfig{Store: newFakeStore(), Exporter: x, MaxConcurrentExports: 1})
	if err != nil {
		t.Fatal(err)
	}
	hh := h.(*httpHandler)
	hh.limit <- struct{}{} // one download in flight
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dataset.nt", nil))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("download past the cap: %d (Retry-After %q), want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	<-hh.limit
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dataset.nt", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("download under the cap: %d, want 200", rec.Code)
	}
}

func TestHTTPConditional(t *testing.T) {
	h := newHTTP(t, true)
	for _, path := range []string{"/" + pact + ".ttl", "/dataset.nt"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		tag := rec.Header().Get("ETag")
		if tag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", tag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", path, rec.Code)
		}
	}
}
