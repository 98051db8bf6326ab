package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/storetest"
)

// TestEventCache: GetEvent answers from memory what was read before; what
// this store wrote since is seen at once, what another store on the same
// file (another process) wrote within otherWritesWithin.
func TestEventCache(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "a.db")
	a, b := open(t, path), open(t, path)
	if _, err := a.Put(ctx, storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	name := storetest.Fixture().Events[0].GetName()
	summary := func(s *Store) string {
		t.Helper()
		e, err := s.GetEvent(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return e.GetSummary()
	}
	enc, err := a.GetEventEncoded(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.GetEventEncoded(ctx, name)
	if &enc[0] != &again[0] {
		t.Error("a second GetEventEncoded of the same event read the database again")
	}
	stores := map[*Store]string{a: "first", b: "second"}
	for i, writer := range []*Store{b, a, b} {
		e := proto.Clone(storetest.Fixture().Events[0]).(*annalsv1.Event)
		e.Summary = fmt.Sprint("revision ", i)
		if _, err := writer.Put(ctx, &store.Batch{Events: []*annalsv1.Event{e}}); err != nil {
			t.Fatal(err)
		}
		if got := summary(writer); got != e.Summary {
			t.Errorf("after a write by the %s store, it reads %q; want %q at once", stores[writer], got, e.Summary)
		}
		time.Sleep(otherWritesWithin + time.Millisecond)
		for _, reader := range []*Store{a, b} {
			if got := summary(reader); got != e.Summary {
				t.Errorf("after a write by the %s store, the %s store reads %q; want %q", stores[writer], stores[reader], got, e.Summary)
			}
		}
	}
	if _, err := b.Put(ctx, &store.Batch{Deletes: []string{name}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(otherWritesWithin + time.Millisecond)
	if _, err := a.GetEventEncoded(ctx, name); err == nil {
		t.Error("a deleted event is still answered")
	}
}

// TestEventCacheBounded: the cache holds at most its bound of bytes, and
// answers right when many ask at once.
func TestEventCacheBounded(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "a.db"))
	var bt store.Batch
	for i := range 300 {
		bt.Events = append(bt.Events, &annalsv1.Event{Name: fmt.Sprintf("events/e%03d", i), Summary: fmt.Sprint(i, " ", string(make([]byte, 2000))),
			Date: &annalsv1.HistoricalDate{Year: 1900, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}})
	}
	if _, err := s.Put(ctx, &bt); err != nil {
		t.Fatal(err)
	}
	s.events.max = 100 << 10
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 300 {
				name := fmt.Sprintf("events/e%03d", (i*7+w)%300)
				e, err := s.GetEvent(ctx, name)
				if err != nil || e.GetName() != name {
					t.Errorf("GetEvent(%s) = %v, %v", name, e.GetName(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	if s.events.bytes > s.events.max || len(s.events.entries) == 0 {
		t.Errorf("the cache holds %d bytes in %d entries; bound %d", s.events.bytes, len(s.events.entries), s.events.max)
	}
	n := 0
	for _, b := range s.events.entries {
		n += len(b)
	}
	if n != s.events.bytes || len(s.events.order) != len(s.events.entries) {
		t.Errorf("the cache counts %d bytes and %d names; it holds %d bytes and %d entries", s.events.bytes, len(s.events.order), n, len(s.events.entries))
	}
}
