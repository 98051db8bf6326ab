package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store/postgres/pgtest"
)

// TestReadmePostgres runs the commands of the README's "Run on
// PostgreSQL" section as written, on a PostgreSQL cluster and a standby of
// its own standing in for 127.0.0.1:5432 and 127.0.0.1:5433: psql as the
// superuser, then the annals commands (annals serve until it serves and
// answers, then SIGTERM).
func TestReadmePostgres(t *testing.T) {
	skipUnlessLong(t)
	var lines []string
	for _, c := range readmeSection(t, "## Run on PostgreSQL") {
		lines = append(lines, c.line)
	}
	if len(lines) < 5 {
		t.Fatalf("the README's Run on PostgreSQL section has %d command lines", len(lines))
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	pgBin, err := pgtest.Bin()
	if err != nil {
		pgtest.Required(t, err)
	}
	ctx := t.Context()
	primary := pgtest.NewCluster(t)
	var standby *pgtest.Cluster
	dir := t.TempDir()
	// annals.db, which the section copies from.
	var out bytes.Buffer
	if code := run(ctx, []string{"ingest", "--db", filepath.Join(dir, "annals.db"), filepath.Join("testdata", "ingest", "harbour.txt")}, &out, &out); code != 0 {
		t.Fatalf("ingest: %s", out.String())
	}
	ports := strings.NewReplacer("127.0.0.1:5432", "127.0.0.1:"+strconv.Itoa(primary.Port))
	env := map[string]string{}
	environ := func() []string {
		e := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+pgBin+":"+os.Getenv("PATH"),
			"PGHOST=127.0.0.1", "PGPORT="+strconv.Itoa(primary.Port), "PGUSER=postgres",
			"ANNALS_GRPC_ADDR=127.0.0.1:0", "ANNALS_HTTP_ADDR=127.0.0.1:0", "ANNALS_IMPORT_TOKEN="+e2eToken)
		for k, v := range env {
			e = append(e, k+"="+v)
		}
		return e
	}
	served := 0
	for _, line := range lines {
		if standby != nil {
			ports = strings.NewReplacer("127.0.0.1:5432", "127.0.0.1:"+strconv.Itoa(primary.Port), "127.0.0.1:5433", "127.0.0.1:"+strconv.Itoa(standby.Port))
		}
		words, err := shellWords(ports.Replace(line), func(name string) (string, bool) { v, ok := env[name]; return v, ok })
		if err != nil {
			t.Fatalf("README line %q: %v", line, err)
		}
		switch words[0] {
		case "export":
			k, v, _ := strings.Cut(words[1], "=")
			env[k] = v
			continue
		case "psql", "annals":
		default:
			t.Fatalf("README line %q: the test does not know how to run %s", line, words[0])
		}
		if len(words) > 1 && words[0] == "annals" && words[1] == "serve" {
			if strings.Contains(line, "--db-replica") && standby == nil {
				if standby, err = primary.Standby(ctx); err != nil {
					t.Fatalf("start a standby: %v", err)
				}
				ports = strings.NewReplacer("127.0.0.1:5432", "127.0.0.1:"+strconv.Itoa(primary.Port), "127.0.0.1:5433", "127.0.0.1:"+strconv.Itoa(standby.Port))
				words, _ = shellWords(ports.Replace(line), func(name string) (string, bool) { v, ok := env[name]; return v, ok })
			}
			readmeServe(t, words[2:], environ())
			served++
			continue
		}
		prog := words[0]
		if prog == "annals" {
			prog = bin
		}
		cmd := exec.CommandContext(ctx, prog, words[1:]...)
		cmd.Dir, cmd.Env = dir, environ()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README line %q: %v\n%s", line, err, b)
		} else if strings.Contains(string(b), "secret") {
			t.Errorf("README line %q printed the password:\n%s", line, b)
		}
	}
	if served < 2 {
		t.Errorf("the section starts annals serve %d times; want with and without --db-replica", served)
	}
	if fi, err := os.Stat(filepath.Join(dir, "archive.nt")); err != nil || fi.Size() < 1000 {
		t.Errorf("archive.nt after the README's export: %v", err)
	}
}

// readmeServe runs annals serve with args until it serves the copied
// archive (the harbour charter), then stops it with SIGTERM.
func readmeServe(t *testing.T, args, env []string) {
	t.Helper()
	d := startServeArgs(t, args, env[len(os.Environ()):]...)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c := annalsv1.NewArchiveServiceClient(conn)
	if _, err := c.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/alder-bexley-harbour-charter"}); err != nil {
		t.Errorf("annals serve %v: GetEvent of the copied record: %v\n%s", args, err, d.Logs())
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("annals serve %v: exit %d after SIGTERM", args, code)
	}
	if strings.Contains(d.Logs(), "secret") {
		t.Errorf("annals serve %v logged the password", args)
	}
}
