package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// memStore is a map-backed store.Store for the tests of Reconcile and
// Import. Reads return copies; Put follows the contract of store.Writer.
// Listing and filtering are not needed here and return everything.
type memStore struct {
	wmu     sync.Mutex // serialises Update
	mu      sync.Mutex
	recs    map[string]proto.Message // by resource name
	meta    map[string]string
	puts    int
	failGet error // when set, every Get fails with it
	clock   int64
}

var _ store.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{recs: map[string]proto.Message{}, meta: map[string]string{}}
}

func memGet[T proto.Message](s *memStore, name string) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	if s.failGet != nil {
		return zero, s.failGet
	}
	m, ok := s.recs[name].(T)
	if !ok {
		return zero, fmt.Errorf("%s: %w", name, store.ErrNotFound)
	}
	return proto.Clone(m).(T), nil
}

func (s *memStore) GetEvent(_ context.Context, n string) (*annalsv1.Event, error) {
	return memGet[*annalsv1.Event](s, n)
}
func (s *memStore) GetActor(_ context.Context, n string) (*annalsv1.Actor, error) {
	return memGet[*annalsv1.Actor](s, n)
}
func (s *memStore) GetPlace(_ context.Context, n string) (*annalsv1.Place, error) {
	return memGet[*annalsv1.Place](s, n)
}
func (s *memStore) GetSource(_ context.Context, n string) (*annalsv1.Source, error) {
	return memGet[*annalsv1.Source](s, n)
}

func memAll[T proto.Message](s *memStore, k resource.Kind) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.recs {
		if strings.HasPrefix(n, string(k)+"/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]T, 0, len(names))
	for _, n := range names {
		out = append(out, proto.Clone(s.recs[n]).(T))
	}
	return out
}

func (s *memStore) ListEvents(context.Context, store.EventFilter, store.Page) (store.Result[*annalsv1.Event], error) {
	return store.Result[*annalsv1.Event]{Items: memAll[*annalsv1.Event](s, resource.Events)}, nil
}
func (s *memStore) ListActors(context.Context, store.ActorFilter, store.Page) (store.Result[*annalsv1.Actor], error) {
	return store.Result[*annalsv1.Actor]{Items: memAll[*annalsv1.Actor](s, resource.Actors)}, nil
}
func (s *memStore) ListPlaces(context.Context, store.PlaceFilter, store.Page) (store.Result[*annalsv1.Place], error) {
	return store.Result[*annalsv1.Place]{Items: memAll[*annalsv1.Place](s, resource.Places)}, nil
}

func memWalk[T proto.Message](s *memStore, k resource.Kind, fn func(T) error) error {
	for _, r := range memAll[T](s, k) {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) WalkEvents(_ context.Context, fn func(*annalsv1.Event) error) error {
	return memWalk(s, resource.Events, fn)
}
func (s *memStore) WalkActors(_ context.Context, fn func(*annalsv1.Actor) error) error {
	return memWalk(s, resource.Actors, fn)
}
func (s *memStore) WalkPlaces(_ context.Context, fn func(*annalsv1.Place) error) error {
	return memWalk(s, resource.Places, fn)
}
func (s *memStore) WalkSources(_ context.Context, fn func(*annalsv1.Source) error) error {
	return memWalk(s, resource.Sources, fn)
}

func (s *memStore) MatchNames(_ context.Context, k resource.Kind, key string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n, m := range s.recs {
		var names []*annalsv1.Label
		switch r := m.(type) {
		case *annalsv1.Actor:
			if k == resource.Actors {
				names = append(slices.Clone(r.Labels), r.Aliases...)
			}
		case *annalsv1.Place:
			if k == resource.Places {
				names = append(slices.Clone(r.Labels), r.Aliases...)
			}
		}
		if slices.ContainsFunc(names, func(l *annalsv1.Label) bool { return resource.MatchKey(l.Value) == key }) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s *memStore) Stats(context.Context) (store.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st store.Stats
	for n := range s.recs {
		k, _, _ := strings.Cut(n, "/")
		switch resource.Kind(k) {
		case resource.Events:
			st.Events++
		case resource.Actors:
			st.Actors++
		case resource.Places:
			st.Places++
		case resource.Sources:
			st.Sources++
		}
	}
	st.LastModified = s.clock
	return st, nil
}

// Put stores the batch, stamping times and etags; an unchanged record keeps its stored ones.
// Update runs fn and Put with writers serialised, as a backend's write
// transaction would.
func (s *memStore) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b, err := fn(ctx, s)
	if err != nil {
		return nil, err
	}
	return s.Put(ctx, b)
}

// Changes and LastSeq: the tests here keep no change log.
func (s *memStore) Changes(context.Context, int64, int) ([]store.LogEntry, error) { return nil, nil }
func (s *memStore) LastSeq(context.Context) (int64, error)                        { return 0, nil }

func (s *memStore) Put(_ context.Context, b *store.Batch) ([]store.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	var msgs []proto.Message
	for _, m := range b.Sources {
		msgs = append(msgs, m)
	}
	for _, m := range b.Events {
		msgs = append(msgs, m)
	}
	for _, m := range b.Actors {
		msgs = append(msgs, m)
	}
	for _, m := range b.Places {
		msgs = append(msgs, m)
	}
	var changes []store.Change
	for _, m := range msgs {
		name := m.(interface{ GetName() string }).GetName()
		old, ok := s.recs[name]
		kind := annalsv1.ChangeKind_CHANGE_KIND_CREATED
		if ok {
			kind = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
			if equalContent(old, m) {
				changes = append(changes, store.Change{Name: name, Kind: annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED})
				continue
			}
		}
		s.clock++
		now := timestamppb.New(time.Unix(0, s.clock))
		rec := proto.Clone(m)
		created := now
		if ok {
			created = createTime(old)
		}
		stamp(rec, created, now, fmt.Sprintf("etag-%d", s.clock))
		s.recs[name] = rec
		changes = append(changes, store.Change{Name: name, Kind: kind})
	}
	slices.SortFunc(changes, func(a, b store.Change) int { return strings.Compare(a.Name, b.Name) })
	return changes, nil
}

func createTime(m proto.Message) *timestamppb.Timestamp {
	return m.(interface {
		GetCreateTime() *timestamppb.Timestamp
	}).GetCreateTime()
}

func stamp(m proto.Message, created, updated *timestamppb.Timestamp, etag string) {
	switch m := m.(type) {
	case *annalsv1.Event:
		m.CreateTime, m.UpdateTime, m.Etag = created, updated, etag
	case *annalsv1.Actor:
		m.CreateTime, m.UpdateTime, m.Etag = created, updated, etag
	case *annalsv1.Place:
		m.CreateTime, m.UpdateTime, m.Etag = created, updated, etag
	case *annalsv1.Source:
		m.CreateTime, m.UpdateTime, m.Etag = created, updated, etag
	}
}

func (s *memStore) Meta(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.meta[key]
	if !ok {
		return "", store.ErrNotFound
	}
	return v, nil
}

func (s *memStore) SetMeta(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[key] = value
	return nil
}

func (s *memStore) Close() error { return nil }

// snapshot returns copies of every stored record, by name.
func (s *memStore) snapshot() map[string]proto.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]proto.Message, len(s.recs))
	for n, m := range s.recs {
		out[n] = proto.Clone(m)
	}
	return out
}

var errDiskOnFire = errors.New("disk on fire")
