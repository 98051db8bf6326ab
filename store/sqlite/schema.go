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
var migrations = []string{
	// 0 -> 1: the first schema.
	`
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
`,
	// 1 -> 2: the date index holds date_hi, so that a range query passes
	// over an event that ends before the range without reading its row;
	// events longer than about a year (read.go's shortSpan) get an index of
	// their own, so that a range query walks at most a year of short events
	// before its start.
	`
DROP INDEX events_by_start;
CREATE INDEX events_by_start ON events(date_lo, name, date_hi);
CREATE INDEX events_by_start_long ON events(date_lo, name, date_hi) WHERE date_hi - date_lo > 10000;
`,
}

// schemaVersion is the user_version of a database this code fully understands.
var schemaVersion = len(migrations)

// migrate creates or upgrades the schema on the writer connection, one
// transaction per step. Each step reads the version inside its (immediate)
// transaction, so two processes opening a new file at once do not both
// create the schema.
//
// A schema that is older but usable (every version from 1 on holds the same
// tables; later ones add indexes) in a file that cannot be written is left
// as it is, with a warning: reads work, some more slowly, until the file is
// opened writable once.
//
// Upgrades are logged only when an existing schema is upgraded: a new file
// (version 0) goes through every step to the current version silently.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	created := false
	for {
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v == 0 {
			created = true
		}
		if v > 0 && v < schemaVersion && !created {
			log.Info("sqlite: upgrading the schema; on a large archive this takes a while", "from", v, "to", v+1)
		}
		start := time.Now()
		done, err := migrateStep(ctx, db)
		switch {
		case err != nil && v >= 1 && errors.Is(err, store.ErrReadOnly):
			log.Warn("sqlite: the database is read-only and its schema older than this program's; reading it as it is",
				"schema_version", v, "current", schemaVersion)
			return nil
		case err != nil || done:
			return err
		}
		if v > 0 && !created {
			log.Info("sqlite: upgraded the schema", "from", v, "to", v+1, "took", time.Since(start).Round(time.Millisecond))
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// schema is up to date.
func migrateStep(ctx context.Context, db *sql.DB) (done bool, err error) {
	var v int
	// Reading needs no transaction: a current schema is the common case, and
	// a read-only database must open.
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case v > schemaVersion:
		return false, fmt.Errorf("database schema version %d is newer than this program understands (%d)", v, schemaVersion)
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
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, writeErr(fmt.Sprintf("migrate schema to version %d", v+1), err)
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
