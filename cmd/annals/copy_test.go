package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/annals-project/annals/store/postgres/pgtest"
)

// TestCopyRoundTrip copies an archive (the bundled dataset, a synthetic
// archive and imported documents) from SQLite to PostgreSQL and back: the
// RDF exports of all three are byte for byte the same. A copy into a
// database that holds records is refused; no password is printed.
func TestCopyRoundTrip(t *testing.T) {
	skipUnlessLong(t)
	ctx := t.Context()
	dir := t.TempDir()
	orig, back := filepath.Join(dir, "orig.db"), filepath.Join(dir, "back.db")
	const secret = "copy-secret"
	pg := strings.Replace(pgtest.Shared(t).NewDatabase(t), "@", ":"+secret+"@", 1)
	if pgtest.Shared(t).Cluster == nil {
		pg = pgtest.Shared(t).NewDatabase(t) // an external server may check passwords
	}
	runOK := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("annals %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("annals %s printed the password", args[0])
		}
		return stderr.String()
	}
	runOK("gen", "--events", "300", "--seed", "7", "--sources", "--db", orig)
	docs := []string{"harbour.txt", "bridge.txt", "embassy.txt"}
	for i := range docs {
		docs[i] = filepath.Join("testdata", "ingest", docs[i])
	}
	runOK(append([]string{"ingest", "--db", orig}, docs...)...)

	out := runOK("copy", "--from", orig, "--to", pg, "--batch", "97")
	if !strings.Contains(out, "copy: copied") {
		t.Errorf("copy's report: %q", out)
	}
	runOK("copy", "--from", pg, "--to", back)

	export := func(db, format string) []byte {
		t.Helper()
		f := filepath.Join(dir, "export-"+format)
		runOK("export", "--db", db, "--format", format, "--output", f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, format := range []string{"turtle", "ntriples"} {
		want := export(orig, format)
		if len(want) < 100000 {
			t.Fatalf("the %s export of the original is only %d bytes", format, len(want))
		}
		if got := export(pg, format); !bytes.Equal(got, want) {
			t.Errorf("%s export of the PostgreSQL copy differs from the original's (%d and %d bytes)", format, len(got), len(want))
		}
		if got := export(back, format); !bytes.Equal(got, want) {
			t.Errorf("%s export of the copy of the copy differs from the original's (%d and %d bytes)", format, len(got), len(want))
		}
	}

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"copy", "--from", orig, "--to", pg}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "already holds") {
		t.Errorf("copy into a database with records: exit %d, %q; want 1 and a refusal", code, stderr.String())
	}
	if strings.Contains(stderr.String(), secret) {
		t.Errorf("the refusal shows the password: %q", stderr.String())
	}
	runOK("copy", "--from", orig, "--to", pg, "--force")

	// ingest (and its dry run) and gen on PostgreSQL too.
	bridge := filepath.Join("testdata", "ingest", "bridge.txt")
	if out := runOK("ingest", "--db", pg, "--dry-run", bridge); strings.Contains(out, "refused") {
		t.Errorf("ingest --dry-run on PostgreSQL: %s", out)
	}
	var ingestOut bytes.Buffer
	if code := run(ctx, []string{"ingest", "--db", pg, bridge}, &ingestOut, &ingestOut); code != 0 || !strings.Contains(ingestOut.String(), "unchanged") {
		t.Errorf("ingest of an imported document into PostgreSQL: exit %d\n%s", code, ingestOut.String())
	}
	gen := pgtest.Shared(t).NewDatabase(t)
	if out := runOK("gen", "--events", "120", "--db", gen); !strings.Contains(out, "gen: wrote 120 events") {
		t.Errorf("gen into PostgreSQL: %s", out)
	}
	var genOut bytes.Buffer
	if code := run(ctx, []string{"gen", "--events", "10", "--db", gen}, &genOut, &genOut); code == 0 || !strings.Contains(genOut.String(), "already holds") {
		t.Errorf("gen into a PostgreSQL database that holds events: exit %d, %s", code, genOut.String())
	}
}
