package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/annals-project/annals/store"
)

// migrations bring the schema from version i (PRAGMA user_version) to i+1.
// Append to the list; never edit a migration that has shipped.
var migrations = []migration{
	// 0 -> 1: the first schema.
	{sql: `
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	data        BLOB NOT NULL,          -- deterministic protobuf of annals.v1.Event
	date_lo     INTEGER NOT NULL,       -- histdate.Key of the first day of the span
	date_hi     INTEGER NOT NULL,       -- histdate.Key of the last day of the span
	month       INTEGER,                -- the start date's month when known (precision >= MONTH)
	day         INTEGER,                -- the start date's day when known (precision DAY)
	wikidata_id TEXT                    -- NULL when not linked
);
CREATE INDEX events_by_start ON events(date_lo, name);
CREATE INDEX events_by_month_day ON events(month, day, date_lo, name);
CREATE INDEX events_by_wikidata_id ON events(wikidata_id) WHERE wikidata_id IS NOT NULL;

-- The join tables repeat the event's date_lo and name so that a list of one
-- actor's (place's) events is a range of the primary key, already in order.
CREATE TABLE event_actor (
	actor    TEXT NOT NULL,
	date_lo  INTEGER NOT NULL,
	name     TEXT NOT NULL,
	event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
	PRIMARY KEY (actor, date_lo, name)
) WITHOUT ROWID;
CREATE INDEX event_actor_by_event ON event_actor(event_id, actor);

CREATE TABLE event_place (
	place    TEXT NOT NULL,
	date_lo  INTEGER NOT NULL,
	name     TEXT NOT NULL,
	event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
	PRIMARY KEY (place, date_lo, name)
) WITHOUT ROWID;
CREATE INDEX event_place_by_event ON event_place(event_id, place);

CREATE TABLE actors (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	data        BLOB NOT NULL,
	kind        INTEGER NOT NULL,
	wikidata_id TEXT
);
CREATE INDEX actors_by_kind ON actors(kind, name);
CREATE INDEX actors_by_wikidata_id ON actors(wikidata_id, name) WHERE wikidata_id IS NOT NULL;

CREATE TABLE places (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	data        BLOB NOT NULL,
	wikidata_id TEXT
);
CREATE INDEX places_by_wikidata_id ON places(wikidata_id, name) WHERE wikidata_id IS NOT NULL;

CREATE TABLE sources (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	data BLOB NOT NULL
);

-- resource.MatchKey of every label and alias of actors and places.
CREATE TABLE match_keys (
	kind TEXT NOT NULL,
	key  TEXT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (kind, key, name)
) WITHOUT ROWID;
CREATE INDEX match_keys_by_name ON match_keys(name);

-- Values callers keep with Meta and SetMeta.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- The backend's own bookkeeping: last_modified (Unix ns) and max_event_span
-- (the widest date_hi - date_lo ever stored, a bound that lets a range query
-- with only a lower end use the date_lo index).
CREATE TABLE state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE VIRTUAL TABLE events_fts USING fts5(
	labels, summary, body,
	content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE VIRTUAL TABLE actors_fts USING fts5(
	labels, aliases, description,
	content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE VIRTUAL TABLE places_fts USING fts5(
	labels, aliases, description,
	content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
`},
	// 1 -> 2: the date index holds date_hi, so that a range query passes
	// over an event that ends before the range without reading its row;
	// events longer than about a year (read.go's shortSpan) get an index of
	// their own, so that a range query walks at most a year of short events
	// before its start.
	{sql: `
DROP INDEX events_by_start;
CREATE INDEX events_by_start ON events(date_lo, name, date_hi);
CREATE INDEX events_by_start_long ON events(date_lo, name, date_hi) WHERE date_hi - date_lo > 10000;
`},
	// 2 -> 3: the change log; a checksum kept with every stored record; the
	// file marked as an Annals database; match keys and full-text rows
	// rebuilt with package textfold's folding (names in every script, and
	// runs of Han and kana searchable by substring); the log filled with
	// one entry per record already stored.
	{sql: `
PRAGMA application_id = ` + applicationIDString + `;
CREATE TABLE changes (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
	name TEXT NOT NULL,
	kind INTEGER NOT NULL,                  -- annals.v1.ChangeKind
	time INTEGER NOT NULL,                  -- Unix ns: the record's update_time
	etag TEXT NOT NULL                      -- '' for a deletion
);
ALTER TABLE events ADD COLUMN sum INTEGER;  -- CRC-32C of data
ALTER TABLE actors ADD COLUMN sum INTEGER;
ALTER TABLE places ADD COLUMN sum INTEGER;
ALTER TABLE sources ADD COLUMN sum INTEGER;
`, fn: reindex},
	// 3 -> 4: full-text postings in date order. Each event gets an order
	// key that sorts as (date_lo, name) (order.go), the rowid of its
	// full-text row, so that a page of the earliest matches of a common
	// word reads a page of postings rather than every match. The full-text
	// tables split their text only at spaces and ASCII punctuation
	// (tokenizer ascii): the text they are given is package textfold's
	// words, one space apart, and these are its words exactly.
	{sql: `
CREATE TABLE event_order (
	key INTEGER PRIMARY KEY,          -- the rowid of the event's row of events_fts
	id  INTEGER NOT NULL UNIQUE       -- events.id
);
DROP TABLE events_fts;
DROP TABLE actors_fts;
DROP TABLE places_fts;
CREATE VIRTUAL TABLE events_fts USING fts5(
	labels, summary, body,
	content='', contentless_delete=1,
	tokenize='ascii', prefix='2 3'
);
CREATE VIRTUAL TABLE actors_fts USING fts5(
	labels, aliases, description,
	content='', contentless_delete=1,
	tokenize='ascii', prefix='2 3'
);
CREATE VIRTUAL TABLE places_fts USING fts5(
	labels, aliases, description,
	content='', contentless_delete=1,
	tokenize='ascii', prefix='2 3'
);
`, fn: reorder},
}

// migration is one step of the schema: SQL, then Go code, in one transaction.
type migration struct {
	sql string
	fn  func(ctx context.Context, tx *sql.Tx, log *slog.Logger) error
}

// schemaVersion is the user_version of a database this code fully understands.
var schemaVersion = len(migrations)

// applicationID marks a SQLite file as an Annals database (PRAGMA
// application_id): "ANNL".
const (
	applicationID       = 0x414E4E4C
	applicationIDString = "1095650892"
)

// checkApplication refuses a file that is not an Annals database: one marked
// by another application, or unmarked but holding tables of its own. An
// empty file, and an unmarked file of an Annals schema from before the mark
// (version 1 or 2, with its tables), are accepted. It reads only, so that a
// foreign file is left exactly as it was.
func checkApplication(ctx context.Context, db *sql.DB, path string) error {
	var id, v, objects int64
	err := db.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)`).Scan(&id, &v, &objects)
	if err != nil {
		if e := readErr("", err); errors.Is(e, store.ErrDataLoss) {
			return fmt.Errorf("%w: %s is not a SQLite database", store.ErrIncompatible, path)
		}
		return fmt.Errorf("read the database's header: %w", readErr("", err))
	}
	switch {
	case id == applicationID:
		return nil
	case id != 0:
		return fmt.Errorf("%w: %s belongs to another application (SQLite application_id %#x); Annals opens only its own databases or a new file",
			store.ErrIncompatible, path, id)
	case objects == 0 && v == 0:
		return nil // new
	}
	// Unmarked: an Annals database from before the mark has its tables.
	var annals int64
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema
		WHERE type = 'table' AND name IN ('events', 'actors', 'places', 'sources', 'meta', 'state', 'match_keys')`).Scan(&annals)
	if err != nil {
		return fmt.Errorf("read the database's schema: %w", readErr("", err))
	}
	if v >= 1 && v < 3 && annals == 7 {
		return nil
	}
	return fmt.Errorf("%w: %s is a SQLite database of another application (%d schema objects, user_version %d); Annals opens only its own databases or a new file",
		store.ErrIncompatible, path, objects, v)
}

// migrate creates or upgrades the schema on the writer connection, one
// transaction per step. Each step reads the version inside its (immediate)
// transaction, so two processes opening a new file at once do not both
// create the schema. A new database is created at the current version
// without a word; upgrading an existing one is logged, before and after.
//
// A schema that is older but readable (version 1 or 2, before the change log and
// checksums) in a file that cannot be written is left as it is, with a
// warning: reads work (without checksums; the change log is empty) until the
// file is opened writable once. It returns the version the database is at.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) (int, error) {
	var from int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
		return 0, fmt.Errorf("read schema version: %w", readErr("", err))
	}
	for {
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return 0, fmt.Errorf("read schema version: %w", readErr("", err))
		}
		if from > 0 && v < schemaVersion {
			log.Info("sqlite: upgrading the schema; on a large archive this takes a while", "from", v, "to", v+1)
		}
		start := time.Now()
		done, err := migrateStep(ctx, db, log)
		switch {
		case err != nil && v >= 1 && errors.Is(err, store.ErrReadOnly):
			log.Warn("sqlite: the database is read-only and its schema older than this program's; reading it as it is",
				"schema_version", v, "current", schemaVersion)
			return v, nil
		case err != nil && errors.Is(err, store.ErrReadOnly):
			return 0, fmt.Errorf("the database's schema (version %d) is too old to read without upgrading it, and the file cannot be written: %w", v, err)
		case err != nil:
			return 0, err
		case done:
			return schemaVersion, nil
		}
		if from > 0 {
			log.Info("sqlite: upgraded the schema", "from", v, "to", v+1, "took", time.Since(start).Round(time.Millisecond))
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// schema is up to date.
func migrateStep(ctx context.Context, db *sql.DB, log *slog.Logger) (done bool, err error) {
	var v int
	// Reading needs no transaction: a current schema is the common case, and
	// a read-only database must open.
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case v > schemaVersion:
		return false, fmt.Errorf("%w: the database's schema is version %d, made by a newer Annals; this Annals understands up to version %d: upgrade Annals",
			store.ErrIncompatible, v, schemaVersion)
	case v == schemaVersion:
		return true, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, writeErr("migrate schema", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v >= schemaVersion {
		return false, nil // another process migrated first; look again
	}
	m := migrations[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, writeErr(fmt.Sprintf("migrate schema to version %d", v+1), err)
	}
	if m.fn != nil {
		if err := m.fn(ctx, tx, log); err != nil {
			return false, writeErr(fmt.Sprintf("migrate schema to version %d", v+1), err)
		}
	}
	// PRAGMA takes no parameters; v+1 is an integer we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, writeErr("set schema version", err)
	}
	if err := tx.Commit(); err != nil {
		return false, writeErr("migrate schema", err)
	}
	return false, nil
}
