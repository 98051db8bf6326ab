package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/annals-project/annals/store/postgres/pgtest"
)

// pgServer starts a throwaway PostgreSQL cluster for scripts/bench with
// durable settings (fsync on, as SQLite's synchronous=FULL is), creates
// the named databases, writes their URLs and the postmaster's pid as shell
// assignments to --out, and runs until it is signalled; then it stops the
// cluster and removes its files.
func pgServer(ctx context.Context, args []string) error {
	fs := newFlags("pgserver")
	out := fs.String("out", "", "file to write PG_<NAME>=URL and PG_PID=PID lines to")
	dbs := fs.String("databases", "small,large", "databases to create, comma-separated")
	sharedBuffers := fs.String("shared-buffers", "512MB", "PostgreSQL shared_buffers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	c, err := pgtest.StartCluster(ctx, "fsync=on", "synchronous_commit=on", "shared_buffers="+*sharedBuffers,
		"max_wal_size=4GB", "checkpoint_timeout=15min", "log_min_messages=warning")
	if err != nil {
		return err
	}
	defer c.Close()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, db := range strings.Split(*dbs, ",") {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			conn.Close(ctx)
			return err
		}
		fmt.Fprintf(&b, "PG_%s=%s\n", strings.ToUpper(db), c.DSN(db))
	}
	conn.Close(ctx)
	fmt.Fprintf(&b, "PG_PID=%d\n", c.PID())
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pgserver: PostgreSQL on 127.0.0.1:%d, pid %d\n", c.Port, c.PID())
	<-ctx.Done()
	return nil
}
