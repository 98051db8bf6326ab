package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	_ "modernc.org/sqlite"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/synth"
)

// rawInsertResult is what rawinsert writes.
type rawInsertResult struct {
	Events        int     `json:"events"`
	Records       int     `json:"records"` // events, actors and places
	Seconds       float64 `json:"seconds"`
	EventsPerS    float64 `json:"events_per_s"`
	DBBytes       int64   `json:"db_bytes"`
	BytesPerEvent float64 `json:"bytes_per_event"`
	PayloadBytes  int64   `json:"payload_bytes"` // protobuf bytes written, all records
	Description   string  `json:"description"`
}

const rawInsertDescription = "the same synthetic records (synth, same seed; generated and marshalled in a second goroutine as annals gen does) " +
	"written by modernc.org/sqlite as bare rows (id INTEGER PRIMARY KEY, name TEXT UNIQUE, data BLOB) of their deterministic protobuf, " +
	"one table per kind, 10 000 records per transaction, WAL and synchronous=FULL as the store opens them; " +
	"no date/month/day columns, no secondary indexes, no actor/place join tables, no full-text index"

// rawInsert is the bulk-load baseline: what SQLite (the same driver, the
// same durability settings, the same batch size) costs to store the same
// records' bytes with nothing of Annals' indexing.
func rawInsert(ctx context.Context, args []string) error {
	fs := newFlags("rawinsert")
	events := fs.Int("events", 0, "number of events")
	seed := fs.Uint64("seed", 1, "synth seed")
	path := fs.String("db", "", "new database file")
	batch := fs.Int("batch", 10000, "records per transaction")
	out := fs.String("out", "", "JSON result file")
	noDB := fs.Bool("no-db", false, "generate and marshal the records only: the generator's share of a bulk load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "events", "out"); err != nil {
		return err
	}
	if *noDB {
		return generateOnly(ctx, *events, *seed, *batch, *out)
	}
	if *path == "" {
		return fmt.Errorf("--db is required (or --no-db)")
	}
	if _, err := os.Stat(*path); err == nil {
		return fmt.Errorf("%s exists: rawinsert fills a new database", *path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: *path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	for _, t := range []string{"events", "actors", "places"} {
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+t+" (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB NOT NULL)"); err != nil {
			return err
		}
	}

	type row struct {
		table, name string
		data        []byte
	}
	g := synth.New(*seed, *events)
	rows := make(chan []row, 1)
	eg, gctx := errgroup.WithContext(ctx)
	mo := proto.MarshalOptions{Deterministic: true}
	start := time.Now()
	eg.Go(func() error {
		defer close(rows)
		return g.Batches(*batch, func(b *store.Batch) error {
			rs := make([]row, 0, len(b.Actors)+len(b.Places)+len(b.Events))
			add := func(table, name string, m proto.Message) error {
				data, err := mo.Marshal(m)
				rs = append(rs, row{table, name, data})
				return err
			}
			for _, a := range b.Actors {
				if err := add("actors", a.GetName(), a); err != nil {
					return err
				}
			}
			for _, p := range b.Places {
				if err := add("places", p.GetName(), p); err != nil {
					return err
				}
			}
			for _, e := range b.Events {
				if err := add("events", e.GetName(), e); err != nil {
					return err
				}
			}
			select {
			case rows <- rs:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	res := rawInsertResult{Events: *events, Description: rawInsertDescription}
	eg.Go(func() error {
		last := time.Now()
		written := 0
		for rs := range rows {
			tx, err := db.BeginTx(gctx, nil)
			if err != nil {
				return err
			}
			stmts := map[string]*sql.Stmt{}
			for _, r := range rs {
				st := stmts[r.table]
				if st == nil {
					if st, err = tx.PrepareContext(gctx, "INSERT INTO "+r.table+" (name, data) VALUES (?, ?)"); err != nil {
						tx.Rollback()
						return err
					}
					stmts[r.table] = st
				}
				if _, err := st.ExecContext(gctx, r.name, r.data); err != nil {
					tx.Rollback()
					return err
				}
				res.PayloadBytes += int64(len(r.data))
				if r.table == "events" {
					written++
				}
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			res.Records += len(rs)
			if now := time.Now(); now.Sub(last) >= 5*time.Second {
				last = now
				fmt.Fprintf(os.Stderr, "rawinsert: %d of %d events, %.0f events/s\n", written, *events, float64(written)/now.Sub(start).Seconds())
			}
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return err
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	res.EventsPerS = float64(*events) / res.Seconds
	if fi, err := os.Stat(*path); err == nil {
		res.DBBytes = fi.Size()
		res.BytesPerEvent = float64(fi.Size()) / float64(*events)
	}
	fmt.Fprintf(os.Stderr, "rawinsert: %d events (%d records) in %.1f s: %.0f events/s, %.0f bytes of database per event\n",
		*events, res.Records, res.Seconds, res.EventsPerS, res.BytesPerEvent)
	return writeJSON(*out, res)
}

const generateOnlyDescription = "the same synthetic records (synth, same seed) generated and marshalled to their deterministic protobuf " +
	"in batches of 10 000, on one goroutine, and dropped: no database"

// generateOnly measures the generator's share of a bulk load: the records
// of rawInsert made and marshalled, nothing written.
func generateOnly(ctx context.Context, events int, seed uint64, batch int, out string) error {
	g := synth.New(seed, events)
	mo := proto.MarshalOptions{Deterministic: true}
	res := rawInsertResult{Events: events, Description: generateOnlyDescription}
	start := time.Now()
	var buf []byte
	err := g.Batches(batch, func(b *store.Batch) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ms []proto.Message
		for _, a := range b.Actors {
			ms = append(ms, a)
		}
		for _, p := range b.Places {
			ms = append(ms, p)
		}
		for _, e := range b.Events {
			ms = append(ms, e)
		}
		for _, m := range ms {
			var err error
			if buf, err = mo.MarshalAppend(buf[:0], m); err != nil {
				return err
			}
			res.PayloadBytes += int64(len(buf))
		}
		res.Records += len(ms)
		return nil
	})
	if err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	res.EventsPerS = float64(events) / res.Seconds
	fmt.Fprintf(os.Stderr, "rawinsert --no-db: %d events (%d records, %d protobuf bytes) in %.1f s: %.0f events/s\n",
		events, res.Records, res.PayloadBytes, res.Seconds, res.EventsPerS)
	return writeJSON(out, res)
}
