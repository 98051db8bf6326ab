package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/store"
)

// modelEvent is what the model tests know of an event: its name, span,
// start month, actors and summary.
type modelEvent struct {
	name    string
	lo, hi  int64
	month   int32
	actors  []string
	summary string
}

// model makes n events of every precision from a day to a millennium, some
// with end dates centuries later, some with an actor; the summary of each
// holds "common" unless i%3 == 0 and "rare" when i%50 == 0. It returns the
// batch to Put and the events in ListEvents order.
func model(r *rand.Rand, n int) (*store.Batch, []modelEvent) {
	precisions := []annalsv1.DatePrecision{
		annalsv1.DatePrecision_DATE_PRECISION_DAY,
		annalsv1.DatePrecision_DATE_PRECISION_DAY,
		annalsv1.DatePrecision_DATE_PRECISION_MONTH,
		annalsv1.DatePrecision_DATE_PRECISION_YEAR,
		annalsv1.DatePrecision_DATE_PRECISION_DECADE,
		annalsv1.DatePrecision_DATE_PRECISION_CENTURY,
		annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM,
	}
	date := func(y int32) *annalsv1.HistoricalDate {
		if y == 0 {
			y = 1 // there is no year 0 in historical numbering
		}
		d := &annalsv1.HistoricalDate{Year: y, Precision: precisions[r.IntN(len(precisions))]}
		if d.Precision >= annalsv1.DatePrecision_DATE_PRECISION_MONTH {
			d.Month = 1 + r.Int32N(12)
		}
		if d.Precision == annalsv1.DatePrecision_DATE_PRECISION_DAY {
			d.Day = 1 + r.Int32N(28)
		}
		return d
	}
	b := &store.Batch{Actors: []*annalsv1.Actor{{
		Name: "actors/model-actor", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: en("Model Actor"),
	}}}
	var events []modelEvent
	for i := range n {
		words := []string{"An event of the model"}
		if i%3 != 0 {
			words = append(words, "common")
		}
		if i%50 == 0 {
			words = append(words, "rare")
		}
		e := &annalsv1.Event{
			Name:    fmt.Sprintf("events/model-%03d", i),
			Labels:  en(fmt.Sprintf("Model %d", i)),
			Summary: strings.Join(words, " ") + ".",
			Date:    date(r.Int32N(4000) - 2000),
		}
		if r.IntN(3) == 0 {
			end := date(e.Date.Year + []int32{0, 1, 1, 2, 3, 10, 50, 300}[r.IntN(8)])
			if end.Year > 0 && e.Date.Year < 0 && end.Year < 0 {
				end.Year = e.Date.Year
			}
			if histdate.Validate(end) == nil {
				e.EndDate = end
			}
		}
		lo, hi := histdate.Bounds(e.GetDate())
		if e.EndDate != nil {
			if _, eh := histdate.Bounds(e.EndDate); eh > hi {
				hi = eh
			} else {
				e.EndDate = nil // an end before the start is not what this model tests
			}
		}
		m := modelEvent{name: e.Name, lo: int64(lo), hi: int64(hi), summary: e.Summary}
		if e.Date.Precision >= annalsv1.DatePrecision_DATE_PRECISION_MONTH {
			m.month = e.Date.Month
		}
		if i%4 == 0 {
			e.Participants = []*annalsv1.Participant{party("actors/model-actor", annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY)}
			m.actors = []string{"actors/model-actor"}
		}
		b.Events = append(b.Events, e)
		events = append(events, m)
	}
	slices.SortFunc(events, func(a, b modelEvent) int { return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.name, b.name)) })
	return b, events
}

// loadModel opens a store and writes 600 events of the model into it.
func loadModel(t *testing.T, open func(*testing.T) store.Store, r *rand.Rand) (store.Store, []modelEvent) {
	t.Helper()
	b, events := model(r, 600)
	s := open(t)
	if _, err := s.Put(t.Context(), b); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return s, events
}

// selects says whether the model event m matches f, as the store must.
func (m modelEvent) selects(f store.EventFilter) bool {
	return (!f.HasFrom || m.hi >= f.From) && (!f.HasTo || m.lo <= f.To) &&
		(f.Month == 0 || m.month == f.Month) &&
		(f.Actor == "" || slices.Contains(m.actors, f.Actor)) &&
		(f.Query == "" || strings.Contains(m.summary, f.Query))
}

// checkModel lists f at page size limit and compares with the model.
func checkModel(t *testing.T, s store.Reader, events []modelEvent, f store.EventFilter, limit int) {
	t.Helper()
	var want []string
	for _, m := range events {
		if m.selects(f) {
			want = append(want, m.name)
		}
	}
	if got := listAll(t, s, f, limit); !slices.Equal(got, want) {
		t.Errorf("ListEvents(%+v), pages of %d:\n got %d events %v\nwant %d events %v",
			f, limit, len(got), head(got), len(want), head(want))
	}
}

// testDateRanges checks date-range filters against the model: its events
// are listed for many random ranges at several page sizes, and each list
// must be exactly the events whose span overlaps the range, in date order.
// Long spans are what a backend's range index is easiest to get wrong for:
// an event that began long before the range but reaches into it.
func testDateRanges(t *testing.T, open func(*testing.T) store.Store) {
	r := rand.New(rand.NewPCG(1941, 413))
	s, events := loadModel(t, open, r)
	// Most bounds fall on, inside or next to an event's span, where an
	// off-by-one in a backend shows.
	key := func() int64 {
		if r.IntN(4) != 0 {
			m := events[r.IntN(len(events))]
			return []int64{m.lo - 1, m.lo, m.lo + (m.hi-m.lo)/2, m.hi, m.hi + 1}[r.IntN(5)]
		}
		y := r.Int64N(4400) - 2200
		return int64(histdate.MakeKey(y, 1+r.Int32N(12), 1+r.Int32N(28)))
	}
	for i := range 240 {
		var f store.EventFilter
		switch i % 3 {
		case 0:
			f.From, f.HasFrom = key(), true
		case 1:
			f.To, f.HasTo = key(), true
		default:
			f.From, f.To = key(), key()
			if f.From > f.To {
				f.From, f.To = f.To, f.From
			}
			f.HasFrom, f.HasTo = true, true
		}
		checkModel(t, s, events, f, []int{5, 50, 1000, 1000}[i%4])
	}
}

// testFullTextModel checks full-text queries against the model, alone and
// with the other filters, for a word most events hold and one few hold: a
// backend may find the two in different ways (SQLite does), and both must
// give the same events in the same order, page after page.
func testFullTextModel(t *testing.T, open func(*testing.T) store.Store) {
	r := rand.New(rand.NewPCG(1945, 92))
	s, events := loadModel(t, open, r)
	mid := events[len(events)/2]
	for _, word := range []string{"common", "rare"} {
		for _, f := range []store.EventFilter{
			{},
			{From: mid.lo, HasFrom: true},
			{From: mid.lo, HasFrom: true, To: mid.lo + 5_000_000, HasTo: true},
			{To: mid.lo, HasTo: true},
			{Month: 4},
			{Actor: "actors/model-actor"},
			{Actor: "actors/model-actor", From: mid.lo, HasFrom: true},
		} {
			f.Query = word
			for _, limit := range []int{7, 50} {
				checkModel(t, s, events, f, limit)
			}
		}
	}
}

// head is the start of a long list of names, for error messages.
func head(names []string) []string { return names[:min(len(names), 8)] }
