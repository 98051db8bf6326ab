package sqlite

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/storetest"
)

// snapshot is every record of a store, by name, in deterministic encoding.
func snapshot(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ctx := t.Context()
	out := map[string]string{}
	add := func(name string, m proto.Message) error {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		out[name] = string(b)
		return err
	}
	err := errors.Join(
		s.WalkEvents(ctx, func(r *annalsv1.Event) error { return add(r.GetName(), r) }),
		s.WalkActors(ctx, func(r *annalsv1.Actor) error { return add(r.GetName(), r) }),
		s.WalkPlaces(ctx, func(r *annalsv1.Place) error { return add(r.GetName(), r) }),
		s.WalkSources(ctx, func(r *annalsv1.Source) error { return add(r.GetName(), r) }),
	)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return out
}

// integrityCheck runs PRAGMA integrity_check on the writer connection.
func integrityCheck(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.w.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	var got []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("integrity_check: %q", got)
	}
}

// bulkyBatch returns n new events whose articles are large enough that
// writing them needs many new database pages.
func bulkyBatch(n int) *store.Batch {
	b := &store.Batch{}
	para := strings.Repeat("The harbour master wrote down every ship that came in, its cargo and its crew. ", 20)
	for i := range n {
		b.Events = append(b.Events, &annalsv1.Event{
			Name:    fmt.Sprintf("events/bulky-%03d", i),
			Labels:  []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Bulky event %d", i)}},
			Summary: fmt.Sprintf("Bulky event number %d.", i),
			Date:    &annalsv1.HistoricalDate{Year: int32(1700 + i), Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
			Article: []*annalsv1.ArticleSection{{Heading: "Background", Paragraphs: []string{para, para, para}}},
		})
	}
	return b
}

// TestFullDisk simulates a full disk with SQLite's max_page_count, which
// makes writes that need new pages fail with SQLITE_FULL, the code a full
// file system gives. Put must fail with store.ErrReadOnly (which the server
// maps to Unavailable), write nothing of the batch, leave the database sound
// and its earlier records intact, and work again once there is room.
func TestFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s := open(t, path)
	ctx := t.Context()
	if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)

	// The writer pool has one connection, kept open for good, so the limit
	// set on it holds for every write that follows.
	var pages int64
	if err := s.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMaxPages(t, s, pages)

	bulky := bulkyBatch(50)
	_, err := s.Put(ctx, bulky)
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Put on a full disk = %v; want an error wrapping store.ErrReadOnly", err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_FULL {
		t.Fatalf("Put on a full disk = %v; want SQLITE_FULL underneath (the simulation did not work)", err)
	}
	t.Logf("Put on a full disk: %v", err)
	if bulky.Events[0].GetEtag() != "" {
		t.Error("a failed Put changed the batch")
	}
	// An edit of a record, which may or may not fit in the pages there are,
	// also fails cleanly or succeeds, never half.
	edit := storetest.Fixture()
	edit.Events[0].Summary = strings.Repeat("An edited summary. ", 500)
	if _, err := s.Put(ctx, edit); err != nil && !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("edit on a full disk = %v; want success or store.ErrReadOnly", err)
	} else if err == nil {
		before[edit.Events[0].GetName()] = snapshot(t, s)[edit.Events[0].GetName()]
	}
	if err := s.SetMeta(ctx, "key", strings.Repeat("v", 1<<16)); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("SetMeta on a full disk = %v; want store.ErrReadOnly", err)
	}

	integrityCheck(t, s)
	if got := snapshot(t, s); !maps.Equal(got, before) {
		t.Fatalf("after the failed writes the records differ: %d records, want %d", len(got), len(before))
	}
	if _, err := s.GetEvent(ctx, bulky.Events[0].GetName()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEvent of a record of the failed batch = %v; want ErrNotFound", err)
	}

	// Room again (the operator freed space): the same store writes again.
	setMaxPages(t, s, 1<<30)
	if _, err := s.Put(ctx, bulky); err != nil {
		t.Fatalf("Put after room was made: %v", err)
	}
	after := snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the database is sound and holds everything written.
	s2 := open(t, path)
	integrityCheck(t, s2)
	if got := snapshot(t, s2); !maps.Equal(got, after) {
		t.Fatalf("after reopening %d records, want %d", len(got), len(after))
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("%s was lost", name)
		}
	}
}

func setMaxPages(t *testing.T, s *Store, n int64) {
	t.Helper()
	var got int64
	if err := s.w.QueryRowContext(t.Context(), fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("max_page_count = %d, want %d", got, n)
	}
}
