package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/annals-project/annals/store"
)

// migrations bring the schema from version i (the schema_version table) to
// i+1, each in a transaction of its own. Append to the list; never edit a
// migration that has shipped.
var migrations = []string{
	// 0 -> 1: the first schema. Names sort as bytes (COLLATE "C"), as in
	// store/sqlite, so that both list records in the same order.
	`
CREATE TABLE events (
	name        text COLLATE "C" PRIMARY KEY,
	data        bytea NOT NULL,   -- deterministic protobuf of annals.v1.Event
	sum         bigint NOT NULL,  -- CRC-32C of data
	date_lo     bigint NOT NULL,  -- histdate.Key of the first day of the span
	date_hi     bigint NOT NULL,  -- histdate.Key of the last day of the span
	month       integer,          -- the start date's month when known (precision >= MONTH)
	day         integer,          -- the start date's day when known (precision DAY)
	wikidata_id text,             -- NULL when not linked
	words       text COLLATE "C" NOT NULL, -- folded words of labels, summary, article: " w w \n w w "
	fts         tsvector NOT NULL          -- the distinct words, as lexemes without positions (see fts.go)
);
-- The full-text indexes keep new entries in a pending list that every
-- query reads until it is merged: 256 kB (not 4 MB) bounds what a query
-- reads of it; a writer that fills it merges it.
CREATE INDEX events_by_start ON events(date_lo, name, date_hi);
CREATE INDEX events_by_start_long ON events(date_lo, name, date_hi) WHERE date_hi - date_lo > ` + shortSpanString + `;
CREATE INDEX events_by_month_day ON events(month, day, date_lo, name);
CREATE INDEX events_by_wikidata_id ON events(wikidata_id) WHERE wikidata_id IS NOT NULL;
CREATE INDEX events_fts ON events USING gin(fts) WITH (gin_pending_list_limit = 256);

-- The join tables repeat the event's date_lo so that a list of one actor's
-- (place's) events is a range of the primary key, already in order.
CREATE TABLE event_actor (
	actor   text COLLATE "C" NOT NULL,
	date_lo bigint NOT NULL,
	name    text COLLATE "C" NOT NULL,
	PRIMARY KEY (actor, date_lo, name)
);
CREATE INDEX event_actor_by_event ON event_actor(name);
CREATE TABLE event_place (
	place   text COLLATE "C" NOT NULL,
	date_lo bigint NOT NULL,
	name    text COLLATE "C" NOT NULL,
	PRIMARY KEY (place, date_lo, name)
);
CREATE INDEX event_place_by_event ON event_place(name);

CREATE TABLE actors (
	name        text COLLATE "C" PRIMARY KEY,
	data        bytea NOT NULL,
	sum         bigint NOT NULL,
	kind        integer NOT NULL,
	wikidata_id text,
	words       text COLLATE "C" NOT NULL, -- labels, aliases, description
	fts         tsvector NOT NULL
);
CREATE INDEX actors_by_kind ON actors(kind, name);
CREATE INDEX actors_by_wikidata_id ON actors(wikidata_id, name) WHERE wikidata_id IS NOT NULL;
CREATE INDEX actors_fts ON actors USING gin(fts) WITH (gin_pending_list_limit = 256);

CREATE TABLE places (
	name        text COLLATE "C" PRIMARY KEY,
	data        bytea NOT NULL,
	sum         bigint NOT NULL,
	wikidata_id text,
	words       text COLLATE "C" NOT NULL,
	fts         tsvector NOT NULL
);
CREATE INDEX places_by_wikidata_id ON places(wikidata_id, name) WHERE wikidata_id IS NOT NULL;
CREATE INDEX places_fts ON places USING gin(fts) WITH (gin_pending_list_limit = 256);

CREATE TABLE sources (
	name text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL,
	sum  bigint NOT NULL
);

-- resource.MatchKey of every label and alias of actors and places.
CREATE TABLE match_keys (
	kind text COLLATE "C" NOT NULL,
	key  text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	PRIMARY KEY (kind, key, name)
);
CREATE INDEX match_keys_by_name ON match_keys(name);

-- Values callers keep with Meta and SetMeta.
CREATE TABLE meta (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);

-- The backend's own bookkeeping: last_modified (Unix ns), max_event_span
-- (the widest date_hi - date_lo ever stored), and the number of records of
-- each collection (count_events, ...), kept by the serialised writers.
CREATE TABLE state (
	key   text COLLATE "C" PRIMARY KEY,
	value bigint NOT NULL
);

-- The change log. Writers are serialised (an advisory lock), so sequence
-- numbers are taken in commit order.
CREATE TABLE changes (
	seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text COLLATE "C" NOT NULL,
	kind integer NOT NULL,  -- annals.v1.ChangeKind
	time bigint NOT NULL,   -- Unix ns: the record's update_time
	etag text NOT NULL      -- '' for a deletion
);
`,
}

// schemaVersion is the schema version this code fully understands.
var schemaVersion = len(migrations)

// Advisory lock keys (pg_advisory_lock's bigint): one for migrations (held
// by the session) and one that serialises writers (held by a transaction).
const (
	migrateLock = 0x414E4E4C0001 // "ANNL" 1
	writeLock   = 0x414E4E4C0002 // "ANNL" 2
)

// version reads the schema version: 0 for a database without Annals'
// schema_version table. foreign is set when the database has no such table
// but has tables of its own: it belongs to another application.
func version(ctx context.Context, q querier) (v int, foreign bool, err error) {
	var hasTable bool
	var tables int
	err = q.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL,
		(SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema())`).Scan(&hasTable, &tables)
	if err != nil {
		return 0, false, err
	}
	if !hasTable {
		return 0, tables > 0, nil
	}
	err = q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v)
	return v, false, err
}

// checkVersion refuses a schema this code does not understand.
func checkVersion(v int, foreign bool) error {
	switch {
	case foreign:
		return fmt.Errorf("%w: the database holds tables of another application and no Annals schema; give Annals an empty database of its own", store.ErrIncompatible)
	case v > schemaVersion:
		return fmt.Errorf("%w: the database's schema is version %d, made by a newer Annals; this Annals understands up to version %d: upgrade Annals",
			store.ErrIncompatible, v, schemaVersion)
	}
	return nil
}

// migrate brings the schema up to date. A current schema is read without
// a lock (the common case, and cheap at every start); otherwise the
// migration lock is taken, the version read again, and each missing
// migration applied in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	v, foreign, err := version(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", classify(ctx, err))
	}
	if err := checkVersion(v, foreign); err != nil {
		return err
	}
	if v == schemaVersion {
		return nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", classify(ctx, err))
	}
	defer conn.Release()
	start := time.Now()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", classify(ctx, err))
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLock)); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // ends the session, and its lock
		}
	}()
	if waited := time.Since(start); waited > time.Second {
		s.log.Info("postgres: waited for another process's migration", "took", waited.Round(time.Millisecond))
	}
	for {
		v, foreign, err := version(ctx, conn)
		if err != nil {
			return fmt.Errorf("read schema version: %w", classify(ctx, err))
		}
		if err := checkVersion(v, foreign); err != nil {
			return err
		}
		if v == schemaVersion {
			return nil
		}
		if v > 0 {
			s.log.Info("postgres: upgrading the schema", "from", v, "to", v+1)
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if v == 0 {
				if _, err := tx.Exec(ctx, "CREATE TABLE schema_version (version integer NOT NULL)"); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "DELETE FROM schema_version; INSERT INTO schema_version(version) VALUES ("+fmt.Sprint(v+1)+")")
			return err
		}); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, classify(ctx, err))
		}
	}
}

// awaitSchema waits until a standby has replayed a current schema (it may
// lag its primary, which Open of the primary just migrated).
func (s *Store) awaitSchema(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		v, foreign, err := version(ctx, s.pool)
		if err != nil {
			return fmt.Errorf("read schema version: %w", classify(ctx, err))
		}
		if err := checkVersion(v, foreign); err != nil {
			return err
		}
		if v == schemaVersion {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the standby's schema is version %d and this Annals needs %d: open the primary with this Annals first, and check that the standby replays it",
				store.ErrIncompatible, v, schemaVersion)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errNoRows = pgx.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
