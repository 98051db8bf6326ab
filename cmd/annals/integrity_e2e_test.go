package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	_ "modernc.org/sqlite"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store/storetest"
)

// e2eToken is the import token of the tests here (at least
// server.MinImportTokenBytes long).
const e2eToken = "integrity-e2e-token-0123456789"

// writeDocs writes docs into dir and returns their paths, in order.
func writeDocs(t *testing.T, dir string, docs []storetest.Document) []string {
	t.Helper()
	var paths []string
	for _, d := range docs {
		p := filepath.Join(dir, d.File)
		if err := os.WriteFile(p, []byte(d.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// commitOrder orders the documents of paths as the archive in db committed
// them: by the change-log entry that created each document's source.
// Documents that created no source (the same document again) come last.
func commitOrder(t *testing.T, db string, paths []string) []string {
	t.Helper()
	st := openStore(t, db)
	first := map[string]int64{}
	for after := int64(0); ; {
		page, err := st.Changes(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if _, ok := first[e.Name]; !ok {
				first[e.Name] = e.Seq
			}
		}
		after = page[len(page)-1].Seq
	}
	// A document's key is the sequence number of its source's creation,
	// doubled; of several files with the same text, the one whose name the
	// source kept came first (+0), the others changed nothing (+1).
	key := func(p string) int64 {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ingest.Parse(p, text)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := first[doc.Source.Name]
		if !ok {
			return 1 << 62
		}
		src, err := st.GetSource(t.Context(), doc.Source.Name)
		if err != nil {
			t.Fatal(err)
		}
		if src.GetFilename() == p {
			return 2 * s
		}
		return 2*s + 1
	}
	keys := map[string]int64{}
	for _, p := range paths {
		keys[p] = key(p)
	}
	out := slices.Clone(paths)
	slices.SortStableFunc(out, func(a, b string) int { return int(min(max(keys[a]-keys[b], -1), 1)) })
	return out
}

// oneByOne imports paths one by one, in that order, into a new database
// and returns its path.
func oneByOne(t *testing.T, paths ...string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "one-by-one.db")
	// annals ingest imports its files in the order given, each in its own transaction.
	mustRun(t, 0, append([]string{"ingest", "--db", db, "--log-level", "warn"}, paths...)...)
	return db
}

// TestConcurrentImportsOverGRPC imports documents that share actors, places
// and one event's revisions through the real server from 8 clients at
// once; the archive must equal, record by record, the same documents
// imported one by one in the order the server committed them.
func TestConcurrentImportsOverGRPC(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")
	docs := storetest.ConcurrencyDocuments(40)
	paths := writeDocs(t, t.TempDir(), docs)
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	ctx := bearer(t.Context(), e2eToken)

	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if _, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Filename: paths[i], Text: docs[i].Text}); err != nil {
					t.Errorf("ImportDocument(%s): %v", docs[i].File, err)
				}
			}
		})
	}
	for i := range docs {
		work <- i
	}
	close(work)
	wg.Wait()
	if code := d.stop(t); code != 0 {
		t.Fatalf("annals serve exited %d", code)
	}
	if t.Failed() {
		return
	}
	conc := openStore(t, db)
	storetest.CheckChangeLog(t, conc)
	storetest.EqualArchives(t, openStore(t, oneByOne(t, commitOrder(t, db, paths)...)), conc)
}

// TestConcurrentIngestProcesses runs two `annals ingest` processes at once
// on two halves of the same documents, into one database: both succeed,
// and the archive equals the documents imported one by one.
func TestConcurrentIngestProcesses(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	mustRun(t, 0, "ingest", "--db", db, "--log-level", "warn", doc("harbour.txt")) // creates it, with the bundled dataset
	paths := writeDocs(t, t.TempDir(), storetest.ConcurrencyDocuments(40))
	halves := [][]string{paths[:len(paths)/2], paths[len(paths)/2:]}
	var wg sync.WaitGroup
	for _, h := range halves {
		wg.Go(func() {
			r := runAnnals(t, append([]string{"ingest", "--db", db, "--log-level", "warn"}, h...)...)
			if r.code != 0 {
				t.Errorf("annals ingest of half the documents: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	conc := openStore(t, db)
	storetest.CheckChangeLog(t, conc)
	storetest.EqualArchives(t, openStore(t, oneByOne(t, append([]string{doc("harbour.txt")}, commitOrder(t, db, paths)...)...)), conc)
}

// TestConcurrentRevisions imports ten revisions of one document at once
// over gRPC: the event lists all eleven sources, newest first, and each
// source's previous_revision is the one listed after it.
func TestConcurrentRevisions(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	ctx := bearer(t.Context(), e2eToken)
	base := "May 1, 1941\n\nA conference.\n\nMoscow, Soviet Union | Government of Soviet Union\n\nMoscow Revision Conference\n\nBackground\n\n"
	first, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: base + "The first account.\n"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			text := fmt.Sprintf("%sRevision %d of the account.\n", base, i)
			if _, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: text}); err != nil {
				t.Errorf("revision %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	ev, err := client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: first.GetEvent()})
	if err != nil {
		t.Fatal(err)
	}
	srcs := ev.GetEvent().GetSources()
	if len(srcs) != 11 || srcs[len(srcs)-1] != first.GetSource() {
		t.Fatalf("the event lists %d sources %v; want 11, the first import last", len(srcs), srcs)
	}
	for i := 0; i+1 < len(srcs); i++ {
		s, err := client.GetSource(t.Context(), &annalsv1.GetSourceRequest{Name: srcs[i]})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.GetSource().GetPreviousRevision(); got != srcs[i+1] {
			t.Errorf("%s's previous_revision is %q; want %q, the revision listed after it", srcs[i], got, srcs[i+1])
		}
	}
}

// TestConcurrentSameDocument imports one document through two connections
// at the same moment: both answer OK, one created and one unchanged, and
// the archive holds one set of records.
func TestConcurrentSameDocument(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
	clients := []annalsv1.ArchiveServiceClient{
		annalsv1.NewArchiveServiceClient(dial(t, d.grpcAddr)),
		annalsv1.NewArchiveServiceClient(dial(t, d.grpcAddr)),
	}
	waitServing(t, dial(t, d.grpcAddr))
	doc := storetest.ConcurrencyDocuments(3)[1]
	ctx := bearer(t.Context(), e2eToken)
	resps := make([]*annalsv1.ImportDocumentResponse, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Go(func() {
			<-start
			var err error
			if resps[i], err = c.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: doc.Text}); err != nil {
				t.Errorf("import %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	kinds := func(r *annalsv1.ImportDocumentResponse) annalsv1.ChangeKind {
		for _, c := range r.GetChanges() {
			if c.GetName() == r.GetEvent() {
				return c.GetKind()
			}
		}
		return 0
	}
	got := []annalsv1.ChangeKind{kinds(resps[0]), kinds(resps[1])}
	slices.Sort(got)
	if want := []annalsv1.ChangeKind{annalsv1.ChangeKind_CHANGE_KIND_CREATED, annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED}; !slices.Equal(got, want) {
		t.Errorf("the same document imported twice at once: the event was %v; want one created, one unchanged", got)
	}
	if resps[0].GetSource() != resps[1].GetSource() {
		t.Errorf("two sources for one document: %s, %s", resps[0].GetSource(), resps[1].GetSource())
	}
}

// waitLog waits up to 5 s for the daemon to log a line holding substr (its
// log is read by another goroutine, a little after the fact).
func waitLog(t *testing.T, d *daemon, substr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(d.Logs(), substr); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server's log has no line with %q:\n%s", substr, d.Logs())
		}
	}
}

// checkHealth returns the server's health status.
func checkHealth(t *testing.T, d *daemon) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(dial(t, d.grpcAddr)).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check: %v", err)
	}
	return resp.GetStatus()
}

// TestServeDatabaseReplaced replaces, then removes, the database file under
// a running server: health turns NOT_SERVING with a log line, reads and
// imports answer Unavailable, and neither the replacement nor the old file
// is written.
func TestServeDatabaseReplaced(t *testing.T) {
	skipUnlessLong(t)
	for _, how := range []string{"replaced", "removed"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "annals.db")
			d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
			conn := dial(t, d.grpcAddr)
			waitServing(t, conn)
			client := annalsv1.NewArchiveServiceClient(conn)
			ctx := bearer(t.Context(), e2eToken)
			if _, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/soviet-japanese-neutrality-pact"}); err != nil {
				t.Fatal(err)
			}
			// Another file takes the path: a copy made by an operator's
			// restore, renamed over the database (with its WAL gone).
			var replacement []byte
			switch how {
			case "replaced":
				other := filepath.Join(t.TempDir(), "other.db")
				mustRun(t, 0, "ingest", "--db", other, "--log-level", "warn", doc("harbour.txt"))
				var err error
				if replacement, err = os.ReadFile(other); err != nil {
					t.Fatal(err)
				}
				tmp := filepath.Join(dir, "restore.tmp")
				if err := os.WriteFile(tmp, replacement, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, db); err != nil {
					t.Fatal(err)
				}
			case "removed":
				for _, p := range []string{db, db + "-wal", db + "-shm"} {
					os.Remove(p)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for checkHealth(t, d) != healthpb.HealthCheckResponse_NOT_SERVING {
				if time.Now().After(deadline) {
					t.Fatal("health is still SERVING 10 s after the database file was " + how)
				}
				time.Sleep(100 * time.Millisecond)
			}
			_, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: storetest.ConcurrencyDocuments(1)[0].Text})
			wantStatus(t, err, codes.Unavailable, server.ReasonUnavailable)
			_, err = client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/soviet-japanese-neutrality-pact"})
			wantStatus(t, err, codes.Unavailable, server.ReasonUnavailable)
			waitLog(t, d, "replaced or removed")
			if how == "replaced" {
				if now, err := os.ReadFile(db); err != nil || !bytes.Equal(now, replacement) {
					t.Errorf("the replacement file was written to (err %v)", err)
				}
			} else if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("a removed database file was created again: %v", err)
			}
		})
	}
}

// TestServeDatabaseLocked holds the database's write lock from another
// process while an import arrives: the import answers Unavailable (reason
// ARCHIVE_UNAVAILABLE) before the client's deadline, saying the database is
// locked, and succeeds once the lock is let go.
func TestServeDatabaseLocked(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)

	other, err := sql.Open("sqlite", "file:"+db+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin() // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	doc := storetest.ConcurrencyDocuments(1)[0]
	ctx, cancel := context.WithTimeout(bearer(t.Context(), e2eToken), 3*time.Second)
	defer cancel()
	_, err = client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: doc.Text})
	s := wantStatus(t, err, codes.Unavailable, server.ReasonUnavailable)
	if !strings.Contains(s.Message(), "try again") {
		t.Errorf("message %q does not say to retry", s.Message())
	}
	waitLog(t, d, "write lock")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ImportDocument(bearer(t.Context(), e2eToken), &annalsv1.ImportDocumentRequest{Text: doc.Text}); err != nil {
		t.Errorf("import once the lock is let go: %v", err)
	}
	if checkHealth(t, d) != healthpb.HealthCheckResponse_SERVING {
		t.Error("a lock held by another process turned health NOT_SERVING")
	}
}

// TestServeCorruptRecord damages one stored event's bytes: GetEvent and a
// ListEvents page that holds it answer DataLoss naming the event, not a
// message the client fails to decode; other events are still served.
func TestServeCorruptRecord(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	mustRun(t, 0, "ingest", "--db", db, "--log-level", "warn", doc("harbour.txt"))
	const victim = "events/soviet-japanese-neutrality-pact"
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one bit in the middle of the record, as a failing disk would.
	var data []byte
	if err := raw.QueryRow(`SELECT data FROM events WHERE name = ?`, victim).Scan(&data); err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x20
	if _, err := raw.Exec(`UPDATE events SET data = ? WHERE name = ?`, data, victim); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d := startServe(t, db)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	_, err = client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: victim})
	s := wantStatus(t, err, codes.DataLoss, server.ReasonDataLoss)
	if !strings.Contains(s.Message(), victim) {
		t.Errorf("DataLoss message %q does not name %s", s.Message(), victim)
	}
	_, err = client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{Month: 4, Day: 13})
	wantStatus(t, err, codes.DataLoss, server.ReasonDataLoss)
	if _, err := client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: "events/operation-barbarossa"}); err != nil {
		t.Errorf("another event: %v", err)
	}
	// A whole-archive export that meets the record fails as such: never a
	// 200 whose body ends short, nor a stream that ends OK.
	for _, path := range []string{"/dataset.nt", "/dataset.ttl", "/dataset.jsonld"} {
		resp, body := httpGet(t, "http://"+d.httpAddr+path)
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), victim) {
			t.Errorf("GET %s with a damaged record: %d %q; want 500 naming %s", path, resp.StatusCode, body, victim)
		}
	}
	stream, err := annalsv1.NewExportServiceClient(conn).ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, err, codes.DataLoss, server.ReasonDataLoss)
	waitLog(t, d, "corrupt record")
}

// TestServeForeignDatabase gives `annals serve` and `annals ingest` a SQLite
// file of another application: both refuse it with a clear message and
// leave it exactly as it was.
func TestServeForeignDatabase(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	foreign := filepath.Join(dir, "photos.db")
	raw, err := sql.Open("sqlite", "file:"+foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT); INSERT INTO photos(path) VALUES ('a.jpg')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	notSQLite := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notSQLite, bytes.Repeat([]byte("not a database\n"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{foreign, notSQLite} {
		before := fileSHA256(t, f)
		for _, args := range [][]string{{"serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", ""}, {"ingest", doc("harbour.txt")}} {
			r := runAnnals(t, append(args, "--db", f)...)
			if r.code == 0 || !strings.Contains(r.stderr, "Annals opens only its own databases") && !strings.Contains(r.stderr, "not a SQLite database") {
				t.Errorf("annals %s --db %s: exit %d, stderr:\n%s\nwant a refusal naming the problem", args[0], filepath.Base(f), r.code, r.stderr)
			}
		}
		if fileSHA256(t, f) != before {
			t.Errorf("%s was changed by the refusal", filepath.Base(f))
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(f + suffix); err == nil {
				t.Errorf("%s%s was created", filepath.Base(f), suffix)
			}
		}
	}
}

// TestServeTokenRules: a token shorter than server.MinImportTokenBytes is
// refused at start (exit status 2); a plaintext server with a token on a
// listener that is not loopback warns loudly.
func TestServeTokenRules(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	r := runAnnals(t, "serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "", "--import-token", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "at least 16") {
		t.Errorf("serve with a 1-byte token: exit %d, stderr:\n%s\nwant 2 and a message asking for 16 bytes", r.code, r.stderr)
	}
	d := startServeArgs(t, []string{"--db", db, "--grpc-addr", "0.0.0.0:0", "--http-addr", "127.0.0.1:0"}, "ANNALS_IMPORT_TOKEN="+e2eToken)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.Logs(), "IMPORTS ARE EXPOSED") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for an import token on a plaintext non-loopback listener:\n%s", d.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScriptsRoundTrip imports documents whose names are in Cyrillic,
// Greek, Arabic, Chinese, Japanese and mixed scripts through the real
// server: every event, actor and place they name is found again by the id
// the import reported, through gRPC, the RDF export and the HTML page, with
// its name as written.
func TestScriptsRoundTrip(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	d := startServe(t, db, "ANNALS_IMPORT_TOKEN="+e2eToken)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	export := annalsv1.NewExportServiceClient(conn)
	ctx := bearer(t.Context(), e2eToken)
	seen := map[string]string{}
	for _, doc := range storetest.ScriptDocuments() {
		resp, err := client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Filename: doc.File, Text: doc.Text})
		if err != nil {
			t.Fatalf("import %s: %v", doc.File, err)
		}
		ev, err := client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: resp.GetEvent()})
		if err != nil {
			t.Fatalf("GetEvent(%s): %v", resp.GetEvent(), err)
		}
		title := ev.GetEvent().GetLabels()[0].GetValue()
		if other, ok := seen[resp.GetEvent()]; ok {
			t.Errorf("%q and %q share %s", other, title, resp.GetEvent())
		}
		seen[resp.GetEvent()] = title
		if !strings.Contains(doc.Text, title) {
			t.Errorf("%s is titled %q; the document says otherwise", resp.GetEvent(), title)
		}
		names := []string{resp.GetEvent()}
		for _, p := range ev.GetEvent().GetParticipants() {
			names = append(names, p.GetActor())
		}
		names = append(names, ev.GetEvent().GetPlaces()...)
		for _, name := range names {
			x, err := export.ExportResource(t.Context(), &annalsv1.ExportResourceRequest{Name: name, Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES})
			if err != nil {
				t.Errorf("ExportResource(%s): %v", name, err)
				continue
			}
			if !strings.Contains(x.GetContent(), "/"+name+">") {
				t.Errorf("the RDF of %s does not describe <…/%s>", name, name)
			}
			resp, body := httpGet(t, "http://"+d.httpAddr+"/"+name, "Accept", "text/html")
			if resp.StatusCode != 200 {
				t.Errorf("GET /%s: %d", name, resp.StatusCode)
			}
			if name == ev.GetEvent().GetName() && !strings.Contains(string(body), title) {
				t.Errorf("the HTML page of %s does not show %q", name, title)
			}
		}
		if !strings.Contains(func() string {
			x, _ := export.ExportResource(t.Context(), &annalsv1.ExportResourceRequest{Name: resp.GetEvent(), Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES})
			return x.GetContent()
		}(), strings.ReplaceAll(title, `"`, `\"`)) {
			t.Errorf("the RDF of %s does not carry its title %q", resp.GetEvent(), title)
		}
	}
}
