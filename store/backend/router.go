package backend

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// Router is a store whose reads go to a replica (a streaming standby) and
// whose writes go to the primary. A read the replica cannot answer now
// (store.ErrUnavailable) is answered by the primary; so is a record or a
// meta value the replica does not have yet (store.ErrNotFound): a client
// that has just created a record reads it back even before the standby has
// replayed it. Other reads may lag the primary by the standby's replay lag.
// Update's reads (tx) always see the primary.
type Router struct {
	primary, replica store.Store
	log              *slog.Logger
	fellBack         atomic.Bool // logged once per stretch of failures
}

var (
	_ store.Store      = (*Router)(nil)
	_ store.Encoded    = (*Router)(nil)
	_ store.Checker    = (*Router)(nil)
	_ store.Bulk       = (*Router)(nil)
	_ store.MetaLister = (*Router)(nil)
)

// NewRouter routes reads to replica and writes to primary; Close closes both.
func NewRouter(primary, replica store.Store, log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{primary: primary, replica: replica, log: log}
}

// read runs f on the replica and, when it is unavailable (or, with
// notFound, lacks the record), on the primary.
func read[T any](ctx context.Context, r *Router, notFound bool, f func(store.Store) (T, error)) (T, error) {
	v, err := f(r.replica)
	switch {
	case err == nil:
		r.fellBack.Store(false)
		return v, nil
	case ctx.Err() != nil:
		return v, err
	case errors.Is(err, store.ErrUnavailable):
		if !r.fellBack.Swap(true) {
			r.log.Warn("replica unavailable; reading from the primary", "error", err.Error())
		}
		return f(r.primary)
	case notFound && errors.Is(err, store.ErrNotFound):
		return f(r.primary)
	}
	return v, err
}

// walk is read for a walk: the primary takes over only when fn has not
// been called yet, so that no record is given twice.
func walk[T any](ctx context.Context, r *Router, fn func(T) error, w func(store.Store, func(T) error) error) error {
	called := false
	err := w(r.replica, func(m T) error { called = true; return fn(m) })
	if err != nil && !called && ctx.Err() == nil && errors.Is(err, store.ErrUnavailable) {
		return w(r.primary, fn)
	}
	return err
}

func (r *Router) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	return read(ctx, r, true, func(s store.Store) (*annalsv1.Event, error) { return s.GetEvent(ctx, name) })
}

func (r *Router) GetActor(ctx context.Context, name string) (*annalsv1.Actor, error) {
	return read(ctx, r, true, func(s store.Store) (*annalsv1.Actor, error) { return s.GetActor(ctx, name) })
}

func (r *Router) GetPlace(ctx context.Context, name string) (*annalsv1.Place, error) {
	return read(ctx, r, true, func(s store.Store) (*annalsv1.Place, error) { return s.GetPlace(ctx, name) })
}

func (r *Router) GetSource(ctx context.Context, name string) (*annalsv1.Source, error) {
	return read(ctx, r, true, func(s store.Store) (*annalsv1.Source, error) { return s.GetSource(ctx, name) })
}

func (r *Router) MatchNames(ctx context.Context, k resource.Kind, key string) ([]string, error) {
	return read(ctx, r, false, func(s store.Store) ([]string, error) { return s.MatchNames(ctx, k, key) })
}

func (r *Router) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	return read(ctx, r, false, func(s store.Store) (store.Result[*annalsv1.Event], error) { return s.ListEvents(ctx, f, p) })
}

func (r *Router) ListActors(ctx context.Context, f store.ActorFilter, p store.Page) (store.Result[*annalsv1.Actor], error) {
	return read(ctx, r, false, func(s store.Store) (store.Result[*annalsv1.Actor], error) { return s.ListActors(ctx, f, p) })
}

func (r *Router) ListPlaces(ctx context.Context, f store.PlaceFilter, p store.Page) (store.Result[*annalsv1.Place], error) {
	return read(ctx, r, false, func(s store.Store) (store.Result[*annalsv1.Place], error) { return s.ListPlaces(ctx, f, p) })
}

func (r *Router) WalkEvents(ctx context.Context, fn func(*annalsv1.Event) error) error {
	return walk(ctx, r, fn, func(s store.Store, fn func(*annalsv1.Event) error) error { return s.WalkEvents(ctx, fn) })
}

func (r *Router) WalkActors(ctx context.Context, fn func(*annalsv1.Actor) error) error {
	return walk(ctx, r, fn, func(s store.Store, fn func(*annalsv1.Actor) error) error { return s.WalkActors(ctx, fn) })
}

func (r *Router) WalkPlaces(ctx context.Context, fn func(*annalsv1.Place) error) error {
	return walk(ctx, r, fn, func(s store.Store, fn func(*annalsv1.Place) error) error { return s.WalkPlaces(ctx, fn) })
}

func (r *Router) WalkSources(ctx context.Context, fn func(*annalsv1.Source) error) error {
	return walk(ctx, r, fn, func(s store.Store, fn func(*annalsv1.Source) error) error { return s.WalkSources(ctx, fn) })
}

func (r *Router) Stats(ctx context.Context) (store.Stats, error) {
	return read(ctx, r, false, func(s store.Store) (store.Stats, error) { return s.Stats(ctx) })
}

func (r *Router) Changes(ctx context.Context, after int64, limit int) ([]store.LogEntry, error) {
	return read(ctx, r, false, func(s store.Store) ([]store.LogEntry, error) { return s.Changes(ctx, after, limit) })
}

func (r *Router) LastSeq(ctx context.Context) (int64, error) {
	return read(ctx, r, false, func(s store.Store) (int64, error) { return s.LastSeq(ctx) })
}

func (r *Router) Meta(ctx context.Context, key string) (string, error) {
	return read(ctx, r, true, func(s store.Store) (string, error) { return s.Meta(ctx, key) })
}

// MetaKeys lists the primary's meta keys.
func (r *Router) MetaKeys(ctx context.Context) ([]string, error) {
	ml, ok := r.primary.(store.MetaLister)
	if !ok {
		return nil, errors.New("the primary cannot list its meta keys")
	}
	return ml.MetaKeys(ctx)
}

func (r *Router) GetEventEncoded(ctx context.Context, name string) ([]byte, error) {
	return read(ctx, r, true, func(s store.Store) ([]byte, error) { return s.(store.Encoded).GetEventEncoded(ctx, name) })
}

func (r *Router) ListEventsEncoded(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[[]byte], error) {
	return read(ctx, r, false, func(s store.Store) (store.Result[[]byte], error) {
		return s.(store.Encoded).ListEventsEncoded(ctx, f, p)
	})
}

// Update writes through the primary.
func (r *Router) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	return r.primary.Update(ctx, fn)
}

// Put writes through the primary.
func (r *Router) Put(ctx context.Context, b *store.Batch) ([]store.Change, error) {
	return r.primary.Put(ctx, b)
}

// SetMeta writes through the primary.
func (r *Router) SetMeta(ctx context.Context, key, value string) error {
	return r.primary.SetMeta(ctx, key, value)
}

// BeginBulk prepares the primary for a bulk load.
func (r *Router) BeginBulk(ctx context.Context) (func(context.Context) error, error) {
	b, ok := r.primary.(store.Bulk)
	if !ok {
		return func(context.Context) error { return nil }, nil
	}
	return b.BeginBulk(ctx)
}

// Check reports whether reads can be served: by the replica or, failing
// it, by the primary.
func (r *Router) Check(ctx context.Context) error {
	rerr := check(ctx, r.replica)
	if rerr == nil {
		return nil
	}
	if perr := check(ctx, r.primary); perr != nil {
		return errors.Join(rerr, perr)
	}
	return nil
}

func check(ctx context.Context, s store.Store) error {
	if c, ok := s.(store.Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// Close closes both stores.
func (r *Router) Close() error {
	return errors.Join(r.replica.Close(), r.primary.Close())
}
