package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

// changeEnv is a server with ChangeService (and ArchiveService, for
// imports) over a SQLite file, and a second handle on that file that writes
// as another process would.
type changeEnv struct {
	srv     *Server
	changes annalsv1.ChangeServiceClient
	archive annalsv1.ArchiveServiceClient
	store   store.Store // the server's
	other   store.Store // another writer of the same file
}

func newChangeEnv(t *testing.T, poll, stall time.Duration) *changeEnv {
	t.Helper()
	file := filepath.Join(t.TempDir(), "annals.db")
	open := func() store.Store {
		st, err := sqlite.Open(t.Context(), file, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	e := &changeEnv{store: open()}
	e.other = open()
	srv, err := New(Config{Store: e.store, Import: ingest.Import, ImportToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	registerChangeService(srv, e.store, poll, stall)
	e.srv = srv
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	conn := dialBufconn(t, lis)
	t.Cleanup(srv.GRPC().Stop)
	e.changes = annalsv1.NewChangeServiceClient(conn)
	e.archive = annalsv1.NewArchiveServiceClient(conn)
	return e
}

// write puts n new events (named by prefix) through the other handle, one
// batch; every third write also deletes the first event of the previous one.
func (e *changeEnv) write(t *testing.T, prefix string, n int) {
	t.Helper()
	b := &store.Batch{}
	for i := range n {
		b.Events = append(b.Events, &annalsv1.Event{
			Name:   fmt.Sprintf("events/%s-%d", prefix, i),
			Labels: []*annalsv1.Label{{Language: "en", Value: prefix}},
			Date:   &annalsv1.HistoricalDate{Year: 1900, Month: 1, Day: 1, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY},
		})
	}
	if _, err := e.other.Put(t.Context(), b); err != nil {
		t.Error(err) // not Fatal: writers run in goroutines of their own
	}
}

// wholeLog reads the whole change log from the store.
func wholeLog(t *testing.T, st store.Reader) []store.LogEntry {
	t.Helper()
	var all []store.LogEntry
	for after := int64(0); ; {
		page, err := st.Changes(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

func TestListChanges(t *testing.T) {
	e := newChangeEnv(t, 20*time.Millisecond, time.Minute)
	ctx := t.Context()
	e.write(t, "a", 7)
	e.write(t, "b", 5)
	if _, err := e.other.Put(ctx, &store.Batch{Deletes: []string{"events/a-0"}}); err != nil {
		t.Fatal(err)
	}
	log := wholeLog(t, e.store)
	if len(log) != 13 {
		t.Fatalf("the log has %d entries, want 13", len(log))
	}
	last := log[len(log)-1].Seq

	t.Run("pages", func(t *testing.T) {
		var got []*annalsv1.RecordChange
		after := int64(0)
		for range 10 {
			resp, err := e.changes.ListChanges(ctx, &annalsv1.ListChangesRequest{AfterSequence: after, PageSize: 5})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetLastSequence() != last {
				t.Errorf("last_sequence = %d, want %d", resp.GetLastSequence(), last)
			}
			if len(resp.GetChanges()) == 0 {
				if resp.GetNextSequence() != after {
					t.Errorf("an empty page has next_sequence %d, want after_sequence %d", resp.GetNextSequence(), after)
				}
				break
			}
			got = append(got, resp.GetChanges()...)
			after = resp.GetNextSequence()
		}
		if len(got) != len(log) {
			t.Fatalf("paging gave %d changes, want %d", len(got), len(log))
		}
		for i, c := range got {
			w := log[i]
			if c.GetSequence() != w.Seq || c.GetName() != w.Name || c.GetKind() != w.Kind || c.GetEtag() != w.Etag || c.GetChangeTime().AsTime().UnixNano() != w.Time {
				t.Errorf("change %d = %v, want %+v", i, c, w)
			}
		}
		if k := got[len(got)-1]; k.GetKind() != annalsv1.ChangeKind_CHANGE_KIND_DELETED || k.GetEtag() != "" {
			t.Errorf("the last change = %v, want the deletion of events/a-0 without etag", k)
		}
	})

	tests := []struct {
		name string
		req  *annalsv1.ListChangesRequest
		want int // changes; -1: an error
		err  wantErr
	}{
		{name: "default page size", req: &annalsv1.ListChangesRequest{}, want: 13},
		{name: "from the middle", req: &annalsv1.ListChangesRequest{AfterSequence: log[9].Seq, PageSize: 100}, want: 3},
		{name: "at the end", req: &annalsv1.ListChangesRequest{AfterSequence: last}, want: 0},
		{name: "negative after", req: &annalsv1.ListChangesRequest{AfterSequence: -1}, want: -1,
			err: wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"after_sequence"}, msg: "negative"}},
		{name: "past the end", req: &annalsv1.ListChangesRequest{AfterSequence: last + 1}, want: -1,
			err: wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"after_sequence"}, msg: "past the newest change"}},
		{name: "negative page size", req: &annalsv1.ListChangesRequest{PageSize: -2, AfterSequence: -3}, want: -1,
			err: wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"page_size", "after_sequence"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.changes.ListChanges(ctx, tc.req)
			if tc.want < 0 {
				checkErr(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetChanges()) != tc.want {
				t.Errorf("%d changes, want %d", len(resp.GetChanges()), tc.want)
			}
		})
	}
}

// watcher reads a WatchChanges stream in a goroutine of its own.
type watcher struct {
	msgs chan *annalsv1.WatchChangesResponse
	err  chan error
}

func watch(ctx context.Context, t *testing.T, c annalsv1.ChangeServiceClient, after int64) *watcher {
	t.Helper()
	stream, err := c.WatchChanges(ctx, &annalsv1.WatchChangesRequest{AfterSequence: after})
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{msgs: make(chan *annalsv1.WatchChangesResponse, 100), err: make(chan error, 1)}
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				w.err <- err
				close(w.msgs)
				return
			}
			w.msgs <- m
		}
	}()
	return w
}

// next returns the next message, failing after timeout.
func (w *watcher) next(t *testing.T, timeout time.Duration) *annalsv1.WatchChangesResponse {
	t.Helper()
	select {
	case m, ok := <-w.msgs:
		if !ok {
			t.Fatalf("the stream ended: %v", <-w.err)
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no message within %v", timeout)
	}
	return nil
}

func TestWatchChangesReplayThenFollow(t *testing.T) {
	e := newChangeEnv(t, 50*time.Millisecond, time.Minute)
	ctx := t.Context()
	e.write(t, "a", 3)
	w := watch(ctx, t, e.changes, 0)
	m := w.next(t, 5*time.Second)
	if len(m.GetChanges()) != 3 || m.GetLastSequence() != m.GetChanges()[2].GetSequence() {
		t.Fatalf("first message = %v; want the 3 changes of the log", m)
	}
	if m := w.next(t, 5*time.Second); len(m.GetChanges()) != 0 || m.GetLastSequence() != 3 {
		t.Fatalf("second message = %v; want the empty end-of-replay message", m)
	}

	t.Run("a write by another process", func(t *testing.T) {
		e.write(t, "b", 2)
		m := w.next(t, 5*time.Second)
		if len(m.GetChanges()) != 2 || m.GetChanges()[0].GetName() != "events/b-0" {
			t.Errorf("after a write elsewhere: %v", m)
		}
	})
	t.Run("an import through this server wakes at once", func(t *testing.T) {
		// Polling so slowly that only the wake-up can be in time.
		e := newChangeEnv(t, time.Hour, time.Minute)
		w := watch(ctx, t, e.changes, 0)
		if m := w.next(t, 5*time.Second); len(m.GetChanges()) != 0 {
			t.Fatalf("replay of an empty log = %v", m)
		}
		start := time.Now()
		doc := "June 2, 1802\n\nA harbour.\n\nPort Alder, Westmark | Town Council of Alder\n\nAlder Harbour Charter\n"
		if _, err := e.archive.ImportDocument(withToken(ctx, testToken), &annalsv1.ImportDocumentRequest{Text: doc}); err != nil {
			t.Fatal(err)
		}
		m := w.next(t, 5*time.Second)
		if len(m.GetChanges()) == 0 {
			t.Fatalf("after an import: %v", m)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the import's changes came after %v", d)
		}
	})
	t.Run("resuming mid-log", func(t *testing.T) {
		log := wholeLog(t, e.store)
		w := watch(ctx, t, e.changes, log[1].Seq)
		m := w.next(t, 5*time.Second)
		if len(m.GetChanges()) != len(log)-2 || m.GetChanges()[0].GetSequence() != log[2].Seq {
			t.Errorf("resumed after %d: %v", log[1].Seq, m)
		}
	})
	t.Run("bad after_sequence", func(t *testing.T) {
		for _, after := range []int64{-1, 1 << 40} {
			stream, err := e.changes.WatchChanges(ctx, &annalsv1.WatchChangesRequest{AfterSequence: after})
			if err == nil {
				_, err = stream.Recv()
			}
			checkErr(t, err, wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"after_sequence"}})
		}
	})
}

// TestWatchChangesResume: a client that disconnects at random points and
// resumes from the last sequence it received sees every change exactly
// once, in order, including those written while it was away, while several
// writers (this server's store and another handle) keep writing.
func TestWatchChangesResume(t *testing.T) {
	e := newChangeEnv(t, 10*time.Millisecond, time.Minute)
	ctx := t.Context()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 10))
	const batches = 60
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range batches {
			e.write(t, fmt.Sprintf("w%02d", i), 1+i%7)
			if i%5 == 4 {
				if _, err := e.store.Put(ctx, &store.Batch{Deletes: []string{fmt.Sprintf("events/w%02d-0", i-2)}}); err != nil {
					t.Error(err)
				}
			}
			time.Sleep(time.Duration(i%4) * 3 * time.Millisecond)
		}
	})
	var got []*annalsv1.RecordChange
	after := int64(0)
	reconnects := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		if finished && after >= lastSeq(t, e.store) {
			break
		}
		// Each connection lives a random while, reads a random number of
		// messages (sometimes none, sometimes stopping mid-replay), and may
		// stay away a while before the next.
		cctx, cancel := context.WithTimeout(ctx, time.Duration(1+rng.IntN(300))*time.Millisecond)
		stream, err := e.changes.WatchChanges(cctx, &annalsv1.WatchChangesRequest{AfterSequence: after})
		if err != nil {
			t.Fatal(err)
		}
		reconnects++
		for n := rng.IntN(6); n > 0; n-- {
			m, err := stream.Recv()
			if c := status.Code(err); c == codes.DeadlineExceeded || c == codes.Canceled {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.GetChanges()...)
			if k := len(m.GetChanges()); k > 0 {
				if first := m.GetChanges()[0].GetSequence(); first <= after {
					t.Fatalf("a change with sequence %d came after %d", first, after)
				}
				after = m.GetChanges()[k-1].GetSequence()
			}
		}
		cancel()
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		if reconnects > 5000 {
			t.Fatal("too many reconnects")
		}
	}
	want := wholeLog(t, e.store)
	if len(got) != len(want) {
		t.Fatalf("after %d reconnects the watcher saw %d changes, the log has %d", reconnects, len(got), len(want))
	}
	for i := range want {
		if got[i].GetSequence() != want[i].Seq || got[i].GetName() != want[i].Name || got[i].GetKind() != want[i].Kind {
			t.Fatalf("change %d = %v, want %+v", i, got[i], want[i])
		}
	}
	t.Logf("%d changes over %d connections", len(got), reconnects)
}

func lastSeq(t *testing.T, st store.Reader) int64 {
	t.Helper()
	n, err := st.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWatchChangesShutdown: Shutdown ends watch streams at once with
// Unavailable, so that GracefulStop does not wait for the grace period.
func TestWatchChangesShutdown(t *testing.T) {
	e := newChangeEnv(t, 50*time.Millisecond, time.Minute)
	e.write(t, "a", 1)
	var ws []*watcher
	for range 3 {
		w := watch(t.Context(), t, e.changes, 0)
		w.next(t, 5*time.Second)
		w.next(t, 5*time.Second)
		ws = append(ws, w)
	}
	sctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.srv.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v (streams were cut, not ended)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	for _, w := range ws {
		for range w.msgs {
		}
		err := <-w.err
		checkErr(t, err, wantErr{code: codes.Unavailable, reason: ReasonShuttingDown, msg: "shutting down"})
	}
}

// TestWatchChangesStalledClient: a client that reads nothing is cut after
// the stall timeout with DeadlineExceeded (CLIENT_STALLED).
func TestWatchChangesStalledClient(t *testing.T) {
	e := newChangeEnv(t, 50*time.Millisecond, 300*time.Millisecond)
	for i := range 10 {
		e.write(t, fmt.Sprintf("bulk%d-with-a-rather-long-name-to-fill-the-flow-control-window-sooner", i), 1000)
	}
	ctx := t.Context()
	// A client connection whose windows stay small, so that the server's
	// sends block once it stops reading.
	lis := bufconn.Listen(1 << 20)
	srv, err := New(Config{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	registerChangeService(srv, e.store, 50*time.Millisecond, 300*time.Millisecond)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := annalsv1.NewChangeServiceClient(conn).WatchChanges(ctx, &annalsv1.WatchChangesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // read nothing
	var n int
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			t.Fatal("the stream ended with OK; want DeadlineExceeded")
		}
		if err != nil {
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("after %d messages: %v; want DeadlineExceeded", n, err)
			}
			checkErr(t, err, wantErr{code: codes.DeadlineExceeded, reason: ReasonStalled})
			break
		}
		n++
	}
	if n >= 11 {
		t.Errorf("the stalled client still got all %d messages", n)
	}
}
