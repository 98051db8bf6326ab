package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
)

// readmeLimits are the rows of README.md's Limits table: the first cell and
// the first `code` of the second (the default).
func readmeLimits(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := regexp.MustCompile("`([^`]*)`")
	rows := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Limits"
		case in && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) != 3 {
				t.Errorf("Limits row %q has %d cells, want 3", line, len(cells))
				continue
			}
			name := strings.TrimSpace(cells[0])
			if name == "limit" || strings.HasPrefix(name, "---") {
				continue
			}
			if strings.TrimSpace(cells[2]) == "" {
				t.Errorf("Limits row %q does not say what the client gets past it", name)
			}
			m := code.FindStringSubmatch(cells[1])
			if m == nil {
				t.Errorf("Limits row %q has no `default`", name)
				continue
			}
			if _, dup := rows[name]; dup {
				t.Errorf("Limits row %q twice", name)
			}
			rows[name] = m[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// parseLimit reads a README default: a Go duration ("30s", "2m") or a
// count or size ("256", "500 B", "64 KiB", "4 MiB").
func parseLimit(s string) (any, error) {
	if d, err := time.ParseDuration(s); err == nil && strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0 {
		return d, nil
	}
	num, unit, _ := strings.Cut(s, " ")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a duration nor a size", s)
	}
	switch unit {
	case "", "B":
	case "KiB":
		n <<= 10
	case "MiB":
		n <<= 20
	default:
		return nil, fmt.Errorf("%q: unknown unit %q", s, unit)
	}
	return n, nil
}

// TestReadmeLimitsMatchCode compares every default in README.md's Limits
// table with the constant the code uses, both ways: a row without a
// constant, or a constant without a row, fails too.
func TestReadmeLimitsMatchCode(t *testing.T) {
	want := map[string]any{
		"gRPC request size":                                 int64(server.DefaultMaxRecvMsgBytes),
		"gRPC response size":                                int64(server.DefaultMaxSendMsgBytes),
		"RPCs open at once on one gRPC connection":          int64(server.DefaultMaxConcurrentStreams),
		"keepalive: shortest interval between client pings": server.KeepaliveMinPingInterval,
		"keepalive: a silent connection is pinged after":    server.KeepaliveIdlePing,
		"keepalive: the ping must be answered within":       server.KeepalivePingTimeout,
		"deadline of an RPC that comes without one":         server.DefaultTimeout,
		"default page size":                                 int64(server.DefaultPageSize),
		"largest page size":                                 int64(server.MaxPageSize),
		"document size (ImportDocument, `annals ingest`)":   int64(ingest.MaxDocumentBytes),
		"full-text query":                                   int64(server.MaxQueryBytes),
		"different words in a full-text query":              int64(server.MaxQueryWords),
		"ImportDocument filename":                           int64(server.MaxFilenameBytes),
		"whole-archive exports running at once":             int64(server.DefaultMaxConcurrentExports),
		"memory of the List answers in flight":              int64(server.DefaultMaxListBytes),
		"a server stream whose client reads nothing":        server.DefaultStreamStallTimeout,
		"import token length":                               int64(server.MinImportTokenBytes),
		"HTTP request line and headers":                     int64(server.HTTPMaxHeaderBytes),
		"HTTP time to send the request headers":             server.HTTPReadHeaderTimeout,
		"HTTP time to send the whole request":               server.HTTPReadTimeout,
		"HTTP time to write a response":                     server.HTTPWriteTimeout,
		"HTTP idle keep-alive connection":                   server.HTTPIdleTimeout,
	}
	rows := readmeLimits(t)
	if len(rows) == 0 {
		t.Fatal("README.md has no Limits table")
	}
	for name, w := range want {
		got, ok := rows[name]
		if !ok {
			t.Errorf("README.md's Limits table lacks %q (default %v)", name, w)
			continue
		}
		v, err := parseLimit(got)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if v != w {
			t.Errorf("%s: README says %s (%v), the code %v", name, got, v, w)
		}
	}
	for name := range rows {
		if _, ok := want[name]; !ok {
			t.Errorf("README.md's Limits table has %q, which this test does not know: add its constant here", name)
		}
	}
}

// TestDefaultTimeoutFlag: --default-timeout defaults to server.DefaultTimeout.
func TestDefaultTimeoutFlag(t *testing.T) {
	var out strings.Builder
	if code := run(t.Context(), []string{"help", "serve"}, &out, &out); code != 0 {
		t.Fatalf("annals help serve: %d\n%s", code, &out)
	}
	want := fmt.Sprintf("--default-timeout  [ANNALS_DEFAULT_TIMEOUT]\n      deadline for RPCs that arrive without one (a duration such as 30s) (default %q)", server.DefaultTimeout.String())
	if !strings.Contains(out.String(), want) {
		t.Errorf("annals help serve lacks\n%s\nin\n%s", want, &out)
	}
}
