package postgres_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/store/storetest"
)

// TestFullTextMatchesSQLite writes the same records into PostgreSQL and
// SQLite and lists events, actors and places for many queries on both: the
// answers must be the same, in the same order. The records include what a
// tsvector handles differently from FTS5 unless Annals takes care: words
// longer than a lexeme may be, a run of Japanese characters split between
// a label and the summary (a phrase is found inside one field only), and
// the same words in other orders.
func TestFullTextMatchesSQLite(t *testing.T) {
	ctx := t.Context()
	pg := openNew(t)
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	long := strings.Repeat("ab", 300)                    // 600 letters: longer than a lexeme
	longOther := strings.Repeat("ab", 260) + "zz" + "ab" // the same first 520 letters, then other
	day := &annalsv1.HistoricalDate{Year: 1900, Month: 1, Day: 1, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}
	extra := &store.Batch{Events: []*annalsv1.Event{
		{Name: "events/long-word", Labels: []*annalsv1.Label{{Language: "en", Value: "Long word"}}, Summary: "It says " + long + ".", Date: day},
		{Name: "events/other-long-word", Labels: []*annalsv1.Label{{Language: "en", Value: "Other long word"}}, Summary: longOther, Date: day},
		{Name: "events/split-run", Labels: []*annalsv1.Label{{Language: "ja", Value: "日ソ"}}, Summary: "中立条約の話", Date: day},
		{Name: "events/whole-run", Labels: []*annalsv1.Label{{Language: "ja", Value: "日ソ中立"}}, Summary: "A pact, 1/2 signed; ½ kept.", Date: day},
		{Name: "events/reversed", Labels: []*annalsv1.Label{{Language: "en", Value: "Pact neutrality"}}, Summary: "中立日ソ", Date: day},
	}}
	for _, s := range []store.Store{pg, lite} {
		if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, extra); err != nil {
			t.Fatal(err)
		}
		for _, d := range storetest.ScriptDocuments() {
			if _, err := ingest.Import(ctx, s, d.File, []byte(d.Text), ingest.Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	queries := []string{
		long, long + "*", long[:550] + "*", long[:520], longOther, strings.Repeat("ab", 250) + "*",
		"日ソ中立", "日ソ", "中立", "中立条約", "ソ中", "日ソ中立条約", "中立日ソ", "立条*", "日*",
		"1 2", "½", "1/2", "pact neutrality", "neutrality pact", "pact*", "pa*", "p*",
		"caesar", "CAESAR brutus", "москва", "моск*", "бородино", "ολυμπιακοι", "李白", "李", "ノモンハン", "ノモン*",
		"key figures", "a", "it", "said", "says", "the", "of the", "soviet union", "sov* uni*",
	}
	want := map[string][]string{
		long:             {"events/long-word"},
		long[:550] + "*": {"events/long-word"},
		long[:520]:       nil,
		longOther:        {"events/other-long-word"},
		// Not events/split-run, whose "日ソ" ends its label and "中立" starts its summary.
		"日ソ中立": {"events/whole-run", "events/soviet-japanese-neutrality-pact", "events/ri-so-zhong-li-tiao-yue"},
		"中立条約": {"events/soviet-japanese-neutrality-pact", "events/split-run", "events/ri-so-zhong-li-tiao-yue"},
		"ソ中":   {"events/whole-run", "events/soviet-japanese-neutrality-pact", "events/ri-so-zhong-li-tiao-yue"},
		"½":    {"events/whole-run"},
	}
	names := func(es []*annalsv1.Event) []string {
		var n []string
		for _, e := range es {
			n = append(n, e.GetName())
		}
		return n
	}
	for _, q := range queries {
		var got [2][]string
		var actors, places [2]int
		for i, s := range []store.Store{pg, lite} {
			res, err := s.ListEvents(ctx, store.EventFilter{Query: q}, store.Page{Limit: 1000})
			if err != nil {
				t.Fatalf("ListEvents(%.30q): %v", q, err)
			}
			got[i] = names(res.Items)
			a, err := s.ListActors(ctx, store.ActorFilter{Query: q}, store.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.ListPlaces(ctx, store.PlaceFilter{Query: q}, store.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			actors[i], places[i] = len(a.Items), len(p.Items)
		}
		if w, ok := want[q]; ok {
			g := slices.Clone(got[0])
			slices.Sort(g)
			w = slices.Clone(w)
			slices.Sort(w)
			if !slices.Equal(g, w) {
				t.Errorf("query %.40q finds %v, want %v", q, got[0], w)
			}
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("query %.40q: PostgreSQL finds %v, SQLite %v", q, got[0], got[1])
		}
		if actors[0] != actors[1] || places[0] != places[1] {
			t.Errorf("query %.40q: PostgreSQL finds %d actors and %d places, SQLite %d and %d", q, actors[0], places[0], actors[1], places[1])
		}
	}
}
