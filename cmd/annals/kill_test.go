package main

// Fault tests of the real binary: SIGKILL during imports, a read-only
// database file, a full disk.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/store/storetest"
	"google.golang.org/grpc/codes"
)

// killDoc is one generated document of the kill test and the records it must give.
type killDoc struct {
	path   string
	event  string // its event
	source string // its source revision
	person string // an actor that only this document names
}

// writeKillDocs writes documents from, from+1, … from+n-1 in the seed
// format into dir. They share a country, a party and some places, so that
// documents link to records earlier ones created; each also names a person
// of its own. The last paragraph of each is aftermath. Document i always
// describes the same event, whatever dir and aftermath.
func writeKillDocs(t *testing.T, dir string, from, n int, aftermath string) []killDoc {
	t.Helper()
	words := []string{"Amber", "Birch", "Cedar", "Dune", "Elm", "Fern", "Gale", "Heath", "Iris", "Juniper"}
	var docs []killDoc
	for i := from; i < from+n; i++ {
		name := words[i%len(words)] + " " + words[(i/len(words))%len(words)]
		if i >= len(words)*len(words) {
			name += " " + words[(i/len(words)/len(words))%len(words)]
		}
		var b strings.Builder
		fmt.Fprintf(&b, "May %d, %d\n\n", 1+i%28, 1600+i)
		fmt.Fprintf(&b, "The guild of %s recorded its charter number %d in the town hall.\n\n", name, i)
		fmt.Fprintf(&b, "Harbour Town %d, Westmark | Town Council of Alder, Guild of %s\n\n", i%4, name)
		fmt.Fprintf(&b, "Charter Number %d of the %s Guild\n\n", i, name)
		b.WriteString("Background\n\n")
		for p := range 30 {
			fmt.Fprintf(&b, "Paragraph %d of charter %d says how the guild of %s kept its books, met each season and chose its officers by lot.\n\n", p, i, name)
		}
		b.WriteString("Key Figures\n\n")
		fmt.Fprintf(&b, "  • Keeper %s: The keeper of the guild's books, who signed charter number %d.\n\n", name, i)
		fmt.Fprintf(&b, "Aftermath\n\n%s\n", aftermath)

		path := filepath.Join(dir, fmt.Sprintf("charter-%03d.txt", i))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := ingest.Parse(path, []byte(b.String()))
		if err != nil {
			t.Fatalf("generated document %d does not parse: %v", i, err)
		}
		k := killDoc{path: path, event: d.Event.GetName(), source: d.Source.GetName()}
		for _, a := range d.Actors {
			if strings.HasPrefix(a.GetLabels()[0].GetValue(), "Keeper ") {
				k.person = a.GetName()
			}
		}
		if k.person == "" {
			t.Fatalf("generated document %d names no keeper", i)
		}
		docs = append(docs, k)
	}
	return docs
}

// ingestUntilKilled starts `annals ingest` on docs and sends it SIGKILL once
// it has acknowledged after documents, after a further random pause of up
// to jitter; after = -1 kills it after the pause alone, wherever it is
// (opening the database, loading the bundled dataset, importing). It returns
// the documents the process acknowledged as imported (the header line of
// each document's report, which ingest prints once the document's
// transaction has committed) and whether it ran to the end before the signal.
func ingestUntilKilled(t *testing.T, rng *rand.Rand, db string, docs []killDoc, after int, jitter time.Duration) (acked []string, finished bool) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("build annals: %v", err)
	}
	args := []string{"ingest", "--db", db, "--log-level", "warn"}
	for _, d := range docs {
		args = append(args, d.path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := make(chan string, len(docs)+1)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := reportLineRE.FindStringSubmatch(sc.Text()); m != nil {
				acks <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	for len(acked) < after {
		path, ok := <-acks
		if !ok {
			break
		}
		acked = append(acked, path)
	}
	time.Sleep(time.Duration(rng.Int64N(int64(jitter) + 1)))
	_ = cmd.Process.Signal(syscall.SIGKILL) // fails harmlessly if it has exited already
	for path := range acks {
		acked = append(acked, path)
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("annals ingest did not finish within %s", runTimeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return acked, true
	case errors.As(err, &ee) && !ee.Exited():
		return acked, false // killed
	default:
		t.Fatalf("annals ingest failed on its own: %v\n%s", err, stderr.String())
		return nil, false
	}
}

// checkAllOrNothing opens db afresh, checks SQLite's integrity, that the
// change log agrees with the records (storetest.CheckChangeLog), and that each
// document is imported completely or not at all. It returns the documents found imported.
func checkAllOrNothing(t *testing.T, db string, docs []killDoc) (imported map[string]bool) {
	t.Helper()
	checkIntegrity(t, db)
	ctx := t.Context()
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatalf("reopen %s after SIGKILL: %v", db, err)
	}
	defer st.Close()
	// The change log and the records agree after the kill: no write without
	// its entries, no entry without its write, sequence numbers increasing.
	storetest.CheckChangeLog(t, st)
	imported = map[string]bool{}
	for _, d := range docs {
		src, srcErr := st.GetSource(ctx, d.source)
		ev, evErr := st.GetEvent(ctx, d.event)
		_, personErr := st.GetActor(ctx, d.person)
		for _, err := range []error{srcErr, evErr, personErr} {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: %v", d.path, err)
			}
		}
		switch {
		case srcErr != nil && evErr != nil && personErr != nil:
			continue // not imported at all
		case srcErr != nil || evErr != nil || personErr != nil:
			t.Errorf("%s is half imported: source %s: %v; event %s: %v; actor %s: %v",
				filepath.Base(d.path), d.source, srcErr, d.event, evErr, d.person, personErr)
			continue
		}
		imported[d.path] = true
		if src.GetEvent() != d.event || !slices.Contains(ev.GetSources(), d.source) {
			t.Errorf("%s: source %s names event %q; event's sources %v", filepath.Base(d.path), d.source, src.GetEvent(), ev.GetSources())
		}
		for _, p := range ev.GetParticipants() {
			a, err := st.GetActor(ctx, p.GetActor())
			if err != nil {
				t.Errorf("%s: participant %s: %v", filepath.Base(d.path), p.GetActor(), err)
			} else if !slices.Contains(a.GetSources(), d.source) {
				t.Errorf("%s: participant %s does not list the source %s: %v", filepath.Base(d.path), a.GetName(), d.source, a.GetSources())
			}
		}
		if len(ev.GetParticipants()) != 3 {
			t.Errorf("%s: %d participants, want 3 (the council, the guild, the keeper)", filepath.Base(d.path), len(ev.GetParticipants()))
		}
		for _, name := range ev.GetPlaces() {
			if _, err := st.GetPlace(ctx, name); err != nil {
				t.Errorf("%s: place %s: %v", filepath.Base(d.path), name, err)
			}
		}
	}
	return imported
}

// checkIntegrity fails the test unless SQLite's PRAGMA integrity_check,
// run on a fresh connection to db, reports ok.
func checkIntegrity(t *testing.T, db string) {
	t.Helper()
	ctx := t.Context()
	raw, err := sql.Open("sqlite", db) // the driver modernc.org/sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	res, err := raw.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		raw.Close()
		t.Fatalf("integrity_check: %v", err)
	}
	for res.Next() {
		var s string
		if err := res.Scan(&s); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, s)
	}
	if err := errors.Join(res.Err(), res.Close(), raw.Close()); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if !slices.Equal(rows, []string{"ok"}) {
		t.Fatalf("integrity_check of %s: %q", db, rows)
	}

}

// TestIngestKilled kills `annals ingest` with SIGKILL at random points, many
// times, on one database, so that later rounds kill it during later imports.
// After each kill it reopens the database and checks that SQLite's integrity
// holds, that every document the process acknowledged before the kill is
// there, and that every document is imported completely or not at all. Then
// it finishes the import on the killed database, checks that a further run
// changes nothing, and kills an import of edited revisions of every document.
//
// With CI set it kills the process at least 50 times, otherwise 10 times.
// The seed is logged; ANNALS_KILL_SEED=<seed> replays a run's choices.
func TestIngestKilled(t *testing.T) {
	skipUnlessLong(t)
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	kills := 10
	if os.Getenv("CI") != "" {
		kills = 50
	}
	// perRound is the most documents one run is given: a run that is not
	// killed in time imports them all and the next run starts further on.
	const perRound = 8
	dir := t.TempDir()
	const aftermath = "The charter was read aloud every year."
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ANNALS_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ANNALS_KILL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("random seed %d (replay with ANNALS_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	db := filepath.Join(dir, "annals.db") // one database for every round
	var docs []killDoc
	imported := 0 // documents 0..imported-1 are in the database
	killed := 0
	for round := 0; killed < kills; round++ {
		if round >= 4*kills {
			t.Fatalf("after %d rounds only %d runs were killed before they finished, want %d", round, killed, kills)
		}
		if len(docs)-imported < perRound {
			docs = append(docs, writeKillDocs(t, dir, len(docs), 4*perRound, aftermath)...)
		}
		batch := docs[imported : imported+perRound]
		// The first round (on a new database) and one round in eight kill
		// after a random pause alone, wherever the process is: opening or
		// creating the database, recovering the WAL of the last kill, loading
		// the bundled dataset, importing. The others kill after a random
		// number of acknowledged documents plus a random pause shorter than
		// a few imports, so that the signal lands anywhere in an import,
		// its commit included.
		after, jitter := rng.IntN(perRound/2), 3*time.Millisecond
		if round == 0 || rng.IntN(8) == 0 {
			after, jitter = -1, 40*time.Millisecond
		}
		acked, finished := ingestUntilKilled(t, rng, db, batch, after, jitter)
		found := checkAllOrNothing(t, db, docs)
		if !finished {
			killed++
		}
		t.Logf("round %d: %d acknowledged (target %d, finished %v); %d of %d documents imported", round, len(acked), after, finished, len(found), len(docs))
		for _, path := range acked {
			if !found[path] {
				t.Errorf("round %d: %s was acknowledged before the kill but is not in the database", round, filepath.Base(path))
			}
		}
		if finished && len(found) != imported+len(batch) {
			t.Errorf("round %d: the run finished, yet %d documents are imported, want %d", round, len(found), imported+len(batch))
		}
		// Documents are imported in order, each committed before the next starts.
		for i, d := range docs {
			if found[d.path] != (i < len(found)) {
				t.Fatalf("round %d: imported documents are not a prefix of the list: %d imported, %s missing or extra", round, len(found), filepath.Base(d.path))
			}
		}
		if len(found) < imported {
			t.Fatalf("round %d: %d documents imported, %d before this round", round, len(found), imported)
		}
		imported = len(found)
	}
	t.Logf("%d kill points, %d documents imported", killed, imported)

	// Finish on the killed database: everything imports, then nothing changes.
	r := mustRun(t, 0, append([]string{"ingest", "--db", db, "--log-level", "warn"}, pathsOf(docs)...)...)
	if found := checkAllOrNothing(t, db, docs); len(found) != len(docs) {
		t.Fatalf("after the final run %d of %d documents are imported:\n%s", len(found), len(docs), r.stdout)
	}
	before := dump(t, db)
	reps := parseTextReports(t, mustRun(t, 0, append([]string{"ingest", "--db", db, "--log-level", "warn"}, pathsOf(docs)...)...).stdout)
	for _, d := range docs {
		if rep := reps[d.path]; rep.event != d.event || rep.created+rep.updated != 0 || rep.unchanged == 0 {
			t.Errorf("re-import of %s: %+v, want everything unchanged", filepath.Base(d.path), rep)
		}
	}
	if after := dump(t, db); after != before {
		t.Error("re-importing after the kills changed the database")
	}

	// Edited revisions of every document, killed midway: each event is
	// updated to its new revision completely (event, new source, the actors
	// listing it) or stays as it was.
	editDir := filepath.Join(dir, "edited")
	if err := os.Mkdir(editDir, 0o755); err != nil {
		t.Fatal(err)
	}
	const edited = "The charter was read aloud every spring."
	newDocs := writeKillDocs(t, editDir, 0, len(docs), edited)
	acked, finished := ingestUntilKilled(t, rng, db, newDocs, rng.IntN(len(docs)), 3*time.Millisecond)
	updated := checkRevisionAllOrNothing(t, db, docs, newDocs, edited)
	t.Logf("revisions: killed after %d acknowledgements (finished %v); %d of %d events updated", len(acked), finished, len(updated), len(docs))
	for _, path := range acked {
		if !updated[path] {
			t.Errorf("revisions: %s was acknowledged before the kill but its new revision is not in the database", filepath.Base(path))
		}
	}
}

// checkRevisionAllOrNothing checks, after a kill, that each event either has
// moved to its new revision completely or not at all, and returns the new
// documents whose revision is stored.
func checkRevisionAllOrNothing(t *testing.T, db string, oldDocs, newDocs []killDoc, edited string) (updated map[string]bool) {
	t.Helper()
	checkAllOrNothing(t, db, oldDocs) // integrity, and the first revisions are all there
	st := openStore(t, db)
	ctx := t.Context()
	updated = map[string]bool{}
	for i, nd := range newDocs {
		od := oldDocs[i]
		base := filepath.Base(nd.path)
		ev, err := st.GetEvent(ctx, nd.event)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		src, srcErr := st.GetSource(ctx, nd.source)
		if srcErr != nil && !errors.Is(srcErr, store.ErrNotFound) {
			t.Fatalf("%s: %v", base, srcErr)
		}
		isNew := srcErr == nil
		var bad []string
		if got := len(ev.GetSources()) > 0 && ev.GetSources()[0] == nd.source; got != isNew {
			bad = append(bad, fmt.Sprintf("event sources %v", ev.GetSources()))
		}
		if got := strings.Contains(ev.String(), edited); got != isNew {
			bad = append(bad, fmt.Sprintf("edited paragraph in the event: %v", got))
		}
		for _, p := range ev.GetParticipants() {
			a, err := st.GetActor(ctx, p.GetActor())
			if err != nil {
				t.Fatalf("%s: participant %s: %v", base, p.GetActor(), err)
			}
			if got := slices.Contains(a.GetSources(), nd.source); got != isNew {
				bad = append(bad, fmt.Sprintf("%s lists the new revision: %v", a.GetName(), got))
			}
		}
		if isNew && (src.GetPreviousRevision() != od.source || !slices.Contains(ev.GetSources(), od.source)) {
			bad = append(bad, fmt.Sprintf("new revision's previous_revision %q, event sources %v; want %s kept", src.GetPreviousRevision(), ev.GetSources(), od.source))
		}
		if len(bad) > 0 {
			t.Errorf("%s: new revision stored: %v, but %s", base, isNew, strings.Join(bad, "; "))
		}
		if isNew {
			updated[nd.path] = true
		}
	}
	return updated
}

func pathsOf(docs []killDoc) []string {
	var ps []string
	for _, d := range docs {
		ps = append(ps, d.path)
	}
	return ps
}

// makeReadOnly makes the file at path one this process and its children
// cannot write: mode 0444 for an ordinary user; for root, whom file modes do
// not stop, the immutable attribute (chattr +i), which stops root too. The
// test is skipped where neither works. The file is made writable again at cleanup.
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(path, 0o644) })
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("running as root and chattr +i is not available here (%v: %s): cannot make a file root may not write", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("chattr", "-i", path).CombinedOutput(); err != nil {
			t.Errorf("chattr -i %s: %v: %s", path, err, out)
		}
	})
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Skipf("%s is still writable after chattr +i", path)
	}
}

func fileSHA256(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestServeReadOnlyFile serves a database file that cannot be written (in a
// directory that can, where SQLite keeps its -wal and -shm files): reads
// work, ImportDocument is refused with Unavailable saying the archive is
// read-only, the server keeps serving and stops cleanly, and the file is
// byte for byte as it was.
//
// Not covered: a database in a read-only directory (a read-only mount). A
// WAL database there cannot even be read, as SQLite cannot create its -shm
// file, and serve refuses to start.
func TestServeReadOnlyFile(t *testing.T) {
	skipUnlessLong(t)
	if runtime.GOOS == "windows" {
		t.Skip("file modes and signals")
	}
	const token = "e2e-secret-token-0123456789"
	db := filepath.Join(t.TempDir(), "annals.db")
	mustRun(t, 0, "ingest", "--db", db, "--log-level", "warn", doc("harbour.txt"))
	makeReadOnly(t, db)
	sum := fileSHA256(t, db)

	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+token)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	read := func() {
		t.Helper()
		if _, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/alder-bexley-harbour-charter"}); err != nil {
			t.Fatalf("GetEvent on a read-only archive: %v", err)
		}
		if names := listEventNames(t, ctx, client, &annalsv1.ListEventsRequest{Query: "harbour"}); len(names) == 0 {
			t.Fatal("ListEvents on a read-only archive found nothing")
		}
	}
	read()
	bridge, err := os.ReadFile(doc("bridge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err = client.ImportDocument(bearer(ctx, token), &annalsv1.ImportDocumentRequest{Text: string(bridge), Filename: "bridge.txt"})
		s := wantStatus(t, err, codes.Unavailable, server.ReasonReadOnly)
		if !strings.Contains(s.Message(), "read-only") || strings.Contains(s.Message(), "sqlite") || strings.Contains(s.Message(), db) {
			t.Errorf("message %q: want one saying the archive is read-only, without backend detail", s.Message())
		}
		read()
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0", code)
	}
	if fileSHA256(t, db) != sum {
		t.Error("the read-only database file changed")
	}
	checkIntegrity(t, db)
}

// mountTmpfs mounts a tmpfs of the given size (such as "3m") on a new
// directory and returns it; the test is skipped where mounting is not
// allowed (not root, no CAP_SYS_ADMIN). It is unmounted at cleanup.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("mounting a small file system (tmpfs) needs root on Linux")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestServeFullDisk fills a real (small) file system through ImportDocument
// until it is full: the import that does not fit is refused with
// Unavailable (never Internal), reads go on working, every import
// acknowledged before is kept, the database passes integrity_check, and
// once there is room again imports work again.
func TestServeFullDisk(t *testing.T) {
	skipUnlessLong(t)
	dir := mountTmpfs(t, "3m")
	const token = "e2e-secret-token-0123456789"
	db := filepath.Join(dir, "annals.db")
	docs := writeKillDocs(t, t.TempDir(), 0, 400, "The charter was read aloud every year.")

	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+token)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	importDoc := func(k killDoc) error {
		text, err := os.ReadFile(k.path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.ImportDocument(bearer(ctx, token), &annalsv1.ImportDocumentRequest{Text: string(text), Filename: filepath.Base(k.path)})
		return err
	}
	acked := 0
	var full error
	for _, k := range docs {
		if full = importDoc(k); full != nil {
			break
		}
		acked++
	}
	if full == nil {
		t.Fatalf("%d documents fitted in the 3 MiB file system; make the documents bigger", len(docs))
	}
	t.Logf("%d documents imported before the disk was full; then: %v", acked, full)
	s := wantStatus(t, full, codes.Unavailable, server.ReasonReadOnly)
	if strings.Contains(s.Message(), "sqlite") || strings.Contains(s.Message(), dir) {
		t.Errorf("message %q shows backend detail", s.Message())
	}
	// Still full: refused again, the same way; reads work.
	wantStatus(t, importDoc(docs[acked]), codes.Unavailable, server.ReasonReadOnly)
	for _, k := range docs[:acked] {
		if _, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: k.event}); err != nil {
			t.Fatalf("GetEvent %s on a full disk: %v", k.event, err)
		}
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit status after SIGTERM on a full disk = %d, want 0", code)
	}

	// Room again: the database is sound, holds every acknowledged import and
	// none half, and takes the rest.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if found := checkAllOrNothing(t, db, docs); len(found) < acked {
		t.Fatalf("%d documents acknowledged before the disk was full, %d found", acked, len(found))
	}
	r := mustRun(t, 0, append([]string{"ingest", "--db", db, "--log-level", "warn"}, pathsOf(docs)...)...)
	if found := checkAllOrNothing(t, db, docs); len(found) != len(docs) {
		t.Fatalf("with room again %d of %d documents are imported:\n%s", len(found), len(docs), r.stdout)
	}
}

// TestGenKilled kills `annals gen` while it writes the records of a bulk
// load and while it builds the indexes at its end: the database it leaves
// is refused by every command, with a message that says what happened and
// what to do, and never opened with incomplete indexes. A load that runs to
// the end leaves a database that opens.
func TestGenKilled(t *testing.T) {
	skipUnlessLong(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("build annals: %v", err)
	}
	for _, tc := range []struct {
		name  string
		after string // kill once stderr has a line holding this
	}{
		{"writing records", "gen: "},                 // a progress line: some batches are in
		{"building indexes", "building the indexes"}, // the end of the load has begun
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "gen.db")
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "gen", "--events", "60000", "--batch", "1000", "--db", db, "--log-level", "error")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), tc.after) && !strings.Contains(sc.Text(), "gen: wrote") {
					break
				}
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			go io.Copy(io.Discard, stderr)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Exited() {
				t.Fatalf("annals gen was not killed (%v); it printed:\n%s", err, out.String())
			}
			checkIntegrity(t, db)
			st, err := sqlite.Open(ctx, db, nil)
			if err == nil {
				st.Close()
				t.Fatal("Open of a database whose bulk load was killed succeeded")
			}
			if !errors.Is(err, store.ErrIncompatible) || !strings.Contains(err.Error(), "bulk-loaded") || !strings.Contains(err.Error(), "remove it") {
				t.Errorf("Open of a database whose bulk load was killed: %v; want a refusal that says so and what to do", err)
			}
			for _, args := range [][]string{
				{"serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"},
				{"export", "--db", db, "--output", filepath.Join(t.TempDir(), "x.nt")},
				{"gen", "--events", "10", "--db", db},
			} {
				res, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
				if err == nil || !strings.Contains(string(res), "bulk-loaded") {
					t.Errorf("annals %s on it: %v\n%s\nwant a failure naming the stopped bulk load", args[0], err, res)
				}
			}
		})
	}
	t.Run("to the end", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "gen.db")
		if res, err := exec.Command(bin, "gen", "--events", "300", "--db", db, "--log-level", "error").CombinedOutput(); err != nil {
			t.Fatalf("annals gen: %v\n%s", err, res)
		}
		st, err := sqlite.Open(t.Context(), db, nil)
		if err != nil {
			t.Fatalf("Open after a complete bulk load: %v", err)
		}
		st.Close()
	})
}
