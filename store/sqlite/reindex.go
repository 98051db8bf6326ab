package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

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
		lo, _, _, _ := rec.EventColumns(r)
		err = p.indexEvent(ctx, id, false, r, lo)
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
