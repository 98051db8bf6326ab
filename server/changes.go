package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// The change feed's limits and timings.
const (
	// MaxWatchBatch is the most changes one WatchChanges message carries
	// (also the store's largest page of the change log).
	MaxWatchBatch = 1000
	// ChangePollInterval is how often the change feed looks at the newest
	// sequence number of the log, to find writes made by other processes
	// (annals ingest, other replicas); writes made through this server wake
	// watchers at once.
	ChangePollInterval = 200 * time.Millisecond
)

// errShuttingDown ends WatchChanges streams when the server stops (mapped by toStatus).
var errShuttingDown = errors.New("the server is shutting down; resume with after_sequence set to the sequence of the last change received")

// changeService implements annals.v1.ChangeService over the store's change log.
type changeService struct {
	annalsv1.UnimplementedChangeServiceServer

	store    store.Reader
	log      *slog.Logger
	signal   *changeSignal
	draining <-chan struct{}
	poll     time.Duration
	stall    time.Duration
}

// RegisterChangeService adds ChangeService to s. Watchers wake at once on
// writes made through s (ImportDocument) and find others by polling the
// store every ChangePollInterval; they end when s shuts down.
func RegisterChangeService(s *Server, st store.Reader) {
	registerChangeService(s, st, ChangePollInterval, s.stall)
}

func registerChangeService(s *Server, st store.Reader, poll, stall time.Duration) *changeService {
	c := &changeService{
		store:    st,
		log:      s.log,
		signal:   s.changes,
		draining: s.draining,
		poll:     poll,
		stall:    stall,
	}
	annalsv1.RegisterChangeServiceServer(s, c)
	return c
}

// ListChanges returns one page of the change log.
func (c *changeService) ListChanges(ctx context.Context, req *annalsv1.ListChangesRequest) (*annalsv1.ListChangesResponse, error) {
	var ch checker
	limit := ch.pageSize(req.GetPageSize())
	after, last, err := c.checkAfter(ctx, &ch, req.GetAfterSequence())
	if err != nil {
		return nil, err
	}
	page, err := c.store.Changes(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	resp := &annalsv1.ListChangesResponse{Changes: recordChanges(page), NextSequence: after, LastSequence: last}
	if n := len(page); n > 0 {
		resp.NextSequence = page[n-1].Seq
		resp.LastSequence = max(last, page[n-1].Seq)
	}
	return resp, nil
}

// checkAfter checks after_sequence (with the other fields already in ch)
// against the log: it may not be negative nor past the newest entry, which
// would be a client of another archive, or of this one before a restore
// from backup, waiting for numbers already given to other changes. It
// returns after and the log's newest sequence number.
func (c *changeService) checkAfter(ctx context.Context, ch *checker, after int64) (int64, int64, error) {
	if after < 0 {
		ch.add("after_sequence", "after_sequence %d is negative; use 0 to start at the beginning of the change log", after)
	}
	if err := ch.err(); err != nil {
		return 0, 0, err
	}
	last, err := c.store.LastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	if after > last {
		ch.add("after_sequence", "after_sequence %d is past the newest change, %d: it was not given by this archive (or the archive was restored from an older backup); start again from 0", after, last)
		return 0, 0, ch.err()
	}
	return after, last, nil
}

// WatchChanges replays the change log after after_sequence, marks the end
// of the replay with a message without changes, then follows new changes
// until the client goes, the server shuts down (Unavailable) or the client
// stalls (DeadlineExceeded, CLIENT_STALLED).
func (c *changeService) WatchChanges(req *annalsv1.WatchChangesRequest, stream grpc.ServerStreamingServer[annalsv1.WatchChangesResponse]) error {
	ctx := stream.Context()
	var ch checker
	after, _, err := c.checkAfter(ctx, &ch, req.GetAfterSequence())
	if err != nil {
		return err
	}
	send := newGuardedSender(ctx, stream, c.stall, c.draining)
	defer send.close()
	stop := c.signal.follow(c.store, c.poll)
	defer stop()
	replayed := false
	for {
		// Take the wake-up channel before reading, so that a write committed
		// after the read wakes the next wait.
		wake := c.signal.wait()
		page, err := c.store.Changes(ctx, after, MaxWatchBatch)
		if err != nil {
			return err
		}
		if len(page) > 0 || !replayed {
			last, err := c.store.LastSeq(ctx)
			if err != nil {
				return err
			}
			msg := &annalsv1.WatchChangesResponse{Changes: recordChanges(page), LastSequence: last}
			if n := len(page); n > 0 {
				after = page[n-1].Seq
				msg.LastSequence = max(last, after)
			} else {
				replayed = true // the one empty message: the replay is over
			}
			if err := send.send(msg); err != nil {
				return err
			}
			if len(page) > 0 {
				continue // there may be more already
			}
		}
		select {
		case <-wake:
		case <-c.draining:
			return errShuttingDown
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// recordChanges converts change-log entries to their messages.
func recordChanges(es []store.LogEntry) []*annalsv1.RecordChange {
	out := make([]*annalsv1.RecordChange, len(es))
	for i, e := range es {
		out[i] = &annalsv1.RecordChange{
			Sequence:   e.Seq,
			Name:       e.Name,
			Kind:       e.Kind,
			ChangeTime: timestamppb.New(time.Unix(0, e.Time)),
			Etag:       e.Etag,
		}
	}
	return out
}

// changeSignal wakes the watchers of the change log: notify closes the
// channel wait returned, and a poller started by follow notifies when the
// log's newest sequence number moves (a write by another process).
type changeSignal struct {
	mu       sync.Mutex
	ch       chan struct{}
	watchers int
	stopPoll chan struct{}
	log      *slog.Logger
}

func newChangeSignal(log *slog.Logger) *changeSignal {
	return &changeSignal{ch: make(chan struct{}), log: log}
}

// wait returns a channel that is closed at the next notify.
func (s *changeSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// notify wakes every waiter.
func (s *changeSignal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// follow registers a watcher; while there is one, a single goroutine polls
// st.LastSeq every interval and notifies when it moves. The returned
// function unregisters the watcher.
func (s *changeSignal) follow(st store.Reader, interval time.Duration) (stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers++
	if s.watchers == 1 {
		s.stopPoll = make(chan struct{})
		go s.poll(st, interval, s.stopPoll)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.watchers--
			if s.watchers == 0 {
				close(s.stopPoll)
			}
		})
	}
}

func (s *changeSignal) poll(st store.Reader, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	var last int64 = -1
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		seq, err := st.LastSeq(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("change feed: reading the newest sequence number", "error", err.Error())
			}
			continue
		}
		// The first reading notifies too: a write may have landed between a
		// watcher's read and this poller's start.
		if seq != last {
			s.notify()
			last = seq
		}
	}
}

// guardedSender sends a stream's messages from a goroutine of its own, so
// that the handler can give up on a client that takes nothing: when a
// message waits for longer than the stall timeout, send returns errStalled
// and the handler returns, which ends the stream and with it the blocked
// send.
type guardedSender[T any] struct {
	ctx      context.Context
	msgs     chan *T
	errs     chan error
	stall    time.Duration
	draining <-chan struct{}
}

// newGuardedSender starts the sending goroutine of stream. A send waiting
// for the client also gives up when draining is closed (errShuttingDown).
func newGuardedSender[T any](ctx context.Context, stream grpc.ServerStreamingServer[T], stall time.Duration, draining <-chan struct{}) *guardedSender[T] {
	g := &guardedSender[T]{ctx: ctx, msgs: make(chan *T), errs: make(chan error, 1), stall: stall, draining: draining}
	go func() {
		for m := range g.msgs {
			g.errs <- stream.Send(m)
		}
	}()
	return g
}

// send sends m, waiting at most the stall timeout for the client to take it.
func (g *guardedSender[T]) send(m *T) error {
	t := time.NewTimer(g.stall)
	defer t.Stop()
	select {
	case g.msgs <- m:
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
	select {
	case err := <-g.errs:
		return err
	case <-t.C:
		return errStalled
	case <-g.draining:
		return errShuttingDown
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
}

// close ends the sending goroutine (once its send, if any, returns).
func (g *guardedSender[T]) close() { close(g.msgs) }
