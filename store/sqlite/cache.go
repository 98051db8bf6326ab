package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// eventCacheBytes bounds the stored encodings of events kept in memory.
const eventCacheBytes = 16 << 20

// otherWritesWithin bounds how stale a cached event may be after another
// process (annals ingest beside annals serve) commits a change to it: the
// cache asks the database whether anything was committed at most this long
// before it answers from memory.
const otherWritesWithin = 10 * time.Millisecond

// eventCache keeps the stored encodings of the events read last by name,
// so that GetEvent of a record read before costs no statement on the
// database. It is emptied whenever the archive may have changed:
//
//   - at once, by this process's own writes (Store.writes counts their
//     commits; a client that imports through the server and then reads
//     gets what it wrote);
//   - within otherWritesWithin, by another process's: SQLite's PRAGMA
//     data_version, on a connection of the cache's own, changes when any
//     other connection commits, and a hit is answered only when it was
//     read at most otherWritesWithin ago, else after a new check.
//
// Entries are dropped oldest first past eventCacheBytes. A miss reads the
// database as before and keeps what it read, marked with the versions seen
// before the read (a write between the two empties the cache at the next
// check).
//
// The checks run in a goroutine of the cache's own (loop): a request that
// needs one waits for the next check that starts after it asked, and one
// check answers every request waiting for it. Calling into SQLite takes a
// deep stack, which a request's goroutine would grow again after every
// garbage collection shrank it (copying stacks was a fifth of GetEvent's
// CPU when each request checked for itself).
type eventCache struct {
	db    *sql.DB   // one read-only connection of its own
	check *sql.Stmt // PRAGMA data_version
	wake  chan struct{}
	done  chan struct{}

	wmu     sync.Mutex
	waiting []chan versionResult // requests for the next check
	closed  bool
	last    atomic.Pointer[checked] // the latest check

	mu      sync.Mutex
	version cacheVersion // what the entries were read at (or after)
	entries map[string][]byte
	order   []string // names in the order they were added, for eviction
	bytes   int
	max     int
}

// cacheVersion is what the cache's entries are valid for: the database's
// data_version and this process's count of writes.
type cacheVersion struct{ data, writes int64 }

// checked is a check of data_version and when it started.
type checked struct {
	at time.Time
	v  int64
}

func newEventCache(ctx context.Context, db *sql.DB, max int) (*eventCache, error) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	st, err := db.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		return nil, err
	}
	c := &eventCache{db: db, check: st, version: cacheVersion{-1, -1}, entries: map[string][]byte{}, max: max,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *eventCache) close() error {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return nil
	}
	c.closed = true
	c.wmu.Unlock()
	close(c.wake)
	<-c.done
	c.check.Close()
	return c.db.Close()
}

// versionResult is the answer of one check.
type versionResult struct {
	v   int64
	err error
}

var errCacheClosed = errors.New("sqlite: closed")

// dataVersion returns PRAGMA data_version as a check no older than
// otherWritesWithin read it: the latest, or the next one.
func (c *eventCache) dataVersion(ctx context.Context) (int64, error) {
	if l := c.last.Load(); l != nil && time.Since(l.at) <= otherWritesWithin {
		return l.v, nil
	}
	ch := make(chan versionResult, 1)
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return 0, errCacheClosed
	}
	c.waiting = append(c.waiting, ch)
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	c.wmu.Unlock()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// loop runs the checks: each takes every request waiting when it starts.
func (c *eventCache) loop() {
	defer close(c.done)
	var batch []chan versionResult
	for range c.wake {
		for {
			c.wmu.Lock()
			batch, c.waiting = c.waiting, batch[:0]
			c.wmu.Unlock()
			if len(batch) == 0 {
				break
			}
			var r versionResult
			at := time.Now()
			if r.err = c.check.QueryRow().Scan(&r.v); r.err == nil {
				c.last.Store(&checked{at: at, v: r.v})
			}
			for i, ch := range batch {
				ch <- r
				batch[i] = nil
			}
		}
	}
	c.wmu.Lock()
	for _, ch := range c.waiting {
		ch <- versionResult{err: errCacheClosed}
	}
	c.waiting = nil
	c.wmu.Unlock()
}

// get returns the encoding of the event called name: from memory if it is
// there and still what the database holds (see eventCache), else from load.
// writes is this process's count of writes before the call. The bytes are
// shared: callers must not change them.
func (c *eventCache) get(ctx context.Context, name string, writes int64, load func() ([]byte, error)) ([]byte, error) {
	dv, err := c.dataVersion(ctx)
	if err != nil {
		return load() // the database answers as it would without the cache
	}
	v := cacheVersion{dv, writes}
	c.mu.Lock()
	if v != c.version {
		c.version, c.entries, c.order, c.bytes = v, map[string][]byte{}, c.order[:0], 0
	}
	b, ok := c.entries[name]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err = load()
	if err != nil || len(b) > c.max/16 {
		return b, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != v {
		return b, nil // emptied meanwhile: b may be older than what the cache holds now
	}
	if _, dup := c.entries[name]; dup {
		return b, nil
	}
	for c.bytes+len(b) > c.max && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.entries[old])
		delete(c.entries, old)
	}
	c.entries[name] = b
	c.order = append(c.order, name)
	c.bytes += len(b)
	return b, nil
}

// stmtCache holds the statements of ListEvents, prepared once per text:
// a filter's shape (which filters are set, a first or a later page, the
// plan) gives the text — every value is a parameter — so there are a few
// dozen texts, and no more than the shapes eventQuery can make. Preparing
// was 7 % of a page's server CPU.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// prepare returns the statement of q on db, prepared once.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st, nil
}

// close closes every statement held.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
