package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/record"
)

const (
	kindCreated   = annalsv1.ChangeKind_CHANGE_KIND_CREATED
	kindUpdated   = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
	kindUnchanged = annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED
	kindDeleted   = annalsv1.ChangeKind_CHANGE_KIND_DELETED
)

// allChanges reads the whole change log, a page at a time.
func allChanges(t *testing.T, s store.Reader) []store.LogEntry {
	t.Helper()
	var all []store.LogEntry
	after := int64(0)
	for {
		page, err := s.Changes(t.Context(), after, 7)
		if err != nil {
			t.Fatalf("Changes(%d): %v", after, err)
		}
		if len(page) > 7 {
			t.Fatalf("Changes(%d, limit 7) gave %d entries", after, len(page))
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// etags returns the etag and update_time of every stored record, by name.
func etags(t *testing.T, s store.Reader) map[string]store.LogEntry {
	t.Helper()
	ctx := t.Context()
	m := map[string]store.LogEntry{}
	add := func(r interface {
		GetName() string
		GetEtag() string
	}, ut int64) {
		m[r.GetName()] = store.LogEntry{Name: r.GetName(), Etag: r.GetEtag(), Time: ut}
	}
	err := errors.Join(
		s.WalkEvents(ctx, func(r *annalsv1.Event) error { add(r, r.GetUpdateTime().AsTime().UnixNano()); return nil }),
		s.WalkActors(ctx, func(r *annalsv1.Actor) error { add(r, r.GetUpdateTime().AsTime().UnixNano()); return nil }),
		s.WalkPlaces(ctx, func(r *annalsv1.Place) error { add(r, r.GetUpdateTime().AsTime().UnixNano()); return nil }),
		s.WalkSources(ctx, func(r *annalsv1.Source) error { add(r, r.GetUpdateTime().AsTime().UnixNano()); return nil }),
	)
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return m
}

// CheckChangeLog checks that s's change log and its records agree: sequence
// numbers strictly increase; the newest entry of every stored record is a
// creation or update with the record's etag and update_time; every name
// whose newest entry is a deletion is not stored; and no record is stored
// without an entry. Backends' crash tests call it after killing a writer.
func CheckChangeLog(t *testing.T, s store.Reader) {
	t.Helper()
	log := allChanges(t, s)
	newest := map[string]store.LogEntry{}
	for i, e := range log {
		if i > 0 && e.Seq <= log[i-1].Seq {
			t.Errorf("change log: entry %d has Seq %d after %d; want strictly increasing", i, e.Seq, log[i-1].Seq)
		}
		if e.Seq < 1 {
			t.Errorf("change log: entry %d has Seq %d; want >= 1", i, e.Seq)
		}
		switch e.Kind {
		case kindCreated, kindUpdated:
			if e.Etag == "" {
				t.Errorf("change log: %d %s %v has no etag", e.Seq, e.Name, e.Kind)
			}
		case kindDeleted:
			if e.Etag != "" {
				t.Errorf("change log: deletion %d of %s has etag %q", e.Seq, e.Name, e.Etag)
			}
		default:
			t.Errorf("change log: entry %d of %s has kind %v", e.Seq, e.Name, e.Kind)
		}
		newest[e.Name] = e
	}
	if last, err := s.LastSeq(t.Context()); err != nil {
		t.Errorf("LastSeq: %v", err)
	} else if want := int64(0); len(log) > 0 && last != log[len(log)-1].Seq || len(log) == 0 && last != want {
		t.Errorf("LastSeq = %d; the log's newest entry is %v", last, log[max(0, len(log)-1):])
	}
	stored := etags(t, s)
	for name, rec := range stored {
		e, ok := newest[name]
		switch {
		case !ok:
			t.Errorf("change log: %s is stored but has no entry (a write without its entry)", name)
		case e.Kind == kindDeleted:
			t.Errorf("change log: %s is stored but its newest entry %d is a deletion", name, e.Seq)
		case e.Etag != rec.Etag || e.Time != rec.Time:
			t.Errorf("change log: %s's newest entry %d has etag %q, time %d; the record has %q, %d", name, e.Seq, e.Etag, e.Time, rec.Etag, rec.Time)
		}
	}
	for name, e := range newest {
		if _, ok := stored[name]; !ok && e.Kind != kindDeleted {
			t.Errorf("change log: %s's newest entry %d is %v, but it is not stored (an entry without its write)", name, e.Seq, e.Kind)
		}
	}
}

func testChangeLog(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("LastSeq of an empty store = %d, %v; want 0", seq, err)
	}
	if got, err := s.Changes(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("Changes of an empty store = %v, %v; want none", got, err)
	}
	b := Fixture()
	if _, err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	log := allChanges(t, s)
	if len(log) != len(b.Records()) {
		t.Fatalf("after writing %d records the log has %d entries", len(b.Records()), len(log))
	}
	for _, e := range log {
		if e.Kind != kindCreated {
			t.Errorf("first write of %s logged as %v", e.Name, e.Kind)
		}
	}
	CheckChangeLog(t, s)

	t.Run("unchanged records add nothing", func(t *testing.T) {
		last, _ := s.LastSeq(ctx)
		if _, err := s.Put(ctx, Fixture()); err != nil {
			t.Fatal(err)
		}
		if now, _ := s.LastSeq(ctx); now != last {
			t.Errorf("writing the same records again moved LastSeq from %d to %d", last, now)
		}
	})
	t.Run("an update adds one entry", func(t *testing.T) {
		last, _ := s.LastSeq(ctx)
		ev := proto.CloneOf(b.Events[3])
		ev.Summary += " (revised)"
		if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{ev}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Changes(ctx, last, 0)
		if err != nil || len(got) != 1 || got[0].Name != ev.Name || got[0].Kind != kindUpdated || got[0].Etag != ev.GetEtag() || got[0].Seq <= last {
			t.Errorf("Changes after an update = %+v, %v; want one UPDATED entry for %s with etag %s", got, err, ev.Name, ev.GetEtag())
		}
		CheckChangeLog(t, s)
	})
	t.Run("limit and after", func(t *testing.T) {
		full := allChanges(t, s)
		got, err := s.Changes(ctx, full[2].Seq, 3)
		if err != nil || len(got) != 3 || got[0] != full[3] || got[2] != full[5] {
			t.Errorf("Changes(after %d, 3) = %+v, %v; want entries 3..5 of %+v", full[2].Seq, got, err, full[:6])
		}
		if got, err := s.Changes(ctx, full[len(full)-1].Seq, 10); err != nil || len(got) != 0 {
			t.Errorf("Changes after the last entry = %v, %v; want none", got, err)
		}
		if got, err := s.Changes(ctx, -5, 0); err != nil || len(got) == 0 || got[0] != full[0] {
			t.Errorf("Changes(after -5) = %v, %v; want from the first entry", got, err)
		}
	})
	t.Run("failed writes add nothing", func(t *testing.T) {
		last, _ := s.LastSeq(ctx)
		bad := &store.Batch{Events: []*annalsv1.Event{proto.CloneOf(b.Events[0]), {Name: "events/no-date", Labels: en("No date")}}}
		bad.Events[0].Summary = "never stored"
		if _, err := s.Put(ctx, bad); err == nil {
			t.Fatal("Put of a batch with an event without a date succeeded")
		}
		errFn := errors.New("reconcile failed")
		if _, err := s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
			return nil, errFn
		}); !errors.Is(err, errFn) {
			t.Errorf("Update whose fn fails = %v; want fn's error", err)
		}
		if now, _ := s.LastSeq(ctx); now != last {
			t.Errorf("failed writes moved LastSeq from %d to %d", last, now)
		}
	})
}

func testDelete(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s, b := loaded(t, open)
	pact := b.Events[12]
	molotov := pact.Participants[0].Actor
	last, _ := s.LastSeq(ctx)
	ch, err := s.Put(ctx, &store.Batch{Deletes: []string{pact.Name, "events/never-stored"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.Change{{Name: pact.Name, Kind: kindDeleted}}; !slices.Equal(ch, want) {
		t.Errorf("Put(deletes) changes = %v, want %v", ch, want)
	}
	if _, err := s.GetEvent(ctx, pact.Name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent of a deleted event = %v; want not found", err)
	}
	for _, f := range []store.EventFilter{{}, {Actor: molotov}, {Query: "neutrality"}, {Month: 4, Day: 13}} {
		if slices.Contains(listAll(t, s, f, 0), pact.Name) {
			t.Errorf("ListEvents(%+v) still lists the deleted %s", f, pact.Name)
		}
	}
	got, err := s.Changes(ctx, last, 0)
	if err != nil || len(got) != 1 || got[0].Name != pact.Name || got[0].Kind != kindDeleted {
		t.Errorf("Changes after the delete = %+v, %v; want one DELETED entry", got, err)
	}
	if st, _ := s.Stats(ctx); st.Events != int64(len(b.Events)-1) {
		t.Errorf("Stats.Events after a delete = %d, want %d", st.Events, len(b.Events)-1)
	}
	// A place's match keys go with it.
	moscow := b.Places[2]
	if _, err := s.Put(ctx, &store.Batch{Deletes: []string{moscow.Name}}); err != nil {
		t.Fatal(err)
	}
	for _, l := range moscow.Labels {
		if names, _ := s.MatchNames(ctx, resource.Places, resource.MatchKey(l.Value)); slices.Contains(names, moscow.Name) {
			t.Errorf("MatchNames(%q) still finds the deleted %s", l.Value, moscow.Name)
		}
	}
	// Re-created, it is CREATED again.
	again := proto.CloneOf(pact)
	again.CreateTime, again.UpdateTime, again.Etag = nil, nil, ""
	if ch, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{again}}); err != nil || ch[0].Kind != kindCreated {
		t.Errorf("writing a deleted event again = %v, %v; want CREATED", ch, err)
	}
	if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{proto.CloneOf(again)}, Deletes: []string{again.Name}}); err == nil {
		t.Error("a batch that writes and deletes the same name succeeded")
	}
	if _, err := s.Put(ctx, &store.Batch{Deletes: []string{"not a name"}}); err == nil {
		t.Error("a batch deleting a malformed name succeeded")
	}
	CheckChangeLog(t, s)
}

func testVerbatim(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	src, _ := loaded(t, open)
	dst := open(t)
	var b store.Batch
	b.Verbatim = true
	err := errors.Join(
		src.WalkEvents(ctx, func(r *annalsv1.Event) error { b.Events = append(b.Events, r); return nil }),
		src.WalkActors(ctx, func(r *annalsv1.Actor) error { b.Actors = append(b.Actors, r); return nil }),
		src.WalkPlaces(ctx, func(r *annalsv1.Place) error { b.Places = append(b.Places, r); return nil }),
		src.WalkSources(ctx, func(r *annalsv1.Source) error { b.Sources = append(b.Sources, r); return nil }),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := cloneBatch(&b)
	ch, err := dst.Put(ctx, &b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if c.Kind != kindCreated {
			t.Errorf("a verbatim copy into an empty store: %s is %v", c.Name, c.Kind)
		}
	}
	for _, e := range want.Events {
		got, err := dst.GetEvent(ctx, e.Name)
		if err != nil || !proto.Equal(got, e) {
			t.Errorf("verbatim copy of %s = %v, %v; want it with the same output-only fields: %v", e.Name, got, err, e)
		}
	}
	for _, a := range want.Actors {
		if got, err := dst.GetActor(ctx, a.Name); err != nil || !proto.Equal(got, a) {
			t.Errorf("verbatim copy of %s differs", a.Name)
		}
	}
	a, b2 := src.(store.Reader), dst.(store.Reader)
	sa, _ := a.Stats(ctx)
	sb, _ := b2.Stats(ctx)
	if sa != sb {
		t.Errorf("Stats of the copy = %+v; the original's = %+v", sb, sa)
	}
	CheckChangeLog(t, dst)
	// The same copy again changes nothing.
	if ch, err := dst.Put(ctx, cloneBatch(want)); err != nil || slices.ContainsFunc(ch, func(c store.Change) bool { return c.Kind != kindUnchanged }) {
		t.Errorf("a verbatim copy written again = %v, %v; want every record unchanged", ch, err)
	}
}

func testUpdate(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s, b := loaded(t, open)
	molotov := b.Actors[0]
	t.Run("sees what was written", func(t *testing.T) {
		var seen *annalsv1.Actor
		_, err := s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
			var err error
			seen, err = tx.GetActor(ctx, molotov.Name)
			return nil, err
		})
		if err != nil || !proto.Equal(seen, molotov) {
			t.Errorf("tx.GetActor in Update = %v, %v; want %v", seen, err, molotov)
		}
		_, err = s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
			_, err := tx.GetEvent(ctx, "events/never-stored")
			return nil, err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tx.GetEvent of an unknown event in Update = %v; want ErrNotFound", err)
		}
		_, err = s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
			names, err := tx.MatchNames(ctx, resource.Actors, resource.MatchKey(molotov.Labels[0].Value))
			if err == nil && !slices.Contains(names, molotov.Name) {
				err = fmt.Errorf("tx.MatchNames(%q) = %v, want %s", molotov.Labels[0].Value, names, molotov.Name)
			}
			return nil, err
		})
		if err != nil {
			t.Error(err)
		}
	})
	// Each Update adds one source to an actor's list: done concurrently,
	// none may be lost, whatever the backend and however many connections.
	t.Run("no lost updates", func(t *testing.T) {
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := s.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
					a, err := tx.GetActor(ctx, molotov.Name)
					if err != nil {
						return nil, err
					}
					a.Sources = append(a.Sources, fmt.Sprintf("sources/concurrent-%02d", i))
					a.CreateTime, a.UpdateTime, a.Etag = nil, nil, ""
					return &store.Batch{Actors: []*annalsv1.Actor{a}}, nil
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		}
		got, err := s.GetActor(ctx, molotov.Name)
		if err != nil {
			t.Fatal(err)
		}
		var added []string
		for _, src := range got.Sources {
			if !slices.Contains(molotov.Sources, src) {
				added = append(added, src)
			}
		}
		slices.Sort(added)
		if len(added) != n || len(slices.Compact(added)) != n {
			t.Errorf("after %d concurrent Updates each adding a source, %d were added: %v", n, len(added), added)
		}
		CheckChangeLog(t, s)
	})
}

// testChangeLogOrder writes from several goroutines while a reader follows
// the log: every entry the reader sees must come after the last it saw,
// so that a follower that remembers the last sequence number it applied
// never misses an entry committed later with a smaller one.
func testChangeLogOrder(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	const writers, writes = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*writes)
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				ev := &annalsv1.Event{Name: fmt.Sprintf("events/w%d-%02d", w, i), Labels: en("Write"), Date: day(1900, 1, 1, gregorian)}
				if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{ev}}); err != nil {
					errs <- err
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen []store.LogEntry
	after := int64(0)
	follow := func() {
		page, err := s.Changes(ctx, after, 0)
		if err != nil {
			t.Errorf("Changes: %v", err)
			return
		}
		for _, e := range page {
			if e.Seq <= after {
				t.Errorf("Changes(after %d) gave entry %d", after, e.Seq)
			}
			after = e.Seq
		}
		seen = append(seen, page...)
	}
	for following := true; following; {
		select {
		case <-done:
			following = false
		default:
			follow()
			time.Sleep(time.Millisecond)
		}
	}
	follow()
	close(errs)
	for err := range errs {
		t.Errorf("Put: %v", err)
	}
	all := allChanges(t, s)
	if len(seen) != len(all) || len(all) != writers*writes {
		t.Errorf("a follower saw %d entries; the log has %d, for %d writes: entries were committed out of order", len(seen), len(all), writers*writes)
	}
	CheckChangeLog(t, s)
}

// EqualArchives compares two stores record by record, ignoring the
// output-only fields and the import times of sources (and nothing else):
// the records of the same imports made one by one (want) and concurrently
// (got) must be equal.
func EqualArchives(t *testing.T, want, got store.Reader) {
	t.Helper()
	ctx := t.Context()
	type recs map[string]proto.Message
	read := func(s store.Reader) recs {
		m := recs{}
		add := func(r interface {
			proto.Message
			GetName() string
		}) error {
			c := proto.Clone(r)
			clearOutput(c)
			m[r.GetName()] = c
			return nil
		}
		err := errors.Join(
			s.WalkEvents(ctx, func(r *annalsv1.Event) error { return add(r) }),
			s.WalkActors(ctx, func(r *annalsv1.Actor) error { return add(r) }),
			s.WalkPlaces(ctx, func(r *annalsv1.Place) error { return add(r) }),
			s.WalkSources(ctx, func(r *annalsv1.Source) error { return add(r) }),
		)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := read(want), read(got)
	for name, ra := range a {
		rb, ok := b[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		if d := cmp.Diff(ra, rb, protocmp.Transform()); d != "" {
			t.Errorf("%s differs (-one by one +concurrent):\n%s", name, d)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s is extra", name)
		}
	}
}

func clearOutput(m proto.Message) {
	record.SetOutput(m.(record.Record), nil, nil, "")
	if s, ok := m.(*annalsv1.Source); ok {
		s.ImportTime = nil
	}
}
