package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/synth"
)

// Sizes of the generated archive the benchmarks read.
const (
	benchEvents = 10000
	benchActors = 500
	benchPlaces = 200
)

var words = strings.Fields(`treaty battle siege coronation revolt council edict pact alliance
	war peace harbour river mountain empire kingdom republic senate army fleet famine plague
	election reform union charter crusade conquest founding fall rise march voyage discovery
	Yōsuke Molotov Moscow Kyōto Zürich Québec Caesar Augustus Nantes Constantinople`)

// genEvents makes n events named after prefix, deterministically from seed:
// years from 3000 BCE to 2000 CE at every precision, a tenth of them Julian,
// each with one to four actors, a place and, for half, a Wikidata id.
func genEvents(seed uint64, prefix string, n int) []*annalsv1.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	es := make([]*annalsv1.Event, n)
	for i := range es {
		y := int32(r.IntN(5000) - 3000)
		if y == 0 {
			y = 1
		}
		d := &annalsv1.HistoricalDate{Year: y}
		switch p := r.IntN(100); {
		case p < 70:
			d.Precision = annalsv1.DatePrecision_DATE_PRECISION_DAY
			d.Month = int32(1 + r.IntN(12))
			d.Day = int32(1 + r.IntN(28))
		case p < 85:
			d.Precision = annalsv1.DatePrecision_DATE_PRECISION_MONTH
			d.Month = int32(1 + r.IntN(12))
		case p < 95:
			d.Precision = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		default:
			d.Precision = annalsv1.DatePrecision_DATE_PRECISION_CENTURY
		}
		if y < 1582 && r.IntN(10) == 0 {
			d.Calendar = annalsv1.Calendar_CALENDAR_JULIAN
		}
		if histdate.Validate(d) != nil {
			panic(fmt.Sprint("generated an invalid date ", d))
		}
		var text []string
		for range 12 {
			text = append(text, words[r.IntN(len(words))])
		}
		e := &annalsv1.Event{
			Name:    fmt.Sprintf("events/%s-%d", prefix, i),
			Labels:  []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("%s %s %d", words[r.IntN(len(words))], prefix, i)}},
			Summary: strings.Join(text, " "),
			Article: []*annalsv1.ArticleSection{{Heading: "Background", Paragraphs: []string{strings.Join(text[3:], " ")}}},
			Date:    d,
			Places:  []string{fmt.Sprintf("places/p%d", r.IntN(benchPlaces))},
		}
		for range 1 + r.IntN(4) {
			e.Participants = append(e.Participants, &annalsv1.Participant{
				Actor: fmt.Sprintf("actors/a%d", r.IntN(benchActors)), Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY})
		}
		if i%2 == 0 {
			e.WikidataId = fmt.Sprintf("Q%d", 1000000+i)
		}
		es[i] = e
	}
	return es
}

var archive struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// archiveStore opens the generated archive, which is built once per test
// binary and shared by the read benchmarks.
func archiveStore(b *testing.B) *sqlite.Store {
	b.Helper()
	archive.once.Do(func() {
		archive.dir, archive.err = os.MkdirTemp("", "annals-bench-")
		if archive.err != nil {
			return
		}
		archive.path = filepath.Join(archive.dir, "archive.db")
		s, err := sqlite.Open(b.Context(), archive.path, nil)
		if err != nil {
			archive.err = err
			return
		}
		batch := &store.Batch{Events: genEvents(42, "e", benchEvents)}
		for i := range benchActors {
			batch.Actors = append(batch.Actors, &annalsv1.Actor{Name: fmt.Sprintf("actors/a%d", i), Kind: annalsv1.ActorKind(1 + i%5),
				Labels: []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Actor %d %s", i, words[i%len(words)])}}})
		}
		for i := range benchPlaces {
			batch.Places = append(batch.Places, &annalsv1.Place{Name: fmt.Sprintf("places/p%d", i),
				Labels: []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Place %d", i)}}})
		}
		if _, archive.err = s.Put(b.Context(), batch); archive.err == nil {
			archive.err = s.Close()
		}
	})
	if archive.err != nil {
		b.Fatalf("build archive: %v", archive.err)
	}
	s, err := sqlite.Open(b.Context(), archive.path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestMain(m *testing.M) {
	code := m.Run()
	if archive.dir != "" {
		os.RemoveAll(archive.dir)
	}
	os.Exit(code)
}

// BenchmarkPut writes batches of 1000 new events, each batch one transaction.
func BenchmarkPut(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "put.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		b.StopTimer()
		batch := &store.Batch{Events: genEvents(uint64(i), fmt.Sprintf("b%d", i), 1000)}
		i++
		b.StartTimer()
		if _, err := s.Put(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*1000), "ns/event")
}

// BenchmarkPutUnchanged writes the same 1000 events again: the cost of an
// import that changes nothing.
func BenchmarkPutUnchanged(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "put.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	events := genEvents(7, "u", 1000)
	if _, err := s.Put(b.Context(), &store.Batch{Events: events}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Put(b.Context(), &store.Batch{Events: events}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListEvents reads the first page (50 events) of each filter, and
// one deep page, from the 10 000-event archive.
func BenchmarkListEvents(b *testing.B) {
	s := archiveStore(b)
	ctx := b.Context()
	year := func(y int32) (int64, int64) {
		a := histdate.Astronomical(y)
		return int64(histdate.MakeKey(a, 1, 1)), int64(histdate.MakeKey(a, 12, 31))
	}
	lo, hi := year(1500)
	tests := []struct {
		name string
		f    store.EventFilter
	}{
		{"none", store.EventFilter{}},
		{"month_day", store.EventFilter{Month: 4, Day: 13}},
		{"month", store.EventFilter{Month: 4}},
		{"range_year", store.EventFilter{From: lo, To: hi, HasFrom: true, HasTo: true}},
		{"from_only", store.EventFilter{From: lo, HasFrom: true}},
		{"to_only", store.EventFilter{To: hi, HasTo: true}},
		{"actor", store.EventFilter{Actor: "actors/a7"}},
		{"place", store.EventFilter{Place: "places/p7"}},
		{"wikidata", store.EventFilter{WikidataID: "Q1000042"}},
		{"query", store.EventFilter{Query: "treaty"}},
		{"query_two_words", store.EventFilter{Query: "treaty moscow"}},
		{"query_prefix", store.EventFilter{Query: "ba*"}},
		{"query_diacritics", store.EventFilter{Query: "yosuke"}},
		{"actor_range", store.EventFilter{Actor: "actors/a7", From: lo, HasFrom: true}},
		{"month_day_query", store.EventFilter{Month: 4, Day: 13, Query: "war"}},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				res, err := s.ListEvents(ctx, tc.f, store.Page{Limit: 50})
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Items)
			}
			if n == 0 {
				b.Fatalf("filter %+v matched nothing", tc.f)
			}
		})
	}
	b.Run("deep_page", func(b *testing.B) {
		// The page after the first 9 000 events: keyset paging does not slow down.
		p := store.Page{Limit: 1000}
		for range 9 {
			res, err := s.ListEvents(ctx, store.EventFilter{}, p)
			if err != nil || res.Next == "" {
				b.Fatalf("ListEvents: %v, next %q", err, res.Next)
			}
			p.After = res.Next
		}
		p.Limit = 50
		for b.Loop() {
			if _, err := s.ListEvents(ctx, store.EventFilter{}, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWalkEvents streams the whole 10 000-event archive.
func BenchmarkWalkEvents(b *testing.B) {
	s := archiveStore(b)
	for b.Loop() {
		n := 0
		if err := s.WalkEvents(b.Context(), func(*annalsv1.Event) error { n++; return nil }); err != nil || n != benchEvents {
			b.Fatalf("walked %d events: %v", n, err)
		}
	}
}

// BenchmarkPutSynth fills a new database with a synthetic archive (package
// synth) of 20 000 events, its actors and places, in transactions of 10 000
// records, as `annals gen --db` does. The records are made before the timer
// starts.
func BenchmarkPutSynth(b *testing.B) {
	const events, batchSize = 20000, 10000
	g := synth.New(1, events)
	var batches []*store.Batch
	if err := g.Batches(batchSize, func(bt *store.Batch) error { batches = append(batches, bt); return nil }); err != nil {
		b.Fatal(err)
	}
	n := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := sqlite.Open(b.Context(), filepath.Join(dir, "put.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		for _, bt := range batches {
			if _, err := s.Put(b.Context(), bt); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(n*events)/b.Elapsed().Seconds(), "events/s")
	// CPU time (user and system, of the whole process) is steadier than
	// wall time on a machine shared with other work.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*events), "cpu-ns/event")
}
