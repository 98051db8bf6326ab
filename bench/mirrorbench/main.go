// Command mirrorbench measures the SPARQL mirror against a real Virtuoso
// (issue 10) and prints a Markdown section for BENCHMARKS.md:
//
//   - initial load: `annals mirror --once` of an archive into an empty
//     Virtuoso (triples/s, one Graph Store PUT per record), next to
//     Virtuoso's own bulk loader (isql-vt: ld_dir + rdf_loader_run +
//     checkpoint) loading that archive's N-Triples dump into another empty
//     Virtuoso, on the same machine in the same run;
//
//   - steady-state lag: `annals serve` and a following `annals mirror`;
//     ImportDocument at a fixed rate (default 20/s) for a while, and for
//     each import the time from its answer until its event is in SPARQL
//     (p50, p95, max).
//
//     go run ./bench/mirrorbench --annals bin/annals --db big.db --docs docs/ [--rate 20] [--duration 30s]
//
// --db is an archive to load (annals gen --events N --db); --docs holds
// seed-format documents to import (annals gen --events M --out), which must
// be new to it. Everything runs on loopback; the archive is copied first.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/mirror/virtuosotest"
)

func main() {
	annals := flag.String("annals", "bin/annals", "the annals binary")
	db := flag.String("db", "", "archive to load (copied first)")
	docs := flag.String("docs", "", "directory of seed-format documents to import during the lag run")
	rate := flag.Float64("rate", 20, "imports per second during the lag run")
	duration := flag.Duration("duration", 30*time.Second, "length of the lag run")
	skipBulk := flag.Bool("skip-bulk-loader", false, "do not measure Virtuoso's bulk loader")
	flag.Parse()
	if *db == "" || *docs == "" {
		fmt.Fprintln(os.Stderr, "usage: mirrorbench --annals BIN --db ARCHIVE --docs DIR [--rate 20] [--duration 30s]")
		os.Exit(2)
	}
	if err := run(*annals, *db, *docs, *rate, *duration, *skipBulk); err != nil {
		fmt.Fprintln(os.Stderr, "mirrorbench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[mirrorbench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(annals, srcDB, docsDir string, rate float64, duration time.Duration, skipBulk bool) error {
	tmp, err := os.MkdirTemp("", "mirrorbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db := filepath.Join(tmp, "annals.db")
	if err := copyFile(srcDB, db); err != nil {
		return err
	}
	ctx := context.Background()
	env := append(os.Environ(), "ANNALS_MIRROR_USER="+virtuosotest.User, "ANNALS_MIRROR_PASSWORD="+virtuosotest.Password)

	// Initial load through the mirror.
	vt, err := startVirtuoso(filepath.Join(tmp, "v1"))
	if err != nil {
		return err
	}
	defer vt.Kill()
	logf("initial load: annals mirror --once into %s", vt.URL())
	start := time.Now()
	cmd := exec.Command(annals, "mirror", "--once", "--db", db, "--graph-store", vt.GraphStoreURL(), "--log-level", "warn")
	cmd.Env, cmd.Stderr = env, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("annals mirror --once: %w", err)
	}
	mirrorTime := time.Since(start)
	triples, err := count(ctx, vt, "http://localhost:8080/")
	if err != nil {
		return err
	}
	logf("initial load: %d triples in %v", triples, mirrorTime)

	// Virtuoso's bulk loader on the same archive's dump.
	var bulkTime time.Duration
	var bulkTriples int
	if !skipBulk {
		vb, err := startVirtuoso(filepath.Join(tmp, "v2"))
		if err != nil {
			return err
		}
		dump := filepath.Join(vb.Dir, "dump.nt")
		cmd := exec.Command(annals, "export", "--db", db, "--format", "ntriples", "--output", dump, "--log-level", "warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			vb.Kill()
			return fmt.Errorf("annals export: %w", err)
		}
		logf("bulk loader: isql-vt ld_dir + rdf_loader_run + checkpoint")
		start := time.Now()
		isql := exec.Command("isql-vt", vb.SQLAddr, virtuosotest.User, virtuosotest.Password,
			fmt.Sprintf("exec=ld_dir('%s', 'dump.nt', 'http://localhost:8080/bulk'); rdf_loader_run(); checkpoint;", vb.Dir))
		out, err := isql.CombinedOutput()
		bulkTime = time.Since(start)
		if err != nil {
			vb.Kill()
			return fmt.Errorf("isql-vt: %v\n%s", err, out)
		}
		bulkTriples, err = count(ctx, vb, "http://localhost:8080/bulk")
		vb.Kill()
		if err != nil {
			return err
		}
		logf("bulk loader: %d triples in %v", bulkTriples, bulkTime)
	}

	// Steady state: imports at a fixed rate while the mirror follows.
	lags, err := lagRun(ctx, annals, db, docsDir, vt, env, rate, duration)
	if err != nil {
		return err
	}
	report(triples, mirrorTime, bulkTriples, bulkTime, lags, rate, duration)
	return nil
}

func startVirtuoso(dir string) (*virtuosotest.Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	vt, err := virtuosotest.New(dir)
	if err != nil {
		return nil, err
	}
	return vt, vt.Start()
}

func count(ctx context.Context, vt *virtuosotest.Server, prefix string) (int, error) {
	res, err := vt.Query(ctx, fmt.Sprintf(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "%s") && !CONTAINS(STR(?g), "/.well-known/")) }`, prefix))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(res.Rows[0]["n"].Value)
}

// lagRun starts annals serve and a following annals mirror, imports the
// documents at rate for duration, and returns each import's lag: from the
// import's answer until its event's graph answers in SPARQL.
func lagRun(ctx context.Context, annals, db, docsDir string, vt *virtuosotest.Server, env []string, rate float64, duration time.Duration) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(docsDir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no documents in %s", docsDir)
	}
	slices.Sort(files)
	const token = "mirrorbench-token"
	serve := exec.Command(annals, "serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "", "--log-level", "info")
	serve.Env = append(slices.Clone(env), "ANNALS_IMPORT_TOKEN="+token)
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		return nil, err
	}
	defer func() { serve.Process.Kill(); serve.Wait() }()
	addr, err := grpcAddr(stderr)
	if err != nil {
		return nil, err
	}
	mir := exec.Command(annals, "mirror", "--db", db, "--graph-store", vt.GraphStoreURL(), "--log-level", "warn")
	mir.Env, mir.Stderr = env, os.Stderr
	if err := mir.Start(); err != nil {
		return nil, err
	}
	defer func() { mir.Process.Kill(); mir.Wait() }()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := annalsv1.NewArchiveServiceClient(conn)
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	time.Sleep(2 * time.Second) // the mirror resumes

	logf("lag: %.0f imports/s for %v", rate, duration)
	// One watcher asks, every 50 ms, which of the imported events' graphs
	// answer yet, in one query: polling per import would load Virtuoso with
	// the measurement itself.
	var mu sync.Mutex
	pending := map[string]time.Time{} // graph -> when its import answered
	var lags []time.Duration
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			mu.Lock()
			var graphs []string
			for g := range pending {
				graphs = append(graphs, "<"+g+">")
			}
			mu.Unlock()
			if len(graphs) == 0 {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					continue
				}
			}
			res, err := vt.Query(ctx, fmt.Sprintf("SELECT DISTINCT ?g WHERE { VALUES ?g { %s } GRAPH ?g { ?s ?p ?o } }", strings.Join(graphs, " ")))
			now := time.Now()
			if err == nil {
				mu.Lock()
				for _, row := range res.Rows {
					if t, ok := pending[row["g"].Value]; ok {
						lags = append(lags, now.Sub(t))
						delete(pending, row["g"].Value)
					}
				}
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end) && i < len(files); i++ {
		<-tick.C
		text, err := os.ReadFile(files[i])
		if err != nil {
			return nil, err
		}
		resp, err := client.ImportDocument(actx, &annalsv1.ImportDocumentRequest{Text: string(text), Filename: filepath.Base(files[i])})
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", files[i], err)
		}
		mu.Lock()
		pending["http://localhost:8080/"+resp.GetEvent()] = time.Now()
		mu.Unlock()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(pending)
		mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	<-watched
	if len(pending) > 0 {
		logf("lag: %d events not in SPARQL two minutes after the last import", len(pending))
	}
	return lags, nil
}

// grpcAddr reads annals serve's JSON logs until it reports its gRPC address.
func grpcAddr(r io.Reader) (string, error) {
	dec := json.NewDecoder(r)
	for {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if err := dec.Decode(&rec); err != nil {
			return "", fmt.Errorf("annals serve: %w", err)
		}
		if rec.Msg == "grpc listening" {
			go io.Copy(io.Discard, r)
			return rec.Addr, nil
		}
	}
}

func report(triples int, mirrorTime time.Duration, bulkTriples int, bulkTime time.Duration, lags []time.Duration, rate float64, duration time.Duration) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### SPARQL mirror (issue 10)\n\n")
	fmt.Fprintf(&b, "| measurement | result | baseline (same run) |\n|---|---|---|\n")
	bulk := "not measured"
	if bulkTime > 0 {
		bulk = fmt.Sprintf("Virtuoso's bulk loader (ld_dir + rdf_loader_run + checkpoint) on the same archive's dump: %d triples in %.1f s, **%.0f triples/s**",
			bulkTriples, bulkTime.Seconds(), float64(bulkTriples)/bulkTime.Seconds())
	}
	fmt.Fprintf(&b, "| initial load, `annals mirror --once` (a Graph Store PUT per record, 4 at once) | %d triples in %.1f s, **%.0f triples/s** | %s |\n",
		triples, mirrorTime.Seconds(), float64(triples)/mirrorTime.Seconds(), bulk)
	if len(lags) > 0 {
		slices.Sort(lags)
		q := func(p float64) time.Duration { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
		fmt.Fprintf(&b, "| steady-state lag at %.0f imports/s for %v (ImportDocument's answer -> the event's graph answers in SPARQL, asked every 50 ms) | p50 %v, p95 %v, max %v over %d imports | the 2 s target |\n",
			rate, duration, q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond), len(lags))
	}
	fmt.Fprintf(&b, "\nMeasured %s on %s (2 cores shared); Virtuoso 7.2.5 (Debian) with NumberOfBuffers 20000.\n", time.Now().UTC().Format("2006-01-02"), hostname())
	os.Stdout.Write(b.Bytes())
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func copyFile(src, dst string) error {
	for _, suffix := range []string{"", "-wal"} {
		in, err := os.Open(src + suffix)
		if err != nil {
			if suffix != "" && os.IsNotExist(err) {
				continue
			}
			return err
		}
		out, err := os.Create(dst + suffix)
		if err != nil {
			in.Close()
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
