package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store/postgres"
	"github.com/annals-project/annals/store/postgres/pgtest"
	"github.com/annals-project/annals/store/storetest"
)

// seedDoc is a small seed-format document whose title, and so event, is
// "Harbour Charter N".
func seedDoc(n int) string {
	return fmt.Sprintf("June %d, 1802\n\nThe towns of Alder and Bexley opened harbour %d.\n\n"+
		"Port Alder, Westmark | Town Council of Alder, Town Council of Bexley\n\nHarbour Charter %d\n\n"+
		"Background\n\nFor a generation the two towns had argued over fishing rights.\n\n"+
		"Key Figures\n\n  • Mara Quill: The harbour master of Alder, who signed the charter.\n", 1+n%28, n, n)
}

func eventOf(n int) string { return fmt.Sprintf("events/harbour-charter-%d", n) }

// serveOn starts annals serve on a PostgreSQL database and waits until it serves.
func serveOn(t *testing.T, args ...string) (*daemon, annalsv1.ArchiveServiceClient) {
	t.Helper()
	d := startServeArgs(t, args, "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	return d, annalsv1.NewArchiveServiceClient(conn)
}

func importDoc(ctx context.Context, c annalsv1.ArchiveServiceClient, n int) (*annalsv1.ImportDocumentResponse, error) {
	return c.ImportDocument(bearer(ctx, e2eToken), &annalsv1.ImportDocumentRequest{Text: seedDoc(n), Filename: fmt.Sprintf("doc-%d.txt", n)})
}

// TestPostgresReplicas runs three annals serve processes on one PostgreSQL
// database: a document imported through one is returned by the others on
// their next call; the same document imported through two at the same
// moment gives one record set and two OK answers (one creating, one
// unchanged); PostgreSQL restarted under load gives only Unavailable
// errors, every server recovers by itself, and every acknowledged import
// is stored whole.
func TestPostgresReplicas(t *testing.T) {
	skipUnlessLong(t)
	cluster := pgtest.NewCluster(t)
	ctx := t.Context()
	dsn := cluster.DSN("postgres")
	// The password is accepted by trust authentication, and must never be logged.
	const secret = "s3cret-pass"
	withPass := strings.Replace(dsn, "postgres@", "postgres:"+secret+"@", 1)
	var ds []*daemon
	var cs []annalsv1.ArchiveServiceClient
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 3 { // started at once: one migrates, the others wait
		wg.Go(func() {
			d, c := serveOn(t, "--db", withPass, "--db-max-conns", "4")
			mu.Lock()
			ds, cs = append(ds, d), append(cs, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	a, b, c := cs[0], cs[1], cs[2]

	t.Run("imported through one, read through the others", func(t *testing.T) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := importDoc(rctx, a, 1); err != nil {
			t.Fatalf("ImportDocument through A: %v", err)
		}
		for i, cl := range []annalsv1.ArchiveServiceClient{b, c} {
			got, err := cl.GetEvent(rctx, &annalsv1.GetEventRequest{Name: eventOf(1)})
			if err != nil || got.GetEvent().GetName() != eventOf(1) {
				t.Errorf("GetEvent through replica %d right after the import: %v, %v", i+1, got, err)
			}
			if names := listEventNames(t, rctx, cl, &annalsv1.ListEventsRequest{Query: "harbour charter 1"}); !slices.Contains(names, eventOf(1)) {
				t.Errorf("ListEvents(query) through replica %d = %v", i+1, names)
			}
		}
	})

	t.Run("the same document through two at once", func(t *testing.T) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for round := range 5 {
			n := 100 + round
			var resps [2]*annalsv1.ImportDocumentResponse
			var errs [2]error
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, cl := range []annalsv1.ArchiveServiceClient{a, b} {
				wg.Go(func() {
					<-start
					resps[i], errs[i] = importDoc(rctx, cl, n)
				})
			}
			close(start)
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: concurrent imports: %v, %v", round, errs[0], errs[1])
			}
			kinds := func(r *annalsv1.ImportDocumentResponse) (created, unchanged int) {
				for _, ch := range r.GetChanges() {
					switch ch.GetKind() {
					case annalsv1.ChangeKind_CHANGE_KIND_CREATED:
						created++
					case annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED:
						unchanged++
					}
				}
				return
			}
			c0, u0 := kinds(resps[0])
			c1, u1 := kinds(resps[1])
			if !(c0 > 0 && u0 == 0 && c1 == 0 && u1 == len(resps[1].GetChanges()) ||
				c1 > 0 && u1 == 0 && c0 == 0 && u0 == len(resps[0].GetChanges())) {
				t.Errorf("round %d: answers %v and %v; want one that created and one where everything was unchanged", round, resps[0].GetChanges(), resps[1].GetChanges())
			}
			if resps[0].GetEvent() != resps[1].GetEvent() || resps[0].GetSource() != resps[1].GetSource() {
				t.Errorf("round %d: the two answers name %s/%s and %s/%s", round, resps[0].GetEvent(), resps[0].GetSource(), resps[1].GetEvent(), resps[1].GetSource())
			}
		}
		st, err := postgres.Open(rctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		storetest.CheckChangeLog(t, st)
		for round := range 5 {
			got, err := st.GetEvent(rctx, eventOf(100+round))
			if err != nil || len(got.GetSources()) != 1 {
				t.Errorf("%s = %v, %v; want one event with one source", eventOf(100+round), got, err)
			}
		}
	})

	t.Run("PostgreSQL restarted under load", func(t *testing.T) {
		lctx, stopLoad := context.WithCancel(ctx)
		var (
			calls, fails atomic.Int64
			badMu        sync.Mutex
			bad          []string
			ackMu        sync.Mutex
			acked        []int
			next         atomic.Int64
		)
		next.Store(1000)
		note := func(err error) {
			calls.Add(1)
			if err == nil {
				return
			}
			if lctx.Err() != nil {
				return
			}
			fails.Add(1)
			if status.Code(err) != codes.Unavailable {
				badMu.Lock()
				bad = append(bad, err.Error())
				badMu.Unlock()
			}
		}
		var load sync.WaitGroup
		for i, cl := range cs {
			for w := range 3 {
				load.Go(func() {
					for lctx.Err() == nil {
						rctx, cancel := context.WithTimeout(lctx, 20*time.Second)
						switch (w + i) % 3 {
						case 0:
							_, err := cl.GetEvent(rctx, &annalsv1.GetEventRequest{Name: eventOf(1)})
							note(err)
						case 1:
							_, err := cl.ListEvents(rctx, &annalsv1.ListEventsRequest{Query: "harbour", PageSize: 5})
							note(err)
						default:
							n := int(next.Add(1))
							_, err := importDoc(rctx, cl, n)
							note(err)
							if err == nil {
								ackMu.Lock()
								acked = append(acked, n)
								ackMu.Unlock()
							}
						}
						cancel()
						time.Sleep(5 * time.Millisecond)
					}
				})
			}
		}
		time.Sleep(time.Second)
		if err := cluster.Restart(ctx, "fast"); err != nil {
			stopLoad()
			load.Wait()
			t.Fatalf("restart PostgreSQL: %v", err)
		}
		// Every server serves again, without a restart of its own.
		for i, cl := range cs {
			deadline := time.Now().Add(30 * time.Second)
			for {
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := cl.GetEvent(rctx, &annalsv1.GetEventRequest{Name: eventOf(1)})
				var ierr error
				if err == nil {
					_, ierr = importDoc(rctx, cl, int(next.Add(1)))
				}
				cancel()
				if err == nil && ierr == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("server %d did not recover after PostgreSQL restarted: %v / %v", i+1, err, ierr)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		time.Sleep(500 * time.Millisecond)
		stopLoad()
		load.Wait()
		t.Logf("%d calls under load, %d failed (all must be Unavailable)", calls.Load(), fails.Load())
		if len(bad) > 0 {
			t.Errorf("%d calls failed with another code than Unavailable, e.g. %q", len(bad), bad[:min(3, len(bad))])
		}
		if len(acked) == 0 {
			t.Fatal("no import succeeded under load")
		}
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, n := range acked {
			ev, err := st.GetEvent(ctx, eventOf(n))
			if err != nil || len(ev.GetSources()) != 1 {
				t.Errorf("acknowledged import %d: %v, %v; want its event with its source", n, ev, err)
				continue
			}
			if _, err := st.GetSource(ctx, ev.GetSources()[0]); err != nil {
				t.Errorf("acknowledged import %d: its source %s: %v", n, ev.GetSources()[0], err)
			}
		}
		storetest.CheckChangeLog(t, st)
	})

	for i, d := range ds {
		if strings.Contains(d.Logs(), secret) {
			t.Errorf("server %d logged the database password", i+1)
		}
	}
}

// TestPostgresStandby runs a server whose reads go to a streaming standby
// (--db-replica): it serves a record imported on the primary, keeps
// serving reads while the primary is stopped (imports fail Unavailable),
// and imports again once the primary is back.
func TestPostgresStandby(t *testing.T) {
	skipUnlessLong(t)
	ctx := t.Context()
	primary := pgtest.NewCluster(t)
	// The schema first, so that the standby's copy has it.
	st, err := postgres.Open(ctx, primary.DSN("postgres"), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	standby, err := primary.Standby(ctx)
	if err != nil {
		t.Fatalf("start a standby: %v", err)
	}
	d, cl := serveOn(t, "--db", primary.DSN("postgres"), "--db-replica", standby.DSN("postgres"))
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := importDoc(rctx, cl, 7); err != nil {
		t.Fatalf("ImportDocument: %v", err)
	}
	if err := primary.WaitReplay(rctx, standby); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		got, err := cl.GetEvent(rctx, &annalsv1.GetEventRequest{Name: eventOf(7)})
		if err != nil || got.GetEvent().GetName() != eventOf(7) {
			t.Fatalf("%s: GetEvent = %v, %v", when, got, err)
		}
		if names := listEventNames(t, rctx, cl, &annalsv1.ListEventsRequest{Query: "harbour"}); !slices.Contains(names, eventOf(7)) {
			t.Errorf("%s: ListEvents(harbour) = %v", when, names)
		}
	}
	check("primary up")
	if err := primary.Stop(rctx, "fast"); err != nil {
		t.Fatalf("stop the primary: %v", err)
	}
	for range 3 {
		check("primary stopped")
	}
	if _, err := importDoc(rctx, cl, 8); status.Code(err) != codes.Unavailable {
		t.Errorf("ImportDocument with the primary stopped = %v; want Unavailable", err)
	}
	if err := primary.Start(rctx); err != nil {
		t.Fatalf("start the primary again: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := importDoc(rctx, cl, 8)
		if err == nil {
			break
		}
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			t.Fatalf("ImportDocument after the primary came back: %v\n%s", err, d.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := primary.WaitReplay(rctx, standby); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetEvent(rctx, &annalsv1.GetEventRequest{Name: eventOf(8)}); err != nil {
		t.Errorf("GetEvent of the import after the primary came back: %v", err)
	}
}
