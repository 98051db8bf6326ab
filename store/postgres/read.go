package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/cursor"
	"github.com/annals-project/annals/store/record"
)

// walkBatch is how many records a Walk reads at a time, each batch in a
// short query of its own, so that a long walk holds no snapshot open and
// fn may itself use the store.
const walkBatch = 1000

// keyBound clamps day keys from callers well inside int64, so that the
// arithmetic on them in SQL cannot overflow.
const keyBound = int64(1) << 52

// params collects the parameters of a query and names them $1, $2, ….
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// checked is a record's stored encoding, checked against its checksum.
func checked(name string, data []byte, sum int64) ([]byte, error) {
	if err := record.Verify(name, data, sum); err != nil {
		return nil, err
	}
	return data, nil
}

// getEncoded reads the stored encoding of the record called name from table.
func getEncoded(ctx context.Context, q querier, table, name string) ([]byte, error) {
	var (
		data []byte
		sum  int64
	)
	err := q.QueryRow(ctx, "SELECT data, sum FROM "+table+" WHERE name = $1", name).Scan(&data, &sum)
	switch {
	case isNoRows(err):
		return nil, fmt.Errorf("postgres: %q: %w", name, store.ErrNotFound)
	case err != nil:
		return nil, sqlErr(ctx, fmt.Sprintf("postgres: get %q", name), err)
	}
	data, err = checked(name, data, sum)
	if err != nil {
		return nil, fmt.Errorf("postgres: get: %w", err)
	}
	return data, nil
}

func (s *Store) getEncoded(ctx context.Context, table, name string) ([]byte, error) {
	var data []byte
	err := s.read(ctx, func(q querier) error {
		var err error
		data, err = getEncoded(ctx, q, table, name)
		return err
	})
	return data, err
}

// GetEventEncoded returns the stored encoding of the event called name, or
// an error wrapping store.ErrNotFound.
func (s *Store) GetEventEncoded(ctx context.Context, name string) ([]byte, error) {
	return s.getEncoded(ctx, "events", name)
}

// get reads the record called name from table into m, through q.
func get[T proto.Message](ctx context.Context, q querier, table, name string, m T) (T, error) {
	data, err := getEncoded(ctx, q, table, name)
	if err == nil {
		err = decode(name, data, m)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return m, nil
}

// getRead is get through the pool, once more on a broken connection.
func getRead[T proto.Message](ctx context.Context, s *Store, table, name string, m T) (T, error) {
	var got T
	err := s.read(ctx, func(q querier) error {
		var err error
		got, err = get(ctx, q, table, name, m)
		return err
	})
	return got, err
}

func decode(name string, data []byte, m proto.Message) error {
	if err := record.Decode(name, data, m); err != nil {
		return fmt.Errorf("postgres: get: %w", err)
	}
	return nil
}

// GetEvent returns the event called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	return getRead(ctx, s, "events", name, &annalsv1.Event{})
}

// GetActor returns the actor called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	return getRead(ctx, s, "actors", name, &annalsv1.Actor{})
}

// GetPlace returns the place called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	return getRead(ctx, s, "places", name, &annalsv1.Place{})
}

// GetSource returns the source called name, or an error wrapping store.ErrNotFound.
func (s *Store) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	return getRead(ctx, s, "sources", name, &annalsv1.Source{})
}

// txLookup is store.Lookup inside a write transaction (Update).
type txLookup struct{ tx pgx.Tx }

func (l *txLookup) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	return get(ctx, l.tx, "events", name, &annalsv1.Event{})
}

func (l *txLookup) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	return get(ctx, l.tx, "actors", name, &annalsv1.Actor{})
}

func (l *txLookup) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	return get(ctx, l.tx, "places", name, &annalsv1.Place{})
}

func (l *txLookup) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	return get(ctx, l.tx, "sources", name, &annalsv1.Source{})
}

func (l *txLookup) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	return matchNames(ctx, l.tx, k, key)
}

// eventQuery is the SQL of ListEvents for a filter, a position and a page
// size. The rows are driven by the actor's or the place's rows of the join
// tables (already in date order) when the filter names one, else by events;
// the planner chooses between the full-text index and a walk in date order
// for a query. A lower date bound reads short events from a year before it
// and long ones (their own partial index) from the widest span ever stored
// before it, merged in order, so that a range query does not pass every
// short event of the widest span first.
func eventQuery(f store.EventFilter, fq *ftsQuery, hasAfter bool, afterKey int64, afterName string, limit int) (string, []any) {
	var (
		p     params
		from  = "events e"
		k     = "e" // the table whose date_lo and name order the result
		where []string
	)
	switch {
	case f.Actor != "":
		from, k = "event_actor a JOIN events e ON e.name = a.name", "a"
		where = append(where, "a.actor = "+p.add(f.Actor))
	case f.Place != "":
		from, k = "event_place a JOIN events e ON e.name = a.name", "a"
		where = append(where, "a.place = "+p.add(f.Place))
	}
	if f.Actor != "" && f.Place != "" {
		where = append(where, "EXISTS (SELECT 1 FROM event_place x WHERE x.name = e.name AND x.place = "+p.add(f.Place)+")")
	}
	if fq != nil {
		cond, args := fq.where("e", len(p)+1)
		where = append(where, cond)
		p = append(p, args...)
	}
	if f.WikidataID != "" {
		where = append(where, "e.wikidata_id = "+p.add(f.WikidataID))
	}
	if f.Month != 0 {
		where = append(where, "e.month = "+p.add(int32(f.Month)))
	}
	if f.Day != 0 {
		where = append(where, "e.day = "+p.add(int32(f.Day)))
	}
	if f.HasTo {
		where = append(where, k+".date_lo <= "+p.add(min(max(f.To, -keyBound), keyBound)))
	}
	fromKey := min(max(f.From, -keyBound), keyBound)
	after := func() string {
		return "(" + k + ".date_lo, " + k + ".name) > (" + p.add(afterKey) + ", " + p.add(afterName) + ")"
	}
	sel := func(where []string) string {
		q := "SELECT e.data, " + k + ".date_lo, " + k + ".name, e.sum FROM " + from
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		return q + " ORDER BY " + k + ".date_lo, " + k + ".name LIMIT " + p.add(limit)
	}
	// spanFloor is the least date_lo of an event that may reach From: no
	// span is wider than max_event_span.
	spanFloor := func() string {
		return p.add(fromKey) + " - coalesce((SELECT value FROM state WHERE key = 'max_event_span'), 0)"
	}
	switch {
	case f.HasFrom && k == "e":
		short := append(where[:len(where):len(where)], "e.date_hi - e.date_lo <= "+shortSpanString, "e.date_hi >= "+p.add(fromKey))
		if hasAfter && afterKey >= fromKey-shortSpan {
			short = append(short, after())
		} else {
			short = append(short, "e.date_lo >= "+p.add(fromKey-shortSpan))
		}
		long := append(where[:len(where):len(where)], "e.date_hi - e.date_lo > "+shortSpanString, "e.date_hi >= "+p.add(fromKey))
		if hasAfter {
			long = append(long, after())
		} else {
			long = append(long, "e.date_lo >= "+spanFloor())
		}
		q := "(" + sel(short) + ") UNION ALL (" + sel(long) + ") ORDER BY 2, 3 LIMIT " + p.add(limit)
		return q, p
	case f.HasFrom:
		where = append(where, "e.date_hi >= "+p.add(fromKey))
		if hasAfter {
			where = append(where, after())
		} else {
			where = append(where, k+".date_lo >= "+spanFloor())
		}
	case hasAfter:
		where = append(where, after())
	}
	return sel(where), p
}

// ListEvents returns the events that match f, ordered by the first day of
// their span and then by name, a page at a time.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	enc, err := s.ListEventsEncoded(ctx, f, p)
	if err != nil {
		return store.Result[*annalsv1.Event]{}, err
	}
	res := store.Result[*annalsv1.Event]{Items: make([]*annalsv1.Event, len(enc.Items)), Next: enc.Next}
	for i, data := range enc.Items {
		e := &annalsv1.Event{}
		if err := record.Decode("events", data, e); err != nil {
			return store.Result[*annalsv1.Event]{}, fmt.Errorf("postgres: list events: %w", err)
		}
		res.Items[i] = e
	}
	return res, nil
}

// ListEventsEncoded is ListEvents with each event as its stored encoding.
func (s *Store) ListEventsEncoded(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[[]byte], error) {
	var res store.Result[[]byte]
	fp := cursor.EventFingerprint(f)
	var (
		afterKey  int64
		afterName string
	)
	if p.After != "" {
		var err error
		if afterKey, afterName, err = cursor.Decode(p.After, fp, resource.Events, true); err != nil {
			return res, fmt.Errorf("postgres: list events: %w", err)
		}
	}
	var fq *ftsQuery
	if f.Query != "" {
		q, err := makeQuery(f.Query)
		if err != nil {
			return res, fmt.Errorf("postgres: list events: %w", err)
		}
		fq = &q
	}
	limit := record.PageLimit(p.Limit)
	q, args := eventQuery(f, fq, p.After != "", afterKey, afterName, limit+1)
	err := s.read(ctx, func(db querier) error {
		res = store.Result[[]byte]{}
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			lastKey  int64
			lastName string
		)
		for rows.Next() {
			if len(res.Items) == limit {
				res.Next = cursor.Encode(fp, true, lastKey, lastName)
				break
			}
			var data []byte
			var sum int64
			if err := rows.Scan(&data, &lastKey, &lastName, &sum); err != nil {
				return err
			}
			if data, err = checked(lastName, data, sum); err != nil {
				return err
			}
			res.Items = append(res.Items, data)
		}
		return rows.Err()
	})
	if err != nil {
		return store.Result[[]byte]{}, sqlErr(ctx, "postgres: list events", err)
	}
	return res, nil
}

// ExplainListEvents returns PostgreSQL's plan (EXPLAIN) of the query
// ListEvents runs for f, for the first page or (next) for a page that
// starts after a record at f.From. Tests and benchmarks use it.
func (s *Store) ExplainListEvents(ctx context.Context, f store.EventFilter, next bool) (string, error) {
	var fq *ftsQuery
	if f.Query != "" {
		q, err := makeQuery(f.Query)
		if err != nil {
			return "", err
		}
		fq = &q
	}
	q, args := eventQuery(f, fq, next, f.From, "events/x", record.DefaultLimit+1)
	rows, err := s.pool.Query(ctx, "EXPLAIN "+q, args...)
	if err != nil {
		return "", sqlErr(ctx, "postgres: explain", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", sqlErr(ctx, "postgres: explain", err)
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// listNamed runs a list over a table ordered by name: actors or places.
func listNamed[T proto.Message](ctx context.Context, s *Store, k resource.Kind, fp []byte, pg store.Page,
	query string, where []string, p params, newT func() T) (store.Result[T], error) {
	var res store.Result[T]
	table := string(k)
	if pg.After != "" {
		_, after, err := cursor.Decode(pg.After, fp, k, false)
		if err != nil {
			return res, fmt.Errorf("postgres: list %s: %w", k, err)
		}
		where = append(where, "t.name > "+p.add(after))
	}
	if query != "" {
		fq, err := makeQuery(query)
		if err != nil {
			return res, fmt.Errorf("postgres: list %s: %w", k, err)
		}
		cond, args := fq.where("t", len(p)+1)
		where = append(where, cond)
		p = append(p, args...)
	}
	limit := record.PageLimit(pg.Limit)
	q := "SELECT t.data, t.name, t.sum FROM " + table + " t"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.name LIMIT " + p.add(limit+1)
	err := s.read(ctx, func(db querier) error {
		res = store.Result[T]{}
		rows, err := db.Query(ctx, q, p...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last string
		for rows.Next() {
			if len(res.Items) == limit {
				res.Next = cursor.Encode(fp, false, 0, last)
				break
			}
			var data []byte
			var sum int64
			if err := rows.Scan(&data, &last, &sum); err != nil {
				return err
			}
			if data, err = checked(last, data, sum); err != nil {
				return err
			}
			m := newT()
			if err := record.Decode(last, data, m); err != nil {
				return err
			}
			res.Items = append(res.Items, m)
		}
		return rows.Err()
	})
	if err != nil {
		return store.Result[T]{}, sqlErr(ctx, fmt.Sprintf("postgres: list %s", k), err)
	}
	return res, nil
}

// ListActors returns the actors that match f, ordered by name, a page at a time.
func (s *Store) ListActors(ctx context.Context, f store.ActorFilter, pg store.Page) (store.Result[*annalsv1.Actor], error) {
	var where []string
	var p params
	if f.Kind != annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED {
		where = append(where, "t.kind = "+p.add(int32(f.Kind)))
	}
	if f.WikidataID != "" {
		where = append(where, "t.wikidata_id = "+p.add(f.WikidataID))
	}
	return listNamed(ctx, s, resource.Actors, cursor.ActorFingerprint(f), pg, f.Query, where, p,
		func() *annalsv1.Actor { return &annalsv1.Actor{} })
}

// ListPlaces returns the places that match f, ordered by name, a page at a time.
func (s *Store) ListPlaces(ctx context.Context, f store.PlaceFilter, pg store.Page) (store.Result[*annalsv1.Place], error) {
	var where []string
	var p params
	if f.WikidataID != "" {
		where = append(where, "t.wikidata_id = "+p.add(f.WikidataID))
	}
	return listNamed(ctx, s, resource.Places, cursor.PlaceFingerprint(f), pg, f.Query, where, p,
		func() *annalsv1.Place { return &annalsv1.Place{} })
}

// MatchNames returns, sorted, the names of the actors or places (k is
// resource.Actors or resource.Places) with a label or alias whose
// resource.MatchKey is key.
func (s *Store) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	var names []string
	err := s.read(ctx, func(q querier) error {
		var err error
		names, err = matchNames(ctx, q, k, key)
		return err
	})
	return names, err
}

func matchNames(ctx context.Context, q querier, k resource.Kind, key string) ([]string, error) {
	if k != resource.Actors && k != resource.Places {
		return nil, fmt.Errorf("postgres: match names: collection %q has no match keys", k)
	}
	rows, err := q.Query(ctx, "SELECT name FROM match_keys WHERE kind = $1 AND key = $2 ORDER BY name", string(k), key)
	if err != nil {
		return nil, sqlErr(ctx, "postgres: match names", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, sqlErr(ctx, "postgres: match names", err)
	}
	return names, nil
}

// walk calls fn for every record of table in name order. It reads
// walkBatch records at a time, each batch in a short query of its own, and
// calls fn between reads.
func walk[T proto.Message](ctx context.Context, s *Store, table string, newT func() T, fn func(T) error) error {
	after := "" // every name sorts after ""
	batch := make([]T, 0, walkBatch)
	for {
		batch = batch[:0]
		err := s.read(ctx, func(q querier) error {
			batch = batch[:0]
			rows, err := q.Query(ctx, "SELECT data, name, sum FROM "+table+" WHERE name > $1 ORDER BY name LIMIT $2", after, walkBatch)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var data []byte
				var name string
				var sum int64
				if err := rows.Scan(&data, &name, &sum); err != nil {
					return err
				}
				if data, err = checked(name, data, sum); err != nil {
					return err
				}
				m := newT()
				if err := record.Decode(name, data, m); err != nil {
					return err
				}
				batch = append(batch, m)
			}
			return rows.Err()
		})
		if err != nil {
			return sqlErr(ctx, "postgres: walk "+table, err)
		}
		for _, m := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(batch) < walkBatch {
			return nil
		}
		after = any(batch[len(batch)-1]).(interface{ GetName() string }).GetName()
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

// Stats counts the records of each collection and gives the time of the
// last write, from the counters the writers keep.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.read(ctx, func(q querier) error {
		rows, err := q.Query(ctx, "SELECT key, value FROM state")
		if err != nil {
			return err
		}
		defer rows.Close()
		st = store.Stats{}
		for rows.Next() {
			var k string
			var v int64
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			switch k {
			case "count_events":
				st.Events = v
			case "count_actors":
				st.Actors = v
			case "count_places":
				st.Places = v
			case "count_sources":
				st.Sources = v
			case "last_modified":
				st.LastModified = v
			}
		}
		return rows.Err()
	})
	if err != nil {
		return store.Stats{}, sqlErr(ctx, "postgres: stats", err)
	}
	return st, nil
}

// Meta returns the value stored under key, or an error wrapping store.ErrNotFound.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", key).Scan(&v)
	})
	switch {
	case isNoRows(err):
		return "", fmt.Errorf("postgres: meta %q: %w", key, store.ErrNotFound)
	case err != nil:
		return "", sqlErr(ctx, fmt.Sprintf("postgres: meta %q", key), err)
	}
	return v, nil
}

// MetaKeys returns the keys of every value stored with SetMeta, sorted.
func (s *Store) MetaKeys(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.read(ctx, func(q querier) error {
		rows, err := q.Query(ctx, "SELECT key FROM meta ORDER BY key")
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, sqlErr(ctx, "postgres: meta keys", err)
	}
	return keys, nil
}

// Changes returns entries of the change log after the sequence number after.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.LogEntry, error) {
	var out []store.LogEntry
	err := s.read(ctx, func(q querier) error {
		out = nil
		rows, err := q.Query(ctx, "SELECT seq, name, kind, time, etag FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
			after, record.PageLimit(min(limit, record.MaxLimit)))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e store.LogEntry
			var kind int32
			if err := rows.Scan(&e.Seq, &e.Name, &kind, &e.Time, &e.Etag); err != nil {
				return err
			}
			e.Kind = store.ChangeKind(kind)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, sqlErr(ctx, "postgres: changes", err)
	}
	return out, nil
}

// LastSeq returns the sequence number of the newest change log entry.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM changes").Scan(&seq)
	})
	if err != nil {
		return 0, sqlErr(ctx, "postgres: last change", err)
	}
	return seq, nil
}
