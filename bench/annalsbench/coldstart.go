package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// coldStartRun is one start of `annals serve`.
type coldStartRun struct {
	ListenMS  float64 `json:"listen_ms"`  // exec to the "grpc listening" log line
	ServingMS float64 `json:"serving_ms"` // exec to the first health check answering SERVING
}

// coldStartResult is what coldstart writes.
type coldStartResult struct {
	DB              string         `json:"db"`
	DBBytes         int64          `json:"db_bytes"`
	Runs            []coldStartRun `json:"runs"`
	MedianServingMS float64        `json:"median_serving_ms"`
	MedianListenMS  float64        `json:"median_listen_ms"`
}

// coldstart starts `annals serve` on a database runs times and measures how
// long each takes, from exec, to answer SERVING on the standard health
// service; it polls every millisecond. Each server is stopped with SIGTERM
// before the next starts. The page cache is not dropped (that needs root):
// the file is as warm as the previous step left it, so the figure is the
// cost of the process and of what it reads, not of the disk.
func coldstart(ctx context.Context, args []string) error {
	fs := newFlags("coldstart")
	bin := fs.String("annals", "", "annals binary")
	db := fs.String("db", "", "database")
	runs := fs.Int("runs", 3, "starts")
	out := fs.String("out", "", "JSON result file")
	timeout := fs.Duration("timeout", 60*time.Second, "give up on a start after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "annals", "db", "out"); err != nil {
		return err
	}
	res := coldStartResult{DB: *db}
	if fi, err := os.Stat(*db); err == nil {
		res.DBBytes = fi.Size()
	}
	for i := range *runs {
		r, err := coldStartOnce(ctx, *bin, *db, *timeout)
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
		fmt.Fprintf(os.Stderr, "coldstart: %s: listening after %.1f ms, SERVING after %.1f ms\n", *db, r.ListenMS, r.ServingMS)
		res.Runs = append(res.Runs, r)
	}
	res.MedianServingMS = median(res.Runs, func(r coldStartRun) float64 { return r.ServingMS })
	res.MedianListenMS = median(res.Runs, func(r coldStartRun) float64 { return r.ListenMS })
	return writeJSON(*out, res)
}

func median[T any](xs []T, f func(T) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func coldStartOnce(ctx context.Context, bin, db string, timeout time.Duration) (coldStartRun, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(bin, "serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return coldStartRun{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return coldStartRun{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	type listening struct {
		addr string
		at   time.Time
	}
	lc := make(chan listening, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "grpc listening" && !sent {
				lc <- listening{line.Addr, time.Now()}
				sent = true
			}
		}
		if !sent {
			close(lc)
		}
	}()
	var l listening
	select {
	case v, ok := <-lc:
		if !ok {
			return coldStartRun{}, fmt.Errorf("annals serve exited before listening")
		}
		l = v
	case <-ctx.Done():
		return coldStartRun{}, fmt.Errorf("no \"grpc listening\" line: %w", ctx.Err())
	}
	conn, err := grpc.NewClient(l.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return coldStartRun{}, err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return coldStartRun{
				ListenMS:  ms(l.at.Sub(start)),
				ServingMS: ms(time.Since(start)),
			}, nil
		}
		if ctx.Err() != nil {
			return coldStartRun{}, fmt.Errorf("not SERVING: %w (last: %v %v)", ctx.Err(), resp.GetStatus(), err)
		}
		time.Sleep(time.Millisecond)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
