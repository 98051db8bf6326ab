// Package postgres is the store backend for many stateless annals serve
// replicas over one shared PostgreSQL database (a primary and, for reads,
// streaming standbys), through pgx and its pool.
//
// The schema mirrors store/sqlite's: each record is kept as its
// deterministic protobuf encoding with a CRC-32C checked on every read,
// beside the columns its queries need; join tables list an actor's and a
// place's events in date order; the change log is a table written in the
// same transaction as the records.
//
// Writers are serialised in commit order: every Update takes one
// transaction-level advisory lock as its first statement, so that fn's
// reads see every earlier commit (READ COMMITTED) and change-log sequence
// numbers are assigned in commit order, by every process using the
// database. A transaction that loses to a serialization failure, a
// deadlock or a connection lost before its COMMIT is sent is run again
// (fn included), a bounded number of times; one whose COMMIT was sent but
// not answered is never retried, and fails with store.ErrUnavailable.
//
// Full text has the meaning package textfold gives it, exactly as in
// store/sqlite: each indexed row keeps its folded words, field by field
// ("words"), and a tsvector of them built without PostgreSQL's parser or
// dictionaries (array_to_tsvector), indexed with GIN. A query requires
// every word of every term in the tsvector (a prefix term's last word with
// :*), and a term of several words (a run of Han or kana characters) as a
// phrase of the folded words of one field (LIKE on "words").
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/annals-project/annals/store"
)

// Options configure Open.
type Options struct {
	// Logger receives the store's own messages; nil discards them.
	Logger *slog.Logger
	// MaxConns is the most connections the pool opens; 0 is pgxpool's
	// default (the larger of 4 and the number of CPUs).
	MaxConns int32
}

// Store is a store.Store kept in a PostgreSQL database. It is safe for
// concurrent use, by any number of processes at once.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// standby says whether the database is a hot standby (read-only).
	standby bool
	// bulk is set between BeginBulk and its end.
	bulk atomic.Bool
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Encoded = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// IsDSN reports whether s is a PostgreSQL connection URL (postgres:// or
// postgresql://), as opposed to the path of a SQLite file.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns dsn with its password, if any, replaced by "xxxxx", for
// logs and messages.
func Redact(dsn string) string {
	if !IsDSN(dsn) {
		// key=value pairs: password=secret, or password='se cret'.
		return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// Not a URL we can take apart: show only the scheme.
		if i := strings.Index(dsn, "://"); i > 0 {
			return dsn[:i+3] + "(unparsable; hidden)"
		}
		return "(hidden)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Open connects to the database dsn names (a postgres:// or postgresql://
// URL, or key=value pairs) and brings its schema up to date, creating it
// in an empty database. When several processes open the same database at
// once, exactly one migrates and the others wait for it (an advisory
// lock). A standby is not migrated: Open waits (as long as ctx allows, at
// most a minute) until it has replayed its primary's current schema.
//
// A database made by a newer Annals, or holding tables of another
// application, is refused with an error wrapping store.ErrIncompatible; one
// that cannot be reached, with store.ErrUnavailable. No error carries the
// password.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks passwords in its parse errors only on a best-effort
		// basis: say what is wrong without repeating the string.
		return nil, fmt.Errorf("postgres: open %s: not a valid connection string", Redact(dsn))
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cc := cfg.ConnConfig
	cc.RuntimeParams["application_name"] = "annals"
	// Every query is planned for its arguments: a full-text query for a
	// common word and one for a rare word want different plans.
	cc.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	cc.RuntimeParams["timezone"] = "UTC"
	// A call whose context ends cancels its statement on the server (the
	// RPC deadline is the statement's time limit) and keeps the connection.
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: 2 * time.Second}
	}
	cc.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), classify(ctx, err))
	}
	s := &Store{pool: pool, log: log}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), err)
	}
	log.Debug("postgres: opened", "db", Redact(dsn), "schema_version", schemaVersion, "standby", s.standby, "max_conns", cfg.MaxConns)
	return s, nil
}

// init finds out whether the database is a standby and migrates it or
// waits for its schema.
func (s *Store) init(ctx context.Context) error {
	if err := s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&s.standby); err != nil {
		return classify(ctx, err)
	}
	if s.standby {
		return s.awaitSchema(ctx)
	}
	return s.migrate(ctx)
}

// Close closes the pool's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Standby reports whether the database is a hot standby, which serves reads only.
func (s *Store) Standby() bool { return s.standby }

// Check reports whether the store can serve: nil, or an error wrapping
// store.ErrUnavailable. It implements store.Checker.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: check: %w", classify(ctx, err))
	}
	return nil
}

// classify marks the errors that mean the database cannot answer now but
// may later (unreachable, restarting, shutting down, a standby asked to
// write, a transaction that lost to another) with store.ErrUnavailable, a
// full disk with store.ErrReadOnly, and a statement stopped because ctx
// ended with ctx's error.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ce := ctx.Err(); ce != nil {
		if errors.Is(err, ce) {
			return err
		}
		return fmt.Errorf("%w (%w)", ce, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57014": // query_canceled: our statement_timeout, from the deadline
			return fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		case pe.Code == "53100": // disk_full
			return fmt.Errorf("%w (%w)", store.ErrReadOnly, err)
		case strings.HasPrefix(pe.Code, "08"), // connection exceptions
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // admin or crash shutdown, cannot connect now
			pe.Code == "57P04",                     // database dropped
			pe.Code == "53300", pe.Code == "53200", // too many connections, out of memory
			pe.Code == "25006",                     // read-only transaction: a standby, or a primary being demoted
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock (after retries)
			pe.Code == "55P03", // lock not available
			pe.Code == "58030": // I/O error
			return fmt.Errorf("%w (%w)", store.ErrUnavailable, err)
		}
		return err
	}
	if connectionLost(err) {
		return fmt.Errorf("%w (%w)", store.ErrUnavailable, err)
	}
	return err
}

// connectionLost reports whether err means the connection to the server
// failed or could not be made.
func connectionLost(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}

// retryable reports whether a transaction that failed with err before its
// COMMIT was sent may run again: it lost to another transaction, or its
// connection failed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	return connectionLost(err)
}

// sqlErr wraps err from a query with op, classified.
func sqlErr(ctx context.Context, op string, err error) error {
	return fmt.Errorf("%s: %w", op, classify(ctx, err))
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read runs a read, once more when its connection was found broken (a
// pooled connection to a server that restarted): reads are idempotent.
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	err := fn(s.pool)
	if err != nil && ctx.Err() == nil && connectionLost(err) {
		err = fn(s.pool)
	}
	return err
}
