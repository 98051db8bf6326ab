package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/server"
)

// The limits of issue 14 (README, Limits), each shown with the real binary.

// storeOps reads, from the server's /metrics, how many store calls of the
// operation ended ok.
func storeOps(t *testing.T, d *daemon, op string) int {
	t.Helper()
	_, body := httpGet(t, "http://"+d.httpAddr+"/metrics")
	re := regexp.MustCompile(`annals_store_operation_duration_seconds_count\{operation="` + op + `",outcome="ok"\} (\d+)`)
	m := re.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// genArchive makes a synthetic archive of n events with annals gen.
func genArchive(t *testing.T, n int) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "gen.db")
	mustRun(t, 0, "gen", "--events", strconv.Itoa(n), "--db", db, "--log-level", "warn")
	return db
}

// TestDescriptionUnderLoad: 80 clients asking for the dataset description
// of a 20 000-event archive at once all get it, from one pass over the
// archive; a conditional request with the current tag is answered 304
// without one.
func TestDescriptionUnderLoad(t *testing.T) {
	skipUnlessLong(t)
	d := startServe(t, genArchive(t, 20000))
	waitServing(t, dial(t, d.grpcAddr))
	before := storeOps(t, d, "WalkEvents")
	var wg sync.WaitGroup
	codes := make(chan int, 80)
	client := &http.Client{Timeout: 2 * time.Minute}
	for range 80 {
		wg.Go(func() {
			resp, err := client.Get("http://" + d.httpAddr + "/.well-known/void")
			if err != nil {
				t.Errorf("GET /.well-known/void: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a description request under load got %d", c)
		}
	}
	walks := storeOps(t, d, "WalkEvents") - before
	if walks > 1 {
		t.Errorf("80 description requests walked the archive's events %d times; want once", walks)
	}
	resp, _ := httpGet(t, "http://"+d.httpAddr+"/.well-known/void")
	tag := resp.Header.Get("ETag")
	before = storeOps(t, d, "WalkEvents")
	resp, _ = httpGet(t, "http://"+d.httpAddr+"/.well-known/void", "If-None-Match", tag)
	if resp.StatusCode != http.StatusNotModified || storeOps(t, d, "WalkEvents") != before {
		t.Errorf("a conditional request with the current tag: %d; want 304 without a walk", resp.StatusCode)
	}
}

// TestExportStallEndToEnd: an ExportDataset client that stops reading is
// cut after --stream-stall-timeout, and its export slot is free again.
func TestExportStallEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	d := startServeArgs(t, []string{"--db", genArchive(t, 3000), "--stream-stall-timeout", "1s"})
	conn, err := grpc.NewClient(d.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing(t, conn)
	client := annalsv1.NewExportServiceClient(conn)
	// Four exports (the cap) whose clients read one message and stop.
	var streams []annalsv1.ExportService_ExportDatasetClient
	for range server.DefaultMaxConcurrentExports {
		s, err := client.ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	// Within a few seconds the slots are free: a fifth export that reads
	// gets the whole dump.
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		s, err := client.ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{})
		if err == nil {
			for err == nil {
				_, err = s.Recv()
			}
		}
		if last = err; err == io.EOF {
			break
		}
	}
	if last != io.EOF {
		t.Fatalf("no export slot came free after the stalled clients were cut: %v", last)
	}
	for _, s := range streams {
		var err error
		for err == nil {
			_, err = s.Recv()
		}
		wantStatus(t, err, codes.DeadlineExceeded, server.ReasonStalled)
	}
}

// vmHWM is a process's peak resident memory (VmHWM), in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestListBytesBoundEndToEnd: 150 concurrent ListEvents of 1000 events each
// against a server with a small list budget: every call ends OK or
// ResourceExhausted (TOO_MANY_LIST_BYTES), never anything else, and the
// server's peak memory stays far below what the same load takes unbounded.
func TestListBytesBoundEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	db := genArchive(t, 3000)
	peak := map[string]int64{}
	for _, bound := range []string{"-1", "8388608"} {
		d := startServeArgs(t, []string{"--db", db, "--max-list-bytes", bound})
		conn := dial(t, d.grpcAddr)
		waitServing(t, conn)
		client := annalsv1.NewArchiveServiceClient(conn)
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[codes.Code]int{}
		for range 150 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				_, err := client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1000}, grpc.MaxCallRecvMsgSize(64<<20))
				mu.Lock()
				got[status.Code(err)]++
				mu.Unlock()
				if c := status.Code(err); c != codes.OK {
					wantStatus(t, err, codes.ResourceExhausted, server.ReasonTooManyLists)
				}
			})
		}
		wg.Wait()
		peak[bound] = vmHWM(t, d.cmd.Process.Pid)
		t.Logf("--max-list-bytes %s: %v, peak RSS %d MiB", bound, got, peak[bound]>>20)
		if code := d.stop(t); code != 0 {
			t.Errorf("annals serve exited %d", code)
		}
	}
	if peak["8388608"] >= peak["-1"]*3/4 {
		t.Errorf("with an 8 MiB list budget the server peaked at %d MiB; unbounded, %d MiB: the bound does not bound", peak["8388608"]>>20, peak["-1"]>>20)
	}
}

// TestDatasetTagNamesTheBuild: two builds of Annals that are told apart
// (server.BuildVersion) give the same dump different entity tags, so a
// client holding the old bytes is never told they are current.
func TestDatasetTagNamesTheBuild(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	other := filepath.Join(t.TempDir(), "annals-other")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/annals-project/annals/server.BuildVersion=v-other", "-o", other, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, bin := range []string{"", other} {
		var d *daemon
		if bin == "" {
			d = startServe(t, db)
		} else {
			cmd := exec.Command(bin, "serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
			d = startCmd(t, cmd)
		}
		waitServing(t, dial(t, d.grpcAddr))
		resp, _ := httpGet(t, "http://"+d.httpAddr+"/dataset.nt")
		tags[bin] = resp.Header.Get("ETag")
		resp, _ = httpGet(t, "http://"+d.httpAddr+"/dataset.nt", "If-None-Match", tags[""])
		if bin == other && resp.StatusCode == http.StatusNotModified {
			t.Error("another build answered 304 to the first build's tag")
		}
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		<-d.done
		_ = d.cmd.Wait()
	}
	if tags[""] == "" || tags[""] == tags[other] {
		t.Errorf("the two builds tag the same dump %q and %q; want two tags", tags[""], tags[other])
	}
}

// TestBidiFilenameEndToEnd: a filename with a bidirectional override is
// refused (InvalidArgument on filename) by the real server.
func TestBidiFilenameEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	_, err := annalsv1.NewArchiveServiceClient(conn).ImportDocument(bearer(t.Context(), e2eToken),
		&annalsv1.ImportDocumentRequest{Filename: "invoice\u202Etxt.exe", Text: "June 2, 1802\n\nA harbour.\n"})
	s := wantStatus(t, err, codes.InvalidArgument, server.ReasonInvalidArgument)
	if !strings.Contains(s.Message(), "filename") {
		t.Errorf("message %q does not name the filename", s.Message())
	}
}
