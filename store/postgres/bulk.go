package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/annals-project/annals/store"
)

// BeginBulk prepares the store for a bulk load into a new database (annals
// gen): its writes' commits are not waited for on disk (a failed load
// leaves nothing acknowledged to protect: the database is new and is
// discarded). The returned end makes the load durable, merges the
// full-text indexes and refreshes the planner's statistics (VACUUM
// ANALYZE), so that the first queries on the loaded archive are planned
// for its size, and restores durable commits. Each batch stays one
// transaction, written with one statement per table.
func (s *Store) BeginBulk(ctx context.Context) (end func(context.Context) error, err error) {
	s.bulk.Store(true)
	return func(ctx context.Context) error {
		s.bulk.Store(false)
		// The load's commits were asynchronous. A synchronous commit that
		// writes flushes the WAL up to it, theirs included: count the load.
		if _, err := s.pool.Exec(ctx, `INSERT INTO state(key, value) VALUES ('bulk_loads', 1)
			ON CONFLICT (key) DO UPDATE SET value = state.value + 1`); err != nil {
			return fmt.Errorf("postgres: end bulk load: %w", classify(ctx, err))
		}
		// VACUUM merges the full-text indexes' pending lists (which every
		// query would otherwise read) and ANALYZE plans queries for the size
		// of what was loaded.
		if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE)", pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("postgres: end bulk load: vacuum: %w", classify(ctx, err))
		}
		return nil
	}, nil
}

var (
	_ store.Bulk       = (*Store)(nil)
	_ store.MetaLister = (*Store)(nil)
)

// Size returns the bytes the database takes on disk (pg_database_size).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		return 0, sqlErr(ctx, "postgres: size", err)
	}
	return n, nil
}
