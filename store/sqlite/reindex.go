package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	rec "github.com/annals-project/annals/store/record"
)

// reindex rebuilds, inside a migration's transaction, everything derived
// from the stored records: their checksums, the match keys and full-text
// rows of actors and places, the full-text rows of events and, when the
// change log is empty, one CREATED entry per record in the order of their
// update_time (so that the log accounts for every record). It reads the
// records in batches by id and writes between reads.
func reindex(ctx context.Context, tx *sql.Tx, log *slog.Logger) error {
	p := &putter{tx: tx, stmts: map[string]*sql.Stmt{}}
	defer p.close()
	for _, t := range []string{"events_fts", "actors_fts", "places_fts"} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+t+"("+t+") VALUES ('delete-all')"); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM match_keys"); err != nil {
		return fmt.Errorf("clear match keys: %w", err)
	}
	var logged int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM changes").Scan(&logged); err != nil {
		return fmt.Errorf("read the change log: %w", err)
	}
	var backfill []store.LogEntry
	start, n := time.Now(), 0
	for _, k := range resource.Kinds {
		table := string(k)
		var after int64
		for {
			type row struct {
				id   int64
				data []byte
			}
			var batch []row
			rows, err := tx.QueryContext(ctx, "SELECT id, data FROM "+table+" WHERE id > ? ORDER BY id LIMIT ?", after, walkBatch)
			if err != nil {
				return fmt.Errorf("read %s: %w", table, err)
			}
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.data); err != nil {
					rows.Close()
					return fmt.Errorf("read %s: %w", table, err)
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read %s: %w", table, err)
			}
			for _, r := range batch {
				m, err := reindexRow(ctx, p, k, r.id, r.data)
				if err != nil {
					return err
				}
				if logged == 0 {
					backfill = append(backfill, store.LogEntry{Name: m.GetName(), Kind: annalsv1.ChangeKind_CHANGE_KIND_CREATED,
						Time: m.GetUpdateTime().AsTime().UnixNano(), Etag: m.GetEtag()})
				}
				after = r.id
			}
			n += len(batch)
			if len(batch) < walkBatch {
				break
			}
		}
	}
	slices.SortFunc(backfill, func(a, b store.LogEntry) int {
		if a.Time != b.Time {
			return int(min(max(a.Time-b.Time, -1), 1))
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, e := range backfill {
		if _, err := p.exec(ctx, "INSERT INTO changes(name, kind, time, etag) VALUES (?, ?, ?, ?)", e.Name, int64(e.Kind), e.Time, e.Etag); err != nil {
			return fmt.Errorf("fill the change log: %w", err)
		}
	}
	log.Debug("sqlite: reindexed", "records", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// reindexRow rebuilds what is derived from one stored record.
func reindexRow(ctx context.Context, p *putter, k resource.Kind, id int64, data []byte) (record, error) {
	var m record
	switch k {
	case resource.Events:
		m = &annalsv1.Event{}
	case resource.Actors:
		m = &annalsv1.Actor{}
	case resource.Places:
		m = &annalsv1.Place{}
	default:
		m = &annalsv1.Source{}
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, &store.CorruptError{Name: fmt.Sprintf("%s row %d", k, id), Problem: "its stored bytes do not decode: " + err.Error()}
	}
	if _, err := p.exec(ctx, "UPDATE "+string(k)+" SET sum = ? WHERE id = ?", checksum(data), id); err != nil {
		return nil, fmt.Errorf("checksum %s: %w", m.GetName(), err)
	}
	var err error
	switch r := m.(type) {
	case *annalsv1.Event:
		// Schema 3's layout: the full-text row's rowid is the event's id
		// (schema 4 numbers them in date order: reorder).
		lo, _, _, _ := rec.EventColumns(r)
		if err = p.joinEvent(ctx, id, r, lo); err == nil {
			labels, summary, body := eventTexts(r)
			_, err = p.exec(ctx, "INSERT INTO events_fts(rowid, labels, summary, body) VALUES (?, ?, ?, ?)", id, labels, summary, body)
		}
	case *annalsv1.Actor:
		err = p.index(ctx, resource.Actors, "actors_fts", id, false, r.GetName(), r.GetLabels(), r.GetAliases(), r.GetDescription())
	case *annalsv1.Place:
		err = p.index(ctx, resource.Places, "places_fts", id, false, r.GetName(), r.GetLabels(), r.GetAliases(), r.GetDescription())
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", m.GetName(), err)
	}
	return m, nil
}

// reorder numbers every event in date order (event_order) and fills the
// full-text tables again (migration 4 made them anew): events under their
// order keys, actors and places under their ids.
func reorder(ctx context.Context, tx *sql.Tx, log *slog.Logger) error {
	start := time.Now()
	n, err := numberEvents(ctx, tx)
	if err != nil {
		return fmt.Errorf("number events: %w", err)
	}
	// As a bulk load fills them: postings held in memory longer, merged
	// once at the end.
	for _, t := range ftsTables {
		for _, q := range []string{"INSERT INTO " + t + "(" + t + ", rank) VALUES ('automerge', 0)",
			fmt.Sprintf("INSERT INTO "+t+"("+t+", rank) VALUES ('hashsize', %d)", bulkHashBytes)} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	if err := fillEventText(ctx, tx, tx, nil); err != nil {
		return err
	}
	for _, k := range []resource.Kind{resource.Actors, resource.Places} {
		if err := fillNamedText(ctx, tx, k); err != nil {
			return err
		}
	}
	for _, t := range ftsTables {
		for _, q := range []string{"INSERT INTO " + t + "(" + t + ") VALUES ('optimize')",
			"INSERT INTO " + t + "(" + t + ", rank) VALUES ('automerge', 4)",
			fmt.Sprintf("INSERT INTO "+t+"("+t+", rank) VALUES ('hashsize', %d)", defaultHashBytes)} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	log.Debug("sqlite: numbered events in date order", "events", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// textBatch is how many records fillEventText and fillNamedText read at a time.
const textBatch = 1000

// fillEventText writes the full-text row of every event, in order of their
// keys (so that FTS5 appends to its postings rather than flushing them at
// every row), reading through r and writing through w. Reading, decoding
// and folding run in a goroutine of their own, beside the writes; r may be
// w (a migration), or a connection of its own (a bulk load, which then
// reads on another core). progress, if not nil, is called with the events
// written so far now and then.
func fillEventText(ctx context.Context, r querier, w execQuerier, progress func(int)) error {
	type row struct {
		key                   int64
		labels, summary, body string
	}
	texts := make(chan []row, 4)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(texts)
		after := int64(math.MinInt64)
		for {
			type stored struct {
				key  int64
				name string
				data []byte
			}
			var batch []stored
			rows, err := r.QueryContext(gctx, `SELECT o.key, e.name, e.data FROM event_order o JOIN events e ON e.id = o.id
				WHERE o.key > ? ORDER BY o.key LIMIT ?`, after, textBatch)
			if err != nil {
				return fmt.Errorf("read events: %w", err)
			}
			for rows.Next() {
				var s stored
				if err := rows.Scan(&s.key, &s.name, &s.data); err != nil {
					rows.Close()
					return fmt.Errorf("read events: %w", err)
				}
				batch = append(batch, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read events: %w", err)
			}
			out := make([]row, len(batch))
			for i, s := range batch {
				e := &annalsv1.Event{}
				if err := rec.Decode(s.name, s.data, e); err != nil {
					return err
				}
				out[i].key = s.key
				out[i].labels, out[i].summary, out[i].body = eventTexts(e)
				after = s.key
			}
			select {
			case texts <- out:
			case <-gctx.Done():
				return gctx.Err()
			}
			if len(batch) < textBatch {
				return nil
			}
		}
	})
	eg.Go(func() error {
		ins := newTextWriter(w, "events_fts", "rowid, labels, summary, body", 4)
		n := 0
		for batch := range texts {
			for _, t := range batch {
				if err := ins.add(gctx, t.key, t.labels, t.summary, t.body); err != nil {
					return err
				}
			}
			if n += len(batch); progress != nil {
				progress(n)
			}
		}
		return ins.flush(gctx)
	})
	return eg.Wait()
}

// fillNamedText writes the full-text row of every actor or place (k), under
// its id.
func fillNamedText(ctx context.Context, tx execQuerier, k resource.Kind) error {
	table := string(k)
	ins := newTextWriter(tx, table+"_fts", "rowid, labels, aliases, description", 4)
	var after int64
	for {
		type stored struct {
			id   int64
			name string
			data []byte
		}
		var batch []stored
		rows, err := tx.QueryContext(ctx, "SELECT id, name, data FROM "+table+" WHERE id > ? ORDER BY id LIMIT ?", after, textBatch)
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for rows.Next() {
			var s stored
			if err := rows.Scan(&s.id, &s.name, &s.data); err != nil {
				rows.Close()
				return fmt.Errorf("read %s: %w", table, err)
			}
			batch = append(batch, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for _, s := range batch {
			m := rec.New(k)
			if err := rec.Decode(s.name, s.data, m); err != nil {
				return err
			}
			labels, aliases, desc := namedTexts(m)
			if err := ins.add(ctx, s.id, labels, aliases, desc); err != nil {
				return err
			}
			after = s.id
		}
		if len(batch) < textBatch {
			return ins.flush(ctx)
		}
	}
}

// namedTexts are the columns of an actor's or a place's full-text row.
func namedTexts(m record) (labels, aliases, desc string) {
	switch r := m.(type) {
	case *annalsv1.Actor:
		return ftsText(rec.LabelText(r.GetLabels())), ftsText(rec.LabelText(r.GetAliases())), ftsText(r.GetDescription())
	case *annalsv1.Place:
		return ftsText(rec.LabelText(r.GetLabels())), ftsText(rec.LabelText(r.GetAliases())), ftsText(r.GetDescription())
	}
	return "", "", ""
}
