package exporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// fakeStore is a tiny in-memory store.Reader. Records are kept sorted by
// name. With gen set, WalkEvents also yields n generated events, made on the
// fly so that the fake itself does not hold them (for memory checks).
type fakeStore struct {
	events  []*annalsv1.Event
	actors  []*annalsv1.Actor
	places  []*annalsv1.Place
	sources []*annalsv1.Source
	stats   store.Stats

	gen    func(i int) *annalsv1.Event
	n      int
	onWalk func(i int) // called before each generated event
}

var errNotImplemented = errors.New("not implemented by the fake")

func newFake(b store.Batch, lastModified int64) *fakeStore {
	byName := func(a, b interface{ GetName() string }) int { return cmp.Compare(a.GetName(), b.GetName()) }
	f := &fakeStore{
		events:  slices.Clone(b.Events),
		actors:  slices.Clone(b.Actors),
		places:  slices.Clone(b.Places),
		sources: slices.Clone(b.Sources),
	}
	slices.SortFunc(f.events, func(a, b *annalsv1.Event) int { return byName(a, b) })
	slices.SortFunc(f.actors, func(a, b *annalsv1.Actor) int { return byName(a, b) })
	slices.SortFunc(f.places, func(a, b *annalsv1.Place) int { return byName(a, b) })
	slices.SortFunc(f.sources, func(a, b *annalsv1.Source) int { return byName(a, b) })
	f.stats = store.Stats{
		Events: int64(len(f.events)), Actors: int64(len(f.actors)),
		Places: int64(len(f.places)), Sources: int64(len(f.sources)),
		LastModified: lastModified,
	}
	return f
}

func get[T interface{ GetName() string }](items []T, name string) (T, error) {
	for _, it := range items {
		if it.GetName() == name {
			return it, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("fake: %s: %w", name, store.ErrNotFound)
}

func (f *fakeStore) GetEvent(_ context.Context, name string) (*annalsv1.Event, error) {
	return get(f.events, name)
}
func (f *fakeStore) GetActor(_ context.Context, name string) (*annalsv1.Actor, error) {
	return get(f.actors, name)
}
func (f *fakeStore) GetPlace(_ context.Context, name string) (*annalsv1.Place, error) {
	return get(f.places, name)
}
func (f *fakeStore) GetSource(_ context.Context, name string) (*annalsv1.Source, error) {
	return get(f.sources, name)
}

// ListEvents filters by actor (a participant) and place only, in name
// order, in one page.
func (f *fakeStore) ListEvents(_ context.Context, flt store.EventFilter, _ store.Page) (store.Result[*annalsv1.Event], error) {
	if flt.Month != 0 || flt.HasFrom || flt.HasTo || flt.Query != "" || flt.WikidataID != "" {
		return store.Result[*annalsv1.Event]{}, errNotImplemented
	}
	var out []*annalsv1.Event
	for _, e := range f.events {
		if flt.Actor != "" && !slices.ContainsFunc(e.GetParticipants(), func(p *annalsv1.Participant) bool { return p.GetActor() == flt.Actor }) {
			continue
		}
		if flt.Place != "" && !slices.Contains(e.GetPlaces(), flt.Place) {
			continue
		}
		out = append(out, e)
	}
	return store.Result[*annalsv1.Event]{Items: out}, nil
}
func (f *fakeStore) ListActors(context.Context, store.ActorFilter, store.Page) (store.Result[*annalsv1.Actor], error) {
	return store.Result[*annalsv1.Actor]{}, errNotImplemented
}
func (f *fakeStore) ListPlaces(context.Context, store.PlaceFilter, store.Page) (store.Result[*annalsv1.Place], error) {
	return store.Result[*annalsv1.Place]{}, errNotImplemented
}
func (f *fakeStore) MatchNames(context.Context, resource.Kind, string) ([]string, error) {
	return nil, errNotImplemented
}

func walk[T any](ctx context.Context, items []T, fn func(T) error) error {
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeStore) WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error {
	if err := walk(ctx, f.events, fn); err != nil {
		return err
	}
	for i := 0; i < f.n; i++ {
		if f.onWalk != nil {
			f.onWalk(i)
		}
		if err := fn(f.gen(i)); err != nil {
			return err
		}
	}
	return nil
}
func (f *fakeStore) WalkActors(ctx context.Context, fn func(*annalsv1.Actor) error) error {
	return walk(ctx, f.actors, fn)
}
func (f *fakeStore) WalkPlaces(ctx context.Context, fn func(*annalsv1.Place) error) error {
	return walk(ctx, f.places, fn)
}
func (f *fakeStore) WalkSources(ctx context.Context, fn func(*annalsv1.Source) error) error {
	return walk(ctx, f.sources, fn)
}

// Changes and LastSeq: the exporter does not read the change log.
func (f *fakeStore) Changes(context.Context, int64, int) ([]store.LogEntry, error) { return nil, nil }
func (f *fakeStore) LastSeq(context.Context) (int64, error)                        { return 0, nil }

func (f *fakeStore) Stats(context.Context) (store.Stats, error) {
	st := f.stats
	st.Events += int64(f.n)
	return st, nil
}

var _ store.Reader = (*fakeStore)(nil)
