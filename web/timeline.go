package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/store"
)

// The timeline groups the archive by century, decade and year. An event
// counts in every period its span overlaps — the same rule as ListEvents'
// date filters — so a period's count is the length of its list, and an
// event known only to the century counts in every year of it.

// periodKind is the size of a period.
type periodKind int

const (
	century periodKind = iota
	decade
	year
)

// period is a century, decade or year in historical numbering. n is, for
// a century, its ordinal (20 is the 20th century, -1 the 1st century BCE);
// for a decade, an index (194 is the 1940s, 0 the years 1-9, -1 the years
// 1-9 BCE, -5 the 40s BCE); for a year, the year (-44 is 44 BCE). Within a
// kind, periods order as their n.
type period struct {
	kind periodKind
	n    int64
}

func centuryOf(y int64) period {
	if y < 0 {
		return period{century, -((-y-1)/100 + 1)}
	}
	return period{century, (y-1)/100 + 1}
}

func decadeOf(y int64) period {
	if y < 0 {
		return period{decade, -(-y)/10 - 1}
	}
	return period{decade, y / 10}
}

func yearOf(y int64) period { return period{year, y} }

// years returns the first and last historical year of p.
func (p period) years() (first, last int64) {
	switch p.kind {
	case century:
		if p.n < 0 {
			k := -p.n
			return -k * 100, -((k-1)*100 + 1)
		}
		return (p.n-1)*100 + 1, p.n * 100
	case decade:
		if p.n < 0 {
			j := -p.n - 1
			return -(j*10 + 9), -max(1, j*10)
		}
		return max(1, p.n*10), p.n*10 + 9
	}
	return p.n, p.n
}

// name writes p for people: "20th century", "1st century BCE", "1940s",
// "40s BCE", "years 1–9", "1941", "44 BCE".
func (p period) name() string {
	switch p.kind {
	case century:
		if p.n < 0 {
			return ordinal(-p.n) + " century BCE"
		}
		return ordinal(p.n) + " century"
	case decade:
		switch {
		case p.n == 0:
			return "years 1–9"
		case p.n == -1:
			return "years 1–9 BCE"
		case p.n < 0:
			return strconv.FormatInt((-p.n-1)*10, 10) + "s BCE"
		}
		return strconv.FormatInt(p.n*10, 10) + "s"
	}
	return yearName(p.n)
}

// slug is p in a URL: /timeline/20th-century, /timeline/1940s,
// /timeline/40s-bce, /timeline/1941, /timeline/44-bce.
func (p period) slug() string {
	switch p.kind {
	case century:
		if p.n < 0 {
			return ordinal(-p.n) + "-century-bce"
		}
		return ordinal(p.n) + "-century"
	case decade:
		if p.n < 0 {
			return strconv.FormatInt((-p.n-1)*10, 10) + "s-bce"
		}
		return strconv.FormatInt(p.n*10, 10) + "s"
	}
	if p.n < 0 {
		return strconv.FormatInt(-p.n, 10) + "-bce"
	}
	return strconv.FormatInt(p.n, 10)
}

// errPeriod is a /timeline/{period} that names no period.
var errPeriod = errors.New("not a period")

// maxPeriodYear bounds the years a period may name, as dates are bounded.
const maxPeriodYear = histdate.MaxAbsYear

// parsePeriod reads a slug: the inverse of period.slug.
func parsePeriod(s string) (period, error) {
	bce := false
	if rest, ok := strings.CutSuffix(s, "-bce"); ok {
		s, bce = rest, true
	}
	kind := year
	switch {
	case strings.HasSuffix(s, "-century"):
		kind, s = century, strings.TrimSuffix(s, "-century")
		if len(s) < 3 {
			return period{}, errPeriod
		}
		num, suffix := s[:len(s)-2], s[len(s)-2:]
		n, err := positive(num)
		if err != nil || ordinal(n) != num+suffix {
			return period{}, errPeriod
		}
		if n > maxPeriodYear/100 {
			return period{}, errPeriod
		}
		if bce {
			n = -n
		}
		return period{century, n}, nil
	case strings.HasSuffix(s, "0s"):
		kind, s = decade, strings.TrimSuffix(s, "s")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s || n > maxPeriodYear {
		return period{}, errPeriod
	}
	if kind == decade {
		if bce {
			return period{decade, -n/10 - 1}, nil
		}
		return period{decade, n / 10}, nil
	}
	if n == 0 {
		return period{}, errPeriod
	}
	if bce {
		n = -n
	}
	return period{year, n}, nil
}

// positive parses a decimal number above 0, written without leading zeros.
func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != s {
		return 0, errPeriod
	}
	return n, nil
}

// parent is the period p lies in: a year's decade, a decade's century (of
// its first year); a century has none.
func (p period) parent() (period, bool) {
	first, _ := p.years()
	switch p.kind {
	case year:
		return decadeOf(first), true
	case decade:
		return centuryOf(first), true
	}
	return period{}, false
}

// children are the periods of the next size that p's years fall in, in order.
func (p period) children() []period {
	first, last := p.years()
	switch p.kind {
	case century:
		return between(decadeOf(first), decadeOf(last))
	case decade:
		return between(yearOf(first), yearOf(last))
	}
	return nil
}

// between lists the periods of one kind from a to b, skipping year 0 and
// century 0, which do not exist.
func between(a, b period) []period {
	var out []period
	for n := a.n; n <= b.n; n++ {
		if n == 0 && a.kind != decade {
			continue
		}
		out = append(out, period{a.kind, n})
	}
	return out
}

// timelineData is what the timeline and the home page show of the whole
// archive, computed in one walk.
type timelineData struct {
	counts   map[period]int64
	periods  [3][]period // the periods with events, of each kind, in order
	events   int64
	newest   []*annalsv1.Event // the latest created, newest first
	earliest int64             // historical years of the earliest and latest event
	latest   int64
}

// newestImports is how many of the latest imports the home page lists.
const newestImports = 5

// timeline keeps timelineData for the archive as it last saw it.
type timeline struct {
	st   store.Reader
	mu   sync.Mutex
	key  store.Stats
	data *timelineData
}

// get returns the data of the archive as it is now: the last one computed
// while the archive has not changed (by its Stats), else a new walk.
func (tl *timeline) get(ctx context.Context) (*timelineData, error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	st, err := tl.st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if tl.data != nil && st == tl.key {
		return tl.data, nil
	}
	d := &timelineData{counts: map[period]int64{}}
	first := true
	err = tl.st.WalkEvents(ctx, func(ev *annalsv1.Event) error {
		lo, hi, ok := eventYears(ev)
		if !ok {
			return nil
		}
		d.events++
		if first || lo < d.earliest {
			d.earliest = lo
		}
		if first || hi > d.latest {
			d.latest = hi
		}
		first = false
		for _, of := range []func(int64) period{centuryOf, decadeOf, yearOf} {
			for _, p := range between(of(lo), of(hi)) {
				d.counts[p]++
			}
		}
		d.newest = newer(d.newest, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for p := range d.counts {
		d.periods[p.kind] = append(d.periods[p.kind], p)
	}
	for k := range d.periods {
		slices.SortFunc(d.periods[k], func(a, b period) int { return cmpInt(a.n, b.n) })
	}
	tl.key, tl.data = st, d
	return d, nil
}

// eventYears returns the historical years of the first and last day an
// event's span may cover, as ListEvents' date filters read it.
func eventYears(ev *annalsv1.Event) (lo, hi int64, ok bool) {
	d := ev.GetDate()
	if histdate.Validate(d) != nil {
		return 0, 0, false
	}
	klo, khi := histdate.Bounds(d)
	if e := ev.GetEndDate(); e != nil && histdate.Validate(e) == nil {
		if _, ehi := histdate.Bounds(e); ehi > khi {
			khi = ehi
		}
	}
	return int64(histdate.Historical(floorDiv(int64(klo), 10000))), int64(histdate.Historical(floorDiv(int64(khi), 10000))), true
}

// newer keeps the newestImports latest-created events of list and ev.
func newer(list []*annalsv1.Event, ev *annalsv1.Event) []*annalsv1.Event {
	later := func(a, b *annalsv1.Event) bool {
		ta, tb := a.GetCreateTime().AsTime(), b.GetCreateTime().AsTime()
		if !ta.Equal(tb) {
			return ta.After(tb)
		}
		return a.GetName() < b.GetName()
	}
	i := len(list)
	for i > 0 && later(ev, list[i-1]) {
		i--
	}
	if i >= newestImports {
		return list
	}
	list = slices.Insert(list, i, ev)
	if len(list) > newestImports {
		list = list[:newestImports]
	}
	return list
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dateFilter writes a period's first or last year as a ListEvents date
// bound in a URL: "1941", "-44".
func dateFilter(y int64) string { return fmt.Sprint(y) }
