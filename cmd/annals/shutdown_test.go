package main

// Graceful shutdown of the real binary over real sockets: on SIGTERM or
// SIGINT health stops saying SERVING, new work is refused, and an
// ExportDataset stream and an HTTP dump download that were running finish
// with every byte before the process exits with status 0.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// bigArchiveEvents and bigArchiveTextBytes size the archive of the shutdown
// test: its N-Triples dump is some tens of MiB, far more than the socket
// buffers and flow-control windows between server and client can hold, so a
// client that stops reading after the first bytes holds the export open.
const (
	bigArchiveEvents    = 2500
	bigArchiveTextBytes = 8 << 10
)

// fillArchive writes n generated events, each with its source document (of
// about textBytes bytes), two participants and a place, into a new database
// at db, a few hundred per transaction.
func fillArchive(t *testing.T, db string, n, textBytes int) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const actors, places, perBatch = 200, 50, 500
	line := "The clerk of the harbour wrote down every ship that came in, its cargo, its crew and its master.\n"
	text := strings.Repeat(line, max(1, textBytes/len(line)))
	b := &store.Batch{}
	for i := range actors {
		b.Actors = append(b.Actors, &annalsv1.Actor{
			Name:   fmt.Sprintf("actors/shipmaster-%03d", i),
			Kind:   annalsv1.ActorKind_ACTOR_KIND_PERSON,
			Labels: []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Shipmaster %d", i)}},
		})
	}
	for i := range places {
		b.Places = append(b.Places, &annalsv1.Place{
			Name:   fmt.Sprintf("places/quay-%02d", i),
			Labels: []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Quay %d", i)}},
		})
	}
	for i := range n {
		event := fmt.Sprintf("events/arrival-%05d", i)
		body := fmt.Sprintf("Arrival %d\n%s", i, text)
		sum := sha256.Sum256([]byte(body))
		source := "sources/" + hex.EncodeToString(sum[:8])
		b.Sources = append(b.Sources, &annalsv1.Source{
			Name:     source,
			Title:    fmt.Sprintf("Arrival %d", i),
			Filename: fmt.Sprintf("arrival-%05d.txt", i),
			Text:     body,
			Sha256:   hex.EncodeToString(sum[:]),
			Event:    event,
		})
		b.Events = append(b.Events, &annalsv1.Event{
			Name:    event,
			Labels:  []*annalsv1.Label{{Language: "en", Value: fmt.Sprintf("Arrival %d", i)}},
			Summary: fmt.Sprintf("Ship number %d arrives at the harbour.", i),
			Date: &annalsv1.HistoricalDate{
				Year: int32(1700 + i%300), Month: int32(1 + i%12), Day: int32(1 + i%28),
				Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY,
				Calendar:  annalsv1.Calendar_CALENDAR_GREGORIAN,
			},
			Places: []string{fmt.Sprintf("places/quay-%02d", i%places)},
			Participants: []*annalsv1.Participant{
				{Actor: fmt.Sprintf("actors/shipmaster-%03d", i%actors), Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_COMMANDER},
				{Actor: fmt.Sprintf("actors/shipmaster-%03d", (i+1)%actors), Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			},
			Sources: []string{source},
		})
		if len(b.Events) == perBatch || i == n-1 {
			if _, err := st.Put(ctx, b); err != nil {
				t.Fatalf("fill archive: %v", err)
			}
			b = &store.Batch{}
		}
	}
}

// TestServeGracefulShutdown starts the real binary on an archive whose dump
// takes a while to send, opens a health Watch, starts an ExportDataset
// stream and an HTTP /dataset.nt download, reads their first bytes and
// pauses them, sends the signal, and checks that: new connections and new
// RPCs are refused (and health, while it still answers, says NOT_SERVING);
// the watcher hears NOT_SERVING and its stream ends; the paused stream and
// download then complete with every byte of the dump; and the process exits
// by itself with status 0, without cutting anything at the grace deadline.
func TestServeGracefulShutdown(t *testing.T) {
	skipUnlessLong(t)
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	db := filepath.Join(t.TempDir(), "annals.db")
	fillArchive(t, db, bigArchiveEvents, bigArchiveTextBytes)
	// The dump to compare with; export loads the bundled dataset first, as serve does.
	want := []byte(mustRun(t, 0, "export", "--db", db, "--format", "ntriples", "--log-level", "warn").stdout)
	wantSum := sha256.Sum256(want)
	t.Logf("dump: %d bytes", len(want))

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			// The grace period is a generous upper bound: the test checks
			// that nothing was cut, not how fast shutdown is.
			const grace = 2 * time.Minute
			d := startServe(t, db, "ANNALS_SHUTDOWN_GRACE="+grace.String())
			// Small fixed flow-control windows (no BDP growth), so that the
			// paused stream holds the server's export, not a client buffer.
			conn, err := grpc.NewClient(d.grpcAddr,
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			waitServing(t, conn)
			ctx, cancel := context.WithTimeout(context.Background(), grace+time.Minute)
			defer cancel()

			// A health watcher, as clients with client-side health checking
			// keep: it must hear NOT_SERVING and not hold the shutdown up.
			watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatalf("health Watch: %v", err)
			}
			if r, err := watch.Recv(); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health Watch first = %v, %v; want SERVING", r.GetStatus(), err)
			}

			// The export stream, read up to its first chunk.
			stream, err := annalsv1.NewExportServiceClient(conn).ExportDataset(ctx,
				&annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES})
			if err != nil {
				t.Fatalf("ExportDataset: %v", err)
			}
			first, err := stream.Recv()
			if err != nil {
				t.Fatalf("ExportDataset first chunk: %v", err)
			}
			var grpcGot bytes.Buffer
			grpcGot.Write(first.GetData())

			// The download, read up to its first 64 KiB.
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.httpAddr+"/dataset.nt", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET /dataset.nt: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /dataset.nt: %s", resp.Status)
			}
			var httpGot bytes.Buffer
			if _, err := io.CopyN(&httpGot, resp.Body, 64<<10); err != nil {
				t.Fatalf("GET /dataset.nt first bytes: %v", err)
			}
			t.Logf("before %v: %d bytes of the stream and %d of the download read", sig, grpcGot.Len(), httpGot.Len())

			if err := d.cmd.Process.Signal(sig); err != nil {
				t.Fatalf("%v: %v", sig, err)
			}

			// New work is refused: a new connection's health check fails or
			// says NOT_SERVING, an RPC on the open connection fails with
			// Unavailable, a new HTTP connection is refused.
			checkRefused(t, d, conn)

			// The watcher hears NOT_SERVING, then its stream ends.
			var heard []string
			for {
				r, err := watch.Recv()
				if err != nil {
					t.Logf("health Watch after %v: %v, then %v", sig, heard, err)
					break
				}
				heard = append(heard, r.GetStatus().String())
			}
			if len(heard) == 0 || heard[len(heard)-1] != healthpb.HealthCheckResponse_NOT_SERVING.String() {
				t.Errorf("health Watch after %v heard %v; want NOT_SERVING last", sig, heard)
			}

			// The paused stream and download finish with every byte.
			for {
				msg, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("ExportDataset after %v, at byte %d: %v", sig, grpcGot.Len(), err)
				}
				grpcGot.Write(msg.GetData())
			}
			if _, err := io.Copy(&httpGot, resp.Body); err != nil {
				t.Fatalf("GET /dataset.nt after %v, at byte %d: %v", sig, httpGot.Len(), err)
			}
			for name, got := range map[string][]byte{"ExportDataset": grpcGot.Bytes(), "/dataset.nt": httpGot.Bytes()} {
				if sha256.Sum256(got) != wantSum {
					t.Errorf("%s after %v: %d bytes, differing from the %d-byte dump", name, sig, len(got), len(want))
				}
			}

			// The process exits by itself, with status 0, having cut nothing.
			code := waitExit(t, d, grace+time.Minute)
			if code != 0 {
				t.Errorf("exit status after %v = %d, want 0", sig, code)
			}
			logs := d.Logs()
			if strings.Contains(logs, "cut in-flight") || !strings.Contains(logs, `"msg":"stopped"`) {
				t.Errorf("shutdown after %v did not drain cleanly:\n%s", sig, logs)
			}
		})
	}
}

// checkRefused waits until the server refuses new work after the signal:
// the health service says NOT_SERVING or cannot be reached on a new
// connection, an RPC on conn fails with Unavailable, and a new HTTP
// connection is refused. Each is polled, as the signal takes effect
// asynchronously; the bound is only there to stop a hang.
func checkRefused(t *testing.T, d *daemon, conn *grpc.ClientConn) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	poll := func(what string, refused func() (bool, string)) {
		t.Helper()
		for {
			ok, last := refused()
			if ok {
				t.Logf("%s: %s", what, last)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still accepted a minute after the signal (last: %s)", what, last)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	rpcCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	poll("health on a new connection", func() (bool, string) {
		c, err := grpc.NewClient(d.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := rpcCtx()
		defer cancel()
		resp, err := healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{})
		switch {
		case err != nil:
			return status.Code(err) == codes.Unavailable, err.Error()
		default:
			return resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING, resp.GetStatus().String()
		}
	})
	poll("GetEvent on the open connection", func() (bool, string) {
		ctx, cancel := rpcCtx()
		defer cancel()
		_, err := annalsv1.NewArchiveServiceClient(conn).GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/arrival-00001"})
		if err == nil {
			return false, "ok"
		}
		return status.Code(err) == codes.Unavailable, err.Error()
	})
	poll("HTTP on a new connection", func() (bool, string) {
		c, err := net.DialTimeout("tcp", d.httpAddr, 10*time.Second)
		if err != nil {
			return true, err.Error()
		}
		c.Close()
		return false, "connected"
	})
}

// waitExit waits, at most limit, for the daemon to exit by itself and
// returns its exit status.
func waitExit(t *testing.T, d *daemon, limit time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(limit):
		t.Fatalf("annals serve did not exit within %s of the signal:\n%s", limit, d.Logs())
	}
	err := d.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}
