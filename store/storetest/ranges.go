package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/store"
)

// testDateRanges checks date-range filters against a model: a few hundred
// events of every precision from a day to a millennium, some with end dates
// centuries later, are listed for many random ranges at several page sizes,
// and each list must be exactly the events whose span overlaps the range, in
// date order. Long spans are what a backend's range index is easiest to get
// wrong for: an event that began long before the range but reaches into it.
func testDateRanges(t *testing.T, open func(*testing.T) store.Store) {
	r := rand.New(rand.NewPCG(1941, 413))
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
	type span struct {
		name   string
		lo, hi int64
	}
	b := &store.Batch{}
	var model []span
	for i := range 600 {
		e := &annalsv1.Event{
			Name:    fmt.Sprintf("events/range-%03d", i),
			Labels:  en(fmt.Sprintf("Range %d", i)),
			Summary: "An event of the date-range model.",
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
		b.Events = append(b.Events, e)
		model = append(model, span{e.Name, int64(lo), int64(hi)})
	}
	s := open(t)
	if _, err := s.Put(t.Context(), b); err != nil {
		t.Fatalf("Put: %v", err)
	}
	slices.SortFunc(model, func(a, b span) int { return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.name, b.name)) })
	// Most bounds fall on, inside or next to an event's span,
	// where an off-by-one in a backend shows.
	key := func() int64 {
		if r.IntN(4) != 0 {
			m := model[r.IntN(len(model))]
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
		var want []string
		for _, m := range model {
			if (!f.HasFrom || m.hi >= f.From) && (!f.HasTo || m.lo <= f.To) {
				want = append(want, m.name)
			}
		}
		limit := []int{5, 50, 1000, 1000}[i%4]
		if got := listAll(t, s, f, limit); !slices.Equal(got, want) {
			t.Errorf("ListEvents(From %d (%v), To %d (%v)), pages of %d:\n got %d events %v\nwant %d events %v",
				f.From, f.HasFrom, f.To, f.HasTo, limit, len(got), head(got), len(want), head(want))
		}
	}
}

// head is the start of a long list of names, for error messages.
func head(names []string) []string { return names[:min(len(names), 8)] }
