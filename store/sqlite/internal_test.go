package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	rec "github.com/annals-project/annals/store/record"
	"github.com/annals-project/annals/store/storetest"
	"github.com/annals-project/annals/synth"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestReadOnlyErrors(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	// The writer pool has one connection: make it refuse writes as a
	// read-only file would.
	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	b := storetest.Fixture()
	b.Events[0].Summary = "changed"
	if _, err := s.Put(ctx, b); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Put on a read-only database = %v; want store.ErrReadOnly", err)
	}
	if err := s.SetMeta(ctx, "k", "v"); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("SetMeta on a read-only database = %v; want store.ErrReadOnly", err)
	}
	// Reads still work.
	if _, err := s.GetEvent(ctx, b.Events[0].Name); err != nil {
		t.Errorf("GetEvent on a read-only database: %v", err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	ctx := t.Context()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Fixture()
	if _, err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	st, err := s.Stats(ctx)
	if err != nil || st.Events != int64(len(b.Events)) {
		t.Errorf("Stats after reopening = %+v, %v", st, err)
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var v int
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", v, err, schemaVersion)
	}
	// The same records again change nothing.
	ch, err := s.Put(ctx, storetest.Fixture())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if c.Kind != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
			t.Errorf("after reopening, %s is %v", c.Name, c.Kind)
		}
	}
}

// oldDatabase makes, at path, a database of an older schema version (1 or
// 2) holding the records of b, written as the Annals of that version wrote
// them: no checksums, no change log, match keys and full-text rows of
// unfolded text. Every record gets update_time t0 plus its place in b.
func oldDatabase(t *testing.T, path string, version int, b *store.Batch) {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("sqlite", dsn(path, false, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, m := range migrations[:version] {
		if _, err := db.ExecContext(ctx, m.sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	i := 0
	put := func(table string, r record, cols string, args ...any) int64 {
		i++
		c, err := rec.Content(r)
		if err != nil {
			t.Fatal(err)
		}
		ts := timestamppb.New(t0.Add(time.Duration(i) * time.Second))
		full := proto.Clone(r).(record)
		rec.SetOutput(full, ts, ts, rec.Etag(c))
		data, err := rec.Marshal.Marshal(full)
		if err != nil {
			t.Fatal(err)
		}
		q := "INSERT INTO " + table + "(name, data" + cols + ") VALUES (?, ?" + strings.Repeat(", ?", len(args)) + ")"
		res, err := db.ExecContext(ctx, q, append([]any{r.GetName(), data}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	for _, r := range b.Sources {
		put("sources", r, "")
	}
	for _, e := range b.Events {
		lo, hi, month, day := rec.EventColumns(e)
		id := put("events", e, ", date_lo, date_hi, month, day", lo, hi, month, day)
		for _, pa := range e.GetParticipants() {
			db.ExecContext(ctx, "INSERT OR IGNORE INTO event_actor VALUES (?, ?, ?, ?)", pa.GetActor(), lo, e.GetName(), id)
		}
		for _, pl := range e.GetPlaces() {
			db.ExecContext(ctx, "INSERT OR IGNORE INTO event_place VALUES (?, ?, ?, ?)", pl, lo, e.GetName(), id)
		}
		db.ExecContext(ctx, "INSERT INTO events_fts(rowid, labels, summary, body) VALUES (?, ?, ?, '')", id, rec.LabelText(e.GetLabels()), e.GetSummary())
	}
	for _, a := range b.Actors {
		id := put("actors", a, ", kind", int64(a.GetKind()))
		db.ExecContext(ctx, "INSERT INTO actors_fts(rowid, labels, aliases, description) VALUES (?, ?, '', '')", id, rec.LabelText(a.GetLabels()))
		db.ExecContext(ctx, "INSERT OR IGNORE INTO match_keys VALUES ('actors', ?, ?)", resource.Slug(a.GetLabels()[0].GetValue()), a.GetName())
	}
	for _, p := range b.Places {
		id := put("places", p, "")
		db.ExecContext(ctx, "INSERT INTO places_fts(rowid, labels, aliases, description) VALUES (?, ?, '', '')", id, rec.LabelText(p.GetLabels()))
	}
}

// TestMigrateFromOlderVersions opens databases of schema versions 1 and 2:
// a file that cannot be written is read as it is, with a warning; a
// writable one is upgraded in place, lists what the same records list in a
// new database, keeps every record byte for byte, gets checksums and match
// keys of every script, and a change log with one entry per record in the
// order they were written.
func TestMigrateFromOlderVersions(t *testing.T) {
	for _, version := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("version ", version), func(t *testing.T) {
			ctx := t.Context()
			b := storetest.Fixture()
			fresh := open(t, ":memory:")
			if _, err := fresh.Put(ctx, storetest.Fixture()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "a.db")
			oldDatabase(t, path, min(version, 2), b)
			if version == 3 {
				// Schema 3 as its migration left it: checksums, the change
				// log, full-text rows under the events' ids.
				db, err := sql.Open("sqlite", dsn(path, false, nil))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := migrateStep(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			f := store.EventFilter{From: 19410101, HasFrom: true}

			// Read-only: read as it is, with a warning.
			ro, err := sql.Open("sqlite", dsn(path, false, []string{"query_only(1)"}))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			if v, err := migrate(ctx, ro, slog.New(slog.NewTextHandler(&logs, nil))); err != nil || v != version {
				t.Errorf("migrate of a read-only version %d database = %d, %v", version, v, err)
			}
			ro.Close()
			if !strings.Contains(logs.String(), "read-only") {
				t.Errorf("no warning logged for a read-only database of an older schema: %s", logs.String())
			}

			logs.Reset()
			s, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if !strings.Contains(logs.String(), "upgrading the schema") {
				t.Errorf("the upgrade of an existing database was not logged: %s", logs.String())
			}
			var v int
			if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
				t.Fatalf("user_version after reopening = %d, %v; want %d", v, err, schemaVersion)
			}
			var cols []string
			rows, err := s.r.QueryContext(ctx, "SELECT name FROM pragma_index_info('events_by_start') ORDER BY seqno")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var c string
				rows.Scan(&c)
				cols = append(cols, c)
			}
			rows.Close()
			if strings.Join(cols, ",") != "date_lo,name,date_hi" {
				t.Errorf("events_by_start after migration is on %v", cols)
			}
			checkOrder(t, s)
			for _, q := range []store.EventFilter{f, {Query: "中立条約"}, {Query: "neutrality"}, {Query: "p*"}, {Query: "pact", From: 19410101, HasFrom: true},
				{Actor: b.Events[12].Participants[0].Actor}} {
				want, err1 := fresh.ListEvents(ctx, q, store.Page{})
				got, err2 := s.ListEvents(ctx, q, store.Page{})
				if err1 != nil || err2 != nil || !slices.Equal(namesOf(got.Items), namesOf(want.Items)) {
					t.Errorf("ListEvents(%+v) after the migration = %v, %v; a new database gives %v, %v", q, namesOf(got.Items), err2, namesOf(want.Items), err1)
				}
			}
			for _, a := range b.Actors {
				for _, l := range a.GetLabels() {
					names, err := s.MatchNames(ctx, resource.Actors, resource.MatchKey(l.GetValue()))
					if err != nil || !slices.Contains(names, a.Name) {
						t.Errorf("MatchNames(%q) after the migration = %v, %v; want %s among them", l.GetValue(), names, err, a.Name)
					}
				}
			}
			var nulls int
			if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events WHERE sum IS NULL) + (SELECT count(*) FROM actors WHERE sum IS NULL)
				+ (SELECT count(*) FROM places WHERE sum IS NULL) + (SELECT count(*) FROM sources WHERE sum IS NULL)`).Scan(&nulls); err != nil || nulls != 0 {
				t.Errorf("%d records without a checksum after the migration (%v)", nulls, err)
			}
			storetest.CheckChangeLog(t, s)
			log, err := s.Changes(ctx, 0, 0)
			if err != nil || len(log) != len(b.Records()) {
				t.Fatalf("change log after the migration has %d entries (%v); want one per record, %d", len(log), err, len(b.Records()))
			}
			for i := 1; i < len(log); i++ {
				if log[i].Time < log[i-1].Time {
					t.Errorf("change log entry %d (%s) is older than the one before it", i, log[i].Name)
				}
			}
		})
	}
}

func namesOf[T interface{ GetName() string }](rs []T) []string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.GetName()
	}
	return n
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s := open(t, path)
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(t.Context(), path, nil); err == nil {
		s2.Close()
		t.Fatal("Open of a database from a newer version succeeded")
	}
}

func TestOddPaths(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"with space.db", "q?x=1.db", "hash#1.db", "pct%20.db", "ünï.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			s := open(t, path)
			if err := s.SetMeta(t.Context(), "k", "v"); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Meta(t.Context(), "k"); err != nil || v != "v" {
				t.Fatalf("Meta = %q, %v", v, err)
			}
			var file string
			if err := s.w.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
				t.Fatal(err)
			}
			if file != path {
				t.Errorf("database file = %q, want %q", file, path)
			}
		})
	}
}

// TestConcurrent runs writers and readers at once; run it with -race.
func TestConcurrent(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 3 {
		wg.Go(func() {
			for i := range 20 {
				e := &annalsv1.Event{
					Name:         resource.Name(resource.Events, fmt.Sprintf("w%d-e%d", w, i)),
					Labels:       []*annalsv1.Label{{Language: "en", Value: "Concurrent event"}},
					Date:         &annalsv1.HistoricalDate{Year: int32(1000 + i), Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
					Participants: []*annalsv1.Participant{{Actor: "actors/soviet-union"}},
				}
				if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{e}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.ListEvents(ctx, store.EventFilter{Actor: "actors/soviet-union"}, store.Page{Limit: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := s.ListEvents(ctx, store.EventFilter{Query: "concurrent"}, store.Page{}); err != nil {
					errs <- err
					return
				}
				if err := s.WalkEvents(ctx, func(*annalsv1.Event) error { return nil }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Events != int64(len(storetest.Fixture().Events))+60 {
		t.Errorf("Stats = %+v, %v; want 60 more events", st, err)
	}
}

func TestWalkBatches(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	n := walkBatch*2 + 7
	b := &store.Batch{}
	for i := range n {
		b.Sources = append(b.Sources, &annalsv1.Source{Name: fmt.Sprintf("sources/%016x", i*7919)})
	}
	if _, err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	prev, count := "", 0
	err := s.WalkSources(ctx, func(src *annalsv1.Source) error {
		if src.GetName() <= prev {
			return fmt.Errorf("%s after %s", src.GetName(), prev)
		}
		prev = src.GetName()
		count++
		return nil
	})
	if err != nil || count != n {
		t.Errorf("WalkSources: %d of %d, %v", count, n, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	count = 0
	err = s.WalkSources(cctx, func(*annalsv1.Source) error {
		count++
		if count == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || count != 10 {
		t.Errorf("WalkSources with a cancelled context: %v after %d", err, count)
	}
}

func TestFTSQuery(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Yōsuke", `"yosuke"`},
		{"neutr* pact", `"neutr"* AND "pact"`},
		{`"a" OR b`, `"a" AND "or" AND "b"`},
		{"NEAR(a, b)", `"near" AND "a" AND "b"`},
		{"a a A", `"a"`},
		{"x*y", `"x"* AND "y"`},
		{"pact\x00pact", `"pact"`},
		{"Yo\u0304suke", `"yosuke"`},
		{"1941-04-13", `"1941" AND "04" AND "13"`},
		{"日ソ中立条約", `"日 ソ 中 立 条 約"`},
		{"中立*", `"中 立"*`},
		{"Москва́", `"москва"`},
	}
	for _, tc := range tests {
		got, err := ftsQuery(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ftsQuery(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	var many []string
	for i := range store.MaxQueryWords + 1 {
		many = append(many, fmt.Sprintf("w%d", i))
	}
	for _, in := range []string{"", `"`, "*", "\xff", "\u0301", strings.Join(many, " ")} {
		if got, err := ftsQuery(in); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("ftsQuery(%.20q) = %q, %v; want store.ErrInvalidQuery", in, got, err)
		}
	}
}

// FuzzFTSQuery checks that no text makes an FTS5 query that SQLite refuses.
func FuzzFTSQuery(f *testing.F) {
	for _, s := range []string{"pact", `"`, "NEAR(", "a*", "OR OR", "\x00", "\xff", "Yōsuke", "^x", "a:b", "{a b}:c", "x*y*"} {
		f.Add(s)
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	f.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='unicode61 remove_diacritics 2', prefix='2 3');
		INSERT INTO t VALUES ('Yōsuke Matsuoka', 'neutrality pact');`); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := ftsQuery(in)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidQuery) {
				t.Fatalf("ftsQuery(%q): %v", in, err)
			}
			return
		}
		rows, err := db.Query("SELECT rowid FROM t WHERE t MATCH ?", q)
		if err != nil {
			t.Fatalf("MATCH %q (from %q): %v", q, in, err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("MATCH %q (from %q): %v", q, in, err)
		}
		rows.Close()
	})
}

// TestConcurrentOpen opens one new file from several stores at once, as
// several processes might: the schema is created once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), path, nil)
			if err == nil {
				err = s.SetMeta(t.Context(), fmt.Sprint("k", i), "v")
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

func TestSetWriterCache(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	cache := func() int64 {
		var n int64
		if err := s.w.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := cache(); got != -writerCacheKiB {
		t.Errorf("cache_size after Open = %d, want %d", got, -writerCacheKiB)
	}
	if err := s.SetWriterCache(ctx, 256); err != nil {
		t.Fatal(err)
	}
	if got := cache(); got != -256<<10 {
		t.Errorf("cache_size = %d, want %d", got, -256<<10)
	}
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if got := cache(); got != -256<<10 {
		t.Errorf("cache_size after Put = %d, want %d", got, -256<<10)
	}
	if err := s.SetWriterCache(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := cache(); got != -writerCacheKiB {
		t.Errorf("cache_size after reset = %d, want %d", got, -writerCacheKiB)
	}
}

// TestBulk: a bulk load marks the database (Open refuses it until the load
// ends), drops the secondary indexes, refuses Update and deletions and does
// not sync commits; its end builds the same schema again, numbers the
// events in date order, clears the mark and syncs. The archive it leaves
// holds the same records as one written by ordinary Puts and lists the
// same events for every filter, page after page, before and after later
// ordinary writes.
func TestBulk(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "a.db")
	s := open(t, path)
	pragma := func(q string) (v int64) {
		t.Helper()
		if err := s.w.QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	schema := func() string {
		t.Helper()
		rows, err := s.w.QueryContext(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name, sql string
			rows.Scan(&typ, &name, &sql)
			fmt.Fprintf(&b, "%s %s %s\n", typ, name, sql)
		}
		return b.String()
	}
	// Like annals gen: the bundled dataset first, by ordinary writes.
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	before := schema()
	end, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := pragma("PRAGMA synchronous"); got != 0 {
		t.Errorf("synchronous during a bulk load = %d, want 0 (OFF)", got)
	}
	if got := pragma("SELECT count(*) FROM sqlite_schema WHERE name = 'events_by_start'"); got != 0 {
		t.Error("events_by_start is there during a bulk load")
	}
	if _, err := Open(ctx, path, nil); !errors.Is(err, store.ErrIncompatible) || !strings.Contains(err.Error(), "bulk-loaded") {
		t.Errorf("Open during a bulk load = %v; want a refusal naming the bulk load", err)
	}
	if _, err := s.Update(ctx, func(context.Context, store.Lookup) (*store.Batch, error) { return nil, nil }); err == nil {
		t.Error("Update during a bulk load succeeded")
	}
	if _, err := s.Put(ctx, &store.Batch{Deletes: []string{"events/x"}}); err == nil {
		t.Error("a deletion during a bulk load succeeded")
	}
	if _, err := s.BeginBulk(ctx); err == nil {
		t.Error("a second BeginBulk succeeded")
	}
	ref := open(t, filepath.Join(t.TempDir(), "ref.db"))
	if _, err := ref.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	g := synth.New(7, 300)
	g.Sources = true
	err = g.Batches(120, func(b *store.Batch) error {
		c := cloneBatch(b)
		if _, err := ref.Put(ctx, b); err != nil {
			return err
		}
		ch, err := s.Put(ctx, c)
		for i, x := range ch {
			if x.Kind != annalsv1.ChangeKind_CHANGE_KIND_CREATED || i > 0 && ch[i-1].Name >= x.Name {
				return fmt.Errorf("bulk Put reported %v (after %v)", x, ch[max(i-1, 0)])
			}
		}
		for _, e := range c.Events {
			if e.GetEtag() == "" || e.GetUpdateTime() == nil {
				return fmt.Errorf("bulk Put left %s without its output-only fields", e.GetName())
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := end(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pragma("PRAGMA synchronous"); got != 2 {
		t.Errorf("synchronous after a bulk load = %d, want 2 (FULL)", got)
	}
	if got := pragma("PRAGMA foreign_keys"); got != 1 {
		t.Errorf("foreign_keys after a bulk load = %d, want 1", got)
	}
	if after := schema(); after != before {
		t.Errorf("schema after the bulk load:\n%s\nwant the schema before it:\n%s", after, before)
	}
	if got := pragma("SELECT count(*) FROM state WHERE key = 'bulk_load'"); got != 0 {
		t.Error("the bulk load's mark is still there after it ended")
	}
	if got := pragma("SELECT v FROM events_fts_config WHERE k = 'automerge'"); got != 4 {
		t.Errorf("events_fts automerge after a bulk load = %d, want 4", got)
	}
	checkOrder(t, s)
	storetest.CheckChangeLog(t, s)
	compareLists(t, ref, s)
	storetest.EqualArchives(t, ref, s)

	// Ordinary writes after the load: updates, moves to another day, deletions.
	var b store.Batch
	if err := s.WalkEvents(ctx, func(e *annalsv1.Event) error {
		if len(b.Events) < 40 {
			e = proto.Clone(e).(*annalsv1.Event)
			e.Summary += " revised"
			if len(b.Events)%2 == 0 {
				e.Date = &annalsv1.HistoricalDate{Year: 1500, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}
			}
			b.Events = append(b.Events, e)
		} else if len(b.Deletes) < 10 {
			b.Deletes = append(b.Deletes, e.GetName())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{ref, s} {
		if _, err := st.Put(ctx, cloneBatch(&b)); err != nil {
			t.Fatal(err)
		}
	}
	checkOrder(t, s)
	compareLists(t, ref, s)
	s.Close()
	if s2, err := Open(ctx, path, nil); err != nil {
		t.Errorf("Open after the bulk load: %v", err)
	} else {
		s2.Close()
	}
}

// cloneBatch copies a batch's records, so that two stores each stamp their own.
func cloneBatch(b *store.Batch) *store.Batch {
	c := &store.Batch{Deletes: slices.Clone(b.Deletes), Verbatim: b.Verbatim}
	for _, r := range b.Sources {
		c.Sources = append(c.Sources, proto.Clone(r).(*annalsv1.Source))
	}
	for _, r := range b.Events {
		c.Events = append(c.Events, proto.Clone(r).(*annalsv1.Event))
	}
	for _, r := range b.Actors {
		c.Actors = append(c.Actors, proto.Clone(r).(*annalsv1.Actor))
	}
	for _, r := range b.Places {
		c.Places = append(c.Places, proto.Clone(r).(*annalsv1.Place))
	}
	return c
}

// compareLists fails unless got lists the same events as want for a range
// of filters, at several page sizes, and the same actors and places.
func compareLists(t *testing.T, want, got *Store) {
	t.Helper()
	ctx := t.Context()
	var filters []store.EventFilter
	filters = append(filters, store.EventFilter{})
	seen := map[string]bool{}
	add := func(f store.EventFilter) {
		k := fmt.Sprintf("%+v", f)
		if !seen[k] {
			seen[k] = true
			filters = append(filters, f)
		}
	}
	n := 0
	want.WalkEvents(ctx, func(e *annalsv1.Event) error {
		if n++; n%41 != 0 {
			return nil
		}
		lo, hi, _, _ := rec.EventColumns(e)
		d := e.GetDate()
		add(store.EventFilter{Month: d.GetMonth(), Day: d.GetDay()})
		add(store.EventFilter{From: lo, HasFrom: true, To: hi + 200000, HasTo: true})
		add(store.EventFilter{From: lo, HasFrom: true})
		add(store.EventFilter{To: hi, HasTo: true})
		for _, p := range e.GetParticipants() {
			add(store.EventFilter{Actor: p.GetActor()})
		}
		for _, p := range e.GetPlaces() {
			add(store.EventFilter{Place: p})
		}
		if ls := e.GetLabels(); len(ls) > 0 {
			add(store.EventFilter{Query: ls[0].GetValue()})
		}
		return nil
	})
	for _, w := range []string{"treaty", "battle", "war", "a*", "条約", "Договор"} {
		add(store.EventFilter{Query: w})
		add(store.EventFilter{Query: w, From: 15000101, HasFrom: true})
		add(store.EventFilter{Query: w, To: 15000101, HasTo: true})
		add(store.EventFilter{Query: w, Month: 4})
	}
	for i, f := range filters {
		for _, limit := range []int{[]int{7, 50, 1000}[i%3]} {
			a, b := listNames(t, want, f, limit), listNames(t, got, f, limit)
			if !slices.Equal(a, b) {
				t.Errorf("ListEvents(%+v), pages of %d: bulk-loaded %d events %v…; written by Put %d %v…", f, limit, len(b), b[:min(5, len(b))], len(a), a[:min(5, len(a))])
			}
		}
	}
	for _, q := range []string{"", "a*", "kalevo"} {
		wa, _ := want.ListActors(ctx, store.ActorFilter{Query: q}, store.Page{Limit: 1000})
		ga, _ := got.ListActors(ctx, store.ActorFilter{Query: q}, store.Page{Limit: 1000})
		if !slices.Equal(namesOf(wa.Items), namesOf(ga.Items)) {
			t.Errorf("ListActors(%q) differs: %d and %d actors", q, len(ga.Items), len(wa.Items))
		}
		wp, _ := want.ListPlaces(ctx, store.PlaceFilter{Query: q}, store.Page{Limit: 1000})
		gp, _ := got.ListPlaces(ctx, store.PlaceFilter{Query: q}, store.Page{Limit: 1000})
		if !slices.Equal(namesOf(wp.Items), namesOf(gp.Items)) {
			t.Errorf("ListPlaces(%q) differs: %d and %d places", q, len(gp.Items), len(wp.Items))
		}
	}
}

// listNames lists every event f selects, a page of limit at a time.
func listNames(t *testing.T, s *Store, f store.EventFilter, limit int) []string {
	t.Helper()
	var names []string
	p := store.Page{Limit: limit}
	for {
		res, err := s.ListEvents(t.Context(), f, p)
		if err != nil {
			t.Fatalf("ListEvents(%+v): %v", f, err)
		}
		names = append(names, namesOf(res.Items)...)
		if res.Next == "" {
			return names
		}
		p.After = res.Next
	}
}
