package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/mirror/virtuosotest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	virtuosotest.Cleanup()
	os.Exit(code)
}

// bases gives each test a base IRI of its own, so that tests share one Virtuoso.
var baseCount atomic.Int64

func newBase() string {
	return fmt.Sprintf("http://mirror-test-%d-%d.example", os.Getpid(), baseCount.Add(1))
}

// archive returns a new SQLite archive holding the bundled dataset.
func archive(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "annals.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := data.Load(t.Context(), st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return st
}

type rig struct {
	vt      *virtuosotest.Server
	st      store.Store
	base    string
	x       *exporter.Exporter
	metrics *Metrics
	reg     *prometheus.Registry
}

func newRig(t *testing.T, vt *virtuosotest.Server, st store.Store) *rig {
	t.Helper()
	r := &rig{vt: vt, st: st, base: newBase(), reg: prometheus.NewRegistry()}
	var err error
	if r.x, err = exporter.New(r.base); err != nil {
		t.Fatal(err)
	}
	if r.metrics, err = NewMetrics(r.reg); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) mirror(t *testing.T, mod func(*Config)) *Mirror {
	t.Helper()
	gs, err := NewGraphStore(r.vt.GraphStoreURL(), virtuosotest.User, virtuosotest.Password, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := ArchiveID(t.Context(), r.st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Archive: r.st, Renderer: NewRenderer(r.x, r.st), Target: gs, Base: r.base, ArchiveID: id,
		Metrics: r.metrics, PollInterval: 20 * time.Millisecond, RetryFor: 20 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// quads returns the store's triples under r.base (state graph excluded),
// with r.base written as BASE, so that two loads under two bases compare.
func (r *rig) quads(t *testing.T) []string {
	t.Helper()
	q, err := r.vt.Quads(t.Context(), r.base+"/", r.base+StateGraphPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range q {
		q[i] = strings.ReplaceAll(q[i], r.base, "BASE")
	}
	return q
}

// dump returns the number of triples of the archive's dump.
func (r *rig) dump(t *testing.T) int64 {
	t.Helper()
	var buf bytes.Buffer
	n, err := r.x.Dataset(t.Context(), r.st, &buf, exporter.NTriples, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// freshQuads loads the archive as it is now under a new base with a new
// mirror and returns its quads: what the store should hold.
func freshQuads(t *testing.T, vt *virtuosotest.Server, st store.Store) []string {
	t.Helper()
	fresh := newRig(t, vt, st)
	if err := fresh.mirror(t, nil).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fresh.quads(t)
}

func diffLines(a, b []string) string {
	var out []string
	for _, l := range a {
		if _, ok := slices.BinarySearch(b, l); !ok {
			out = append(out, "- "+l)
		}
	}
	for _, l := range b {
		if _, ok := slices.BinarySearch(a, l); !ok {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… and %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

// TestSyncLoadsTheDump: a first Sync loads one graph per record and the
// dataset graph, and the store's triple count (state graph aside) is the
// dump's void:triples; a second Sync changes nothing.
func TestSyncLoadsTheDump(t *testing.T) {
	vt := virtuosotest.Shared(t)
	r := newRig(t, vt, archive(t))
	m := r.mirror(t, nil)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := r.dump(t)
	res, err := vt.Query(t.Context(), fmt.Sprintf(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "%s/") && ?g != <%s>) }`, r.base, m.StateGraph()))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0]["n"].Value; got != fmt.Sprint(n) {
		t.Errorf("the store holds %s triples, the dump %d", got, n)
	}
	res, err = vt.Query(t.Context(), fmt.Sprintf(`SELECT ?n WHERE { GRAPH <%s> { <%s/dataset> <http://rdfs.org/ns/void#triples> ?n } }`, m.DatasetGraph(), r.base))
	if err != nil || len(res.Rows) != 1 || res.Rows[0]["n"].Value != fmt.Sprint(n) {
		t.Errorf("void:triples in the dataset graph = %v, %v; want %d", res, err, n)
	}
	// One graph per record, each holding that record's description.
	res, err = vt.Query(t.Context(), fmt.Sprintf(`SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "%s/")) }`, r.base))
	if err != nil {
		t.Fatal(err)
	}
	stats, _ := r.st.Stats(t.Context())
	if want := stats.Events + stats.Actors + stats.Places + stats.Sources + 2; res.Rows[0]["n"].Value != fmt.Sprint(want) {
		t.Errorf("%s graphs, want %d (one per record, the dataset, the state)", res.Rows[0]["n"].Value, want)
	}
	st, err := m.ReadState(t.Context())
	last, _ := r.st.LastSeq(t.Context())
	if err != nil || !st.Found || st.Loading || st.Sequence != last || st.Archive == "" {
		t.Errorf("state after Sync = %+v, %v; want following at %d", st, err, last)
	}
	if got := testutil.ToFloat64(r.metrics.applied); got != float64(last) {
		t.Errorf("annals_mirror_last_applied_sequence = %v, want %d", got, last)
	}
	if got := testutil.ToFloat64(r.metrics.lag); got != 0 {
		t.Errorf("annals_mirror_lag_changes = %v, want 0", got)
	}

	before := r.quads(t)
	puts := testutil.ToFloat64(r.metrics.graphs.WithLabelValues("put"))
	if err := r.mirror(t, nil).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(before, r.quads(t)); d != "" {
		t.Errorf("a second Sync changed the store:\n%s", d)
	}
	if got := testutil.ToFloat64(r.metrics.graphs.WithLabelValues("put")) - puts; got != 1 {
		t.Errorf("a second Sync with nothing new wrote %v graphs; want 1 (the dataset graph)", got)
	}
}

// TestFollow: while Run follows the log, a created, an updated and a
// deleted record show in the store within 2 s, with no stale triple left.
func TestFollow(t *testing.T) {
	vt := virtuosotest.Shared(t)
	st := archive(t)
	r := newRig(t, vt, st)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.mirror(t, func(c *Config) { c.DatasetInterval = 100 * time.Millisecond }).Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor(t, 60*time.Second, "the first load", func() bool {
		s, err := r.mirror(t, nil).ReadState(ctx)
		return err == nil && s.Found && !s.Loading
	})

	moscow, err := st.GetPlace(ctx, "places/moscow")
	if err != nil {
		t.Fatal(err)
	}
	oldLabel := moscow.GetLabels()[0].GetValue()
	edited := proto.CloneOf(moscow)
	edited.Labels[0].Value = "Moscow (edited)"
	edited.CreateTime, edited.UpdateTime, edited.Etag = nil, nil, ""
	newEvent := &annalsv1.Event{
		Name:   "events/mirror-test-event",
		Labels: []*annalsv1.Label{{Language: "en", Value: "Mirror test event"}},
		Date:   &annalsv1.HistoricalDate{Year: 1802, Month: 6, Day: 2, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY},
	}
	start := time.Now()
	if _, err := st.Put(ctx, &store.Batch{Places: []*annalsv1.Place{edited}, Events: []*annalsv1.Event{newEvent}}); err != nil {
		t.Fatal(err)
	}
	ask := func(q string) bool {
		res, err := vt.Query(ctx, q)
		return err == nil && len(res.Rows) > 0
	}
	label := func(iri, l string) string {
		return fmt.Sprintf(`SELECT ?s WHERE { GRAPH <%s> { ?s <http://www.w3.org/2000/01/rdf-schema#label> "%s"@en } } LIMIT 1`, iri, l)
	}
	waitFor(t, 2*time.Second, "the edit and the new event", func() bool {
		return ask(label(r.base+"/places/moscow", "Moscow (edited)")) && ask(label(r.base+"/events/mirror-test-event", "Mirror test event"))
	})
	t.Logf("visible after %v", time.Since(start))
	if ask(label(r.base+"/places/moscow", oldLabel)) {
		t.Errorf("the old label %q of Moscow is still in the store", oldLabel)
	}
	if _, err := st.Put(ctx, &store.Batch{Deletes: []string{newEvent.Name}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the deletion", func() bool {
		return !ask(fmt.Sprintf(`SELECT ?p WHERE { GRAPH ?g { <%s/events/mirror-test-event> ?p ?o } } LIMIT 1`, r.base))
	})
	// Caught up, the store equals a fresh load of the archive.
	waitFor(t, 10*time.Second, "the dataset graph", func() bool {
		return slices.Equal(r.quads(t), freshQuads(t, vt, st))
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResume: a mirror stopped at any state write (during the first load
// or while following) and started again ends with the store equal to a
// fresh load: changes applied twice do no harm, deletions during an
// interrupted load are not lost.
func TestResume(t *testing.T) {
	vt := virtuosotest.Shared(t)
	for _, stopAt := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprintf("stopped at state write %d", stopAt), func(t *testing.T) {
			st := archive(t)
			r := newRig(t, vt, st)
			ctx, cancel := context.WithCancel(t.Context())
			writes := 0
			m := r.mirror(t, func(c *Config) { c.BatchSize = 3 })
			// change edits the archive: a deletion, an update, new events.
			change := func(round int, del string) {
				if _, err := st.Put(t.Context(), &store.Batch{Deletes: []string{del}}); err != nil {
					t.Error(err)
				}
				mol, _ := st.GetActor(t.Context(), "actors/vyacheslav-molotov")
				mol = proto.CloneOf(mol)
				mol.Description = fmt.Sprintf("Edited while the mirror was busy (%d).", round)
				mol.CreateTime, mol.UpdateTime, mol.Etag = nil, nil, ""
				if _, err := st.Put(t.Context(), &store.Batch{Actors: []*annalsv1.Actor{mol}}); err != nil {
					t.Error(err)
				}
				for i := range 7 {
					e := &annalsv1.Event{Name: fmt.Sprintf("events/resume-%d-%d", round, i), Labels: []*annalsv1.Label{{Language: "en", Value: "R"}},
						Date: &annalsv1.HistoricalDate{Year: 1900, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}}
					if _, err := st.Put(t.Context(), &store.Batch{Events: []*annalsv1.Event{e}}); err != nil {
						t.Error(err)
					}
				}
			}
			m.onStateWrite = func(int64) {
				writes++
				if writes == 1 { // the load has begun
					change(1, "places/moscow")
				}
				if writes == stopAt {
					change(2, "events/resume-1-3")
					cancel()
				}
			}
			if err := m.Sync(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("the first run: %v", err)
			}
			if writes < stopAt {
				t.Fatalf("the first run wrote the state %d times; the test stops it at %d", writes, stopAt)
			}
			if err := r.mirror(t, nil).Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if d := diffLines(r.quads(t), freshQuads(t, vt, st)); d != "" {
				t.Errorf("after the restart the store differs from a fresh load:\n%s", d)
			}
		})
	}
}

// TestRefusals: a store that mirrors another archive under the same base,
// or says a sequence the archive has not reached, is refused.
func TestRefusals(t *testing.T) {
	vt := virtuosotest.Shared(t)
	r := newRig(t, vt, archive(t))
	if err := r.mirror(t, nil).Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	other := &rig{vt: vt, st: archive(t), base: r.base, x: r.x, reg: prometheus.NewRegistry()}
	// Another archive: the same bundled records, another identity.
	if err := other.mirror(t, nil).Sync(t.Context()); !errors.Is(err, ErrOtherArchive) {
		t.Errorf("Sync of another archive into the same base = %v; want ErrOtherArchive", err)
	}
	// The same archive, its state graph set ahead.
	m := r.mirror(t, nil)
	last, _ := r.st.LastSeq(t.Context())
	id, _, _ := m.archiveIdentity(t.Context())
	if err := m.writeState(t.Context(), last+10, false, id); err != nil {
		t.Fatal(err)
	}
	if err := r.mirror(t, nil).Sync(t.Context()); !errors.Is(err, ErrAhead) {
		t.Errorf("Sync with the store ahead = %v; want ErrAhead", err)
	}
	if err := r.mirror(t, func(c *Config) { c.Reload = true }).Sync(t.Context()); err != nil {
		t.Errorf("Sync --reload with the store ahead = %v", err)
	}
}

// TestStoreDown: requests to a store that is not there are retried with
// backoff, counted as unreachable, and given up after RetryFor.
func TestStoreDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	st := archive(t)
	reg := prometheus.NewRegistry()
	metrics, _ := NewMetrics(reg)
	gs, _ := NewGraphStore(url+"/gsp", "", "", nil)
	x, _ := exporter.New(newBase())
	m, err := New(Config{Archive: st, Renderer: NewRenderer(x, st), Target: gs, Base: x.Base(), Metrics: metrics, RetryFor: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = m.Sync(t.Context())
	var se *StoreError
	if !errors.As(err, &se) || se.Kind != KindUnreachable {
		t.Fatalf("Sync to a closed port = %v; want an unreachable StoreError", err)
	}
	if d := time.Since(start); d < 700*time.Millisecond || d > 10*time.Second {
		t.Errorf("gave up after %v; want about RetryFor", d)
	}
	if n := testutil.ToFloat64(metrics.errors.WithLabelValues(KindUnreachable)); n < 3 {
		t.Errorf("annals_mirror_errors_total{kind=unreachable} = %v; want a few attempts", n)
	}
}

// TestAuth: the graph store client answers Basic and Digest challenges
// with the credentials it was given, and reports refused ones as auth errors.
func TestAuth(t *testing.T) {
	basic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "curator" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="store"`)
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("graph") != "http://g.example/x" {
			http.Error(w, "no graph", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer basic.Close()
	tests := []struct {
		name, url, user, password string
		wantKind                  string
	}{
		{"basic", basic.URL, "curator", "s3cret", ""},
		{"basic, wrong password", basic.URL, "curator", "nope", KindAuth},
		{"basic, no credentials", basic.URL, "", "", KindAuth},
	}
	if _, err := os.Stat(virtuosotest.Binary); err == nil || os.Getenv("CI") != "" {
		vt := virtuosotest.Shared(t)
		tests = append(tests,
			struct{ name, url, user, password, wantKind string }{"digest (Virtuoso)", vt.GraphStoreURL(), virtuosotest.User, virtuosotest.Password, ""},
			struct{ name, url, user, password, wantKind string }{"digest, wrong password", vt.GraphStoreURL(), virtuosotest.User, "nope", KindAuth})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs, err := NewGraphStore(tc.url, tc.user, tc.password, nil)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 { // the second and third use the remembered challenge
				err = gs.Put(t.Context(), "http://g.example/x", []byte("<http://g.example/s> <http://g.example/p> \"o\" .\n"))
				var se *StoreError
				switch {
				case tc.wantKind == "" && err != nil:
					t.Fatalf("Put: %v", err)
				case tc.wantKind != "" && (!errors.As(err, &se) || se.Kind != tc.wantKind || !se.Permanent()):
					t.Fatalf("Put = %v; want a permanent %s error", err, tc.wantKind)
				}
			}
		})
	}
}

func TestParseState(t *testing.T) {
	const (
		predSequence = "http://b/vocab#" + termSequence
		predPhase    = "http://b/vocab#" + termPhase
		predArchive  = "http://b/vocab#" + termArchive
	)
	tests := []struct {
		name string
		in   string
		want State
		err  bool
	}{
		{"as written", "<http://b/.well-known/annals-mirror> <" + predSequence + "> \"42\"^^<" + xsdInteger + "> .\n<http://b/.well-known/annals-mirror> <" + predPhase + "> \"following\" .\n<http://b/.well-known/annals-mirror> <" + predArchive + "> \"1 17 events/a\" .\n",
			State{Found: true, Sequence: 42, Archive: "1 17 events/a"}, false},
		{"as Virtuoso writes it back", "<http://b/.well-known/annals-mirror>\t<" + predPhase + ">\t\"loading\" .\n<http://b/.well-known/annals-mirror>\t<" + predSequence + ">\t\"7\"^^<" + xsdInteger + "> .\n",
			State{Found: true, Sequence: 7, Loading: true}, false},
		{"no sequence", "<http://b/x> <" + predPhase + "> \"loading\" .\n", State{}, true},
		{"bad sequence", "<http://b/x> <" + predSequence + "> \"x\" .\n", State{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseState([]byte(tc.in))
			if (err != nil) != tc.err || (!tc.err && got != tc.want) {
				t.Errorf("parseState = %+v, %v; want %+v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestRendererIsTheDump: the records' triples and the dataset's are
// exactly the dump's.
func TestRendererIsTheDump(t *testing.T) {
	st := archive(t)
	x, _ := exporter.New(exporter.DefaultBase)
	rd := NewRenderer(x, st)
	var all bytes.Buffer
	ctx := t.Context()
	walk := func(rec proto.Message) error { return rd.Record(ctx, &all, rec) }
	if err := errors.Join(
		st.WalkEvents(ctx, func(r *annalsv1.Event) error { return walk(r) }),
		st.WalkActors(ctx, func(r *annalsv1.Actor) error { return walk(r) }),
		st.WalkPlaces(ctx, func(r *annalsv1.Place) error { return walk(r) }),
		st.WalkSources(ctx, func(r *annalsv1.Source) error { return walk(r) }),
		rd.Dataset(ctx, &all),
	); err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := x.Dataset(ctx, st, &dump, exporter.NTriples, nil); err != nil {
		t.Fatal(err)
	}
	got, want := sortedLines(all.String()), sortedLines(dump.String())
	if d := diffLines(got, want); d != "" {
		t.Errorf("records + dataset differ from the dump:\n%s", d)
	}
}

func sortedLines(s string) []string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(ls)
	return ls
}
