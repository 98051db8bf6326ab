package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store/postgres"
	"github.com/annals-project/annals/store/postgres/pgtest"
	"github.com/annals-project/annals/store/storetest"
)

// BenchmarkImport imports a new seed-format document per operation (one
// Update each: the writers' lock, reconciliation reads, the writes, a
// commit), from one writer and from 8 at once. Writers are serialised, so
// with 8 the time per import is how long each holds the lock: its inverse
// is the most imports a second one database takes, whatever the number of
// replicas (SCALING.md). It also reports the WAL written per import.
// ANNALS_TEST_POSTGRES points it at a durable server (the test clusters
// run with fsync off, which leaves the commit's flush out).
func BenchmarkImport(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			dsn := pgtest.Shared(b).NewDatabase(b)
			ctx := b.Context()
			s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: int32(writers + 2)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Put(ctx, storetest.Fixture()); err != nil {
				b.Fatal(err)
			}
			docs := storetest.ConcurrencyDocuments(b.N)
			lsn := func() (v int64) {
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close(context.Background())
				if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").Scan(&v); err != nil {
					b.Fatal(err)
				}
				return v
			}
			wal0 := lsn()
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						d := docs[i]
						if _, err := ingest.Import(ctx, s, d.File, []byte(d.Text), ingest.Options{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "imports/s")
			b.ReportMetric(float64(lsn()-wal0)/float64(b.N), "WAL-bytes/import")
		})
	}
}
