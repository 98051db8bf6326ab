package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
)

// copyConfig is the configuration of `annals copy`.
type copyConfig struct {
	from, to string
	force    bool
	batch    int
	maxConns int
	logLevel string
}

// copyCmd copies a whole archive from one database to another (SQLite to
// PostgreSQL and back), streaming: every record exactly as stored (its
// create_time, update_time and etag kept, so that both export the same
// bytes) and every meta value, a batch of records per transaction.
func copyCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c copyConfig
	fs.StringVar(&c.from, "from", "", "the archive to copy: a SQLite file or a PostgreSQL URL (required)")
	fs.StringVar(&c.to, "to", "", "where to copy it: a SQLite file (created if missing) or a PostgreSQL URL of an empty database (required)")
	fs.BoolVar(&c.force, "force", false, "copy into a destination that already holds records: records of the same name are replaced, others kept")
	fs.IntVar(&c.batch, "batch", 1000, "records per transaction")
	fs.IntVar(&c.maxConns, "db-max-conns", 0, "most connections to each PostgreSQL database (0: the driver's default)")
	fs.StringVar(&c.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "annals copy: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	case c.from == "" || c.to == "":
		fmt.Fprintln(stderr, "annals copy: give --from and --to (a SQLite file or a PostgreSQL URL each)")
		return errUsage
	case c.batch < 1:
		fmt.Fprintf(stderr, "annals copy: --batch %d: want at least 1\n", c.batch)
		return errUsage
	case c.from == c.to:
		fmt.Fprintln(stderr, "annals copy: --from and --to are the same database")
		return errUsage
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	log.Info("starting annals copy", effective(fs)...)
	if !backend.IsPostgres(c.from) {
		if _, err := os.Stat(c.from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	opts := backend.Options{Logger: log, MaxConns: int32(c.maxConns)}
	src, err := backend.Open(ctx, c.from, opts)
	if err != nil {
		return fmt.Errorf("open --from: %w", err)
	}
	defer src.Close()
	dst, err := backend.Open(ctx, c.to, opts)
	if err != nil {
		return fmt.Errorf("open --to: %w", err)
	}
	defer dst.Close()
	have, err := dst.Stats(ctx)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if n := have.Events + have.Actors + have.Places + have.Sources; n > 0 && !c.force {
		return fmt.Errorf("--to %s already holds %d records; copy into an empty database, or give --force to replace records of the same name",
			backend.Redact(c.to), n)
	}
	total, err := src.Stats(ctx)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	all := total.Events + total.Actors + total.Places + total.Sources
	// Into an empty database, a bulk load: rows first, indexes built once
	// at the end (a copy that stops leaves a database Open refuses).
	endBulk := func(context.Context) error { return nil }
	if b, ok := dst.(store.Bulk); ok && have.Events+have.Actors+have.Places+have.Sources == 0 {
		if endBulk, err = b.BeginBulk(ctx); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	cp := &copier{ctx: ctx, dst: dst, size: c.batch, start: time.Now(), stderr: stderr, total: all}
	cp.last = cp.start
	err = errors.Join(
		src.WalkSources(ctx, func(r *annalsv1.Source) error {
			return cp.add(func(b *store.Batch) { b.Sources = append(b.Sources, r) })
		}),
		cp.flush(),
		src.WalkEvents(ctx, func(r *annalsv1.Event) error { return cp.add(func(b *store.Batch) { b.Events = append(b.Events, r) }) }),
		cp.flush(),
		src.WalkActors(ctx, func(r *annalsv1.Actor) error { return cp.add(func(b *store.Batch) { b.Actors = append(b.Actors, r) }) }),
		cp.flush(),
		src.WalkPlaces(ctx, func(r *annalsv1.Place) error { return cp.add(func(b *store.Batch) { b.Places = append(b.Places, r) }) }),
		cp.flush(),
	)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if err := endBulk(ctx); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	metas := 0
	if ml, ok := src.(store.MetaLister); ok {
		keys, err := ml.MetaKeys(ctx)
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		for _, k := range keys {
			v, err := src.Meta(ctx, k)
			if err != nil {
				return fmt.Errorf("copy: meta %q: %w", k, err)
			}
			if err := dst.SetMeta(ctx, k, v); err != nil {
				return fmt.Errorf("copy: meta %q: %w", k, err)
			}
			metas++
		}
	}
	got, err := dst.Stats(ctx)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if !c.force && (got.Events != total.Events || got.Actors != total.Actors || got.Places != total.Places || got.Sources != total.Sources) {
		return fmt.Errorf("copy: the copy holds %d events, %d actors, %d places and %d sources; the original %d, %d, %d and %d (was the original written to during the copy?)",
			got.Events, got.Actors, got.Places, got.Sources, total.Events, total.Actors, total.Places, total.Sources)
	}
	took := time.Since(cp.start)
	fmt.Fprintf(stderr, "copy: copied %d events, %d actors, %d places, %d sources and %d meta values from %s to %s in %s: %.0f records/s\n",
		total.Events, total.Actors, total.Places, total.Sources, metas, backend.Redact(c.from), backend.Redact(c.to),
		took.Round(time.Millisecond), float64(cp.done)/max(took.Seconds(), 1e-9))
	return nil
}

// copier writes records in verbatim batches and reports progress.
type copier struct {
	ctx    context.Context
	dst    store.Store
	size   int
	b      store.Batch
	n      int
	done   int64
	total  int64
	start  time.Time
	last   time.Time
	stderr io.Writer
}

func (c *copier) add(put func(*store.Batch)) error {
	put(&c.b)
	c.n++
	if c.n >= c.size {
		return c.flush()
	}
	return nil
}

func (c *copier) flush() error {
	if c.n == 0 {
		return nil
	}
	c.b.Verbatim = true
	if _, err := c.dst.Put(c.ctx, &c.b); err != nil {
		return err
	}
	c.done += int64(c.n)
	c.b, c.n = store.Batch{}, 0
	if now := time.Now(); now.Sub(c.last) >= time.Second {
		c.last = now
		fmt.Fprintf(c.stderr, "copy: %d of %d records, %.0f records/s\n", c.done, c.total, float64(c.done)/now.Sub(c.start).Seconds())
	}
	return nil
}
