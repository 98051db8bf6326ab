package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/storetest"
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

// TestMigrateFromVersion1 opens a database of schema version 1 (before the
// date index held date_hi and long events had their own index): it is
// upgraded in place, and lists what it listed before.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	ctx := t.Context()
	s := open(t, path)
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	f := store.EventFilter{From: 19410101, HasFrom: true}
	before, err := s.ListEvents(ctx, f, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `DROP INDEX events_by_start_long; DROP INDEX events_by_start;
		CREATE INDEX events_by_start ON events(date_lo, name); PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A file that cannot be written keeps its older schema and is read as
	// it is, with a warning (query_only stands in for a read-only file).
	ro, err := sql.Open("sqlite", dsn(path, false, []string{"query_only(1)"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if err := migrate(ctx, ro, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Errorf("migrate of a read-only version 1 database: %v", err)
	}
	var v int
	if err := ro.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != 1 {
		t.Errorf("read-only database's user_version after migrate = %d, %v; want 1", v, err)
	}
	ro.Close()
	if !strings.Contains(logs.String(), "read-only") {
		t.Errorf("no warning logged for a read-only database of an older schema: %s", logs.String())
	}

	s = open(t, path)
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion || v < 2 {
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
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'events_by_start_long'").Scan(&n); err != nil || n != 1 {
		t.Errorf("events_by_start_long after migration: %d, %v", n, err)
	}
	after, err := s.ListEvents(ctx, f, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Items) == 0 || len(after.Items) != len(before.Items) {
		t.Errorf("ListEvents(%+v) gave %d events before the migration, %d after", f, len(before.Items), len(after.Items))
	}
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
		{"Yōsuke", `"Yōsuke"`},
		{"neutr* pact", `"neutr"* AND "pact"`},
		{`"a" OR b`, `"a" AND "OR" AND "b"`},
		{"NEAR(a, b)", `"NEAR" AND "a" AND "b"`},
		{"a a A", `"a" AND "A"`},
		{"x*y", `"x"* AND "y"`},
		{"pact\x00pact", `"pact"`},
		{"Yo\u0304suke", `"Yōsuke"`},
		{"1941-04-13", `"1941" AND "04" AND "13"`},
		{"日ソ中立条約", `"日ソ中立条約"`},
	}
	for _, tc := range tests {
		got, err := ftsQuery(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ftsQuery(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	var many []string
	for i := range maxQueryWords + 1 {
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

func TestFingerprintsDiffer(t *testing.T) {
	a := eventFingerprint(store.EventFilter{Month: 4})
	b := eventFingerprint(store.EventFilter{Day: 4})
	if string(a) == string(b) {
		t.Error("month 4 and day 4 have the same fingerprint")
	}
	if string(actorFingerprint(store.ActorFilter{Query: "x"})) == string(placeFingerprint(store.PlaceFilter{Query: "x"})) {
		t.Error("actor and place queries have the same fingerprint")
	}
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

// TestBulk: during a bulk load commits are not synced and the full-text
// indexes do not merge; after it, both are as before and searches find what
// the load wrote.
func TestBulk(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	ctx := t.Context()
	pragma := func(q string) (v int64) {
		t.Helper()
		if err := s.w.QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	automerge := `SELECT coalesce((SELECT v FROM events_fts_config WHERE k = 'automerge'), 4)`
	end, err := s.BeginBulk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := pragma("PRAGMA synchronous"); got != 0 {
		t.Errorf("synchronous during a bulk load = %d, want 0 (OFF)", got)
	}
	if got := pragma(automerge); got != 0 {
		t.Errorf("events_fts automerge during a bulk load = %d, want 0", got)
	}
	b := storetest.Fixture()
	if _, err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := end(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pragma("PRAGMA synchronous"); got != 2 {
		t.Errorf("synchronous after a bulk load = %d, want 2 (FULL)", got)
	}
	if got := pragma(automerge); got != 4 {
		t.Errorf("events_fts automerge after a bulk load = %d, want 4", got)
	}
	res, err := s.ListEvents(ctx, store.EventFilter{Query: "neutrality"}, store.Page{})
	if err != nil || len(res.Items) == 0 {
		t.Errorf("full-text search after a bulk load: %d events, %v", len(res.Items), err)
	}
}
