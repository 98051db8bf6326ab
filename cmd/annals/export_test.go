package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/annals-project/annals/store/sqlite"
)

// TestExportToFileIsAtomicAndComplete writes a dump to a file: the file holds
// the whole dump, and no temporary file is left beside it.
func TestExportToFileIsAtomicAndComplete(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "annals.nt")
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"export", "--db", filepath.Join(dir, "a.db"), "--format", "ntriples", "--output", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("export exited %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/events/soviet-japanese-neutrality-pact>")) || !bytes.HasSuffix(b, []byte(" .\n")) {
		t.Errorf("dump does not hold the pact or ends mid-triple: %d bytes", len(b))
	}
	noTempFiles(t, dir)
}

// TestExportIntoNamedPipe exports into a FIFO, as a loader reading the dump
// would: the bytes go through the pipe and the pipe stays a pipe (a device or
// pipe given as --output is written into, never replaced by a file).
func TestExportIntoNamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "dump.nt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the writer opens it
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"export", "--db", filepath.Join(dir, "a.db"), "--format", "ntriples", "--output", fifo}, &stdout, &stderr); code != 0 {
		t.Fatalf("export exited %d: %s", code, stderr.String())
	}
	// Check the path first: were the pipe replaced, its reader would wait
	// forever on the unlinked pipe.
	fi, err := os.Lstat(fifo)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("after export, %s is %v (%v), want a named pipe", fifo, fi.Mode(), err)
	}
	b := <-got
	if !bytes.Contains(b, []byte("/events/soviet-japanese-neutrality-pact>")) {
		t.Errorf("the pipe's reader got %d bytes without the pact", len(b))
	}
	noTempFiles(t, dir)
}

// TestExportToDirectoryRefused names a directory as the output: a clear
// error, and the directory is untouched.
func TestExportToDirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"export", "--db", filepath.Join(dir, "a.db"), "--output", dir}, &stdout, &stderr); code == 0 {
		t.Fatalf("export into a directory exited 0")
	}
	if !strings.Contains(stderr.String(), "is a directory") {
		t.Errorf("stderr does not say the output is a directory: %s", stderr.String())
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the directory was replaced: %v %v", fi, err)
	}
}

// noTempFiles fails the test if an export left a temporary file in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestExportBase: annals export uses --base when given, else the base
// `annals serve` kept with the database, else the default, which is a
// loopback address and is warned about; JSON-LD is a format.
func TestExportBase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	export := func(args ...string) (string, string) {
		t.Helper()
		out := filepath.Join(dir, "out.jsonld")
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), append([]string{"export", "--db", db, "--format", "jsonld", "--output", out}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("export exited %d: %s", code, stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), stderr.String()
	}
	dump, stderr := export()
	if !strings.Contains(dump, `"@context": "http://localhost:8080/context.jsonld"`) || !strings.Contains(stderr, "loopback") {
		t.Errorf("default base: context %v, warning %q", strings.Contains(dump, "localhost:8080/context.jsonld"), stderr)
	}
	dump, stderr = export("--base", "https://annals.example.org")
	if !strings.Contains(dump, `"@context": "https://annals.example.org/context.jsonld"`) || strings.Contains(stderr, "loopback") {
		t.Errorf("--base: context %v, warning %q", strings.Contains(dump, "annals.example.org"), stderr)
	}
	// What annals serve keeps with the database.
	st, err := sqlite.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{metaBase: "https://kept.example.org", metaSPARQL: "https://sparql.example.org/q"} {
		if err := st.SetMeta(t.Context(), k, v); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	dump, stderr = export()
	if !strings.Contains(dump, `"@context": "https://kept.example.org/context.jsonld"`) || !strings.Contains(dump, `"void:sparqlEndpoint": {"@id": "https://sparql.example.org/q"}`) {
		t.Errorf("the kept base and endpoint are not used:\n%s", stderr)
	}
	if dump, _ = export("--base", "http://127.0.0.1:9999"); !strings.Contains(dump, "http://127.0.0.1:9999/context.jsonld") {
		t.Error("--base does not win over the kept base")
	}
}

// TestLoopbackWarning: the bases that name this machine only are warned about.
func TestLoopbackWarning(t *testing.T) {
	for base, want := range map[string]bool{
		"http://localhost:8080": true, "http://127.0.0.1:8080": true, "http://[::1]:8080": true,
		"http://0.0.0.0:8080": true, "http://annals.localhost": true, "http://127.1.2.3": true,
		"https://annals.example.org": false, "http://10.0.0.5:8080": false, "https://localhost.example.org": false,
	} {
		if got := loopbackWarning(base) != ""; got != want {
			t.Errorf("loopbackWarning(%q) = %v, want %v", base, got, want)
		}
	}
}
