package main

// End-to-end tests of `annals mirror` against a real Virtuoso: the first
// load equals the dump, imports and edits show within 2 s, deletions leave
// nothing behind, and SIGKILLs of the mirror and restarts of Virtuoso end
// with the store equal to a fresh load.

import (
	"github.com/annals-project/annals/store/postgres/pgtest"

	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/mirror"
	"github.com/annals-project/annals/mirror/virtuosotest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

// TestMain stops what the tests started and share: the PostgreSQL cluster
// and the Virtuoso server.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.CloseShared()
	virtuosotest.Cleanup()
	os.Exit(code)
}

// withMirrorCredentials sets the Virtuoso credentials the mirror reads.
func withMirrorCredentials(t *testing.T) {
	t.Setenv(envMirrorUser, virtuosotest.User)
	t.Setenv(envMirrorPassword, virtuosotest.Password)
}

// mirrorProc is a running `annals mirror` (following).
type mirrorProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// lockedBuffer is a bytes.Buffer that a process writes while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startMirror(t *testing.T, args ...string) *mirrorProc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &mirrorProc{cmd: exec.Command(bin, append([]string{"mirror"}, args...)...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// stop sends sig and returns the exit status (-1 when killed by a signal).
func (p *mirrorProc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("annals mirror did not stop on %v:\n%s", sig, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// dumpTriples downloads the N-Triples dump from the server and returns it
// and its number of triples.
func dumpTriples(t *testing.T, httpAddr string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/dataset.nt")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dataset.nt: %v %v", resp.Status, err)
	}
	return b, bytes.Count(b, []byte("\n"))
}

// storeCount counts the triples of the graphs under base, state graph aside.
func storeCount(t *testing.T, vt *virtuosotest.Server, base string) int {
	t.Helper()
	res, err := vt.Query(t.Context(), fmt.Sprintf(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "%s/") && ?g != <%s%s>) }`, base, base, mirror.StateGraphPath))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(res.Rows[0]["n"].Value)
	return n
}

// storeQuads returns the sorted quads under base (state graph aside) with
// base written as BASE.
func storeQuads(t *testing.T, vt *virtuosotest.Server, base string) []string {
	t.Helper()
	q, err := vt.Quads(t.Context(), base+"/", base+mirror.StateGraphPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range q {
		q[i] = strings.ReplaceAll(q[i], base, "BASE")
	}
	return q
}

// compareWithFreshLoad loads db under a new base with a new mirror and
// compares the store's graphs under base with it: the same quads, none
// twice, nothing missing.
func compareWithFreshLoad(t *testing.T, vt *virtuosotest.Server, db, base string) {
	t.Helper()
	fresh := fmt.Sprintf("http://fresh-%d.example", time.Now().UnixNano())
	mustRun(t, 0, "mirror", "--once", "--db", db, "--base", fresh, "--graph-store", vt.GraphStoreURL(), "--log-level", "warn")
	got, want := storeQuads(t, vt, base), storeQuads(t, vt, fresh)
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("the store has duplicate quads")
	}
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, l := range want {
			if _, ok := slices.BinarySearch(got, l); !ok {
				missing = append(missing, l)
			}
		}
		for _, l := range got {
			if _, ok := slices.BinarySearch(want, l); !ok {
				extra = append(extra, l)
			}
		}
		t.Errorf("the store (%d quads) differs from a fresh load (%d): missing %d, stale %d\nmissing: %.2000s\nstale: %.2000s",
			len(got), len(want), len(missing), len(extra), strings.Join(missing, "\n"), strings.Join(extra, "\n"))
	}
	if n := storeCount(t, vt, base); n != len(want) {
		t.Errorf("COUNT(*) of the store = %d, a fresh load has %d distinct quads", n, len(want))
	}
}

// heldOut are the pact's held-out questions: date, place, signatories,
// participants (Wikidata links), labels in en/ru/ja, and its roles (whose
// expectations are the exporter fixture's: compared with the dump only).
var heldOut = []string{"pact-point-in-time", "pact-location", "pact-signatory", "pact-participants", "pact-labels", "pact-roles"}

// TestMirrorE2E: annals serve and annals mirror against Virtuoso. The first
// load holds as many triples as the dump's void:triples and answers the
// pact's questions as the dump does; while the mirror follows, an import
// and an edit are in SPARQL within 2 s of the import's answer, and a
// deleted record or a replaced description leaves no stale triple; after
// SIGTERM the store equals a fresh load.
func TestMirrorE2E(t *testing.T) {
	skipUnlessLong(t)
	vt := virtuosotest.Start(t)
	withMirrorCredentials(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")
	const token = e2eToken
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+token)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	base := "http://localhost:8080" // the default: the held-out answers name its IRIs

	start := time.Now()
	r := mustRun(t, 0, "mirror", "--once", "--db", db, "--graph-store", vt.GraphStoreURL())
	t.Logf("first load in %v: %s", time.Since(start), strings.TrimSpace(r.stdout))
	dump, n := dumpTriples(t, d.httpAddr)
	if got := storeCount(t, vt, base); got != n {
		t.Errorf("the store holds %d triples, the dump's void:triples is %d", got, n)
	}
	if !bytes.Contains(dump, []byte(fmt.Sprintf(`<http://rdfs.org/ns/void#triples> "%d"^^`, n))) {
		t.Errorf("the dump's void:triples is not its %d lines", n)
	}

	t.Run("held-out questions", func(t *testing.T) {
		var queries []string
		for _, q := range heldOut {
			queries = append(queries, filepath.Join("..", "..", "exporter", "testdata", "queries", q+".rq"))
		}
		fromDump := dumpAnswers(t, dump, queries)
		for i, q := range queries {
			text, err := os.ReadFile(q)
			if err != nil {
				t.Fatal(err)
			}
			res, err := vt.Query(t.Context(), string(text))
			if err != nil {
				t.Fatalf("%s: %v", heldOut[i], err)
			}
			got := res.Lines()
			slices.Sort(got)
			want := expectLines(t, q)
			slices.Sort(want)
			if heldOut[i] != "pact-roles" && !slices.Equal(got, want) { // pact-roles' expectations are the fixture's
				t.Errorf("%s: the store answers\n%s\nthe query expects\n%s", heldOut[i], strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if fromDump != nil {
				d := fromDump[i]
				slices.Sort(d)
				if !slices.Equal(got, d) {
					t.Errorf("%s: the store answers\n%s\nthe dump (Oxigraph)\n%s", heldOut[i], strings.Join(got, "\n"), strings.Join(d, "\n"))
				}
			}
		}
	})

	t.Run("follows imports, edits and deletions within 2 s", func(t *testing.T) {
		p := startMirror(t, "--db", db, "--graph-store", vt.GraphStoreURL(), "--poll-interval", "100ms")
		waitFor(t, 30*time.Second, "the mirror to resume", func() bool { return strings.Contains(p.stderr.String(), "resuming") })
		client := annalsv1.NewArchiveServiceClient(conn)
		ctx := bearer(t.Context(), token)
		doc := "June 2, 1802\n\nThe towns of Alder and Bexley opened a shared harbour.\n\nPort Alder, Westmark | Town Council of Alder, Town Council of Bexley\n\nAlder–Bexley Harbour Charter\n\nBackground\n\nFor a generation the two towns had argued over fishing rights.\n"
		visible := func(what, query string) time.Duration {
			t.Helper()
			start := time.Now()
			waitFor(t, 2*time.Second, what, func() bool {
				res, err := vt.Query(t.Context(), query)
				return err == nil && len(res.Rows) > 0
			})
			return time.Since(start)
		}
		summary := func(text string) string {
			return fmt.Sprintf(`SELECT ?e WHERE { GRAPH <%s/events/alder-bexley-harbour-charter> { ?e <http://schema.org/description> "%s"@en } }`, base, text)
		}
		if _, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: doc, Filename: "harbour.txt"}); err != nil {
			t.Fatal(err)
		}
		t.Logf("new event in SPARQL %v after the import's answer", visible("the new event", summary("The towns of Alder and Bexley opened a shared harbour.")))

		edited := strings.Replace(doc, "opened a shared harbour.", "opened a shared harbour and a lighthouse.", 1)
		if _, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: edited, Filename: "harbour.txt"}); err != nil {
			t.Fatal(err)
		}
		t.Logf("edit in SPARQL %v after the import's answer", visible("the edit", summary("The towns of Alder and Bexley opened a shared harbour and a lighthouse.")))
		if res, err := vt.Query(t.Context(), summary("The towns of Alder and Bexley opened a shared harbour.")); err != nil || len(res.Rows) > 0 {
			t.Errorf("the replaced summary is still in the store: %v %v", res, err)
		}

		// A deletion, by another process writing the same database.
		st, err := sqlite.Open(t.Context(), db, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(t.Context(), &store.Batch{Deletes: []string{"places/port-alder"}}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		waitFor(t, 2*time.Second, "the deletion", func() bool {
			res, err := vt.Query(t.Context(), fmt.Sprintf(`SELECT ?p WHERE { GRAPH ?g { <%s/places/port-alder> ?p ?o } } LIMIT 1`, base))
			return err == nil && len(res.Rows) == 0
		})
		if code := p.stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("annals mirror exited %d on SIGTERM:\n%s", code, p.stderr)
		}
		// The dataset graph is refreshed when a mirror catches up.
		mustRun(t, 0, "mirror", "--once", "--db", db, "--graph-store", vt.GraphStoreURL())
		compareWithFreshLoad(t, vt, db, base)
		_, n := dumpTriples(t, d.httpAddr)
		if got := storeCount(t, vt, base); got != n {
			t.Errorf("after the changes the store holds %d triples, the dump %d", got, n)
		}
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectLines returns a query file's "# expect:" lines.
func expectLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "# expect: "); ok {
			want = append(want, rest)
		}
	}
	return want
}

// dumpAnswers runs the queries over the dump in Oxigraph (scripts/rdfcheck.mjs)
// and returns each one's answer lines; nil when node is missing and CI is not set.
func dumpAnswers(t *testing.T, dump []byte, queries []string) [][]string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is missing")
		}
		t.Log("node is missing: the store's answers are compared with the queries' expectations only")
		return nil
	}
	file := filepath.Join(t.TempDir(), "dataset.nt")
	if err := os.WriteFile(file, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{filepath.Join("..", "..", "scripts", "rdfcheck.mjs"), file}, queries...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rdfcheck: %v\n%s", err, stderr.String())
	}
	var r struct {
		Queries []struct {
			Boolean *bool       `json:"boolean"`
			Rows    [][]*string `json:"rows"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	var all [][]string
	for _, q := range r.Queries {
		var lines []string
		if q.Boolean != nil {
			lines = append(lines, strconv.FormatBool(*q.Boolean))
		}
		for _, row := range q.Rows {
			var cells []string
			for _, c := range row {
				if c == nil {
					cells = append(cells, "UNDEF")
				} else {
					cells = append(cells, *c)
				}
			}
			lines = append(lines, strings.Join(cells, "\t"))
		}
		all = append(all, lines)
	}
	return all
}

// TestMirrorKilled kills `annals mirror` with SIGKILL at random points
// while documents are imported, and stops and restarts Virtuoso mid-sync
// (SIGTERM, and once SIGKILL), many times; after a final `annals mirror`
// the store's contents equal a fresh load of the archive: no duplicate, no
// stale triple, nothing missing. CI: 12 rounds; otherwise 5. The seed is
// logged; ANNALS_KILL_SEED replays it.
func TestMirrorKilled(t *testing.T) {
	skipUnlessLong(t)
	vt := virtuosotest.Start(t)
	withMirrorCredentials(t)
	rounds := 5
	if os.Getenv("CI") != "" {
		rounds = 12
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("ANNALS_KILL_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (ANNALS_KILL_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")
	docs := writeKillDocs(t, t.TempDir(), 0, 4*rounds, "The charter was kept.")
	base := "http://mirror-killed.example"
	args := []string{"--db", db, "--base", base, "--graph-store", vt.GraphStoreURL(), "--poll-interval", "50ms", "--dataset-interval", "200ms", "--retry-for", "90s", "--log-level", "warn"}
	mustRun(t, 0, append([]string{"ingest", "--db", db}, docs[0].path)...)

	behind := 0
	for round := range rounds {
		p := startMirror(t, args...)
		// Import a few documents while the mirror runs (an edited revision
		// of an earlier one now and then), then kill it at a random point.
		batch := docs[4*round : 4*round+4]
		var files []string
		for _, d := range batch {
			files = append(files, d.path)
		}
		if round > 0 && rng.IntN(2) == 0 {
			prev := docs[rng.IntN(4*round)]
			text, _ := os.ReadFile(prev.path)
			edited := filepath.Join(t.TempDir(), filepath.Base(prev.path))
			if err := os.WriteFile(edited, bytes.Replace(text, []byte("The charter was kept."), []byte(fmt.Sprintf("The charter was amended in round %d.", round)), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, edited)
		}
		ingest := exec.Command(mustBinary(t), append([]string{"ingest", "--db", db, "--log-level", "warn"}, files...)...)
		if err := ingest.Start(); err != nil {
			t.Fatal(err)
		}
		switch round % 4 {
		case 1: // Virtuoso stops cleanly mid-sync and comes back.
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			vt.Stop()
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
			if err := vt.Start(); err != nil {
				t.Fatal(err)
			}
		case 3: // Virtuoso is killed mid-sync and recovers from its log.
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			vt.Kill()
			if err := vt.Start(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Duration(rng.IntN(800)) * time.Millisecond)
		if code := p.stop(t, syscall.SIGKILL); code == 0 {
			t.Logf("round %d: the mirror had exited on its own:\n%s", round, p.stderr)
		}
		if err := ingest.Wait(); err != nil {
			t.Fatalf("annals ingest: %v", err)
		}
		if at, last := stateSequence(t, vt, base), lastSequence(t, db); at < last {
			behind++
			t.Logf("round %d: killed at sequence %d, %d changes behind the archive", round, at, last-at)
		}
	}
	if behind == 0 {
		t.Log("no kill left the store behind the archive this time")
	}
	// Recovery: one more mirror, to the newest change.
	r := mustRun(t, 0, append([]string{"mirror", "--once"}, args...)...)
	t.Log(strings.TrimSpace(r.stdout))
	compareWithFreshLoad(t, vt, db, base)
}

// stateSequence returns the sequence in the state graph of base (-1: none).
func stateSequence(t *testing.T, vt *virtuosotest.Server, base string) int64 {
	t.Helper()
	res, err := vt.Query(t.Context(), fmt.Sprintf(`SELECT ?n WHERE { GRAPH <%s%s> { ?s <https://annals-project.github.io/vocab#mirrorSequence> ?n } }`, base, mirror.StateGraphPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		return -1
	}
	n, _ := strconv.ParseInt(res.Rows[0]["n"].Value, 10, 64)
	return n
}

// lastSequence returns the newest sequence of db's change log.
func lastSequence(t *testing.T, db string) int64 {
	t.Helper()
	st, err := sqlite.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestReadmeSPARQLExamples runs the commands of README.md's "Query it with
// SPARQL" section, as written but for Virtuoso's port, in the directory of
// a running annals serve: each must succeed, and print what the comment
// line after it shows.
func TestReadmeSPARQLExamples(t *testing.T) {
	skipUnlessLong(t)
	_, err := exec.LookPath("curl")
	requireTool(t, err == nil, "curl")
	vt := virtuosotest.Start(t)
	dir := t.TempDir()
	d := startServe(t, filepath.Join(dir, "annals.db"))
	waitServing(t, dial(t, d.grpcAddr))
	_, n := dumpTriples(t, d.httpAddr)
	bin := mustBinary(t)

	cmds := readmeSection(t, "## Query it with SPARQL")
	if len(cmds) < 3 {
		t.Fatalf("found %d commands in the README's SPARQL section", len(cmds))
	}
	for _, c := range cmds {
		t.Run(c.line, func(t *testing.T) {
			line := strings.ReplaceAll(c.line, "localhost:8890", vt.HTTPAddr)
			cmd := exec.Command("sh", "-c", line)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			switch {
			case strings.HasPrefix(c.expect, "the dump's void:triples"):
				if !strings.Contains(string(out), "\n"+strconv.Itoa(n)) {
					t.Errorf("output %q; want the dump's %d triples", out, n)
				}
			case c.expect != "":
				if !strings.Contains(string(out), c.expect) {
					t.Errorf("output %q lacks %q", out, c.expect)
				}
			}
		})
	}
}

// TestServeMirrorFlag: annals serve --mirror-graph-store keeps the store in
// sync from inside the server, its metrics on the server's /metrics.
func TestServeMirrorFlag(t *testing.T) {
	skipUnlessLong(t)
	vt := virtuosotest.Start(t)
	withMirrorCredentials(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	d := startServe(t, db, "ANNALS_MIRROR_GRAPH_STORE="+vt.GraphStoreURL())
	waitServing(t, dial(t, d.grpcAddr))
	_, n := dumpTriples(t, d.httpAddr)
	waitFor(t, 60*time.Second, "the store to hold the dump", func() bool { return storeCount(t, vt, "http://localhost:8080") == n })
	resp, err := http.Get("http://" + d.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{fmt.Sprintf("annals_mirror_last_applied_sequence %d", lastSequence(t, db)), "annals_mirror_lag_changes 0", `annals_mirror_errors_total{kind="unreachable"} 0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("annals serve exited %d", code)
	}
}

// TestWatchChangesE2E: against the real binary, a watcher sees an import's
// changes, and SIGTERM ends its stream at once with Unavailable (the server
// does not wait out its grace period for it).
func TestWatchChangesE2E(t *testing.T) {
	skipUnlessLong(t)
	const token = e2eToken
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+token, "ANNALS_SHUTDOWN_GRACE=30s")
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	stream, err := annalsv1.NewChangeServiceClient(conn).WatchChanges(t.Context(), &annalsv1.WatchChangesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*annalsv1.RecordChange
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m.GetChanges()...)
		if len(m.GetChanges()) == 0 {
			break // the end of the replay
		}
	}
	if len(seen) == 0 || seen[0].GetSequence() != 1 {
		t.Fatalf("the replay of a new archive gave %d changes, from %v", len(seen), seen[:min(1, len(seen))])
	}
	doc := "June 2, 1802\n\nA harbour.\n\nPort Alder, Westmark | Town Council of Alder\n\nAlder Harbour Charter\n"
	if _, err := annalsv1.NewArchiveServiceClient(conn).ImportDocument(bearer(t.Context(), token), &annalsv1.ImportDocumentRequest{Text: doc}); err != nil {
		t.Fatal(err)
	}
	m, err := stream.Recv()
	if err != nil || len(m.GetChanges()) == 0 || m.GetChanges()[0].GetSequence() <= seen[len(seen)-1].GetSequence() {
		t.Fatalf("after an import: %v, %v", m, err)
	}
	start := time.Now()
	code := d.stop(t)
	_, err = stream.Recv()
	if st, _ := grpcstatus.FromError(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "shutting down") {
		t.Errorf("the stream ended with %v; want Unavailable, shutting down", err)
	}
	if code != 0 || time.Since(start) > 10*time.Second {
		t.Errorf("annals serve exited %d after %v; want 0, well within its 30 s grace", code, time.Since(start))
	}
}
