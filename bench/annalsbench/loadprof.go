package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/synth"
)

// loadProf adds a synthetic archive to an existing database (synth batches
// of 10 000 records made by a second goroutine, one store Put, one
// transaction, each) under a CPU profile. Run on the large archive after
// everything else has read it, it shows what imports cost once the archive
// is large, which a Go benchmark on a small database cannot. A seed other
// than the archive's gives records of other names, so every record is new.
//
// With --bulk it fills a new database as `annals gen --db` does instead:
// a bulk load (store.Bulk), its end — where the indexes are built — included.
func loadProf(ctx context.Context, args []string) error {
	fs := newFlags("loadprof")
	db := fs.String("db", "", "existing database (it is changed)")
	events := fs.Int("events", 0, "events to add")
	seed := fs.Uint64("seed", 2, "synth seed (not the archive's)")
	batch := fs.Int("batch", 10000, "records per transaction")
	prof := fs.String("cpuprofile", "", "CPU profile file")
	bulk := fs.Bool("bulk", false, "fill a new database in bulk, as annals gen does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "db", "events", "cpuprofile"); err != nil {
		return err
	}
	if _, err := os.Stat(*db); *bulk && err == nil {
		return fmt.Errorf("%s exists: loadprof --bulk fills a new database", *db)
	}
	st, err := sqlite.Open(ctx, *db, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.Create(*prof)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	start := time.Now()
	end := func(context.Context) error { return nil }
	if *bulk {
		if end, err = st.BeginBulk(ctx); err != nil {
			return err
		}
	}
	g := synth.New(*seed, *events)
	batches := make(chan *store.Batch, 1)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(batches)
		return g.Batches(*batch, func(b *store.Batch) error {
			select {
			case batches <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	written := 0
	eg.Go(func() error {
		for b := range batches {
			if _, err := st.Put(gctx, b); err != nil {
				return err
			}
			written += len(b.Events)
		}
		return nil
	})
	err = eg.Wait()
	loaded := time.Since(start)
	if err == nil {
		err = end(ctx)
	}
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	d := time.Since(start)
	if *bulk {
		fmt.Printf("loadprof: bulk-loaded %d events into a new database in %.1f s (records %.1f s, indexes %.1f s): %.0f events/s\n",
			written, d.Seconds(), loaded.Seconds(), (d - loaded).Seconds(), float64(written)/d.Seconds())
		return nil
	}
	fmt.Printf("loadprof: added %d events to %s in %.1f s: %.0f events/s\n", written, *db, d.Seconds(), float64(written)/d.Seconds())
	return nil
}
