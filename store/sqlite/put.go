package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	rec "github.com/annals-project/annals/store/record"
)

// Put writes the batch in one transaction: all of it or, on any error,
// nothing. A record whose content (everything but create_time, update_time
// and etag) equals the stored one is reported unchanged and not written.
// Otherwise the stored copy gets update_time now, create_time kept from the
// stored record or now for a new one, and etag the first 16 hex digits of the
// SHA-256 of its deterministic encoding without those three fields (a
// Verbatim batch keeps the ones its records carry). Each record written or
// deleted appends an entry to the change log, in the same transaction.
//
// After Put succeeds, every record of b carries the create_time, update_time
// and etag of its stored copy (for an unchanged record, the ones stored
// before); no other field of b is changed. When Put fails, b is untouched.
//
// Records with a malformed name (resource.ErrMalformed) or, for events, an
// invalid date (*histdate.FieldError) fail the batch, as do two records with
// the same name.
func (s *Store) Put(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	if b == nil {
		return nil, nil
	}
	if bl := s.bulk.Load(); bl != nil {
		return s.bulkPut(ctx, bl, b)
	}
	if err := rec.CheckBatch(b); err != nil {
		return nil, fmt.Errorf("sqlite: put: %w", err)
	}
	return s.update(ctx, func(context.Context, store.Lookup) (*store.Batch, error) { return b, nil })
}

// Update runs fn and writes the batch it returns in one transaction; see
// store.Writer. The transaction takes the database's write lock when it
// begins (BEGIN IMMEDIATE), so fn's reads through tx see every write
// committed before, by this process or any other, and no write can come
// between them and the batch: writers are serialised, and none is retried.
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	if s.bulk.Load() != nil {
		return nil, errors.New("sqlite: write: a bulk load is in progress: only Put adds records until it ends")
	}
	return s.update(ctx, fn)
}

func (s *Store) update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: write: %w", err)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, writeErr("sqlite: write: connect", err)
	}
	defer conn.Close()
	// Waiting for another process's write lock ends well before the
	// caller's deadline does (at half the time left), so that a locked
	// database is reported as such (ErrUnavailable) rather than as a timeout.
	busy := busyTimeoutMS
	if dl, ok := ctx.Deadline(); ok {
		busy = min(busy, max(int(time.Until(dl).Milliseconds()/2), 1))
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busy)); err != nil {
		return nil, writeErr("sqlite: write: set busy timeout", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, writeErr("sqlite: write: begin", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	// With the lock held: the file this connection writes is the one at
	// the path, or nothing is written (never into a replaced file).
	if err := s.checkIdentity(); err != nil {
		return nil, fmt.Errorf("sqlite: write: %w", err)
	}
	b, err := fn(ctx, &txLookup{q: tx})
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = &store.Batch{}
	}
	if err := rec.CheckBatch(b); err != nil {
		return nil, fmt.Errorf("sqlite: put: %w", err)
	}
	p := &putter{tx: tx, stmts: map[string]*sql.Stmt{}, verbatim: b.Verbatim}
	defer p.close()
	changes, err := p.run(ctx, b)
	if err != nil {
		return nil, err
	}
	err = tx.Commit()
	s.writes.Add(1) // even a failed commit may have written
	if err != nil {
		return nil, writeErr("sqlite: put: commit", err)
	}
	committed = true
	for _, o := range p.outputs {
		o.Set()
	}
	slices.SortFunc(changes, func(a, b store.Change) int { return strings.Compare(a.Name, b.Name) })
	return changes, nil
}

// record is what every resource message has.
type record = rec.Record

// putter writes one batch inside a transaction.
type putter struct {
	tx       *sql.Tx
	stmts    map[string]*sql.Stmt
	verbatim bool  // keep the records' output-only fields (store.Batch.Verbatim)
	now      int64 // Unix ns, later than any stored update_time
	latest   int64 // the latest update_time written, Unix ns
	span     int64 // the widest event span written
	outputs  []rec.Output
	log      []store.LogEntry // what the change log gets, Seq unset
}

func (p *putter) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// exec runs a statement, prepared once per batch.
func (p *putter) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query runs a query, prepared once per batch.
func (p *putter) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// prepared returns the batch's statement for query, preparing it the first time.
func (p *putter) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

func (p *putter) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, ok := p.stmts[query]
	if !ok {
		var err error
		if st, err = p.tx.PrepareContext(ctx, query); err != nil {
			// Let the row report the error: run it unprepared.
			return p.tx.QueryRowContext(ctx, query, args...)
		}
		p.stmts[query] = st
	}
	return st.QueryRowContext(ctx, args...)
}

func (p *putter) run(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	var last int64
	err := p.queryRow(ctx, "SELECT value FROM state WHERE key = 'last_modified'").Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, writeErr("sqlite: put: read state", err)
	}
	p.now = max(time.Now().UnixNano(), last+1)

	var changes []store.Change
	add := func(name string, k store.ChangeKind, err error) error {
		if err != nil {
			return writeErr(fmt.Sprintf("sqlite: put %s", name), err)
		}
		changes = append(changes, store.Change{Name: name, Kind: k})
		return nil
	}
	for _, r := range b.Sources {
		k, err := p.putSource(ctx, r)
		if err := add(r.GetName(), k, err); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Events {
		k, err := p.putEvent(ctx, r)
		if err := add(r.GetName(), k, err); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Actors {
		k, err := p.putActor(ctx, r)
		if err := add(r.GetName(), k, err); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Places {
		k, err := p.putPlace(ctx, r)
		if err := add(r.GetName(), k, err); err != nil {
			return nil, err
		}
	}
	for _, name := range b.Deletes {
		deleted, err := p.delete(ctx, name)
		if err != nil {
			return nil, writeErr(fmt.Sprintf("sqlite: delete %s", name), err)
		}
		if deleted {
			changes = append(changes, store.Change{Name: name, Kind: annalsv1.ChangeKind_CHANGE_KIND_DELETED})
		}
	}
	if len(p.log) > 0 {
		slices.SortFunc(p.log, func(a, b store.LogEntry) int { return strings.Compare(a.Name, b.Name) })
		for _, e := range p.log {
			if _, err := p.exec(ctx, "INSERT INTO changes(name, kind, time, etag) VALUES (?, ?, ?, ?)",
				e.Name, int64(e.Kind), e.Time, e.Etag); err != nil {
				return nil, writeErr("sqlite: put: append to the change log", err)
			}
		}
		if _, err := p.exec(ctx, `INSERT INTO state(key, value) VALUES ('last_modified', ?)
			ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, p.latest); err != nil {
			return nil, writeErr("sqlite: put: write state", err)
		}
	}
	if p.span > 0 || len(b.Events) > 0 {
		if _, err := p.exec(ctx, `INSERT INTO state(key, value) VALUES ('max_event_span', ?)
			ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, p.span); err != nil {
			return nil, writeErr("sqlite: put: write state", err)
		}
	}
	return changes, nil
}

// prepared is a record ready to be written, or found unchanged.
type prepared struct {
	kind store.ChangeKind
	id   int64  // the stored row's id, or 0 for a new record
	data []byte // the record to store, with its output-only fields
	sum  int64  // checksum(data)
}

// prepare compares r with the stored record of the same name in table and
// works out the output-only fields of the copy to store. stored is an empty
// message of r's type to read the stored record into.
func (p *putter) prepare(ctx context.Context, table string, r, stored record) (prepared, error) {
	var (
		id  int64
		old []byte
		sum sql.NullInt64
	)
	err := p.queryRow(ctx, "SELECT id, data, sum FROM "+table+" WHERE name = ?", r.GetName()).Scan(&id, &old, &sum)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		id, stored = 0, nil
	case err != nil:
		return prepared{}, err
	default:
		if err := verify(r.GetName(), old, sum); err != nil {
			return prepared{}, err
		}
		if err := rec.Decode(r.GetName(), old, stored); err != nil {
			return prepared{}, err
		}
	}
	st, err := rec.Stamp(r, stored, p.now, p.verbatim)
	if err != nil {
		return prepared{}, err
	}
	p.outputs = append(p.outputs, st.Output)
	if st.Kind != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		p.latest = max(p.latest, st.Entry.Time)
		p.log = append(p.log, st.Entry)
	}
	return prepared{kind: st.Kind, id: id, data: st.Data, sum: st.Sum}, nil
}

// upsert writes the row of a prepared record and returns its id. cols and
// args are the table's columns besides id, name and data.
func (p *putter) upsert(ctx context.Context, table, name string, pr prepared, cols []string, args []any) (int64, error) {
	if pr.id != 0 {
		set := "data = ?, sum = ?"
		for _, c := range cols {
			set += ", " + c + " = ?"
		}
		a := append([]any{pr.data, pr.sum}, args...)
		a = append(a, pr.id)
		if _, err := p.exec(ctx, "UPDATE "+table+" SET "+set+" WHERE id = ?", a...); err != nil {
			return 0, err
		}
		return pr.id, nil
	}
	q := "INSERT INTO " + table + "(name, data, sum"
	for _, c := range cols {
		q += ", " + c
	}
	q += ") VALUES (?, ?, ?" + strings.Repeat(", ?", len(cols)) + ")"
	res, err := p.exec(ctx, q, append([]any{name, pr.data, pr.sum}, args...)...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (p *putter) putSource(ctx context.Context, r *annalsv1.Source) (store.ChangeKind, error) {
	pr, err := p.prepare(ctx, "sources", r, &annalsv1.Source{})
	if err != nil || pr.kind == annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		return pr.kind, err
	}
	_, err = p.upsert(ctx, "sources", r.GetName(), pr, nil, nil)
	return pr.kind, err
}

func (p *putter) putEvent(ctx context.Context, e *annalsv1.Event) (store.ChangeKind, error) {
	stored := &annalsv1.Event{}
	pr, err := p.prepare(ctx, "events", e, stored)
	if err != nil {
		return pr.kind, err
	}
	oldLo := int64(0)
	if pr.id != 0 {
		oldLo, _, _, _ = rec.EventColumns(stored)
	}
	lo, hi, month, day := rec.EventColumns(e)
	p.span = max(p.span, hi-lo)
	if pr.kind == annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		return pr.kind, nil
	}
	id, err := p.upsert(ctx, "events", e.GetName(), pr,
		[]string{"date_lo", "date_hi", "month", "day", "wikidata_id"},
		[]any{lo, hi, month, day, nullable(e.GetWikidataId())})
	if err != nil {
		return pr.kind, err
	}
	return pr.kind, p.indexEvent(ctx, id, pr.id != 0, e, lo, oldLo)
}

// indexEvent (re)writes the rows that index the event stored as row id:
// its actors, its places, its order key and its full-text row. An event
// that keeps its start (date_lo lo; oldLo before, when it existed) keeps
// its key, its place in the list being the same; a new one, or one whose
// start moved, gets a key between its new neighbours' (orderer.allot),
// which may renumber some of them.
func (p *putter) indexEvent(ctx context.Context, id int64, existed bool, e *annalsv1.Event, lo, oldLo int64) error {
	key, keep := int64(0), false
	if existed {
		for _, q := range []string{
			"DELETE FROM event_actor WHERE event_id = ?",
			"DELETE FROM event_place WHERE event_id = ?",
		} {
			if _, err := p.exec(ctx, q, id); err != nil {
				return err
			}
		}
		old, ok, err := p.keyOf(ctx, id)
		if err != nil {
			return err
		}
		if ok {
			if _, err := p.exec(ctx, "DELETE FROM events_fts WHERE rowid = ?", old); err != nil {
				return err
			}
			if oldLo == lo {
				key, keep = old, true
			} else if _, err := p.exec(ctx, "DELETE FROM event_order WHERE id = ?", id); err != nil {
				return err
			}
		}
	}
	if err := p.joinEvent(ctx, id, e, lo); err != nil {
		return err
	}
	if !keep {
		o := &orderer{p: p}
		var err error
		if key, err = o.allot(ctx, id, lo, e.GetName()); err != nil {
			return err
		}
		for _, r := range o.renumbered {
			var data []byte
			if err := p.queryRow(ctx, "SELECT data FROM events WHERE id = ?", r.id).Scan(&data); err != nil {
				return err
			}
			other := &annalsv1.Event{}
			if err := rec.Decode(r.name, data, other); err != nil {
				return err
			}
			if err := p.eventText(ctx, r.key, other); err != nil {
				return err
			}
		}
	}
	return p.eventText(ctx, key, e)
}

// joinEvent writes the event's rows of the actor and place join tables.
func (p *putter) joinEvent(ctx context.Context, id int64, e *annalsv1.Event, lo int64) error {
	for _, pa := range e.GetParticipants() {
		if pa.GetActor() == "" {
			continue
		}
		if _, err := p.exec(ctx, "INSERT OR IGNORE INTO event_actor(actor, date_lo, name, event_id) VALUES (?, ?, ?, ?)",
			pa.GetActor(), lo, e.GetName(), id); err != nil {
			return err
		}
	}
	for _, pl := range e.GetPlaces() {
		if pl == "" {
			continue
		}
		if _, err := p.exec(ctx, "INSERT OR IGNORE INTO event_place(place, date_lo, name, event_id) VALUES (?, ?, ?, ?)",
			pl, lo, e.GetName(), id); err != nil {
			return err
		}
	}
	return nil
}

// eventText writes the full-text row of e under its order key.
func (p *putter) eventText(ctx context.Context, key int64, e *annalsv1.Event) error {
	labels, summary, body := eventTexts(e)
	_, err := p.exec(ctx, "INSERT INTO events_fts(rowid, labels, summary, body) VALUES (?, ?, ?, ?)", key, labels, summary, body)
	return err
}

// eventTexts are the columns of an event's full-text row.
func eventTexts(e *annalsv1.Event) (labels, summary, body string) {
	return ftsText(rec.LabelText(e.GetLabels())), ftsText(e.GetSummary()), ftsText(rec.EventBody(e))
}

func (p *putter) putActor(ctx context.Context, a *annalsv1.Actor) (store.ChangeKind, error) {
	pr, err := p.prepare(ctx, "actors", a, &annalsv1.Actor{})
	if err != nil || pr.kind == annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		return pr.kind, err
	}
	id, err := p.upsert(ctx, "actors", a.GetName(), pr,
		[]string{"kind", "wikidata_id"}, []any{int64(a.GetKind()), nullable(a.GetWikidataId())})
	if err != nil {
		return pr.kind, err
	}
	return pr.kind, p.index(ctx, resource.Actors, "actors_fts", id, pr.id != 0, a.GetName(), a.GetLabels(), a.GetAliases(), a.GetDescription())
}

func (p *putter) putPlace(ctx context.Context, pl *annalsv1.Place) (store.ChangeKind, error) {
	pr, err := p.prepare(ctx, "places", pl, &annalsv1.Place{})
	if err != nil || pr.kind == annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
		return pr.kind, err
	}
	id, err := p.upsert(ctx, "places", pl.GetName(), pr, []string{"wikidata_id"}, []any{nullable(pl.GetWikidataId())})
	if err != nil {
		return pr.kind, err
	}
	return pr.kind, p.index(ctx, resource.Places, "places_fts", id, pr.id != 0, pl.GetName(), pl.GetLabels(), pl.GetAliases(), pl.GetDescription())
}

// index (re)writes the match keys and full-text row of an actor or place.
func (p *putter) index(ctx context.Context, k resource.Kind, fts string, id int64, existed bool, name string, labels, aliases []*annalsv1.Label, desc string) error {
	if existed {
		if _, err := p.exec(ctx, "DELETE FROM match_keys WHERE name = ?", name); err != nil {
			return err
		}
		if _, err := p.exec(ctx, "DELETE FROM "+fts+" WHERE rowid = ?", id); err != nil {
			return err
		}
	}
	for _, l := range slices.Concat(labels, aliases) {
		key := resource.MatchKey(l.GetValue())
		if key == "" {
			continue
		}
		if _, err := p.exec(ctx, "INSERT OR IGNORE INTO match_keys(kind, key, name) VALUES (?, ?, ?)", string(k), key, name); err != nil {
			return err
		}
	}
	_, err := p.exec(ctx, "INSERT INTO "+fts+"(rowid, labels, aliases, description) VALUES (?, ?, ?, ?)",
		id, ftsText(rec.LabelText(labels)), ftsText(rec.LabelText(aliases)), ftsText(desc))
	return err
}

// delete removes the record called name and the rows that index it, and
// reports whether there was one.
func (p *putter) delete(ctx context.Context, name string) (bool, error) {
	k, _, err := resource.Parse(name)
	if err != nil {
		return false, err
	}
	table := string(k)
	var id int64
	switch err := p.queryRow(ctx, "SELECT id FROM "+table+" WHERE name = ?", name).Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	stmts := []string{"DELETE FROM " + table + " WHERE id = ?"} // event_actor and event_place cascade
	switch k {
	case resource.Events:
		key, ok, err := p.keyOf(ctx, id)
		if err != nil {
			return false, err
		}
		if ok {
			if _, err := p.exec(ctx, "DELETE FROM events_fts WHERE rowid = ?", key); err != nil {
				return false, err
			}
		}
		stmts = append(stmts, "DELETE FROM event_order WHERE id = ?")
	case resource.Actors, resource.Places:
		stmts = append(stmts, "DELETE FROM "+table+"_fts WHERE rowid = ?")
		if _, err := p.exec(ctx, "DELETE FROM match_keys WHERE name = ?", name); err != nil {
			return false, err
		}
	}
	for _, q := range stmts {
		if _, err := p.exec(ctx, q, id); err != nil {
			return false, err
		}
	}
	p.latest = max(p.latest, p.now)
	p.log = append(p.log, store.LogEntry{Name: name, Kind: annalsv1.ChangeKind_CHANGE_KIND_DELETED, Time: p.now})
	return true, nil
}

// SetMeta stores value under key, replacing any value it had.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return writeErr(fmt.Sprintf("sqlite: set meta %q", key), err)
	}
	return nil
}
