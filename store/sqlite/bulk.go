package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	rec "github.com/annals-project/annals/store/record"
)

// A bulk load (BeginBulk, annals gen and annals copy into a new database)
// writes the records' rows first and builds what indexes them once, at the
// end, from sorted input:
//
//   - Put writes the records' rows, their checksums and the change log, and
//     nothing else: no existence lookups (every record is new; a name
//     already stored fails the batch on the table's unique name), the
//     secondary indexes dropped, the rows of the actor and place join
//     tables and of the match keys set aside in temporary tables. Records
//     are stamped and encoded on other cores while the rows are written.
//   - end sorts the set-aside rows into their tables, creates the indexes
//     again, numbers the events in date order (event_order) and writes
//     the events' full-text rows in that order — read, decoded and folded
//     on another core — then merges the full-text indexes.
//
// The first transaction of a load marks the database (state 'bulk_load');
// the last one clears the mark. Open refuses a marked database: a load
// that stopped half way never leaves an archive that answers with
// incomplete indexes.

// bulkMarker is the key in state that marks a bulk load in progress.
const bulkMarker = "bulk_load"

// errBulkLoading is why Open refuses a database whose bulk load stopped.
var errBulkLoading = fmt.Errorf("%w: this database was being bulk-loaded when the loader stopped, so its indexes are incomplete; remove it and run annals gen (or annals copy) again",
	store.ErrIncompatible)

// bulkLoad is a bulk load in progress.
type bulkLoad struct {
	mu      sync.Mutex // one batch at a time
	ended   bool
	ids     map[string]int64 // the last row id given, per table
	indexes []string         // the secondary indexes dropped, as they were created
}

// bulkTables are the temporary tables a bulk load sets rows aside in, and
// where they go at its end, sorted as the destination's key.
var bulkTables = []struct{ name, create, fill string }{
	{"bulk_event_actor", "CREATE TEMP TABLE bulk_event_actor(actor TEXT, date_lo INTEGER, name TEXT, event_id INTEGER)",
		"INSERT OR IGNORE INTO event_actor(actor, date_lo, name, event_id) SELECT actor, date_lo, name, event_id FROM temp.bulk_event_actor ORDER BY actor, date_lo, name"},
	{"bulk_event_place", "CREATE TEMP TABLE bulk_event_place(place TEXT, date_lo INTEGER, name TEXT, event_id INTEGER)",
		"INSERT OR IGNORE INTO event_place(place, date_lo, name, event_id) SELECT place, date_lo, name, event_id FROM temp.bulk_event_place ORDER BY place, date_lo, name"},
	{"bulk_match_keys", "CREATE TEMP TABLE bulk_match_keys(kind TEXT, key TEXT, name TEXT)",
		"INSERT OR IGNORE INTO match_keys(kind, key, name) SELECT kind, key, name FROM temp.bulk_match_keys ORDER BY kind, key, name"},
}

// FTS5 holds the postings of the rows it is given in memory, up to a
// bound (hashsize), before it writes them out as a segment to be merged
// later. A bulk load raises the bound: fewer, larger segments.
const (
	bulkHashBytes    = 64 << 20
	defaultHashBytes = 1 << 20 // FTS5's default
)

// ftsTables are the full-text tables.
var ftsTables = []string{"events_fts", "actors_fts", "places_fts"}

// BeginBulk starts a bulk load into a new database (annals gen; annals copy
// into an empty one): see above. Until the returned end has run, Update
// and Put of deletions fail, commits are not synced (a load that stops
// leaves a database Open refuses, so nothing acknowledged is at stake),
// and reads see the records without their indexes. end builds the indexes
// and makes everything durable; it must be called before the store is
// used otherwise.
func (s *Store) BeginBulk(ctx context.Context) (end func(context.Context) error, err error) {
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: begin bulk load: %w", err)
	}
	if !s.hasLog {
		return nil, fmt.Errorf("sqlite: begin bulk load: %w", store.ErrReadOnly)
	}
	bl := &bulkLoad{ids: map[string]int64{}}
	if !s.bulk.CompareAndSwap(nil, bl) {
		return nil, errors.New("sqlite: begin bulk load: a bulk load is already in progress")
	}
	if err := s.beginBulk(ctx, bl); err != nil {
		s.bulk.Store(nil)
		return nil, err
	}
	return func(ctx context.Context) error { return s.endBulk(ctx, bl) }, nil
}

func (s *Store) beginBulk(ctx context.Context, bl *bulkLoad) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("sqlite: begin bulk load", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO state(key, value) VALUES (?, 1)", bulkMarker); err != nil {
		return writeErr("sqlite: begin bulk load: mark the database", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN ('events', 'event_actor', 'event_place', 'actors', 'places', 'match_keys') ORDER BY name`)
	if err != nil {
		return writeErr("sqlite: begin bulk load", err)
	}
	var names []string
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			rows.Close()
			return writeErr("sqlite: begin bulk load", err)
		}
		names, bl.indexes = append(names, name), append(bl.indexes, sql)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return writeErr("sqlite: begin bulk load", err)
	}
	stmts := []string{}
	for _, n := range names {
		stmts = append(stmts, "DROP INDEX "+n)
	}
	for _, t := range bulkTables {
		stmts = append(stmts, "DROP TABLE IF EXISTS temp."+t.name, t.create)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return writeErr("sqlite: begin bulk load", err)
		}
	}
	for _, k := range resource.Kinds {
		var id int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM "+string(k)).Scan(&id); err != nil {
			return writeErr("sqlite: begin bulk load", err)
		}
		bl.ids[string(k)] = id
	}
	// Committed durably, before commits stop being synced.
	if err := tx.Commit(); err != nil {
		return writeErr("sqlite: begin bulk load", err)
	}
	stmts = []string{"PRAGMA synchronous = OFF"}
	for _, t := range []string{"actors_fts", "places_fts"} {
		stmts = append(stmts, "INSERT INTO "+t+"("+t+", rank) VALUES ('automerge', 0)",
			"INSERT INTO "+t+"("+t+", rank) VALUES ('crisismerge', 2000)",
			fmt.Sprintf("INSERT INTO "+t+"("+t+", rank) VALUES ('hashsize', %d)", bulkHashBytes))
	}
	for _, q := range stmts {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return writeErr("sqlite: begin bulk load", err)
		}
	}
	return nil
}

// bulkRecord is a record of a bulk batch, stamped and ready to write.
type bulkRecord struct {
	kind  resource.Kind
	m     record
	st    rec.Stamped
	lo    int64 // events: the indexed columns
	hi    int64
	month any
	day   any
	texts [3]string // actors and places: the full-text row
	keys  []string  // actors and places: match keys
}

// stamp works out what a bulk load writes of one record.
func stampBulk(k resource.Kind, m record, now int64, verbatim bool) (bulkRecord, error) {
	st, err := rec.Stamp(m, nil, now, verbatim)
	if err != nil {
		return bulkRecord{}, fmt.Errorf("sqlite: put %s: %w", m.GetName(), err)
	}
	r := bulkRecord{kind: k, m: m, st: st}
	switch m := m.(type) {
	case *annalsv1.Event:
		r.lo, r.hi, r.month, r.day = rec.EventColumns(m)
	case *annalsv1.Actor:
		r.texts[0], r.texts[1], r.texts[2] = namedTexts(m)
		r.keys = matchKeys(m.GetLabels(), m.GetAliases())
	case *annalsv1.Place:
		r.texts[0], r.texts[1], r.texts[2] = namedTexts(m)
		r.keys = matchKeys(m.GetLabels(), m.GetAliases())
	}
	return r, nil
}

// matchKeys are the distinct match keys of labels and aliases.
func matchKeys(labels, aliases []*annalsv1.Label) []string {
	var keys []string
	for _, l := range slices.Concat(labels, aliases) {
		if k := resource.MatchKey(l.GetValue()); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// stampChunk is how many records a stamping goroutine takes at a time.
const stampChunk = 256

// bulkPut is Put during a bulk load.
func (s *Store) bulkPut(ctx context.Context, bl *bulkLoad, b *store.Batch) ([]store.Change, error) {
	if err := rec.CheckBatch(b); err != nil {
		return nil, fmt.Errorf("sqlite: put: %w", err)
	}
	if len(b.Deletes) > 0 {
		return nil, errors.New("sqlite: put: a bulk load only adds records; it cannot delete")
	}
	bl.mu.Lock()
	defer bl.mu.Unlock()
	if bl.ended {
		return nil, errors.New("sqlite: put: the bulk load has ended")
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, writeErr("sqlite: write: begin", err)
	}
	ids := maps.Clone(bl.ids)
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
			bl.ids = ids
		}
	}()
	if err := s.checkIdentity(); err != nil {
		return nil, fmt.Errorf("sqlite: write: %w", err)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, "SELECT value FROM state WHERE key = 'last_modified'").Scan(&last); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, writeErr("sqlite: put: read state", err)
	}
	now := max(time.Now().UnixNano(), last+1)

	type item struct {
		k resource.Kind
		m record
	}
	items := make([]item, 0, len(b.Sources)+len(b.Events)+len(b.Actors)+len(b.Places))
	for _, r := range b.Sources {
		items = append(items, item{resource.Sources, r})
	}
	for _, r := range b.Events {
		items = append(items, item{resource.Events, r})
	}
	for _, r := range b.Actors {
		items = append(items, item{resource.Actors, r})
	}
	for _, r := range b.Places {
		items = append(items, item{resource.Places, r})
	}
	// Stamp in goroutines, a chunk at a time; write here, in order.
	type chunk struct {
		items []item
		out   []bulkRecord
		err   error
		done  chan struct{}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk)
	order := make(chan *chunk, 4*runtime.GOMAXPROCS(0))
	go func() {
		defer close(work)
		defer close(order)
		for i := 0; i < len(items); i += stampChunk {
			c := &chunk{items: items[i:min(i+stampChunk, len(items))], done: make(chan struct{})}
			select {
			case order <- c:
			case <-cctx.Done():
				return
			}
			select {
			case work <- c:
			case <-cctx.Done():
				return
			}
		}
	}()
	for range max(1, runtime.GOMAXPROCS(0)-1) {
		go func() {
			for c := range work {
				c.out = make([]bulkRecord, len(c.items))
				for i, it := range c.items {
					if c.out[i], c.err = stampBulk(it.k, it.m, now, b.Verbatim); c.err != nil {
						break
					}
				}
				close(c.done)
			}
		}()
	}

	w := newBulkWriter(tx)
	var (
		log     []store.LogEntry
		outputs []rec.Output
		latest  int64
		span    int64
	)
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.err != nil {
			return nil, c.err
		}
		for _, r := range c.out {
			id := bl.ids[string(r.kind)] + 1
			if err := w.write(ctx, id, r); err != nil {
				return nil, writeErr(fmt.Sprintf("sqlite: put %s", r.m.GetName()), err)
			}
			bl.ids[string(r.kind)] = id
			outputs = append(outputs, r.st.Output)
			log = append(log, r.st.Entry)
			latest = max(latest, r.st.Entry.Time)
			if r.kind == resource.Events {
				span = max(span, r.hi-r.lo)
			}
		}
	}
	slices.SortFunc(log, func(a, b store.LogEntry) int { return strings.Compare(a.Name, b.Name) })
	changes := make([]store.Change, len(log))
	for i, e := range log {
		if err := w.changes.add(ctx, e.Name, int64(e.Kind), e.Time, e.Etag); err != nil {
			return nil, writeErr("sqlite: put: append to the change log", err)
		}
		changes[i] = store.Change{Name: e.Name, Kind: e.Kind}
	}
	if err := w.flush(ctx); err != nil {
		return nil, writeErr("sqlite: put", err)
	}
	if len(log) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO state(key, value) VALUES ('last_modified', ?)
			ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, latest); err != nil {
			return nil, writeErr("sqlite: put: write state", err)
		}
	}
	if len(b.Events) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO state(key, value) VALUES ('max_event_span', ?)
			ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, span); err != nil {
			return nil, writeErr("sqlite: put: write state", err)
		}
	}
	err = tx.Commit()
	s.writes.Add(1)
	if err != nil {
		return nil, writeErr("sqlite: put: commit", err)
	}
	committed = true
	for _, o := range outputs {
		o.Set()
	}
	return changes, nil
}

// bulkWriter writes the rows of bulk batches, many rows a statement.
type bulkWriter struct {
	events, actors, places, sources *rowWriter
	eventActor, eventPlace, keys    *rowWriter
	actorsFTS, placesFTS            *rowWriter
	changes                         *rowWriter
}

func newBulkWriter(tx execQuerier) *bulkWriter {
	return &bulkWriter{
		events:     newRowWriter(tx, "events", "id, name, data, sum, date_lo, date_hi, month, day, wikidata_id", 9),
		actors:     newRowWriter(tx, "actors", "id, name, data, sum, kind, wikidata_id", 6),
		places:     newRowWriter(tx, "places", "id, name, data, sum, wikidata_id", 5),
		sources:    newRowWriter(tx, "sources", "id, name, data, sum", 4),
		eventActor: newRowWriter(tx, "temp.bulk_event_actor", "actor, date_lo, name, event_id", 4),
		eventPlace: newRowWriter(tx, "temp.bulk_event_place", "place, date_lo, name, event_id", 4),
		keys:       newRowWriter(tx, "temp.bulk_match_keys", "kind, key, name", 3),
		actorsFTS:  newTextWriter(tx, "actors_fts", "rowid, labels, aliases, description", 4),
		placesFTS:  newTextWriter(tx, "places_fts", "rowid, labels, aliases, description", 4),
		changes:    newRowWriter(tx, "changes", "name, kind, time, etag", 4),
	}
}

// write writes record r as row id.
func (w *bulkWriter) write(ctx context.Context, id int64, r bulkRecord) error {
	name, data, sum := r.m.GetName(), r.st.Data, r.st.Sum
	switch m := r.m.(type) {
	case *annalsv1.Source:
		return w.sources.add(ctx, id, name, data, sum)
	case *annalsv1.Event:
		if err := w.events.add(ctx, id, name, data, sum, r.lo, r.hi, r.month, r.day, nullable(m.GetWikidataId())); err != nil {
			return err
		}
		for _, pa := range m.GetParticipants() {
			if pa.GetActor() != "" {
				if err := w.eventActor.add(ctx, pa.GetActor(), r.lo, name, id); err != nil {
					return err
				}
			}
		}
		for _, pl := range m.GetPlaces() {
			if pl != "" {
				if err := w.eventPlace.add(ctx, pl, r.lo, name, id); err != nil {
					return err
				}
			}
		}
		return nil
	case *annalsv1.Actor:
		if err := w.actors.add(ctx, id, name, data, sum, int64(m.GetKind()), nullable(m.GetWikidataId())); err != nil {
			return err
		}
		return w.named(ctx, w.actorsFTS, resource.Actors, id, r)
	case *annalsv1.Place:
		if err := w.places.add(ctx, id, name, data, sum, nullable(m.GetWikidataId())); err != nil {
			return err
		}
		return w.named(ctx, w.placesFTS, resource.Places, id, r)
	}
	return fmt.Errorf("unknown record %T", r.m)
}

// named writes the match keys and the full-text row of an actor or place.
func (w *bulkWriter) named(ctx context.Context, fts *rowWriter, k resource.Kind, id int64, r bulkRecord) error {
	for _, key := range r.keys {
		if err := w.keys.add(ctx, string(k), key, r.m.GetName()); err != nil {
			return err
		}
	}
	return fts.add(ctx, id, r.texts[0], r.texts[1], r.texts[2])
}

// flush writes every row still queued. The record tables come first: the
// rows set aside and the full-text rows refer to them.
func (w *bulkWriter) flush(ctx context.Context) error {
	for _, rw := range []*rowWriter{w.sources, w.events, w.actors, w.places, w.eventActor, w.eventPlace, w.keys, w.actorsFTS, w.placesFTS, w.changes} {
		if err := rw.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// endBulk builds what the load set aside (see above) and ends it.
func (s *Store) endBulk(ctx context.Context, bl *bulkLoad) error {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	if bl.ended {
		return errors.New("sqlite: end bulk load: already ended")
	}
	bl.ended = true
	start := time.Now()
	step := func(what string) {
		s.log.Info("sqlite: bulk load: "+what, "took", time.Since(start).Round(time.Millisecond).String())
		start = time.Now()
	}

	// The join tables, the match keys and the indexes, from sorted input;
	// then every event numbered in date order. The join rows name the
	// events they were written with: checking each one's foreign key would
	// read every event's row again, at random.
	if _, err := s.w.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	defer s.w.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	defer tx.Rollback()
	var stmts []string
	for _, t := range bulkTables {
		stmts = append(stmts, t.fill, "DROP TABLE temp."+t.name)
	}
	stmts = append(stmts, bl.indexes...)
	stmts = append(stmts, "DELETE FROM event_order", "INSERT INTO events_fts(events_fts) VALUES ('delete-all')",
		"INSERT INTO events_fts(events_fts, rank) VALUES ('automerge', 0)",
		fmt.Sprintf("INSERT INTO events_fts(events_fts, rank) VALUES ('hashsize', %d)", bulkHashBytes))
	for _, q := range stmts {
		t0 := time.Now()
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return writeErr("sqlite: end bulk load", err)
		}
		s.log.Debug("sqlite: bulk load: statement", "sql", q[:min(len(q), 60)], "took", time.Since(t0).Round(time.Millisecond).String())
	}
	step("join tables, match keys and indexes built")
	n, err := numberEvents(ctx, tx)
	if err != nil {
		return writeErr("sqlite: end bulk load: number events", err)
	}
	if err := tx.Commit(); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	step(fmt.Sprintf("%d events numbered in date order", n))

	// The events' full-text rows in key order, read on another connection
	// (another core) while written here.
	tx, err = s.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	defer tx.Rollback()
	var r querier = s.r
	if s.r == s.w {
		r = tx // ":memory:": one connection
	}
	if err := fillEventText(ctx, r, tx, nil); err != nil {
		return writeErr("sqlite: end bulk load: full-text rows", err)
	}
	if err := tx.Commit(); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	step("full-text rows of the events written")

	stmts = stmts[:0]
	for _, t := range ftsTables {
		stmts = append(stmts, "INSERT INTO "+t+"("+t+") VALUES ('optimize')",
			"INSERT INTO "+t+"("+t+", rank) VALUES ('automerge', 4)",
			"INSERT INTO "+t+"("+t+", rank) VALUES ('crisismerge', 16)",
			fmt.Sprintf("INSERT INTO "+t+"("+t+", rank) VALUES ('hashsize', %d)", defaultHashBytes))
	}
	for _, q := range stmts {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return writeErr("sqlite: end bulk load", err)
		}
	}
	step("full-text indexes merged")

	// Durable again; the mark cleared by a synced commit, which makes every
	// unsynced one before it durable too.
	if _, err := s.w.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM state WHERE key = ?", bulkMarker); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return writeErr("sqlite: end bulk load", err)
	}
	step("synced")
	s.bulk.Store(nil)
	return nil
}
