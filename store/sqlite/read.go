package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/cursor"
	rec "github.com/annals-project/annals/store/record"
)

// Page sizes: a Page.Limit below 1 asks for defaultLimit records, above maxLimit for maxLimit.
const (
	defaultLimit = rec.DefaultLimit
	maxLimit     = rec.MaxLimit
)

// walkBatch is how many records a Walk reads at a time. Each batch is its own
// short read, so a long walk holds no transaction open (which would keep the
// WAL from being checkpointed) and fn may itself use the store.
const walkBatch = 1000

// keyBound clamps day keys from callers well inside int64, so that the
// arithmetic on them in SQL cannot overflow.
const keyBound = int64(1) << 52

func pageLimit(n int) int { return rec.PageLimit(n) }

// getEncoded reads the stored encoding of the record called name from
// table, checked against its checksum.
func (s *Store) getEncoded(ctx context.Context, table, name string) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: get %q: %w", name, err)
	}
	var (
		data []byte
		sum  sql.NullInt64
	)
	err := s.gets[table].QueryRowContext(ctx, name).Scan(&data, &sum)
	return checkedRow(name, data, sum, err)
}

// checkedRow is the stored encoding of the record called name, read with
// err, or the error that says why there is none.
func checkedRow(name string, data []byte, sum sql.NullInt64, err error) ([]byte, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlite: %q: %w", name, store.ErrNotFound)
	case err != nil:
		return nil, readErr(fmt.Sprintf("sqlite: get %q", name), err)
	}
	if err := verify(name, data, sum); err != nil {
		return nil, fmt.Errorf("sqlite: get: %w", err)
	}
	return data, nil
}

// GetEventEncoded returns the stored encoding of the event called name, or
// an error wrapping store.ErrNotFound. The bytes may be shared with other
// callers (cache.go): they must not be changed.
func (s *Store) GetEventEncoded(ctx context.Context, name string) ([]byte, error) {
	if s.events == nil {
		return s.getEncoded(ctx, "events", name)
	}
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: get %q: %w", name, err)
	}
	return s.events.get(ctx, name, s.writes.Load(), func() ([]byte, error) { return s.getEncoded(ctx, "events", name) })
}

// decode decodes a record's stored bytes into m.
func decode(name string, data []byte, m proto.Message) error {
	if err := proto.Unmarshal(data, m); err != nil {
		return fmt.Errorf("sqlite: get %q: %w", name, &store.CorruptError{Name: name, Problem: "its stored bytes do not decode: " + err.Error()})
	}
	return nil
}

// get reads the record called name from table into m.
func (s *Store) get(ctx context.Context, table, name string, m proto.Message) error {
	var (
		data []byte
		err  error
	)
	if table == "events" {
		data, err = s.GetEventEncoded(ctx, name)
	} else {
		data, err = s.getEncoded(ctx, table, name)
	}
	if err != nil {
		return err
	}
	return decode(name, data, m)
}

// GetEvent returns the event called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	return getOrNil(ctx, s, "events", name, &annalsv1.Event{})
}

// GetActor returns the actor called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	return getOrNil(ctx, s, "actors", name, &annalsv1.Actor{})
}

// GetPlace returns the place called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	return getOrNil(ctx, s, "places", name, &annalsv1.Place{})
}

// GetSource returns the source called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	return getOrNil(ctx, s, "sources", name, &annalsv1.Source{})
}

// getOrNil is get that leaves m to the caller only on success.
func getOrNil[T proto.Message](ctx context.Context, s *Store, table, name string, m T) (T, error) {
	if err := s.get(ctx, table, name, m); err != nil {
		var zero T
		return zero, err
	}
	return m, nil
}

// txLookup is store.Lookup inside a write transaction (Update).
type txLookup struct{ q querier }

func (l *txLookup) get(ctx context.Context, table, name string, m proto.Message) error {
	var (
		data []byte
		sum  sql.NullInt64
	)
	err := l.q.QueryRowContext(ctx, "SELECT data, sum FROM "+table+" WHERE name = ?", name).Scan(&data, &sum)
	data, err = checkedRow(name, data, sum, err)
	if err != nil {
		return err
	}
	return decode(name, data, m)
}

func (l *txLookup) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	m := &annalsv1.Event{}
	return m, l.get(ctx, "events", name, m)
}

func (l *txLookup) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	m := &annalsv1.Actor{}
	return m, l.get(ctx, "actors", name, m)
}

func (l *txLookup) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	m := &annalsv1.Place{}
	return m, l.get(ctx, "places", name, m)
}

func (l *txLookup) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	m := &annalsv1.Source{}
	return m, l.get(ctx, "sources", name, m)
}

func (l *txLookup) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	return matchNames(ctx, l.q, k, key)
}

// shortSpan is the widest span (date_hi - date_lo, in histdate.Key units) of
// a "short" event: about a year. Long events also have an index of their
// own (events_by_start_long), so that a range query walks at most a year of
// short events before its start plus the few long ones that may reach it.
const shortSpan = 10000

// denseQuery decides how ListEvents finds the events of a full-text query
// combined with another filter (it reports false when there is no query).
//
// The postings of every word are in date order (order.go), so a query
// alone, or with only an end date, is driven by the full-text index and
// reads about a page of postings whatever the number of matches. With
// another filter the full-text index still drives when the query matches
// few events; one that matches many is a test of each event another index
// passes in date order (the actor's or the place's join rows, the month
// and day index, the date indexes from the start of a range) against the
// set of matches. Past about sqrt(2N) matches the other index is the
// cheaper driver; counting stops there, so deciding costs at most that
// many steps of the full-text index.
func (s *Store) denseQuery(ctx context.Context, f store.EventFilter) (bool, error) {
	if f.Query == "" || !otherFilters(f) {
		return false, nil
	}
	q, err := ftsQuery(f.Query)
	if err != nil {
		return false, err
	}
	var n, matches int64
	if err := s.r.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&n); err != nil {
		return false, err
	}
	threshold := max(50, int64(math.Sqrt(float64(2*n))))
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ? LIMIT ?)",
		q, threshold+1).Scan(&matches); err != nil {
		return false, err
	}
	return matches > threshold, nil
}

// otherFilters reports whether f filters by more than its query and its end date.
func otherFilters(f store.EventFilter) bool {
	return f.Actor != "" || f.Place != "" || f.WikidataID != "" || f.Month != 0 || f.HasFrom
}

// eventQuery is the SQL of ListEvents for a filter, a position and a page size.
// Which table drives the query is chosen here rather than left to the planner:
// the full-text index when there is a query that matches few events (see
// denseQuery), else the actor's or the place's rows of the join tables
// (already in date order), else events through the index that fits the other
// filters.
func eventQuery(f store.EventFilter, dense, hasAfter bool, afterKey int64, afterName string, limit int, sumCol string) (string, []any, error) {
	var (
		from  string
		k     string // the table whose date_lo and name order the result
		where []string
		args  []any
	)
	fts := ""
	if f.Query != "" {
		var err error
		if fts, err = ftsQuery(f.Query); err != nil {
			return "", nil, err
		}
	}
	ordered := false // driven by the full-text index, whose rowids sort as the events
	switch {
	case fts != "" && !dense:
		from, k = "events_fts CROSS JOIN event_order ON event_order.key = events_fts.rowid CROSS JOIN events ON events.id = event_order.id", "events"
		where = append(where, "events_fts MATCH ?")
		args = append(args, fts)
		ordered = true
	case f.Actor != "":
		from, k = "event_actor CROSS JOIN events ON events.id = event_actor.event_id", "event_actor"
		where = append(where, "event_actor.actor = ?")
		args = append(args, f.Actor)
	case f.Place != "":
		from, k = "event_place CROSS JOIN events ON events.id = event_place.event_id", "event_place"
		where = append(where, "event_place.place = ?")
		args = append(args, f.Place)
	default:
		from, k = "events", "events"
	}
	if f.Actor != "" && k != "event_actor" {
		where = append(where, "EXISTS (SELECT 1 FROM event_actor x WHERE x.event_id = events.id AND x.actor = ?)")
		args = append(args, f.Actor)
	}
	if f.Place != "" && k != "event_place" {
		where = append(where, "EXISTS (SELECT 1 FROM event_place x WHERE x.event_id = events.id AND x.place = ?)")
		args = append(args, f.Place)
	}
	if fts != "" && dense {
		// The unary + keeps SQLite from driving the query by this term
		// (looking up each match's row and sorting them all): it is a test
		// of each event the date-ordered walk passes, against the set of
		// matches, built once.
		where = append(where, "+events.id IN (SELECT event_order.id FROM events_fts CROSS JOIN event_order ON event_order.key = events_fts.rowid WHERE events_fts MATCH ?)")
		args = append(args, fts)
	}
	if f.WikidataID != "" {
		where = append(where, "events.wikidata_id = ?")
		args = append(args, f.WikidataID)
	}
	if f.Month != 0 {
		where = append(where, "events.month = ?")
		args = append(args, int64(f.Month))
	}
	if f.Day != 0 {
		where = append(where, "events.day = ?")
		args = append(args, int64(f.Day))
	}
	if f.HasTo {
		where = append(where, k+".date_lo <= ?")
		args = append(args, min(max(f.To, -keyBound), keyBound))
	}
	after := func(where []string, args []any) ([]string, []any) {
		return append(where, "("+k+".date_lo, "+k+".name) > (?, ?)"), append(args, afterKey, afterName)
	}
	// spanFloor is the least date_lo of an event that may reach From: no
	// span is wider than max_event_span.
	const spanFloor = "? - coalesce((SELECT value FROM state WHERE key = 'max_event_span'), 0)"
	sel := func(where []string) string {
		q := "SELECT events.data, " + k + ".date_lo, " + k + ".name, " + sumCol + " FROM " + from
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		return q
	}
	fromKey := min(max(f.From, -keyBound), keyBound)
	var q string
	switch {
	case ordered:
		// The full-text index's rowids are the events' order keys: its
		// postings come in the order of the list, so the walk stops when
		// the page is full, and a position in the list is a bound on the
		// rowid — the key of the last event at or before the cursor, found
		// in the statement's own snapshot. The same bounds on (date_lo,
		// name) stay as plain tests.
		var (
			lower     []string
			lowerArgs []any
		)
		if hasAfter {
			lower = append(lower, `coalesce((SELECT o.key + 1 FROM events e CROSS JOIN event_order o ON o.id = e.id
				WHERE (e.date_lo, e.name) <= (?, ?) ORDER BY e.date_lo DESC, e.name DESC LIMIT 1), ?)`)
			lowerArgs = append(lowerArgs, afterKey, afterName, int64(math.MinInt64))
			where, args = after(where, args)
		}
		if f.HasFrom {
			// No event that starts before From - max_event_span reaches From.
			lower = append(lower, `coalesce((SELECT o.key FROM events e CROSS JOIN event_order o ON o.id = e.id
				WHERE e.date_lo >= `+spanFloor+` ORDER BY e.date_lo, e.name LIMIT 1), ?)`)
			lowerArgs = append(lowerArgs, fromKey, int64(math.MaxInt64))
			where, args = append(where, "events.date_hi >= ?"), append(args, fromKey)
		}
		switch len(lower) {
		case 1:
			where, args = append(where, "events_fts.rowid >= "+lower[0]), append(args, lowerArgs...)
		case 2:
			where, args = append(where, "events_fts.rowid >= max("+lower[0]+", "+lower[1]+")"), append(args, lowerArgs...)
		}
		if f.HasTo {
			// The walk stops at the first event that starts after To.
			where = append(where, `events_fts.rowid < coalesce((SELECT o.key FROM events e CROSS JOIN event_order o ON o.id = e.id
				WHERE e.date_lo > ? ORDER BY e.date_lo, e.name LIMIT 1), ?)`)
			args = append(args, min(max(f.To, -keyBound), keyBound), int64(math.MaxInt64))
		}
		q = sel(where) + " ORDER BY events_fts.rowid LIMIT ?"

	case f.HasFrom && k == "events" && (fts == "" || dense):
		// date_hi >= From decides. Walked alone from From - max_event_span,
		// the date_lo index would pass every short event of the widest
		// span ever stored (a century, or a millennium) before the range
		// starts. So: short events from a year before From, long events
		// from From - max_event_span through their own index, merged in
		// order. Both indexes hold date_hi, so an event that ends before
		// From is passed over without reading its row.
		//
		// SQLite seeks an index by one range term, so each arm gets one: a
		// cursor's position is never before a long event that reaches
		// From, but may be before the short arm's start (when the page
		// ended on a long event), where the start is the tighter bound.
		short := append(slices.Clip(where), "events.date_hi - events.date_lo <= "+strconv.Itoa(shortSpan), "events.date_hi >= ?")
		shortArgs := append(slices.Clip(args), fromKey)
		if hasAfter && afterKey >= fromKey-shortSpan {
			short, shortArgs = after(short, shortArgs)
		} else {
			short, shortArgs = append(short, "events.date_lo >= ?"), append(shortArgs, fromKey-shortSpan)
		}
		long := append(slices.Clip(where), "events.date_hi - events.date_lo > "+strconv.Itoa(shortSpan), "events.date_hi >= ?")
		longArgs := append(slices.Clip(args), fromKey)
		if hasAfter {
			long, longArgs = after(long, longArgs)
		} else {
			long, longArgs = append(long, "events.date_lo >= "+spanFloor), append(longArgs, fromKey)
		}
		q = sel(short) + " UNION ALL " + sel(long) + " ORDER BY 2, 3 LIMIT ?"
		args = append(shortArgs, longArgs...)
	case f.HasFrom:
		// Driven by the full-text index or a join table: date_hi >= From
		// decides, and the bound on date_lo it implies narrows the join
		// table's range (a cursor's position is never before it).
		where, args = append(where, "events.date_hi >= ?"), append(args, fromKey)
		if hasAfter {
			where, args = after(where, args)
		} else {
			where, args = append(where, k+".date_lo >= "+spanFloor), append(args, fromKey)
		}
		q = sel(where) + " ORDER BY " + k + ".date_lo, " + k + ".name LIMIT ?"
	default:
		if hasAfter {
			where, args = after(where, args)
		}
		q = sel(where) + " ORDER BY " + k + ".date_lo, " + k + ".name LIMIT ?"
	}
	args = append(args, limit)
	return q, args, nil
}

// ListEvents returns the events that match f, ordered by the first day of
// their span and then by name, a page at a time. An event's actors are the
// actors of its participants; its places are its places field.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	enc, names, err := s.listEventsEncoded(ctx, f, p)
	if err != nil {
		return store.Result[*annalsv1.Event]{}, err
	}
	res := store.Result[*annalsv1.Event]{Items: make([]*annalsv1.Event, len(enc.Items)), Next: enc.Next}
	for i, data := range enc.Items {
		e := &annalsv1.Event{}
		if err := decode(names[i], data, e); err != nil {
			return store.Result[*annalsv1.Event]{}, fmt.Errorf("sqlite: list events: %w", err)
		}
		res.Items[i] = e
	}
	return res, nil
}

// ListEventsEncoded is ListEvents with each event as its stored encoding.
func (s *Store) ListEventsEncoded(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[[]byte], error) {
	res, _, err := s.listEventsEncoded(ctx, f, p)
	return res, err
}

// listEventsEncoded is ListEventsEncoded that also gives each event's name.
func (s *Store) listEventsEncoded(ctx context.Context, f store.EventFilter, p store.Page) (res store.Result[[]byte], names []string, err error) {
	if err := s.usable(); err != nil {
		return res, nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	fp := cursor.EventFingerprint(f)
	var (
		afterKey  int64
		afterName string
	)
	if p.After != "" {
		var err error
		if afterKey, afterName, err = cursor.Decode(p.After, fp, resource.Events, true); err != nil {
			return res, nil, fmt.Errorf("sqlite: list events: %w", err)
		}
	}
	limit := pageLimit(p.Limit)
	dense, err := s.denseQuery(ctx, f)
	if err != nil {
		return res, nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	q, args, err := eventQuery(f, dense, p.After != "", afterKey, afterName, limit+1, s.sumColumn("events"))
	if err != nil {
		return res, nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	st, err := s.lists.prepare(ctx, s.r, q)
	if err != nil {
		return res, nil, readErr("sqlite: list events", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return res, nil, readErr("sqlite: list events", err)
	}
	defer rows.Close()
	var lastKey int64
	var lastName string
	// The page's records are copied into one buffer (sql.RawBytes spares
	// the copy Scan would make of each): one allocation a page, not one a
	// record.
	var page []byte
	for rows.Next() {
		if len(res.Items) == limit {
			res.Next = cursor.Encode(fp, true, lastKey, lastName)
			break
		}
		var data sql.RawBytes
		var sum sql.NullInt64
		if err := rows.Scan(&data, &lastKey, &lastName, &sum); err != nil {
			return res, nil, readErr("sqlite: list events", err)
		}
		if err := verify(lastName, data, sum); err != nil {
			return store.Result[[]byte]{}, nil, fmt.Errorf("sqlite: list events: %w", err)
		}
		if cap(page)-len(page) < len(data) {
			page = make([]byte, 0, max(len(data), min(limit, 64)*4<<10))
		}
		start := len(page)
		page = append(page, data...)
		res.Items = append(res.Items, page[start:len(page):len(page)])
		names = append(names, lastName)
	}
	if err := rows.Err(); err != nil {
		return store.Result[[]byte]{}, nil, readErr("sqlite: list events", err)
	}
	return res, names, nil
}

// ExplainListEvents returns SQLite's plan (EXPLAIN QUERY PLAN) for the query
// ListEvents runs for f, for the first page or (next) for a page that starts
// after a record at f.From, one step a line, indented under its parent step.
// Tests use it to show that each filter is served by an index.
func (s *Store) ExplainListEvents(ctx context.Context, f store.EventFilter, next bool) (string, error) {
	dense, err := s.denseQuery(ctx, f)
	if err != nil {
		return "", fmt.Errorf("sqlite: explain: %w", err)
	}
	q, args, err := eventQuery(f, dense, next, f.From, "events/x", defaultLimit+1, s.sumColumn("events"))
	if err != nil {
		return "", fmt.Errorf("sqlite: explain: %w", err)
	}
	return s.explain(ctx, q, args)
}

// explain returns SQLite's plan of q, one step a line, indented under its
// parent step.
func (s *Store) explain(ctx context.Context, q string, args []any) (string, error) {
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return "", fmt.Errorf("sqlite: explain: %w", err)
	}
	defer rows.Close()
	depth := map[int64]int{}
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int64
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", fmt.Errorf("sqlite: explain: %w", err)
		}
		d := 0
		if pd, ok := depth[parent]; ok {
			d = pd + 1
		}
		depth[id] = d
		b.WriteString(strings.Repeat("  ", d) + detail + "\n")
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("sqlite: explain: %w", err)
	}
	return b.String(), nil
}

// listNamed runs a list over a table ordered by name: actors or places.
func listNamed[T proto.Message](ctx context.Context, s *Store, k resource.Kind, fp []byte, p store.Page,
	query string, where []string, args []any, newT func() T) (store.Result[T], error) {
	var res store.Result[T]
	table := string(k)
	if err := s.usable(); err != nil {
		return res, fmt.Errorf("sqlite: list %s: %w", k, err)
	}
	if p.After != "" {
		_, after, err := cursor.Decode(p.After, fp, k, false)
		if err != nil {
			return res, fmt.Errorf("sqlite: list %s: %w", k, err)
		}
		where = append(where, table+".name > ?")
		args = append(args, after)
	}
	from := table
	if query != "" {
		q, err := ftsQuery(query)
		if err != nil {
			return res, fmt.Errorf("sqlite: list %s: %w", k, err)
		}
		from = table + "_fts CROSS JOIN " + table + " ON " + table + ".id = " + table + "_fts.rowid"
		where = append([]string{table + "_fts MATCH ?"}, where...)
		args = append([]any{q}, args...)
	}
	limit := pageLimit(p.Limit)
	q := "SELECT " + table + ".data, " + table + ".name, " + s.sumColumn(table) + " FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + table + ".name LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return res, readErr(fmt.Sprintf("sqlite: list %s", k), err)
	}
	defer rows.Close()
	var last string
	for rows.Next() {
		if len(res.Items) == limit {
			res.Next = cursor.Encode(fp, false, 0, last)
			break
		}
		var data []byte
		var sum sql.NullInt64
		if err := rows.Scan(&data, &last, &sum); err != nil {
			return res, readErr(fmt.Sprintf("sqlite: list %s", k), err)
		}
		m := newT()
		if err := verify(last, data, sum); err != nil {
			return store.Result[T]{}, fmt.Errorf("sqlite: list %s: %w", k, err)
		}
		if err := decode(last, data, m); err != nil {
			return store.Result[T]{}, fmt.Errorf("sqlite: list %s: %w", k, err)
		}
		res.Items = append(res.Items, m)
	}
	if err := rows.Err(); err != nil {
		return store.Result[T]{}, readErr(fmt.Sprintf("sqlite: list %s", k), err)
	}
	return res, nil
}

// ListActors returns the actors that match f, ordered by name, a page at a time.
func (s *Store) ListActors(ctx context.Context, f store.ActorFilter, p store.Page) (store.Result[*annalsv1.Actor], error) {
	var where []string
	var args []any
	if f.Kind != annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED {
		where = append(where, "actors.kind = ?")
		args = append(args, int64(f.Kind))
	}
	if f.WikidataID != "" {
		where = append(where, "actors.wikidata_id = ?")
		args = append(args, f.WikidataID)
	}
	return listNamed(ctx, s, resource.Actors, cursor.ActorFingerprint(f), p, f.Query, where, args,
		func() *annalsv1.Actor { return &annalsv1.Actor{} })
}

// ListPlaces returns the places that match f, ordered by name, a page at a time.
func (s *Store) ListPlaces(ctx context.Context, f store.PlaceFilter, p store.Page) (store.Result[*annalsv1.Place], error) {
	var where []string
	var args []any
	if f.WikidataID != "" {
		where = append(where, "places.wikidata_id = ?")
		args = append(args, f.WikidataID)
	}
	return listNamed(ctx, s, resource.Places, cursor.PlaceFingerprint(f), p, f.Query, where, args,
		func() *annalsv1.Place { return &annalsv1.Place{} })
}

// MatchNames returns, sorted, the names of the actors or places (k is
// resource.Actors or resource.Places) with a label or alias whose
// resource.MatchKey is key.
func (s *Store) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: match names: %w", err)
	}
	return matchNames(ctx, s.r, k, key)
}

func matchNames(ctx context.Context, q querier, k resource.Kind, key string) ([]string, error) {
	if k != resource.Actors && k != resource.Places {
		return nil, fmt.Errorf("sqlite: match names: collection %q has no match keys", k)
	}
	rows, err := q.QueryContext(ctx, "SELECT name FROM match_keys WHERE kind = ? AND key = ? ORDER BY name", string(k), key)
	if err != nil {
		return nil, readErr("sqlite: match names", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, readErr("sqlite: match names", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("sqlite: match names", err)
	}
	return names, nil
}

// walk calls fn for every record of table in name order. It reads walkBatch
// records at a time, each batch in a short read of its own, decodes them —
// on every core: decoding is most of a walk's work, and a walk (an export)
// feeds goroutines of its own — and calls fn between reads.
func walk[T proto.Message](ctx context.Context, s *Store, table string, newT func() T, fn func(T) error) error {
	after := ""
	type row struct {
		name string
		data []byte
		sum  sql.NullInt64
	}
	rs := make([]row, 0, walkBatch)
	batch := make([]T, 0, walkBatch)
	for {
		rs, batch = rs[:0], batch[:0]
		if err := s.usable(); err != nil {
			return fmt.Errorf("sqlite: walk %s: %w", table, err)
		}
		rows, err := s.r.QueryContext(ctx, "SELECT data, name, "+s.sumColumn(table)+" FROM "+table+" WHERE name > ? ORDER BY name LIMIT ?", after, walkBatch)
		if err != nil {
			return readErr("sqlite: walk "+table, err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.data, &r.name, &r.sum); err != nil {
				rows.Close()
				return readErr("sqlite: walk "+table, err)
			}
			rs = append(rs, r)
			after = r.name
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return readErr("sqlite: walk "+table, err)
		}
		batch = batch[:len(rs)]
		workers := min(runtime.GOMAXPROCS(0), max(1, len(rs)/64))
		var eg errgroup.Group
		for w := range workers {
			eg.Go(func() error {
				for i := w * len(rs) / workers; i < (w+1)*len(rs)/workers; i++ {
					m := newT()
					err := verify(rs[i].name, rs[i].data, rs[i].sum)
					if err == nil {
						err = decode(rs[i].name, rs[i].data, m)
					}
					if err != nil {
						return fmt.Errorf("sqlite: walk %s: %w", table, err)
					}
					batch[i] = m
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			return err
		}
		for _, m := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		clear(batch)
		if len(rs) < walkBatch {
			return nil
		}
	}
}

// WalkEvents calls fn for every event in name order; see store.Reader.
func (s *Store) WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error {
	return walk(ctx, s, "events", func() *annalsv1.Event { return &annalsv1.Event{} }, fn)
}

// WalkActors calls fn for every actor in name order; see store.Reader.
func (s *Store) WalkActors(ctx context.Context, fn func(*annalsv1.Actor) error) error {
	return walk(ctx, s, "actors", func() *annalsv1.Actor { return &annalsv1.Actor{} }, fn)
}

// WalkPlaces calls fn for every place in name order; see store.Reader.
func (s *Store) WalkPlaces(ctx context.Context, fn func(*annalsv1.Place) error) error {
	return walk(ctx, s, "places", func() *annalsv1.Place { return &annalsv1.Place{} }, fn)
}

// WalkSources calls fn for every source in name order; see store.Reader.
func (s *Store) WalkSources(ctx context.Context, fn func(*annalsv1.Source) error) error {
	return walk(ctx, s, "sources", func() *annalsv1.Source { return &annalsv1.Source{} }, fn)
}

// Stats counts the records of each collection and gives the time of the last write.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM events), (SELECT count(*) FROM actors),
		(SELECT count(*) FROM places), (SELECT count(*) FROM sources),
		coalesce((SELECT value FROM state WHERE key = 'last_modified'), 0)`).
		Scan(&st.Events, &st.Actors, &st.Places, &st.Sources, &st.LastModified)
	if err != nil {
		return store.Stats{}, readErr("sqlite: stats", err)
	}
	return st, nil
}

// Meta returns the value stored under key, or an error wrapping store.ErrNotFound.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("sqlite: meta %q: %w", key, store.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("sqlite: meta %q: %w", key, err)
	}
	return v, nil
}

// MetaKeys returns the keys of every value stored with SetMeta, sorted.
func (s *Store) MetaKeys(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT key FROM meta ORDER BY key")
	if err != nil {
		return nil, readErr("sqlite: meta keys", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, readErr("sqlite: meta keys", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("sqlite: meta keys", err)
	}
	return keys, nil
}
