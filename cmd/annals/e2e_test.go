package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// buildBinary builds cmd/annals once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "annals-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "annals")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	return bin, cmd.Run()
})

// daemon is a running `annals serve` process.
type daemon struct {
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	logs     *strings.Builder
	mu       sync.Mutex
	done     chan struct{}
}

// startServe runs the real binary on free loopback ports and waits until it
// has logged its listen addresses.
func startServe(t *testing.T, db string, extraEnv ...string) *daemon {
	t.Helper()
	return startServeArgs(t, []string{"--db", db}, extraEnv...)
}

// startServeArgs is startServe with flags of the caller's own, after the
// free loopback addresses (a later flag wins).
func startServeArgs(t *testing.T, args []string, extraEnv ...string) *daemon {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("build annals: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), extraEnv...)
	return startCmd(t, cmd)
}

// startCmd starts cmd, an `annals serve` command line, and waits until it
// has logged its listen addresses.
func startCmd(t *testing.T, cmd *exec.Cmd) *daemon {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start annals serve: %v", err)
	}
	d := &daemon{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
	addrs := make(chan [2]string, 4)
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.logs.WriteString(line + "\n")
			d.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Addr != "" {
				switch rec.Msg {
				case "grpc listening":
					addrs <- [2]string{"grpc", rec.Addr}
				case "http listening":
					addrs <- [2]string{"http", rec.Addr}
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			_ = d.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("annals serve logs:\n%s", d.Logs())
		}
	})
	deadline := time.After(60 * time.Second)
	// serve logs the HTTP address (when it has one) before the gRPC one.
	for d.grpcAddr == "" {
		select {
		case a := <-addrs:
			if a[0] == "grpc" {
				d.grpcAddr = a[1]
			} else {
				d.httpAddr = a[1]
			}
		case <-d.done:
			t.Fatalf("annals serve exited early:\n%s", d.Logs())
		case <-deadline:
			t.Fatalf("annals serve did not report its addresses:\n%s", d.Logs())
		}
	}
	return d
}

// Logs returns what the daemon has logged so far.
func (d *daemon) Logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// stop sends SIGTERM and waits for the process; it returns the exit code.
func (d *daemon) stop(t *testing.T) int {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	<-d.done
	err := d.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}

// waitServing polls the health service until it says SERVING.
func waitServing(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	hc := healthpb.NewHealthClient(conn)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if i > 600 {
			t.Fatalf("health never became SERVING (last: %v, %v)", resp.GetStatus(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestServeEndToEnd starts the real binary on a free port, checks health and
// GetEvent over a real socket, restarts it on the same file (nothing
// duplicated or lost) and stops it with SIGTERM (exit status 0).
func TestServeEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	db := filepath.Join(t.TempDir(), "annals.db")
	var firstCount int
	for round := 1; round <= 2; round++ {
		d := startServe(t, db)
		conn := dial(t, d.grpcAddr)
		waitServing(t, conn)
		client := annalsv1.NewArchiveServiceClient(conn)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/soviet-japanese-neutrality-pact"})
		if err != nil {
			cancel()
			t.Fatalf("round %d: GetEvent: %v", round, err)
		}
		ev := resp.GetEvent()
		if d := ev.GetDate(); d.GetYear() != 1941 || d.GetMonth() != 4 || d.GetDay() != 13 || d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_DAY {
			t.Errorf("round %d: pact date = %v, want 1941-04-13 at day precision", round, d)
		}
		count := 0
		token := ""
		for {
			page, err := client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 2, PageToken: token})
			if err != nil {
				cancel()
				t.Fatalf("round %d: ListEvents: %v", round, err)
			}
			count += len(page.GetEvents())
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		cancel()
		if round == 1 {
			firstCount = count
			if count < 7 {
				t.Errorf("bundled archive has %d events, want at least 7", count)
			}
		} else if count != firstCount {
			t.Errorf("after restart the archive has %d events, before %d", count, firstCount)
		}
		conn.Close()
		if code := d.stop(t); code != 0 {
			t.Errorf("round %d: exit status after SIGTERM = %d, want 0\n%s", round, code, d.Logs())
		}
	}
}
