package main

import (
	"flag"
	"io"
	"os"
	"slices"
	"testing"
)

// TestParseFlagsInterspersed: flags may stand before, between and after the
// file names; "--" makes everything after it a file name.
func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args      []string
		db        string
		dryRun    bool
		wantFiles []string
	}{
		{[]string{"a.txt", "b.txt"}, "annals.db", false, []string{"a.txt", "b.txt"}},
		{[]string{"--db", "x.db", "a.txt"}, "x.db", false, []string{"a.txt"}},
		{[]string{"a.txt", "--db", "x.db", "b.txt", "--dry-run"}, "x.db", true, []string{"a.txt", "b.txt"}},
		{[]string{"a.txt", "--db=x.db"}, "x.db", false, []string{"a.txt"}},
		{[]string{"--dry-run", "--", "-odd.txt", "--db"}, "annals.db", true, []string{"-odd.txt", "--db"}},
		{[]string{"a.txt", "--", "--dry-run"}, "annals.db", false, []string{"a.txt", "--dry-run"}},
		{[]string{"-", "--dry-run"}, "annals.db", true, []string{"-"}},
		{nil, "annals.db", false, nil},
	}
	for _, name := range []string{"ANNALS_DB", "ANNALS_DRY_RUN"} {
		t.Setenv(name, "") // restored when the test ends
		os.Unsetenv(name)
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		db := fs.String("db", "annals.db", "database")
		dry := fs.Bool("dry-run", false, "dry run")
		if err := parseFlags(fs, tc.args); err != nil {
			t.Errorf("parseFlags(%q): %v", tc.args, err)
			continue
		}
		if *db != tc.db || *dry != tc.dryRun || !slices.Equal(fs.Args(), tc.wantFiles) {
			t.Errorf("parseFlags(%q): db %q, dry-run %v, files %q; want %q, %v, %q", tc.args, *db, *dry, fs.Args(), tc.db, tc.dryRun, tc.wantFiles)
		}
	}
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("db", "annals.db", "database")
	if err := parseFlags(fs, []string{"a.txt", "--nope"}); err == nil {
		t.Error("an unknown flag after a file name was accepted")
	}
}
