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

// loadProf adds a synthetic archive to an existing database the way
// `annals gen --db` fills one (synth batches of 10 000 records made by a
// second goroutine, one store Put, one transaction, each) under a CPU
// profile. Run on the large archive after everything else has read it,
// it shows what a bulk load costs once the archive is large, which a Go
// benchmark on a small database cannot. A seed other than the archive's
// gives records of other names, so every record is new.
func loadProf(ctx context.Context, args []string) error {
	fs := newFlags("loadprof")
	db := fs.String("db", "", "existing database (it is changed)")
	events := fs.Int("events", 0, "events to add")
	seed := fs.Uint64("seed", 2, "synth seed (not the archive's)")
	batch := fs.Int("batch", 10000, "records per transaction")
	prof := fs.String("cpuprofile", "", "CPU profile file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "db", "events", "cpuprofile"); err != nil {
		return err
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
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("loadprof: added %d events to %s in %.1f s: %.0f events/s\n", written, *db, d.Seconds(), float64(written)/d.Seconds())
	return nil
}
