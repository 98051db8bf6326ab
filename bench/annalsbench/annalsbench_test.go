package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSplitTTL cuts a small Turtle document into parts: every part after
// the first starts with the @prefix lines, parts end where statements end,
// and the parts hold the document's statements once each, in order.
func TestSplitTTL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ttl")
	var b strings.Builder
	b.WriteString("@prefix ex:\t<http://example.org/> .\nex:\tex:p\t\"ex\" .\n")
	for i := range 50 {
		b.WriteString("ex:s" + strings.Repeat("x", i%7) + "\tex:p\t\"a\" ,\n\t\t\t\"b\" ;\n\tex:q\tex:o .\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	devnull, _ := os.Open(os.DevNull)
	os.Stdout = devnull
	err := splitTTL(t.Context(), []string{"--max", "200", path})
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(path + ".part*")
	if len(parts) < 5 {
		t.Fatalf("%d parts; want several", len(parts))
	}
	var rebuilt strings.Builder
	for i := 1; i <= len(parts); i++ {
		data, err := os.ReadFile(path + ".part" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if i > 1 {
			const prefix = "@prefix ex:\t<http://example.org/> .\n"
			if !strings.HasPrefix(s, prefix) {
				t.Fatalf("part %d does not start with the prefixes: %q", i, s[:min(len(s), 60)])
			}
			s = strings.TrimPrefix(s, prefix)
			if !strings.HasPrefix(s, "ex:s") {
				t.Errorf("part %d starts inside a statement: %q", i, s[:min(len(s), 40)])
			}
		}
		rebuilt.WriteString(s)
	}
	if rebuilt.String() != b.String() {
		t.Error("the parts do not add up to the document")
	}
}

// TestReportParsers reads what /usr/bin/time -v, rapper and dd print.
func TestReportParsers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("x.time", "\tUser time (seconds): 53.96\n\tSystem time (seconds): 47.34\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:09.28\n\tMaximum resident set size (kbytes): 53016\n\tExit status: 0\n")
	write("y.time", "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5\n\tExit status: 1\n")
	write("r.log", "rapper: Parsing returned 13544258 triples\nrapper: Parsing URI x\nrapper: Parsing returned 1086859 triples\n")
	write("dd.log", "4096+0 records out\n4294967296 bytes (4.3 GB, 4.0 GiB) copied, 12.146 s, 354 MB/s\n")
	r := &reporter{dir: dir}
	x := r.timeV("x.time")
	if x == nil || x.WallS != 69.28 || math.Abs(x.CPUS-101.3) > 1e-9 || x.Exit != 0 || x.RSSMB < 51.7 || x.RSSMB > 51.8 {
		t.Errorf("timeV(x) = %+v", x)
	}
	if y := r.timeV("y.time"); y == nil || y.WallS != 3723.5 || y.Exit != 1 {
		t.Errorf("timeV(y) = %+v", y)
	}
	if n, parts := r.sumNum("r.log", reRapperTriples); n != 13544258+1086859 || parts != 2 {
		t.Errorf("sumNum = %v, %d", n, parts)
	}
	if bps, ok := r.diskBytesPerS(); !ok || bps < 3.53e8 || bps > 3.54e8 {
		t.Errorf("diskBytesPerS = %v, %v", bps, ok)
	}
	if got := num(1234567.4); got != "1 234 567" {
		t.Errorf("num = %q", got)
	}
}
