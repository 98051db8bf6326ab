package web_test

import (
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/web"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/")

// caesar is a document of an event before the common era, in the Julian
// calendar, for the pages' BCE dates.
const caesar = "March 15, 44 BC\n\nJulius Caesar is stabbed to death in the Senate.\n\nTheatre of Pompey, Rome | Roman Senate\n\nAssassination of Julius Caesar\n\nThe Ides of March\n\nConspirators led by Brutus and Cassius killed the dictator.\n"

// site is the bundled archive, with Caesar's assassination imported, behind
// the HTTP side as annals serve builds it, on 13 April 2026.
type site struct {
	st  store.Store
	srv *httptest.Server
}

var (
	siteOnce sync.Once
	theSite  *site
	siteErr  error
)

func newSite(t *testing.T) *site {
	t.Helper()
	siteOnce.Do(func() {
		dir, err := os.MkdirTemp("", "annals-web-")
		if err != nil {
			siteErr = err
			return
		}
		ctx := t.Context()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "web.db"), nil)
		if err != nil {
			siteErr = err
			return
		}
		if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
			siteErr = err
			return
		}
		if _, err := ingest.Import(ctx, st, "caesar.txt", []byte(caesar), ingest.Options{}); err != nil {
			siteErr = err
			return
		}
		pages, err := web.New(web.Config{
			Archive:  server.ReadService(st, nil),
			Store:    st,
			GRPCAddr: func() string { return "[::]:50051" },
			Now:      func() time.Time { return time.Date(2026, 4, 13, 12, 0, 0, 0, time.UTC) },
		})
		if err != nil {
			siteErr = err
			return
		}
		x, err := exporter.New("http://annals.test")
		if err != nil {
			siteErr = err
			return
		}
		h, err := server.NewHTTPHandler(server.HTTPConfig{Store: st, Exporter: x, Pages: pages})
		if err != nil {
			siteErr = err
			return
		}
		theSite = &site{st: st, srv: httptest.NewServer(h)}
	})
	if siteErr != nil {
		t.Fatal(siteErr)
	}
	return theSite
}

// get fetches path with the header pairs and returns the status and body.
func (s *site) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "annals.test:8080"
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// unstable are the parts of a page that change from run to run: the times
// records were written and the request id.
var unstable = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`<dt>Last changed</dt><dd>[^<]*</dd>`), `<dt>Last changed</dt><dd>(date)</dd>`},
	{regexp.MustCompile(`<dt>Imported</dt><dd>[^<]*</dd>`), `<dt>Imported</dt><dd>(time)</dd>`},
	{regexp.MustCompile(`Request id: <code>[^<]*</code>`), `Request id: <code>(id)</code>`},
}

// TestGoldenPages renders one page of each kind and compares it with
// testdata/*.html (go test ./web -run Golden -update rewrites them).
func TestGoldenPages(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		golden string
		path   string
		header []string
		status int
	}{
		{"home.html", "/", nil, 200},
		{"event-pact.html", "/events/soviet-japanese-neutrality-pact.html", nil, 200},
		{"event-pact.ru.html", "/events/soviet-japanese-neutrality-pact.html", []string{"Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5"}, 200},
		{"event-caesar.html", "/events/assassination-of-julius-caesar.html", nil, 200},
		{"actor-molotov.ja.html", "/actors/vyacheslav-molotov.html", []string{"Accept-Language", "ja"}, 200},
		{"place-moscow.html", "/places/moscow.html", nil, 200},
		{"events-1939-1945.html", "/events?start_date=1939&end_date=1945&page_size=3", nil, 200},
		{"search-ja.html", "/search?query=%E6%97%A5%E3%82%BD%E4%B8%AD%E7%AB%8B%E6%9D%A1%E7%B4%84", nil, 200},
		{"timeline.html", "/timeline", nil, 200},
		{"timeline-1941.html", "/timeline/1941", nil, 200},
		{"on-this-day.html", "/on-this-day", nil, 200},
		{"actors.html", "/actors?kind=person", nil, 200},
		{"error-dates.html", "/events?start_date=1945&end_date=1939&month=13", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, body := s.get(t, tt.path, tt.header...)
			if code != tt.status {
				t.Errorf("status %d, want %d", code, tt.status)
			}
			for _, u := range unstable {
				body = u.re.ReplaceAllString(body, u.with)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if body != string(want) {
				t.Errorf("%s differs from %s (run with -update to accept):\n%s", tt.path, path, firstDiff(body, string(want)))
			}
		})
	}
}

// firstDiff shows where two texts first differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

// TestPageContents checks what each page must say, whatever its layout.
func TestPageContents(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		name   string
		path   string
		header []string
		want   []string
		not    []string
	}{
		{"event links read as labels", "/events/soviet-japanese-neutrality-pact.html", nil,
			[]string{`>Vyacheslav Molotov</a> — signatory`, `>Moscow</a>`, `follows <a href="/events/battles-of-khalkhin-gol.html">Battles of Khalkhin Gol</a>`,
				`<span lang="ja">日ソ中立条約</span>`, `<time datetime="1941-04-13">13 April 1941</time>`, `<dt>Place</dt>`,
				`grpcurl -plaintext -d &#39;{&#34;name&#34;: &#34;events/soviet-japanese-neutrality-pact&#34;}&#39; annals.test:50051 annals.v1.ArchiveService/GetEvent`,
				`<link rel="alternate" type="text/turtle" href="/events/soviet-japanese-neutrality-pact.ttl">`},
			[]string{`>actors/vyacheslav-molotov<`, `>places/moscow<`}},
		{"labels in the reader's language", "/events/soviet-japanese-neutrality-pact.html", []string{"Accept-Language", "ja-JP, en;q=0.5"},
			[]string{`<h1><span lang="ja">日ソ中立条約</span></h1>`, `<html lang="en">`}, nil},
		{"a language without labels falls back to English", "/events/soviet-japanese-neutrality-pact.html", []string{"Accept-Language", "fr"},
			[]string{`<h1>Soviet–Japanese Neutrality Pact</h1>`}, nil},
		{"BCE and Julian dates", "/events/assassination-of-julius-caesar.html", nil,
			[]string{`15 March 44 BCE (Julian calendar)`}, []string{`datetime="-`}},
		{"actor's events", "/actors/vyacheslav-molotov.html", nil,
			[]string{`Soviet–Japanese Neutrality Pact</a>`, `https://www.wikidata.org/wiki/Q132899`, `person`}, nil},
		{"plurals", "/", nil, []string{"8 events, 11 actors, 2 places, 2 source documents, from 44 BCE to 1945."}, nil},
		{"plural of one", "/timeline/40s-bce", nil, []string{"1 event in the 40s BCE"}, []string{"1 events"}},
		{"on this day", "/", nil, []string{"On this day, 13 April", "Soviet–Japanese Neutrality Pact</a>"}, nil},
		{"timeline reaches 1941", "/timeline/1941", nil,
			[]string{`Soviet–Japanese Neutrality Pact</a>`, `<a href="/timeline/1940s">1940s</a>`, `<a href="/timeline/20th-century">20th century</a>`}, nil},
		{"BCE timeline", "/timeline/1st-century-bce", nil, []string{`<a href="/timeline/40s-bce">40s BCE</a>`, "Assassination of Julius Caesar"}, nil},
		{"search in Russian", "/search?query=%D0%BD%D0%B5%D0%B9%D1%82%D1%80%D0%B0%D0%BB%D0%B8%D1%82%D0%B5%D1%82%D0%B5", nil,
			[]string{`/events/soviet-japanese-neutrality-pact.html`}, nil},
		{"search in Japanese", "/search?query=%E6%97%A5%E3%82%BD%E4%B8%AD%E7%AB%8B%E6%9D%A1%E7%B4%84", nil,
			[]string{`/events/soviet-japanese-neutrality-pact.html`}, nil},
		{"a stale page token on an actor's page is told, not failed", "/actors/vyacheslav-molotov.html?page_token=abc", nil,
			[]string{`<p class="problem">`, "page_token", `<a href="/actors/vyacheslav-molotov.html">First page</a>`}, nil},
		{"list paging is bookmarkable", "/events?page_size=2", nil, []string{`href="/events?page_size=2&amp;page_token=`}, nil},
		{"HTML in a query is text", "/search?query=%3Cscript%3Ex%3C%2Fscript%3E", nil, []string{`&lt;script&gt;x&lt;/script&gt;`}, []string{`<script>x`}},
		{"a hostile Host does not reach the commands", "/", []string{"Host", "x$(reboot)'y:8080"}, []string{"grpcurl -plaintext"}, []string{"reboot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := s.get(t, tt.path, tt.header...)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %s", tt.path, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("%s has %s", tt.path, n)
				}
			}
		})
	}
}
