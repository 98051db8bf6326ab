package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/record"
)

// maxAttempts bounds how many times Update runs a transaction that lost to
// another or to a broken connection.
const maxAttempts = 6

// errCommitUnknown is why a write whose COMMIT was sent but not answered fails.
var errCommitUnknown = fmt.Errorf("%w: the connection failed while the write was committing; it may or may not have been stored: read it back before writing again", store.ErrUnavailable)

// Put writes the batch in one transaction: all of it or, on any error,
// nothing; see store.Writer and store/sqlite's Put, whose stamping
// (package record) it shares.
func (s *Store) Put(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	if b == nil {
		return nil, nil
	}
	if err := record.CheckBatch(b); err != nil {
		return nil, fmt.Errorf("postgres: put: %w", err)
	}
	return s.Update(ctx, func(context.Context, store.Lookup) (*store.Batch, error) { return b, nil })
}

// Update runs fn and writes the batch it returns in one transaction; see
// store.Writer. The transaction's first statement takes the writers'
// advisory lock, held until it ends, so writers from every process are
// serialised in commit order. A transaction that fails before its COMMIT
// is sent with a serialization failure, a deadlock or a lost connection is
// run again, fn included, up to maxAttempts times; one whose COMMIT was
// sent but not answered is not, and fails with store.ErrUnavailable.
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	if s.standby {
		return nil, fmt.Errorf("postgres: write: %w: the database is a standby, which serves reads only", store.ErrUnavailable)
	}
	for attempt := 1; ; attempt++ {
		changes, outputs, committing, err := s.tryUpdate(ctx, fn)
		if err == nil {
			for _, o := range outputs {
				o.Set()
			}
			slices.SortFunc(changes, func(a, b store.Change) int { return strings.Compare(a.Name, b.Name) })
			return changes, nil
		}
		switch {
		case committing:
			return nil, fmt.Errorf("postgres: write: %w (%w)", errCommitUnknown, err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("postgres: write: %w", classify(ctx, err))
		case !retryable(err) || attempt == maxAttempts:
			var fnErr *fnError
			if errors.As(err, &fnErr) {
				return nil, fnErr.err // fn's own error, as it is
			}
			return nil, fmt.Errorf("postgres: write: %w", classify(ctx, err))
		}
		s.log.Debug("postgres: retrying a write", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres: write: %w (%w)", ctx.Err(), err)
		case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
		}
	}
}

// fnError marks an error fn returned.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
func (e *fnError) Unwrap() error { return e.err }

// tryUpdate runs one attempt of Update. committing says that err came
// from a COMMIT whose outcome is unknown.
func (s *Store) tryUpdate(ctx context.Context, fn store.UpdateFunc) (changes []store.Change, outputs []record.Output, committing bool, err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, nil, false, err
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// One round trip: the statement time limit from the deadline, then the
	// writers' lock.
	var pre pgx.Batch
	if dl, ok := ctx.Deadline(); ok {
		pre.Queue("SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(max(1, time.Until(dl).Milliseconds()), 10))
	}
	pre.Queue("SELECT pg_advisory_xact_lock($1)", int64(writeLock))
	if s.bulk.Load() {
		pre.Queue("SELECT set_config('synchronous_commit', 'off', true)")
	}
	if err := tx.SendBatch(ctx, &pre).Close(); err != nil {
		return nil, nil, false, err
	}
	b, err := fn(ctx, &txLookup{tx: tx})
	if err != nil {
		return nil, nil, false, &fnError{err}
	}
	if b == nil {
		b = &store.Batch{}
	}
	if err := record.CheckBatch(b); err != nil {
		return nil, nil, false, fmt.Errorf("put: %w", err)
	}
	p := &putter{tx: tx, verbatim: b.Verbatim, counts: map[resource.Kind]int64{}}
	changes, err = p.run(ctx, b)
	if err != nil {
		return nil, nil, false, err
	}
	done = true
	if err := tx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) || errors.Is(err, pgx.ErrTxCommitRollback) {
			return nil, nil, false, err // refused: nothing was stored
		}
		return nil, nil, true, err
	}
	return changes, p.outputs, false, nil
}

// stored is a record's row as read before a write.
type stored struct {
	data []byte
	sum  int64
}

// putter writes one batch inside a transaction.
type putter struct {
	tx       pgx.Tx
	verbatim bool
	now      int64 // Unix ns, later than any stored update_time
	latest   int64 // the latest update_time written, Unix ns
	span     int64 // the widest event span written
	hasEvent bool
	outputs  []record.Output
	log      []store.LogEntry
	counts   map[resource.Kind]int64
	existing map[string]stored

	// What the batch writes, by table.
	rows    map[resource.Kind]*rowSet // records created (insert) or updated (update)
	updated map[resource.Kind][]string
	deleted map[resource.Kind][]string
	actors  [3][]any // event_actor: actor, date_lo, name
	places  [3][]any
	keys    [3][]any // match_keys: kind, key, name
}

// rowSet is the column values of records to write, column by column.
type rowSet struct {
	insert, update [][]any
}

// column is a column of a table besides name, data and sum: the type of
// its parameter and, when not the parameter itself, the SQL expression
// that makes its value from the parameter (u.column).
type column struct{ name, typ, expr string }

// fts is the tsvector of a row, from its lexemes (see lexemes).
var fts = column{"fts", "text", "array_to_tsvector(string_to_array(u.fts, ' '))"}

// columns are each table's columns besides name, data and sum.
var columns = map[resource.Kind][]column{
	resource.Sources: nil,
	resource.Events:  {{"date_lo", "bigint", ""}, {"date_hi", "bigint", ""}, {"month", "integer", ""}, {"day", "integer", ""}, {"wikidata_id", "text", ""}, {"words", "text", ""}, fts},
	resource.Actors:  {{"kind", "integer", ""}, {"wikidata_id", "text", ""}, {"words", "text", ""}, fts},
	resource.Places:  {{"wikidata_id", "text", ""}, {"words", "text", ""}, fts},
}

func (p *putter) run(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	if err := p.prefetch(ctx, b); err != nil {
		return nil, err
	}
	p.rows = map[resource.Kind]*rowSet{}
	p.updated = map[resource.Kind][]string{}
	p.deleted = map[resource.Kind][]string{}
	var changes []store.Change
	stage := func(k resource.Kind, r record.Record, cols func() []any) error {
		kind, err := p.stage(k, r, cols)
		if err != nil {
			return fmt.Errorf("put %s: %w", r.GetName(), err)
		}
		changes = append(changes, store.Change{Name: r.GetName(), Kind: kind})
		return nil
	}
	for _, r := range b.Sources {
		if err := stage(resource.Sources, r, func() []any { return nil }); err != nil {
			return nil, err
		}
	}
	for _, e := range b.Events {
		lo, hi, month, day := record.EventColumns(e)
		p.span, p.hasEvent = max(p.span, hi-lo), true
		err := stage(resource.Events, e, func() []any {
			for _, pa := range e.GetParticipants() {
				if pa.GetActor() != "" {
					p.actors = appendRow(p.actors, pa.GetActor(), lo, e.GetName())
				}
			}
			for _, pl := range e.GetPlaces() {
				if pl != "" {
					p.places = appendRow(p.places, pl, lo, e.GetName())
				}
			}
			words := wordsText(record.LabelText(e.GetLabels()), e.GetSummary(), record.EventBody(e))
			return []any{lo, hi, intOrNil(month), intOrNil(day), nullable(e.GetWikidataId()), words, lexemes(words)}
		})
		if err != nil {
			return nil, err
		}
	}
	named := func(k resource.Kind, r record.Record, labels, aliases []*annalsv1.Label, desc string, cols ...any) error {
		return stage(k, r, func() []any {
			seen := map[string]bool{}
			for _, l := range slices.Concat(labels, aliases) {
				if key := resource.MatchKey(l.GetValue()); key != "" && !seen[key] {
					seen[key] = true
					p.keys = appendRow(p.keys, string(k), key, r.GetName())
				}
			}
			words := wordsText(record.LabelText(labels), record.LabelText(aliases), desc)
			return append(cols, words, lexemes(words))
		})
	}
	for _, a := range b.Actors {
		if err := named(resource.Actors, a, a.GetLabels(), a.GetAliases(), a.GetDescription(), int32(a.GetKind()), nullable(a.GetWikidataId())); err != nil {
			return nil, err
		}
	}
	for _, pl := range b.Places {
		if err := named(resource.Places, pl, pl.GetLabels(), pl.GetAliases(), pl.GetDescription(), nullable(pl.GetWikidataId())); err != nil {
			return nil, err
		}
	}
	for _, name := range b.Deletes {
		if _, ok := p.existing[name]; !ok {
			continue
		}
		k, _, _ := resource.Parse(name)
		p.deleted[k] = append(p.deleted[k], name)
		p.counts[k]--
		p.latest = max(p.latest, p.now)
		p.log = append(p.log, store.LogEntry{Name: name, Kind: annalsv1.ChangeKind_CHANGE_KIND_DELETED, Time: p.now})
		changes = append(changes, store.Change{Name: name, Kind: annalsv1.ChangeKind_CHANGE_KIND_DELETED})
	}
	if err := p.write(ctx); err != nil {
		return nil, err
	}
	return changes, nil
}

// appendRow appends one row to column-wise values.
func appendRow(cols [3][]any, a, b, c any) [3][]any {
	cols[0], cols[1], cols[2] = append(cols[0], a), append(cols[1], b), append(cols[2], c)
	return cols
}

func intOrNil(v any) any {
	if v == nil {
		return nil
	}
	return v.(int32)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// prefetch reads, in one round trip, the time of the last write and the
// stored rows of every record the batch writes or deletes.
func (p *putter) prefetch(ctx context.Context, b *store.Batch) error {
	names := map[resource.Kind][]string{}
	for _, r := range b.Records() {
		n := r.(record.Record).GetName()
		k, _, _ := resource.Parse(n)
		names[k] = append(names[k], n)
	}
	for _, n := range b.Deletes {
		k, _, _ := resource.Parse(n)
		names[k] = append(names[k], n)
	}
	var q pgx.Batch
	var last int64
	q.Queue("SELECT coalesce((SELECT value FROM state WHERE key = 'last_modified'), 0)").QueryRow(func(r pgx.Row) error { return r.Scan(&last) })
	p.existing = map[string]stored{}
	for _, k := range resource.Kinds {
		if len(names[k]) == 0 {
			continue
		}
		q.Queue("SELECT name, data, sum FROM "+string(k)+" WHERE name = ANY($1)", names[k]).Query(func(rows pgx.Rows) error {
			var name string
			var st stored
			_, err := pgx.ForEachRow(rows, []any{&name, &st.data, &st.sum}, func() error {
				p.existing[name] = st
				st = stored{}
				return nil
			})
			return err
		})
	}
	if err := p.tx.SendBatch(ctx, &q).Close(); err != nil {
		return err
	}
	p.now = max(time.Now().UnixNano(), last+1)
	return nil
}

// stage works out what writing r does and queues its row; cols gives the
// table's other columns (and queues its index rows), called only when r is
// written.
func (p *putter) stage(k resource.Kind, r record.Record, cols func() []any) (store.ChangeKind, error) {
	var old record.Record
	if st, ok := p.existing[r.GetName()]; ok {
		data, err := checked(r.GetName(), st.data, st.sum)
		if err != nil {
			return 0, err
		}
		old = record.New(k)
		if err := record.Decode(r.GetName(), data, old); err != nil {
			return 0, err
		}
	}
	st, err := record.Stamp(r, old, p.now, p.verbatim)
	if err != nil {
		return 0, err
	}
	p.outputs = append(p.outputs, st.Output)
	if st.Kind == annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		return st.Kind, nil
	}
	p.latest = max(p.latest, st.Entry.Time)
	p.log = append(p.log, st.Entry)
	row := append([]any{r.GetName(), st.Data, st.Sum}, cols()...)
	rs := p.rows[k]
	if rs == nil {
		rs = &rowSet{}
		p.rows[k] = rs
	}
	if old == nil {
		rs.insert = append(rs.insert, row)
		p.counts[k]++
	} else {
		rs.update = append(rs.update, row)
		p.updated[k] = append(p.updated[k], r.GetName())
	}
	return st.Kind, nil
}

// transpose turns rows into one slice per column, for unnest.
func transpose(rows [][]any, n int) []any {
	cols := make([]any, n)
	for i := range cols {
		c := make([]any, len(rows))
		for j, r := range rows {
			c[j] = r[i]
		}
		cols[i] = c
	}
	return cols
}

// unnest returns, for the columns of k (name, data, sum, then
// columns[k]), their names, the expressions of their values from a row u
// of un, and un: "unnest($1::text[], $2::bytea[], …) AS u(name, data, …)".
func unnest(k resource.Kind) (names, exprs []string, un string) {
	names = []string{"name", "data", "sum"}
	exprs = []string{"u.name", "u.data", "u.sum"}
	params := []string{"$1::text[]", "$2::bytea[]", "$3::bigint[]"}
	for i, c := range columns[k] {
		names = append(names, c.name)
		e := c.expr
		if e == "" {
			e = "u." + c.name
		}
		exprs = append(exprs, e)
		params = append(params, "$"+strconv.Itoa(i+4)+"::"+c.typ+"[]")
	}
	return names, exprs, "unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")"
}

// write sends every statement of the batch in one round trip: index rows
// of updated and deleted records removed, deleted records removed, records
// updated and inserted, index rows inserted, the change log appended (in
// name order) and the bookkeeping in state updated.
func (p *putter) write(ctx context.Context) error {
	var q pgx.Batch
	for _, k := range []resource.Kind{resource.Events, resource.Actors, resource.Places} {
		names := slices.Concat(p.updated[k], p.deleted[k])
		if len(names) == 0 {
			continue
		}
		if k == resource.Events {
			q.Queue("DELETE FROM event_actor WHERE name = ANY($1)", names)
			q.Queue("DELETE FROM event_place WHERE name = ANY($1)", names)
		} else {
			q.Queue("DELETE FROM match_keys WHERE name = ANY($1)", names)
		}
	}
	for _, k := range resource.Kinds {
		if len(p.deleted[k]) > 0 {
			q.Queue("DELETE FROM "+string(k)+" WHERE name = ANY($1)", p.deleted[k])
		}
		rs := p.rows[k]
		if rs == nil {
			continue
		}
		n := 3 + len(columns[k])
		names, exprs, un := unnest(k)
		if len(rs.update) > 0 {
			var set []string
			for i := 1; i < len(names); i++ {
				set = append(set, names[i]+" = "+exprs[i])
			}
			q.Queue("UPDATE "+string(k)+" t SET "+strings.Join(set, ", ")+" FROM "+un+" WHERE t.name = u.name",
				transpose(rs.update, n)...)
		}
		if len(rs.insert) > 0 {
			q.Queue("INSERT INTO "+string(k)+"("+strings.Join(names, ", ")+") SELECT "+strings.Join(exprs, ", ")+" FROM "+un,
				transpose(rs.insert, n)...)
		}
	}
	if len(p.actors[0]) > 0 {
		q.Queue("INSERT INTO event_actor(actor, date_lo, name) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
			p.actors[0], p.actors[1], p.actors[2])
	}
	if len(p.places[0]) > 0 {
		q.Queue("INSERT INTO event_place(place, date_lo, name) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
			p.places[0], p.places[1], p.places[2])
	}
	if len(p.keys[0]) > 0 {
		q.Queue("INSERT INTO match_keys(kind, key, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
			p.keys[0], p.keys[1], p.keys[2])
	}
	if len(p.log) > 0 {
		slices.SortFunc(p.log, func(a, b store.LogEntry) int { return strings.Compare(a.Name, b.Name) })
		names, kinds, times, etags := make([]string, len(p.log)), make([]int32, len(p.log)), make([]int64, len(p.log)), make([]string, len(p.log))
		for i, e := range p.log {
			names[i], kinds[i], times[i], etags[i] = e.Name, int32(e.Kind), e.Time, e.Etag
		}
		q.Queue(`INSERT INTO changes(name, kind, time, etag)
			SELECT name, kind, time, etag FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[]) WITH ORDINALITY AS u(name, kind, time, etag, i)
			ORDER BY i`, names, kinds, times, etags)
		q.Queue(`INSERT INTO state(key, value) VALUES ('last_modified', $1)
			ON CONFLICT (key) DO UPDATE SET value = greatest(state.value, excluded.value)`, p.latest)
	}
	if p.hasEvent {
		q.Queue(`INSERT INTO state(key, value) VALUES ('max_event_span', $1)
			ON CONFLICT (key) DO UPDATE SET value = greatest(state.value, excluded.value)`, p.span)
	}
	for _, k := range resource.Kinds {
		if d := p.counts[k]; d != 0 {
			q.Queue(`INSERT INTO state(key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = state.value + excluded.value`, "count_"+string(k), d)
		}
	}
	if q.Len() == 0 {
		return nil
	}
	return p.tx.SendBatch(ctx, &q).Close()
}

// SetMeta stores value under key, replacing any value it had.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO meta(key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return sqlErr(ctx, fmt.Sprintf("postgres: set meta %q", key), err)
	}
	return nil
}
