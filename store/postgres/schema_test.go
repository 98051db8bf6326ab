package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/postgres"
	"github.com/annals-project/annals/store/postgres/pgtest"
	"github.com/annals-project/annals/store/storetest"
)

func exec(t *testing.T, dsn string, q string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestConcurrentOpen opens one new database from many stores at once, as
// replicas starting together do: exactly one migrates, none fails, and the
// schema is there once.
func TestConcurrentOpen(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stores := make(chan *postgres.Store, n)
	for range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		})
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	var first *postgres.Store
	for s := range stores {
		if first == nil {
			first = s
		}
		defer s.Close()
	}
	if first == nil {
		t.Fatal("no store opened")
	}
	if _, err := first.Put(t.Context(), storetest.Fixture()); err != nil {
		t.Fatalf("Put after concurrent opens: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_version").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_version has %d rows (%v); want 1", rows, err)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer Annals is refused
// with both versions named, and left as it was.
func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	exec(t, dsn, "UPDATE schema_version SET version = 99")
	_, err = postgres.Open(t.Context(), dsn, postgres.Options{})
	if !errors.Is(err, store.ErrIncompatible) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), "up to version 1") {
		t.Errorf("Open of a newer schema = %v; want store.ErrIncompatible naming versions 99 and 1", err)
	}
}

// TestForeignDatabaseRefused: a database with tables of another
// application and no Annals schema is refused and left untouched.
func TestForeignDatabaseRefused(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	exec(t, dsn, "CREATE TABLE invoices (id int)")
	_, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if !errors.Is(err, store.ErrIncompatible) {
		t.Errorf("Open of another application's database = %v; want store.ErrIncompatible", err)
	}
}

// TestCorruptRecord: a stored record whose bytes no longer match their
// checksum is refused with store.ErrDataLoss naming it, by every read.
func TestCorruptRecord(t *testing.T) {
	dsn := pgtest.Shared(t).NewDatabase(t)
	ctx := t.Context()
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	name := "events/soviet-japanese-neutrality-pact"
	exec(t, dsn, "UPDATE events SET data = data || '\\x00'::bytea WHERE name = $1", name)
	reads := map[string]func() error{
		"GetEvent":        func() error { _, err := s.GetEvent(ctx, name); return err },
		"GetEventEncoded": func() error { _, err := s.GetEventEncoded(ctx, name); return err },
		"ListEvents": func() error {
			_, err := s.ListEvents(ctx, store.EventFilter{Query: "neutrality"}, store.Page{})
			return err
		},
		"WalkEvents": func() error { return s.WalkEvents(ctx, func(*annalsv1.Event) error { return nil }) },
		"Put over it": func() error {
			_, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{storetest.Fixture().Events[12]}})
			return err
		},
		"Update reading it": func() error {
			_, err := s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
				_, err := tx.GetEvent(ctx, name)
				return nil, err
			})
			return err
		},
	}
	for what, read := range reads {
		if err := read(); !errors.Is(err, store.ErrDataLoss) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s of a corrupt record = %v; want store.ErrDataLoss naming %s", what, err, name)
		}
	}
}

// TestUnreachable: a server that does not answer gives store.ErrUnavailable,
// and no error shows the password.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://annals:hunter2@127.0.0.1:1/annals?connect_timeout=2", postgres.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of an unreachable server = %v; want store.ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the password: %v", err)
	}
	_, err = postgres.Open(ctx, "postgres://annals:hunter2@127.0.0.1:1/annals?sslmode=bogus", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a bad connection string = %v; want an error without the password", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://annals:secret@db:5432/annals":              "postgres://annals:xxxxx@db:5432/annals",
		"postgresql://annals@db/annals":                        "postgresql://annals@db/annals",
		"postgres://db/annals?password=secret&sslmode=require": "postgres://db/annals?password=xxxxx&sslmode=require",
		"postgres://a:b%40c@db/x":                              "postgres://a:xxxxx@db/x",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRestart restarts PostgreSQL under a running store: calls made while
// it is down fail with store.ErrUnavailable, and the store works again
// once it is back, without being reopened.
func TestRestart(t *testing.T) {
	c := pgtest.NewCluster(t)
	ctx := t.Context()
	s, err := postgres.Open(ctx, c.DSN("postgres"), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEvent(ctx, "events/founding-of-rome"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetEvent with PostgreSQL stopped = %v; want store.ErrUnavailable", err)
	}
	ev := storetest.Fixture().Events[1]
	ev.Summary += " (edited)"
	if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{ev}}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Put with PostgreSQL stopped = %v; want store.ErrUnavailable", err)
	}
	if err := s.Check(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Check with PostgreSQL stopped = %v; want store.ErrUnavailable", err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check after the restart: %v", err)
	}
	if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{ev}}); err != nil {
		t.Errorf("Put after the restart: %v", err)
	}
	got, err := s.GetEvent(ctx, ev.Name)
	if err != nil || got.GetSummary() != ev.Summary {
		t.Errorf("GetEvent after the restart = %v, %v", got, err)
	}
	storetest.CheckChangeLog(t, s)
}

// TestDeadline: a statement still running (here: waiting for the writers'
// lock) when the caller's deadline passes is stopped, with the context's
// error, and the writer holding the lock is not disturbed.
func TestDeadline(t *testing.T) {
	s := openNew(t)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.Update(t.Context(), func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
			close(holding)
			<-release
			return nil, nil
		})
		done <- err
	}()
	<-holding
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Put(ctx, storetest.Fixture())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put waiting past its deadline = %v; want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Put past its 300 ms deadline took %v", took)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the writer holding the lock: %v", err)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Events != 0 {
		t.Errorf("Stats after the timed-out Put = %+v, %v; want nothing stored", st, err)
	}
}
