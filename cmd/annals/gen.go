package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
	"github.com/annals-project/annals/synth"
)

// genConfig is the configuration of `annals gen`.
type genConfig struct {
	common
	events  int
	seed    uint64
	out     string
	batch   int
	cache   int
	sources bool
}

// genCmd generates a synthetic archive (package synth), deterministically
// from a seed: into a new database through large transactions (--db), or as
// seed-format documents in a directory (--out).
func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c genConfig
	c.register(fs)
	fs.IntVar(&c.events, "events", 0, fmt.Sprintf("number of events to generate, 1 to %d (required)", synth.MaxEvents))
	fs.Uint64Var(&c.seed, "seed", 1, "seed: the same seed and --events give the same archive, byte for byte")
	fs.StringVar(&c.out, "out", "", "write one seed-format document per event into this directory instead of filling --db")
	fs.IntVar(&c.batch, "batch", 10000, "records per transaction when filling --db")
	fs.IntVar(&c.cache, "cache", 0, "with --db: MiB of SQLite page cache for the writes, taken as used; 0 keeps the store's default (64 MiB)")
	fs.BoolVar(&c.sources, "sources", false, "with --db: give every event a source holding its document, as ingest does (about twice the bytes)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "annals gen: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	dbGiven := false
	fs.Visit(func(f *flag.Flag) { dbGiven = dbGiven || f.Name == "db" })
	switch {
	case c.events < 1 || c.events > synth.MaxEvents:
		fmt.Fprintf(stderr, "annals gen: --events %d: want 1 to %d\n", c.events, synth.MaxEvents)
		return errUsage
	case c.batch < 1:
		fmt.Fprintf(stderr, "annals gen: --batch %d: want at least 1\n", c.batch)
		return errUsage
	case c.cache < 0:
		fmt.Fprintf(stderr, "annals gen: --cache %d: want 0 (the default cache) or more MiB\n", c.cache)
		return errUsage
	case c.out == "" && !dbGiven:
		// No default database: generated records must not land in ./annals.db by accident.
		fmt.Fprintln(stderr, "annals gen: give --db FILE (a new database) or --out DIR")
		return errUsage
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	log.Info("starting annals gen", effective(fs)...)
	g := synth.New(c.seed, c.events)
	if c.out != "" {
		return genDocuments(ctx, g, c.out, stderr)
	}
	g.Sources = c.sources
	return genDatabase(ctx, g, c, log, stderr)
}

// progress prints a line at most once a second, and the rate since start.
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	now := time.Now()
	return &progress{w: w, start: now, last: now}
}

// report prints done of total events when a second has passed since the last line.
func (p *progress) report(done, total int) {
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		fmt.Fprintf(p.w, "gen: %d of %d events, %.0f events/s\n", done, total, float64(done)/now.Sub(p.start).Seconds())
	}
}

// genDatabase fills a new database: the bundled dataset first, as every
// command does, then the synthetic records in batches of c.batch records,
// one transaction each. A second goroutine generates the next batch while
// the current one is written.
func genDatabase(ctx context.Context, g *synth.Generator, c genConfig, log *slog.Logger, stderr io.Writer) error {
	st, err := c.open(ctx, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if wc, ok := st.(interface {
		SetWriterCache(context.Context, int) error
	}); ok {
		if err := wc.SetWriterCache(ctx, c.cache); err != nil {
			return err
		}
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	if stats.Events > 0 {
		return fmt.Errorf("database %s already holds %d events; gen fills a new database (remove the file or give another --db)", backend.Redact(c.db), stats.Events)
	}
	if _, err := data.Load(ctx, st, ingest.Import, log); err != nil {
		return err
	}

	endBulk := func(context.Context) error { return nil }
	if b, ok := st.(store.Bulk); ok {
		if endBulk, err = b.BeginBulk(ctx); err != nil {
			return err
		}
	}
	events, actors, places := g.Size()
	batches := make(chan *store.Batch, 1)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(batches)
		return g.Batches(c.batch, func(b *store.Batch) error {
			select {
			case batches <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	p := newProgress(stderr)
	var written, sources int
	eg.Go(func() error {
		for b := range batches {
			if _, err := st.Put(gctx, b); err != nil {
				return fmt.Errorf("write batch: %w", err)
			}
			written += len(b.Events)
			sources += len(b.Sources)
			p.report(written, events)
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "gen: building the indexes (%s so far)\n", time.Since(p.start).Round(time.Second))
	if err := endBulk(ctx); err != nil {
		return err
	}
	elapsed := time.Since(p.start)
	size := int64(0)
	if sz, ok := st.(interface {
		Size(context.Context) (int64, error)
	}); ok {
		size, _ = sz.Size(ctx)
	}
	closed = true
	if err := st.Close(); err != nil {
		return err
	}
	if fi, err := os.Stat(c.db); err == nil && !backend.IsPostgres(c.db) {
		size = fi.Size()
	}
	fmt.Fprintf(stderr, "gen: wrote %d events, %d actors, %d places and %d sources to %s in %s: %.0f events/s, %d bytes of database per event\n",
		written, actors, places, sources, backend.Redact(c.db), elapsed.Round(time.Millisecond), float64(written)/elapsed.Seconds(), size/int64(max(written, 1)))
	return nil
}

// genDocuments writes every event as a seed-format document DIR/NNNNNNN_id.txt.
// Actors and places are not written: documents name them, and ingest makes
// them from the names.
func genDocuments(ctx context.Context, g *synth.Generator, dir string, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	events, _, _ := g.Size()
	p := newProgress(stderr)
	var buf bytes.Buffer
	var written int64
	for i := range events {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev := g.EventAt(i)
		buf.Reset()
		if err := synth.WriteDocument(&buf, ev, g); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, synth.DocumentName(i, ev)), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write document: %w", err)
		}
		written += int64(buf.Len())
		p.report(i+1, events)
	}
	elapsed := time.Since(p.start)
	fmt.Fprintf(stderr, "gen: wrote %d documents (%d bytes) to %s in %s: %.0f documents/s\n",
		events, written, dir, elapsed.Round(time.Millisecond), float64(events)/elapsed.Seconds())
	return nil
}
