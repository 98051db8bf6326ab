// Package sqlite is the embedded default backend of the store: one SQLite
// file, written through modernc.org/sqlite (pure Go, no cgo).
//
// Each record is kept as its deterministic protobuf encoding beside the
// columns its queries need. Writes go through one connection, so they are
// serialised, and each is a transaction; reads use a pool of read-only
// connections and run concurrently with writes (WAL mode). Full-text search
// uses FTS5 with the unicode61 tokenizer, which ignores case and diacritics.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/annals-project/annals/store"
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// process before giving up with SQLITE_BUSY.
const busyTimeoutMS = 10000

// writerCacheKiB is the page cache of the writer connection, in KiB.
const writerCacheKiB = 64 << 10

// Store is a store.Store kept in one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only connections (the writer itself for ":memory:")
	log  *slog.Logger
	path string
	// ident is the file opened (nil for ":memory:"); gone is set once the
	// file at path is no longer it.
	ident os.FileInfo
	gone  atomic.Bool
	// sums and hasLog say whether the schema keeps checksums and the change
	// log (not in a read-only database of schema 2).
	sums, hasLog bool
	// gets holds the statement that reads one record by name, per table,
	// prepared once: preparing it on every Get was 15% of a GetEvent's
	// server CPU (BENCHMARKS.md, Scale).
	gets map[string]*sql.Stmt
	// bulk is the bulk load in progress, if any (BeginBulk).
	bulk atomic.Pointer[bulkLoad]
	// events keeps the encodings of the events read last (cache.go); nil
	// for ":memory:". writes counts this store's committed writes, which
	// empty it.
	events *eventCache
	writes atomic.Int64
	// lists holds ListEvents' statements, prepared once per text.
	lists stmtCache
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.Encoded    = (*Store)(nil)
	_ store.Checker    = (*Store)(nil)
	_ store.Bulk       = (*Store)(nil)
	_ store.MetaLister = (*Store)(nil)
)

// Open opens the database at path, creating the file and its schema if need
// be, and upgrading an older schema. The path ":memory:" gives a private
// in-memory database, for tests. A nil logger discards.
//
// A file that is not an Annals database (another application's SQLite
// file, or not SQLite at all), or one made by a newer Annals, is refused
// with an error wrapping store.ErrIncompatible and left untouched.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, errors.New("sqlite: open: empty database path")
	}
	memory := path == ":memory:"
	common := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"foreign_keys(1)",
		"synchronous(FULL)",
	}
	// The writer's page cache holds a large transaction's dirty pages, so
	// that they are written to the WAL once, at commit, rather than spilled
	// page by page as the default 2 MiB cache fills. Pages are allocated as
	// used: a small write costs no more memory than before.
	w, err := sql.Open("sqlite", dsn(path, memory, append(common, fmt.Sprintf("cache_size(%d)", -writerCacheKiB)), "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, r: w, log: logger, path: path}
	if !memory {
		if err := checkApplication(ctx, w, path); err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		mode, err := setWAL(ctx, w)
		if err != nil {
			if e := writeErr("", err); errors.Is(e, store.ErrReadOnly) {
				// A read-only database can still be read; writes will say why they fail.
				logger.Warn("sqlite: database is not writable; opened for reading", "path", path)
			} else {
				w.Close()
				return nil, fmt.Errorf("sqlite: open %s: set WAL mode: %w", path, err)
			}
		} else if !strings.EqualFold(mode, "wal") {
			logger.Warn("sqlite: WAL mode not available", "journal_mode", mode)
		}
	}
	version, err := migrate(ctx, w, logger)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.sums, s.hasLog = version >= 3, version >= 3
	var loading int
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM state WHERE key = ?", bulkMarker).Scan(&loading); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, readErr("read state", err))
	}
	if loading > 0 {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, errBulkLoading)
	}
	if !memory {
		if s.ident, err = os.Stat(path); err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	if !memory {
		r, err := sql.Open("sqlite", dsn(path, false, append(common, "query_only(1)")))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		s.r = r
		cdb, err := sql.Open("sqlite", dsn(path, false, append(common, "query_only(1)")))
		if err == nil {
			s.events, err = newEventCache(ctx, cdb, eventCacheBytes)
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	s.gets = make(map[string]*sql.Stmt, 4)
	for _, table := range []string{"events", "actors", "places", "sources"} {
		st, err := s.r.PrepareContext(ctx, "SELECT data, "+s.sumColumn(table)+" FROM "+table+" WHERE name = ?")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
		}
		s.gets[table] = st
	}
	logger.Debug("sqlite: opened", "path", path, "schema_version", schemaVersion)
	return s, nil
}

// sumColumn is the checksum column of table as a select list item: NULL
// when the schema has none.
func (s *Store) sumColumn(table string) string {
	if !s.sums {
		return "NULL"
	}
	return table + ".sum"
}

// dsn builds a modernc.org/sqlite data source name for path.
func dsn(path string, memory bool, pragmas []string, extra ...string) string {
	var q []string
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra...)
	name := ":memory:"
	if !memory {
		// A file: URI, so that no character of the path is read as a parameter.
		name = "file:" + (&url.URL{Path: path}).EscapedPath()
		if strings.HasPrefix(name, "file://") { // "//x" would name a host
			name = "file:" + (&url.URL{Path: "/." + path}).EscapedPath()
		}
	}
	return name + "?" + strings.Join(q, "&")
}

// SetWriterCache sets the page cache of the writer connection to mib MiB; 0
// or less restores the default (64 MiB). A bulk load of many large batches
// into a large archive (annals gen --cache) may gain from a cache that also
// holds the index pages the batches touch, read once instead of again for
// every batch. The memory is taken only as pages are read or written, and
// kept until Close.
func (s *Store) SetWriterCache(ctx context.Context, mib int) error {
	kib := writerCacheKiB
	if mib > 0 {
		kib = mib << 10
	}
	// PRAGMA takes no parameters; kib is an integer we control.
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -kib)); err != nil {
		return fmt.Errorf("sqlite: set writer cache: %w", err)
	}
	return nil
}

// Close closes the database. It lets SQLite refresh its query statistics first.
func (s *Store) Close() error {
	if _, err := s.w.Exec("PRAGMA optimize"); err != nil {
		s.log.Debug("sqlite: optimize on close failed", "err", err)
	}
	var errs []error
	for _, st := range s.gets {
		errs = append(errs, st.Close())
	}
	if s.events != nil {
		errs = append(errs, s.events.close())
	}
	s.lists.close()
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// writeErr wraps err from a write with op, and marks the errors that mean
// the database cannot be written with store.ErrReadOnly.
func writeErr(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("%s: %w (%w)", op, store.ErrReadOnly, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%s: %w: another process holds the database's write lock; try again (%w)", op, store.ErrUnavailable, err)
		}
	}
	return readErr(op, err)
}

// setWAL switches the database to WAL mode. Switching needs an exclusive
// lock for which SQLite does not call the busy handler, so when another
// process (or store) opens the same new file at the same moment the switch
// can fail with "database is locked": it is retried for up to the busy
// timeout.
func setWAL(ctx context.Context, w *sql.DB) (string, error) {
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	for {
		var mode string
		err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		var se *sqlite.Error
		busy := errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
		if !busy || time.Now().After(deadline) {
			return mode, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
