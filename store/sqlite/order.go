package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/annals-project/annals/histdate"
)

// Every event has an order key (table event_order), the rowid of its
// full-text row: keys sort as the events do in ListEvents, by (date_lo,
// name), so that the postings of a word are in date order and a page of
// the 50 earliest matches reads about 50 postings, not all of them
// (BENCHMARKS.md, issue 13).
//
// A key is the start day of the event's span (dayNumber of date_lo) in its
// high bits and a slot in the low slotBits: the events of one day are
// ordered by name through their slots, which are allotted with gaps
// between them. An event that comes between two whose slots are adjacent
// renumbers a few of its neighbours of the same day (relabel): every
// write keeps the keys in (date_lo, name) order.
const (
	slotBits = 32
	// slotStep is the gap left after the last event of a day (and before
	// the first), so that events added at the ends of a day in name order
	// find a free slot thousands of times before renumbering.
	slotStep = 1 << 20
	// minSlotGap is the least gap a renumbering leaves between neighbours.
	minSlotGap = 8
)

// dayNumber numbers the days of the proleptic Gregorian calendar in order,
// from a histdate.Key of a real day: 372 a year (12 months of 31 days), so
// that a key fits in 30 bits for every year histdate accepts.
func dayNumber(k int64) int64 {
	astro := floorDiv(k, 10000)
	rem := k - astro*10000
	return astro*372 + (rem/100-1)*31 + (rem%100 - 1)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Bounds of the day keys keyFloor accepts: a year beyond histdate's range on
// either side.
var (
	minDayKey = int64(histdate.MakeKey(-histdate.MaxAbsYear-1, 1, 1))
	maxDayKey = int64(histdate.MakeKey(histdate.MaxAbsYear+1, 12, 31))
)

// keyFloor is the least order key of an event whose date_lo is k or later,
// for any integer k (a filter's bound need not be a real day): the first
// slot of the first real day on or after k.
func keyFloor(k int64) int64 {
	k = min(max(k, minDayKey), maxDayKey)
	astro := floorDiv(k, 10000)
	rem := k - astro*10000
	m, d := rem/100, rem%100
	switch {
	case m < 1:
		m, d = 1, 1
	case m > 12:
		astro, m, d = astro+1, 1, 1
	case d < 1:
		d = 1
	case d > 31:
		m, d = m+1, 1
		if m > 12 {
			astro, m = astro+1, 1
		}
	}
	return dayNumber(astro*10000+m*100+d) << slotBits
}

// dayOf is the first key of the day of date_lo k (a real day).
func dayOf(k int64) int64 { return dayNumber(k) << slotBits }

// orderedEvent is an event in order: its row id, its name and its key.
type orderedEvent struct {
	id   int64
	name string
	key  int64
}

// orderer allots keys inside a write transaction.
type orderer struct {
	p *putter
	// renumbered holds the events a relabel gave new keys, whose full-text
	// rows the caller rewrites.
	renumbered []orderedEvent
}

// neighbours returns up to n events of the day of date_lo lo whose names
// come before name (nearest first, when before) or after it, with their keys.
func (o *orderer) neighbours(ctx context.Context, lo int64, name string, before bool, n int) ([]orderedEvent, error) {
	q := `SELECT e.id, e.name, o.key FROM events e JOIN event_order o ON o.id = e.id
		WHERE e.date_lo = ? AND e.name > ? ORDER BY e.name LIMIT ?`
	if before {
		q = `SELECT e.id, e.name, o.key FROM events e JOIN event_order o ON o.id = e.id
		WHERE e.date_lo = ? AND e.name < ? ORDER BY e.name DESC LIMIT ?`
	}
	rows, err := o.p.query(ctx, q, lo, name, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orderedEvent
	for rows.Next() {
		var e orderedEvent
		if err := rows.Scan(&e.id, &e.name, &e.key); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// allot gives the event stored as row id, of date_lo lo and called name, a
// key between its neighbours of the same day, and writes it to
// event_order. When they leave no room, it renumbers the nearest of them
// (o.renumbered).
func (o *orderer) allot(ctx context.Context, id, lo int64, name string) (int64, error) {
	day := dayOf(lo)
	for w := 8; ; w *= 4 {
		before, err := o.neighbours(ctx, lo, name, true, w+1)
		if err != nil {
			return 0, err
		}
		after, err := o.neighbours(ctx, lo, name, false, w+1)
		if err != nil {
			return 0, err
		}
		// The window is the w nearest on each side; the next one out on
		// each side, or the day's bound, stays where it is.
		low, high := day-1, day+1<<slotBits
		if len(before) == w+1 {
			low = before[w].key
			before = before[:w]
		}
		if len(after) == w+1 {
			high = after[w].key
			after = after[:w]
		}
		if w == 8 {
			// Room right beside it?
			l, h := low, high
			if len(before) > 0 {
				l = before[0].key
			}
			if len(after) > 0 {
				h = after[0].key
			}
			if k, ok := between(l, h, len(before) > 0, len(after) > 0); ok {
				return k, o.write(ctx, id, k)
			}
		}
		n := int64(len(before) + 1 + len(after))
		gap := (high - low) / (n + 1)
		if gap < minSlotGap && (len(before) == w || len(after) == w) {
			continue // too crowded: widen the window
		}
		if gap < minSlotGap {
			return 0, fmt.Errorf("sqlite: no order key left for %s: %d events on one day", name, n)
		}
		gap = min(gap, slotStep)
		// Renumber the window evenly, the new event in its place by name.
		window := make([]orderedEvent, 0, n)
		for i := len(before) - 1; i >= 0; i-- {
			window = append(window, before[i])
		}
		window = append(window, orderedEvent{id: id, name: name})
		window = append(window, after...)
		start := low + ((high-low)-gap*(n-1))/2
		var key int64
		for i := range window {
			window[i].key = start + gap*int64(i)
		}
		// Free the old keys first: the new ones may be old ones of others.
		for _, e := range window {
			if e.id == id {
				continue
			}
			var old int64
			if err := o.p.queryRow(ctx, "SELECT key FROM event_order WHERE id = ?", e.id).Scan(&old); err != nil {
				return 0, err
			}
			if _, err := o.p.exec(ctx, "DELETE FROM events_fts WHERE rowid = ?", old); err != nil {
				return 0, err
			}
			if _, err := o.p.exec(ctx, "DELETE FROM event_order WHERE id = ?", e.id); err != nil {
				return 0, err
			}
		}
		for _, e := range window {
			if e.id == id {
				key = e.key
			} else {
				o.renumbered = append(o.renumbered, e)
			}
			if err := o.write(ctx, e.id, e.key); err != nil {
				return 0, err
			}
		}
		return key, nil
	}
}

// between picks a key strictly between low and high (exclusive), if there
// is one: the middle, or slotStep from the neighbour when there is one on
// one side only (events added in name order then find room for long).
func between(low, high int64, hasLow, hasHigh bool) (int64, bool) {
	if high-low < 2 {
		return 0, false
	}
	half := (high - low) / 2
	switch {
	case hasLow && !hasHigh:
		return low + min(slotStep, half), true
	case hasHigh && !hasLow:
		return high - min(slotStep, half), true
	}
	return low + half, true
}

func (o *orderer) write(ctx context.Context, id, key int64) error {
	_, err := o.p.exec(ctx, "INSERT INTO event_order(key, id) VALUES (?, ?)", key, id)
	return err
}

// keyOf returns the order key of the event stored as row id, or false.
func (p *putter) keyOf(ctx context.Context, id int64) (int64, bool, error) {
	var k int64
	switch err := p.queryRow(ctx, "SELECT key FROM event_order WHERE id = ?", id).Scan(&k); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return k, true, nil
}

// dayKeys allots the keys of one day's events, given in name order, evenly:
// as a bulk load or a migration numbers every event.
func dayKeys(day int64, n int) func(i int) int64 {
	gap := min(int64(1)<<slotBits/int64(n+1), slotStep)
	start := day + (int64(1)<<slotBits-gap*int64(n-1))/2
	return func(i int) int64 { return start + gap*int64(i) }
}

// numberEvents fills event_order for every event, from the date index
// (events_by_start, which must exist): each day's events spread evenly
// over its slots in name order. event_order must be empty. Keys are
// written in increasing order; memory holds one batch of the index and
// the day being numbered.
func numberEvents(ctx context.Context, q execQuerier) (int, error) {
	ins := newRowWriter(q, "event_order", "key, id", 2)
	type ev struct{ id, lo int64 }
	var (
		day     []ev // the day being read, in name order
		n       int
		afterLo int64 = math.MinInt64
		after   string
	)
	number := func(day []ev) error {
		key := dayKeys(dayOf(day[0].lo), len(day))
		for i, e := range day {
			if err := ins.add(ctx, key(i), e.id); err != nil {
				return err
			}
		}
		n += len(day)
		return nil
	}
	const batch = 1 << 16
	for {
		rows, err := q.QueryContext(ctx, "SELECT id, date_lo, name FROM events WHERE (date_lo, name) > (?, ?) ORDER BY date_lo, name LIMIT ?",
			afterLo, after, batch)
		if err != nil {
			return 0, err
		}
		read := 0
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.id, &e.lo, &after); err != nil {
				rows.Close()
				return 0, err
			}
			afterLo = e.lo
			day = append(day, e)
			read++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		// Number every day the batch completed: all but the last, unless
		// the index is done.
		start := 0
		for i := 1; i <= len(day); i++ {
			if i < len(day) && day[i].lo == day[start].lo {
				continue
			}
			if i == len(day) && read == batch {
				break // the last day may go on in the next batch
			}
			if err := number(day[start:i]); err != nil {
				return 0, err
			}
			start = i
		}
		day = append(day[:0], day[start:]...)
		if read < batch {
			break
		}
	}
	return n, ins.flush(ctx)
}

// execQuerier is what writes need of a transaction or a connection.
type execQuerier interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// rowWriter inserts rows into one table many at a time: a statement of
// rowsPerInsert rows, prepared once, for every full group, one statement
// for the rest at flush. It cuts the calls into the driver, which cost
// more than SQLite's work for a small row.
//
// A full-text table gets one row a statement instead (newTextWriter): a
// statement of several rows opens a savepoint, at which FTS5 writes out
// the postings it holds in memory, so that many-row statements would cut
// them into a segment per statement.
type rowWriter struct {
	q      execQuerier
	table  string
	cols   int
	insert string // "INSERT INTO table(cols) VALUES "
	args   []any
	full   *sql.Stmt
	per    int // rows a statement
}

// rowsPerInsert is how many rows one multi-row INSERT writes.
const rowsPerInsert = 64

func newRowWriter(q execQuerier, table, cols string, n int) *rowWriter {
	return &rowWriter{q: q, table: table, cols: n, insert: "INSERT INTO " + table + "(" + cols + ") VALUES ", per: rowsPerInsert}
}

// newTextWriter is a rowWriter of one row a statement, for a full-text table.
func newTextWriter(q execQuerier, table, cols string, n int) *rowWriter {
	w := newRowWriter(q, table, cols, n)
	w.per = 1
	return w
}

// values is the VALUES list of n rows of w.cols columns.
func (w *rowWriter) values(n int) string {
	row := "(?" + strings.Repeat(", ?", w.cols-1) + ")"
	return row + strings.Repeat(", "+row, n-1)
}

// add queues one row (w.cols values) and writes a group when it is full.
func (w *rowWriter) add(ctx context.Context, vals ...any) error {
	w.args = append(w.args, vals...)
	if len(w.args) < w.per*w.cols {
		return nil
	}
	if w.full == nil {
		st, err := w.q.PrepareContext(ctx, w.insert+w.values(w.per))
		if err != nil {
			return fmt.Errorf("insert into %s: %w", w.table, err)
		}
		w.full = st
	}
	if _, err := w.full.ExecContext(ctx, w.args...); err != nil {
		return fmt.Errorf("insert into %s: %w", w.table, err)
	}
	clear(w.args)
	w.args = w.args[:0]
	return nil
}

// flush writes the rows queued and releases the statement.
func (w *rowWriter) flush(ctx context.Context) error {
	defer func() {
		if w.full != nil {
			w.full.Close()
			w.full = nil
		}
	}()
	if len(w.args) == 0 {
		return nil
	}
	if _, err := w.q.ExecContext(ctx, w.insert+w.values(len(w.args)/w.cols), w.args...); err != nil {
		return fmt.Errorf("insert into %s: %w", w.table, err)
	}
	clear(w.args)
	w.args = w.args[:0]
	return nil
}
