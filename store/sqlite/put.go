package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
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
	if err := checkBatch(b); err != nil {
		return nil, fmt.Errorf("sqlite: put: %w", err)
	}
	return s.Update(ctx, func(context.Context, store.Lookup) (*store.Batch, error) { return b, nil })
}

// Update runs fn and writes the batch it returns in one transaction; see
// store.Writer. The transaction takes the database's write lock when it
// begins (BEGIN IMMEDIATE), so fn's reads through tx see every write
// committed before, by this process or any other, and no write can come
// between them and the batch: writers are serialised, and none is retried.
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
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
	if err := checkBatch(b); err != nil {
		return nil, fmt.Errorf("sqlite: put: %w", err)
	}
	p := &putter{tx: tx, stmts: map[string]*sql.Stmt{}, verbatim: b.Verbatim}
	defer p.close()
	changes, err := p.run(ctx, b)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, writeErr("sqlite: put: commit", err)
	}
	committed = true
	for _, o := range p.outputs {
		setOutput(o.rec, o.ct, o.ut, o.etag)
	}
	slices.SortFunc(changes, func(a, b store.Change) int { return strings.Compare(a.Name, b.Name) })
	return changes, nil
}

// checkBatch refuses a batch with nil records, malformed names, bad event
// dates or duplicate names, before any transaction is opened.
func checkBatch(b *store.Batch) error {
	seen := map[string]bool{}
	check := func(k resource.Kind, rec record) error {
		if rec == nil || rec.ProtoReflect() == nil || !rec.ProtoReflect().IsValid() {
			return fmt.Errorf("a nil record in %s", k)
		}
		name := rec.GetName()
		if _, err := resource.ParseKind(name, k); err != nil {
			return fmt.Errorf("record name: %w", err)
		}
		if seen[name] {
			return fmt.Errorf("%s appears twice in one batch", name)
		}
		seen[name] = true
		return nil
	}
	for _, r := range b.Sources {
		if err := check(resource.Sources, r); err != nil {
			return err
		}
	}
	for _, r := range b.Events {
		if err := check(resource.Events, r); err != nil {
			return err
		}
		if fe := histdate.Validate(r.GetDate()); fe != nil {
			return fmt.Errorf("%s: date: %w", r.GetName(), fe)
		}
		if r.GetEndDate() != nil {
			if fe := histdate.Validate(r.GetEndDate()); fe != nil {
				return fmt.Errorf("%s: end_date: %w", r.GetName(), fe)
			}
		}
	}
	for _, r := range b.Actors {
		if err := check(resource.Actors, r); err != nil {
			return err
		}
	}
	for _, r := range b.Places {
		if err := check(resource.Places, r); err != nil {
			return err
		}
	}
	for _, name := range b.Deletes {
		if _, _, err := resource.Parse(name); err != nil {
			return fmt.Errorf("deleted name: %w", err)
		}
		if seen[name] {
			return fmt.Errorf("%s is both written and deleted (or deleted twice) in one batch", name)
		}
		seen[name] = true
	}
	return nil
}

// record is what every resource message has.
type record interface {
	proto.Message
	GetName() string
	GetCreateTime() *timestamppb.Timestamp
	GetUpdateTime() *timestamppb.Timestamp
	GetEtag() string
}

// setOutput sets the output-only fields of m.
func setOutput(m record, ct, ut *timestamppb.Timestamp, etag string) {
	switch m := m.(type) {
	case *annalsv1.Event:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Actor:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Place:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Source:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	default:
		panic(fmt.Sprintf("sqlite: unknown record type %T", m))
	}
}

var marshal = proto.MarshalOptions{Deterministic: true}

// content is the deterministic encoding of m without its output-only fields.
func content(m record) ([]byte, error) {
	_, b, err := contentClone(m)
	return b, err
}

// contentClone is content that also returns the copy of m it encoded, whose
// output-only fields are unset.
func contentClone(m record) (record, []byte, error) {
	c := proto.Clone(m).(record)
	setOutput(c, nil, nil, "")
	b, err := marshal.Marshal(c)
	return c, b, err
}

// etagOf is the etag of a record whose content encodes as c.
func etagOf(c []byte) string {
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:8])
}

// output is what Put sets on a caller's record once the transaction commits.
type output struct {
	rec    record
	ct, ut *timestamppb.Timestamp
	etag   string
}

// putter writes one batch inside a transaction.
type putter struct {
	tx       *sql.Tx
	stmts    map[string]*sql.Stmt
	verbatim bool  // keep the records' output-only fields (store.Batch.Verbatim)
	now      int64 // Unix ns, later than any stored update_time
	latest   int64 // the latest update_time written, Unix ns
	span     int64 // the widest event span written
	outputs  []output
	log      []store.LogEntry // what the change log gets, Seq unset
}

func (p *putter) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// exec runs a statement, prepared once per batch.
func (p *putter) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := p.stmts[query]
	if !ok {
		var err error
		if st, err = p.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		p.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
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

// prepare compares rec with the stored record of the same name in table and
// works out the output-only fields of the copy to store. stored is an empty
// message of rec's type to read the stored record into.
func (p *putter) prepare(ctx context.Context, table string, rec, stored record) (prepared, error) {
	full, c, err := contentClone(rec)
	if err != nil {
		return prepared{}, fmt.Errorf("encode: %w", err)
	}
	var (
		id  int64
		old []byte
		sum sql.NullInt64
	)
	keep := p.verbatim && rec.GetUpdateTime() != nil && rec.GetEtag() != ""
	err = p.queryRow(ctx, "SELECT id, data, sum FROM "+table+" WHERE name = ?", rec.GetName()).Scan(&id, &old, &sum)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		id = 0
	case err != nil:
		return prepared{}, err
	default:
		if err := verify(rec.GetName(), old, sum); err != nil {
			return prepared{}, err
		}
		if err := proto.Unmarshal(old, stored); err != nil {
			return prepared{}, &store.CorruptError{Name: rec.GetName(), Problem: "its stored bytes do not decode: " + err.Error()}
		}
		oc, err := content(stored)
		if err != nil {
			return prepared{}, fmt.Errorf("encode stored record: %w", err)
		}
		same := bytes.Equal(oc, c)
		if keep {
			same = same && rec.GetEtag() == stored.GetEtag() &&
				proto.Equal(rec.GetUpdateTime(), stored.GetUpdateTime()) && proto.Equal(rec.GetCreateTime(), stored.GetCreateTime())
		}
		if same {
			p.outputs = append(p.outputs, output{rec, stored.GetCreateTime(), stored.GetUpdateTime(), stored.GetEtag()})
			return prepared{kind: annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED, id: id}, nil
		}
	}
	now := timestamppb.New(time.Unix(0, p.now))
	ct, ut, etag := now, now, etagOf(c)
	kind := annalsv1.ChangeKind_CHANGE_KIND_CREATED
	if id != 0 {
		kind = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
		if stored.GetCreateTime() != nil {
			ct = stored.GetCreateTime()
		}
	}
	if keep {
		ct, ut, etag = rec.GetCreateTime(), rec.GetUpdateTime(), rec.GetEtag()
		if ct == nil {
			ct = ut
		}
	}
	setOutput(full, ct, ut, etag)
	data, err := marshal.Marshal(full)
	if err != nil {
		return prepared{}, fmt.Errorf("encode: %w", err)
	}
	t := ut.AsTime().UnixNano()
	p.latest = max(p.latest, t)
	p.log = append(p.log, store.LogEntry{Name: rec.GetName(), Kind: kind, Time: t, Etag: etag})
	p.outputs = append(p.outputs, output{rec, proto.Clone(ct).(*timestamppb.Timestamp), proto.Clone(ut).(*timestamppb.Timestamp), etag})
	return prepared{kind: kind, id: id, data: data, sum: checksum(data)}, nil
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

// eventColumns are the indexed columns of an event: its span and, as far as
// the start date is known, its month and day as written in its calendar.
func eventColumns(e *annalsv1.Event) (lo, hi int64, month, day any) {
	d := e.GetDate()
	l, h := histdate.Bounds(d)
	if end := e.GetEndDate(); end != nil {
		_, eh := histdate.Bounds(end)
		h = max(h, eh)
	}
	if d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_MONTH {
		month = d.GetMonth()
	}
	if d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_DAY {
		day = d.GetDay()
	}
	return int64(l), int64(h), month, day
}

func (p *putter) putEvent(ctx context.Context, e *annalsv1.Event) (store.ChangeKind, error) {
	pr, err := p.prepare(ctx, "events", e, &annalsv1.Event{})
	if err != nil {
		return pr.kind, err
	}
	lo, hi, month, day := eventColumns(e)
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
	return pr.kind, p.indexEvent(ctx, id, pr.id != 0, e, lo)
}

// indexEvent (re)writes the rows that index the event stored as row id:
// its actors, its places and its full-text row.
func (p *putter) indexEvent(ctx context.Context, id int64, existed bool, e *annalsv1.Event, lo int64) error {
	if existed {
		for _, q := range []string{
			"DELETE FROM event_actor WHERE event_id = ?",
			"DELETE FROM event_place WHERE event_id = ?",
			"DELETE FROM events_fts WHERE rowid = ?",
		} {
			if _, err := p.exec(ctx, q, id); err != nil {
				return err
			}
		}
	}
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
	var body []string
	for _, sec := range e.GetArticle() {
		body = append(body, sec.GetHeading())
		body = append(body, sec.GetParagraphs()...)
		for _, it := range sec.GetItems() {
			body = append(body, it.GetTerm(), it.GetText())
		}
	}
	_, err := p.exec(ctx, "INSERT INTO events_fts(rowid, labels, summary, body) VALUES (?, ?, ?, ?)",
		id, ftsText(labelText(e.GetLabels())), ftsText(e.GetSummary()), ftsText(strings.Join(body, "\n")))
	return err
}

func labelText(ls []*annalsv1.Label) string {
	v := make([]string, len(ls))
	for i, l := range ls {
		v[i] = l.GetValue()
	}
	return strings.Join(v, "\n")
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
		id, ftsText(labelText(labels)), ftsText(labelText(aliases)), ftsText(desc))
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
		stmts = append(stmts, "DELETE FROM events_fts WHERE rowid = ?")
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
