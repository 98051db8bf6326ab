// Package backend opens the store a command names: a PostgreSQL database
// for a postgres:// or postgresql:// URL, else a SQLite file at that path.
// Every command (serve, ingest, export, gen, copy) opens its store here, so
// nothing above store/ knows which database it talks to.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/postgres"
	"github.com/annals-project/annals/store/sqlite"
)

// Options configure Open.
type Options struct {
	// Logger receives the stores' own messages; nil discards them.
	Logger *slog.Logger
	// Replica is a PostgreSQL URL of a streaming standby of db: reads go to
	// it, writes to db. Empty sends everything to db.
	Replica string
	// MaxConns is the most connections each PostgreSQL pool opens (0: the
	// driver's default).
	MaxConns int32
}

// IsPostgres reports whether db names a PostgreSQL database.
func IsPostgres(db string) bool { return postgres.IsDSN(db) }

// Redact returns db as it may be shown in logs and messages: a PostgreSQL
// URL without its password, a path as it is.
func Redact(db string) string {
	if IsPostgres(db) {
		return postgres.Redact(db)
	}
	return db
}

// Open opens the store db names; see the package comment.
func Open(ctx context.Context, db string, opts Options) (store.Store, error) {
	if !IsPostgres(db) {
		if opts.Replica != "" {
			return nil, errors.New("a read replica (--db-replica) needs a PostgreSQL --db (postgres://…)")
		}
		return sqlite.Open(ctx, db, opts.Logger)
	}
	primary, err := postgres.Open(ctx, db, postgres.Options{Logger: opts.Logger, MaxConns: opts.MaxConns})
	if err != nil {
		return nil, err
	}
	if opts.Replica == "" {
		return primary, nil
	}
	if !IsPostgres(opts.Replica) {
		primary.Close()
		return nil, fmt.Errorf("--db-replica %q: want a PostgreSQL URL (postgres://…)", Redact(opts.Replica))
	}
	replica, err := postgres.Open(ctx, opts.Replica, postgres.Options{Logger: opts.Logger, MaxConns: opts.MaxConns})
	if err != nil {
		primary.Close()
		return nil, fmt.Errorf("replica: %w", err)
	}
	return NewRouter(primary, replica, opts.Logger), nil
}
