package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// checkOrder fails unless event_order has one key per event and the keys
// sort as (date_lo, name).
func checkOrder(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT e.date_lo, e.name, o.key FROM events e LEFT JOIN event_order o ON o.id = e.id ORDER BY e.date_lo, e.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev *int64
	n := 0
	for rows.Next() {
		var lo int64
		var name string
		var key *int64
		if err := rows.Scan(&lo, &name, &key); err != nil {
			t.Fatal(err)
		}
		n++
		switch {
		case key == nil:
			t.Fatalf("%s has no order key", name)
		case *key <= lowestKey || *key >= highestKey:
			t.Fatalf("%s (date_lo %d) has key %d out of bounds", name, lo, *key)
		case prev != nil && *key <= *prev:
			t.Fatalf("%s has key %d, not above the key %d of the event before it", name, *key, *prev)
		}
		prev = key
	}
	var keys int
	if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM event_order").Scan(&keys); err != nil || keys != n {
		t.Fatalf("event_order has %d keys (%v) for %d events", keys, err, n)
	}
}

// TestOrderKeys writes many events of one day in the orders that use up
// the gaps between slots fastest — names ascending, descending, always
// between the same two — and moves and deletes some: the keys stay in
// (date_lo, name) order, renumbering their neighbours as needed, and a
// full-text query lists them all, in order, page after page.
func TestOrderKeys(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	day := &annalsv1.HistoricalDate{Year: 1941, Month: 4, Day: 13, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}
	ev := func(name string, d *annalsv1.HistoricalDate) *annalsv1.Event {
		return &annalsv1.Event{Name: "events/" + name, Labels: []*annalsv1.Label{{Language: "en", Value: "Ordered " + name}}, Date: d}
	}
	put := func(es ...*annalsv1.Event) {
		t.Helper()
		if _, err := s.Put(ctx, &store.Batch{Events: es}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for i := range 60 { // ascending: each after the last
		names = append(names, fmt.Sprintf("b-%03d", i))
		put(ev(names[len(names)-1], day))
	}
	for i := range 60 { // descending: each before the first
		names = append(names, fmt.Sprintf("a-%03d", 999-i))
		put(ev(names[len(names)-1], day))
	}
	// Always between the same two: c-a < c-am < c-amm < … < c-b, each in
	// the gap the one before left (halving it every time).
	put(ev("c-a", day), ev("c-b", day))
	names = append(names, "c-a", "c-b")
	mid := "c-a"
	for range 80 {
		mid += "m"
		names = append(names, mid)
		put(ev(mid, day))
	}
	// Many at once, at random, in one batch.
	r := rand.New(rand.NewPCG(3, 4))
	var batch []*annalsv1.Event
	for i := range 300 {
		n := fmt.Sprintf("d-%d-%d", r.IntN(1000), i)
		names = append(names, n)
		batch = append(batch, ev(n, day))
	}
	put(batch...)
	checkOrder(t, s)

	// Moved to another day and back; deleted.
	other := &annalsv1.HistoricalDate{Year: 1941, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}
	put(ev("b-010", other), ev("a-990", other))
	checkOrder(t, s)
	put(ev("b-010", day))
	if _, err := s.Put(ctx, &store.Batch{Deletes: []string{"events/c-amm", "events/b-020"}}); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, s)

	var want []string
	for _, n := range names {
		if n != "c-amm" && n != "b-020" {
			want = append(want, "events/"+n)
		}
	}
	wantDay := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return n == "events/a-990" })
	slices.Sort(wantDay)
	// a-990 is now a year event: its span starts on 1 January, before the day.
	want = append([]string{"events/a-990"}, wantDay...)
	for _, limit := range []int{1, 7, 50, 1000} {
		var got []string
		p := store.Page{Limit: limit}
		for {
			res, err := s.ListEvents(ctx, store.EventFilter{Query: "ordered"}, p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, namesOf(res.Items)...)
			if res.Next == "" {
				break
			}
			p.After = res.Next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query, pages of %d: got %d events %v…, want %d %v…", limit, len(got), got[:min(8, len(got))], len(want), want[:8])
		}
	}
}
