package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store/sqlite"
)

func TestGenUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"no events", []string{"--db", filepath.Join(dir, "a.db")}},
		{"too many events", []string{"--events", "100000001", "--db", filepath.Join(dir, "a.db")}},
		{"no destination", []string{"--events", "10"}},
		{"zero batch", []string{"--events", "10", "--batch", "0", "--db", filepath.Join(dir, "a.db")}},
		{"stray argument", []string{"--events", "10", "--out", dir, "extra"}},
	}
	t.Setenv("ANNALS_DB", "")
	os.Unsetenv("ANNALS_DB")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := genCmd(context.Background(), tt.args, io.Discard, &stderr)
			if !errors.Is(err, errUsage) {
				t.Errorf("genCmd(%q) = %v; want errUsage (stderr: %s)", tt.args, err, stderr.String())
			}
		})
	}
}

func TestGenOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	var stderr bytes.Buffer
	if err := genCmd(context.Background(), []string{"--events", "40", "--seed", "3", "--out", dir}, io.Discard, &stderr); err != nil {
		t.Fatalf("genCmd: %v\n%s", err, stderr.String())
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) != 40 {
		t.Fatalf("%d documents (%v); want 40", len(files), err)
	}
	if !strings.HasPrefix(filepath.Base(files[0]), "0000000_") {
		t.Errorf("first document is %s; want 0000000_…", files[0])
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ingest.Parse(filepath.Base(f), text)
		if err != nil {
			t.Fatalf("%s does not parse: %v", f, err)
		}
		if want := strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".txt"), "_", 2)[1]; doc.Event.Name != "events/"+want {
			t.Errorf("%s holds event %s", f, doc.Event.Name)
		}
	}
	// The same seed writes the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	if err := genCmd(context.Background(), []string{"--events", "40", "--seed", "3", "--out", again}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(again, filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (%v)", filepath.Base(f), err)
		}
	}
}

func TestGenDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gen.db")
	args := []string{"--events", "500", "--seed", "9", "--db", db, "--batch", "128", "--sources", "--log-level", "error"}
	var stderr bytes.Buffer
	if err := genCmd(context.Background(), args, io.Discard, &stderr); err != nil {
		t.Fatalf("genCmd: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "gen: wrote 500 events, 50 actors, 24 places and 500 sources") {
		t.Errorf("stderr lacks the summary line:\n%s", stderr.String())
	}
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := st.Stats(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The bundled dataset comes first, as with every command.
	if stats.Events < 500 || stats.Events > 520 || stats.Actors < 50 || stats.Places < 24 || stats.Sources < 500 {
		t.Errorf("stats %+v; want 500 synthetic events, 50 actors, 24 places and 500 sources beside the bundled dataset", stats)
	}
	// A database that already holds events is refused.
	if err := genCmd(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a second gen into the same database returned %v; want a refusal", err)
	}
}
