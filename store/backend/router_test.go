package backend_test

import (
	"errors"
	"path/filepath"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/store/storetest"
)

// TestRouter routes a router over two stores (SQLite files standing in for
// a primary and a lagging standby; the PostgreSQL end-to-end tests use a
// real standby): writes go to the primary, reads to the replica, and a
// record the replica lacks is read from the primary.
func TestRouter(t *testing.T) {
	ctx := t.Context()
	open := func(name string) store.Store {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), name), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	primary, replica := open("primary.db"), open("replica.db")
	r := backend.NewRouter(primary, replica, nil)
	defer r.Close()
	if _, err := r.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if st, _ := replica.Stats(ctx); st.Events != 0 {
		t.Errorf("a write reached the replica: %+v", st)
	}
	if st, _ := primary.Stats(ctx); st.Events == 0 {
		t.Errorf("a write did not reach the primary")
	}
	// Lists come from the replica (which has not "replayed" anything yet).
	if res, err := r.ListEvents(ctx, store.EventFilter{}, store.Page{}); err != nil || len(res.Items) != 0 {
		t.Errorf("ListEvents = %d events, %v; want the replica's (none)", len(res.Items), err)
	}
	// A record just created is found: the replica lacks it, the primary answers.
	name := storetest.Fixture().Events[12].Name
	if ev, err := r.GetEvent(ctx, name); err != nil || ev.GetName() != name {
		t.Errorf("GetEvent(%s) = %v, %v; want it from the primary", name, ev, err)
	}
	if _, err := r.GetEvent(ctx, "events/never-stored"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent of a record on neither = %v; want ErrNotFound", err)
	}
	if _, err := r.GetEventEncoded(ctx, name); err != nil {
		t.Errorf("GetEventEncoded(%s): %v", name, err)
	}
	// Once the replica has the records, reads are its own.
	var b store.Batch
	b.Verbatim = true
	if err := primary.WalkEvents(ctx, func(e *annalsv1.Event) error { b.Events = append(b.Events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := replica.Put(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if res, err := r.ListEvents(ctx, store.EventFilter{}, store.Page{Limit: 100}); err != nil || len(res.Items) != len(b.Events) {
		t.Errorf("ListEvents after the replica caught up = %d events, %v; want %d", len(res.Items), err, len(b.Events))
	}
	if err := r.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Meta(ctx, "k"); err != nil || v != "v" {
		t.Errorf("Meta(k) after SetMeta = %q, %v; want it from the primary", v, err)
	}
	if err := r.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// TestOpenRefusesReplicaOfSQLite: a replica needs a PostgreSQL primary.
func TestOpenRefusesReplicaOfSQLite(t *testing.T) {
	_, err := backend.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), backend.Options{Replica: "postgres://x@127.0.0.1:1/y"})
	if err == nil {
		t.Error("Open of a SQLite file with a replica succeeded")
	}
}

func TestRedact(t *testing.T) {
	if got := backend.Redact("postgres://a:pw@h/d"); got != "postgres://a:xxxxx@h/d" {
		t.Errorf("Redact = %q", got)
	}
	if got := backend.Redact("/var/lib/annals.db"); got != "/var/lib/annals.db" {
		t.Errorf("Redact(path) = %q", got)
	}
}
