package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/annals-project/annals/store"
	rec "github.com/annals-project/annals/store/record"
)

// checksum is the CRC-32C kept with a record's stored bytes.
func checksum(data []byte) int64 { return rec.Checksum(data) }

// verify checks a record's stored bytes against the checksum kept with them
// (none is kept in a read-only database of schema 2).
func verify(name string, data []byte, sum sql.NullInt64) error {
	if !sum.Valid {
		return nil
	}
	return rec.Verify(name, data, sum.Int64)
}

// ftsText is what the full-text index holds of a text (see record.Text).
func ftsText(s string) string { return rec.Text(s) }

// readErr wraps err from a read with op, and marks the errors that mean
// the database cannot be read now (locked, I/O) with store.ErrUnavailable
// and those that mean its file is damaged with store.ErrDataLoss.
func readErr(op string, err error) error {
	wrap := func(sentinel error) error {
		if op == "" {
			return fmt.Errorf("%w (%w)", sentinel, err)
		}
		return fmt.Errorf("%s: %w (%w)", op, sentinel, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PROTOCOL:
			return wrap(store.ErrUnavailable)
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return wrap(store.ErrDataLoss)
		}
	}
	if op == "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errReplaced is why a store whose file was replaced or removed refuses work.
var errReplaced = fmt.Errorf("%w: the database file was replaced or removed while Annals had it open; nothing more is read from or written to it: restart Annals to open the file now at that path", store.ErrUnavailable)

// usable returns an error once the file was seen replaced.
func (s *Store) usable() error {
	if s.gone.Load() {
		return errReplaced
	}
	return nil
}

// checkIdentity compares the file at the store's path with the one it
// opened (device and inode). A file replaced (renamed over, copied to
// another inode) or removed marks the store unusable for good.
func (s *Store) checkIdentity() error {
	if s.ident == nil {
		return s.usable()
	}
	fi, err := os.Stat(s.path)
	if err != nil || !os.SameFile(fi, s.ident) {
		if !s.gone.Swap(true) {
			s.log.Error("sqlite: the database file was replaced or removed while open; refusing reads and writes until restart",
				"path", s.path, "err", err)
		}
		return errReplaced
	}
	return nil
}

// Check reports whether the store can serve: nil, or an error wrapping
// store.ErrUnavailable when its file was replaced or removed, or the
// database does not answer. It implements store.Checker.
func (s *Store) Check(ctx context.Context) error {
	if err := s.checkIdentity(); err != nil {
		return err
	}
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1 FROM meta LIMIT 1").Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return readErr("sqlite: check", err)
	}
	return nil
}

// querier is what reads need of a connection pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Changes returns entries of the change log after the sequence number after.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.LogEntry, error) {
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	if !s.hasLog {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT seq, name, kind, time, etag FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
		after, pageLimit(min(limit, maxLimit)))
	if err != nil {
		return nil, readErr("sqlite: changes", err)
	}
	defer rows.Close()
	var out []store.LogEntry
	for rows.Next() {
		var e store.LogEntry
		var kind int64
		if err := rows.Scan(&e.Seq, &e.Name, &kind, &e.Time, &e.Etag); err != nil {
			return nil, readErr("sqlite: changes", err)
		}
		e.Kind = store.ChangeKind(kind)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, readErr("sqlite: changes", err)
	}
	return out, nil
}

// LastSeq returns the sequence number of the newest change log entry.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	if err := s.usable(); err != nil {
		return 0, fmt.Errorf("sqlite: last change: %w", err)
	}
	if !s.hasLog {
		return 0, nil
	}
	var seq int64
	if err := s.r.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM changes").Scan(&seq); err != nil {
		return 0, readErr("sqlite: last change", err)
	}
	return seq, nil
}
