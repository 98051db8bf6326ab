package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Every event has an order key (table event_order), the rowid of its
// full-text row: keys sort as the events do in ListEvents, by (date_lo,
// name), so that the postings of a word are in date order and a page of
// the 50 earliest matches reads about 50 postings, not all of them
// (BENCHMARKS.md, issue 13).
//
// Keys are allotted keyGap apart in that order (a bulk load and a
// migration number every event so), and a new event takes a key between
// its neighbours'. When they leave no room, a few of the neighbours are
// renumbered (allot): every write keeps the keys in (date_lo, name) order.
// FTS5 stores each posting's rowid as the difference from the one before
// it, a varint: keys close together keep the full-text index as small as
// rowids numbered one by one would (keys a day apart in their high bits
// made it 60 % larger).
const (
	keyGap = 1 << 8
	// minKeyGap is the least gap a renumbering leaves between neighbours.
	minKeyGap = 4
	// lowestKey and highestKey bound the keys, far from overflowing when
	// subtracted.
	lowestKey  = -1 << 61
	highestKey = 1 << 61
)

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

// neighbours returns up to n events that come before (date_lo, name) in
// list order (nearest first, when before) or after it, with their keys.
func (o *orderer) neighbours(ctx context.Context, lo int64, name string, before bool, n int) ([]orderedEvent, error) {
	q := `SELECT e.id, e.name, o.key FROM events e JOIN event_order o ON o.id = e.id
		WHERE (e.date_lo, e.name) > (?, ?) ORDER BY e.date_lo, e.name LIMIT ?`
	if before {
		q = `SELECT e.id, e.name, o.key FROM events e JOIN event_order o ON o.id = e.id
		WHERE (e.date_lo, e.name) < (?, ?) ORDER BY e.date_lo DESC, e.name DESC LIMIT ?`
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
// key between its neighbours', and writes it to event_order. When they
// leave no room, it renumbers the nearest of them (o.renumbered), as many
// as it takes to leave minKeyGap between any two.
func (o *orderer) allot(ctx context.Context, id, lo int64, name string) (int64, error) {
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
		// each side, or the end of the keys, stays where it is.
		low, high := int64(lowestKey), int64(highestKey)
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
		if gap < minKeyGap && (len(before) == w || len(after) == w) {
			continue // too crowded: widen the window
		}
		if gap < minKeyGap {
			return 0, fmt.Errorf("sqlite: no order key left for %s", name)
		}
		gap = min(gap, keyGap)
		// Renumber the window evenly, the new event in its place.
		window := make([]orderedEvent, 0, n)
		for i := len(before) - 1; i >= 0; i-- {
			window = append(window, before[i])
		}
		window = append(window, orderedEvent{id: id, name: name})
		window = append(window, after...)
		start := low + ((high-low)-gap*(n-1))/2
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
		var key int64
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
// is one: the middle, or keyGap from the neighbour when there is one on one
// side only (events added in order then find room for long).
func between(low, high int64, hasLow, hasHigh bool) (int64, bool) {
	if high-low < 2 {
		return 0, false
	}
	half := (high - low) / 2
	switch {
	case hasLow && !hasHigh:
		return low + min(keyGap, half), true
	case hasHigh && !hasLow:
		return high - min(keyGap, half), true
	case !hasLow && !hasHigh:
		return keyGap, true
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

// numberEvents fills event_order for every event, from the date index
// (events_by_start, which must exist): keyGap apart in list order.
// event_order must be empty. Keys are written in increasing order; memory
// holds one batch of the index.
func numberEvents(ctx context.Context, q execQuerier) (int, error) {
	ins := newRowWriter(q, "event_order", "key, id", 2)
	var (
		n       int
		afterLo int64 = math.MinInt64
		after   string
		ids     []int64
	)
	const batch = 1 << 16
	for {
		ids = ids[:0]
		rows, err := q.QueryContext(ctx, "SELECT id, date_lo, name FROM events WHERE (date_lo, name) > (?, ?) ORDER BY date_lo, name LIMIT ?",
			afterLo, after, batch)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id, &afterLo, &after); err != nil {
				rows.Close()
				return 0, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		for _, id := range ids {
			n++
			if err := ins.add(ctx, int64(n)*keyGap, id); err != nil {
				return 0, err
			}
		}
		if len(ids) < batch {
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
