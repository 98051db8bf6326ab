// Package mirror keeps a SPARQL store in sync with the archive through the
// SPARQL 1.1 Graph Store HTTP Protocol: one named graph per record (the
// record's IRI, {base}/{name}) holding that record's triples, one for the
// triples of the dump that belong to no record ({base}/dataset: the document
// header and the VoID/DCAT description), and a small state graph
// ({base}/.well-known/annals-mirror) holding the sequence number of the
// archive's change log up to which the store holds every change.
//
// The first run loads every record at a consistent point: it reads the
// log's newest sequence number S first, writes it into the state graph
// marked "loading", puts every record's graph, the dataset graph, and
// marks the state "following". Then it follows the change log after S: for
// each batch of changes it replaces (PUT) the graph of every changed record
// with the record as it is now, or removes (DELETE) the graph of a deleted
// one, and only then writes the batch's last sequence number into the state
// graph. A crash anywhere, a restart, or another mirror process taking over
// starts again from the state graph: changes after it are applied again,
// which replacing whole graphs makes harmless (at-least-once delivery,
// idempotent). A load interrupted midway is redone from its own S, so the
// deletions committed during it are applied too.
//
// The mirror reads the archive directly (store.Reader), as annals export
// does; it never goes through the server.
package mirror

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/annals-project/annals/exporter"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// Defaults for the zero values of Config.
const (
	DefaultPollInterval    = 200 * time.Millisecond
	DefaultBatchSize       = 500
	DefaultWorkers         = 4
	DefaultDatasetInterval = 10 * time.Second
	DefaultRetryFor        = 2 * time.Minute
)

// StateGraphPath is the path, under the base IRI, of the state graph.
const StateGraphPath = "/.well-known/annals-mirror"

// The state graph's terms: those of Annals' vocabulary ({base}/vocab#,
// defined in exporter/vocab.ttl), and dcterms:modified.
const (
	termSequence = "mirrorSequence" // xsd:integer: every change up to it is in the store
	termPhase    = "mirrorPhase"    // "loading" or "following"
	termArchive  = "mirrorArchive"  // the archive's identity (its first change-log entry)
	termOf       = "mirrorOf"       // the dataset IRI
	predModified = "http://purl.org/dc/terms/modified"
	xsdInteger   = "http://www.w3.org/2001/XMLSchema#integer"
	xsdDateTime  = "http://www.w3.org/2001/XMLSchema#dateTime"
)

// Errors that stop the mirror without retrying.
var (
	// ErrOtherArchive means the store's state graph was written by a mirror
	// of another archive with the same base IRI.
	ErrOtherArchive = errors.New("the SPARQL store mirrors another archive under this base IRI")
	// ErrAhead means the store's state graph names a sequence number the
	// archive has not reached: the database was replaced or restored.
	ErrAhead = errors.New("the SPARQL store is ahead of the archive")
)

// Target is where the mirror writes: a SPARQL 1.1 Graph Store (GraphStore).
type Target interface {
	Put(ctx context.Context, graph string, ntriples []byte) error
	Delete(ctx context.Context, graph string) error
	Get(ctx context.Context, graph string) ([]byte, error)
}

// Config is what New needs.
type Config struct {
	// Archive is read for records and the change log. Required.
	Archive store.Reader
	// Renderer maps records to N-Triples. Required.
	Renderer Renderer
	// Target is the SPARQL store. Required.
	Target Target
	// Base is the base IRI of the records' IRIs (the exporter's). Required.
	Base string
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics, if not nil, receives progress, lag and errors.
	Metrics *Metrics
	// PollInterval is how often a mirror that has caught up looks for new
	// changes: 0 means DefaultPollInterval.
	PollInterval time.Duration
	// BatchSize is how many change-log entries are applied before the
	// state graph is written: 0 means DefaultBatchSize.
	BatchSize int
	// Workers is how many requests to the store run at once: 0 means DefaultWorkers.
	Workers int
	// DatasetInterval is the least time between two refreshes of the
	// dataset graph while changes keep coming (it is also refreshed when the
	// mirror catches up, and at least once a run): 0 means DefaultDatasetInterval.
	DatasetInterval time.Duration
	// RetryFor bounds how long one request is retried when the store or
	// the archive fails in a way that may pass: 0 means DefaultRetryFor.
	RetryFor time.Duration
	// Reload loads every record again, whatever the state graph says.
	Reload bool
	// ArchiveID identifies the archive (see ArchiveID); empty means its
	// first change-log entry, which a copy of the archive may share.
	ArchiveID string
}

// Mirror keeps one SPARQL store in sync with one archive.
type Mirror struct {
	cfg          Config
	log          *slog.Logger
	stateGraph   string
	datasetGraph string

	seq          int64
	dirty        bool // the dataset graph may be stale
	lastDataset  time.Time
	datasetCost  time.Duration   // how long the last refresh took
	onStateWrite func(seq int64) // tests: called after each state write
}

// New returns a Mirror for cfg.
func New(cfg Config) (*Mirror, error) {
	if cfg.Archive == nil || cfg.Renderer == nil || cfg.Target == nil || cfg.Base == "" {
		return nil, errors.New("mirror: Archive, Renderer, Target and Base are required")
	}
	if strings.HasSuffix(cfg.Base, "/") {
		return nil, fmt.Errorf("mirror: base %q ends in a slash", cfg.Base)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, DefaultPollInterval)
	def(&cfg.DatasetInterval, DefaultDatasetInterval)
	def(&cfg.RetryFor, DefaultRetryFor)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mirror{
		cfg:          cfg,
		log:          log,
		stateGraph:   cfg.Base + StateGraphPath,
		datasetGraph: cfg.Base + "/dataset",
	}, nil
}

// Sequence returns the sequence number up to which this mirror has
// brought the store (0 before it has).
func (m *Mirror) Sequence() int64 { return m.seq }

// StateGraph returns the IRI of the state graph.
func (m *Mirror) StateGraph() string { return m.stateGraph }

// DatasetGraph returns the IRI of the dataset graph.
func (m *Mirror) DatasetGraph() string { return m.datasetGraph }

// Graph returns the IRI of the named graph of a record.
func (m *Mirror) Graph(name string) string { return m.cfg.Base + "/" + name }

// Sync brings the store up to the newest change of the archive and
// returns: a first run loads everything.
func (m *Mirror) Sync(ctx context.Context) error { return m.run(ctx, true) }

// Run brings the store up to date and then follows the change log until
// ctx ends (it then returns nil), or until a failure outlasts the retries.
func (m *Mirror) Run(ctx context.Context) error { return m.run(ctx, false) }

// State is what the state graph says.
type State struct {
	Found    bool
	Sequence int64
	Loading  bool
	Archive  string
}

// ReadState reads the state graph.
func (m *Mirror) ReadState(ctx context.Context) (State, error) {
	var st State
	err := m.retry(ctx, "read the state graph", func(ctx context.Context) error {
		b, err := m.cfg.Target.Get(ctx, m.stateGraph)
		if errors.Is(err, ErrNoGraph) {
			st = State{}
			return nil
		}
		if err != nil {
			return err
		}
		st, err = parseState(b)
		return err
	})
	return st, err
}

func (m *Mirror) run(ctx context.Context, once bool) error {
	st, err := m.ReadState(ctx)
	if err != nil {
		return err
	}
	id, last, err := m.archiveIdentity(ctx)
	if err != nil {
		return err
	}
	if st.Found && st.Archive != "" && id != "" && st.Archive != id {
		return fmt.Errorf("mirror: %w: its state graph %s names the archive %q, this one is %q; use another base IRI, or drop that graph to load this archive over it", ErrOtherArchive, m.stateGraph, st.Archive, id)
	}
	if st.Found && st.Sequence > last && !m.cfg.Reload {
		return fmt.Errorf("mirror: %w: its state graph %s says sequence %d, the archive's newest change is %d (was the database replaced or restored?); reload with --reload", ErrAhead, m.stateGraph, st.Sequence, last)
	}
	m.cfg.Metrics.setApplied(st.Sequence, last)
	switch {
	case m.cfg.Reload || !st.Found:
		if err := m.load(ctx, last, id); err != nil {
			return err
		}
	case st.Loading:
		m.log.Info("mirror: resuming an interrupted full load", "sequence", st.Sequence)
		if err := m.load(ctx, st.Sequence, id); err != nil {
			return err
		}
	default:
		m.seq = st.Sequence
		m.log.Info("mirror: resuming", "sequence", st.Sequence, "archive_last_sequence", last)
	}
	m.dirty = true // refreshed at least once a run: a crash may have left it stale
	return m.follow(ctx, once, id)
}

// archiveIdentity returns the archive's identity (Config.ArchiveID, else
// its first change-log entry, which never changes) and its newest sequence
// number.
func (m *Mirror) archiveIdentity(ctx context.Context) (string, int64, error) {
	id := m.cfg.ArchiveID
	var last int64
	err := m.retry(ctx, "read the change log", func(ctx context.Context) error {
		if m.cfg.ArchiveID == "" {
			first, err := m.cfg.Archive.Changes(ctx, 0, 1)
			if err != nil {
				return archiveErr(err)
			}
			if len(first) > 0 {
				e := first[0]
				id = fmt.Sprintf("%d %d %s", e.Seq, e.Time, e.Name)
			}
		}
		var err error
		last, err = m.cfg.Archive.LastSeq(ctx)
		return archiveErr(err)
	})
	return id, last, err
}

// ArchiveIDKey is the store.Writer meta key of the archive's identity.
const ArchiveIDKey = "mirror.archive_id"

// ArchiveID returns the identity of the archive in st, a random value made
// and kept (store meta ArchiveIDKey) on first use: the state graph records
// it, so that a mirror of another archive with the same base IRI, even a
// copy of this one, is refused.
func ArchiveID(ctx context.Context, st store.Writer) (string, error) {
	id, err := st.Meta(ctx, ArchiveIDKey)
	if err == nil && id != "" {
		return id, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	id = fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
	if err := st.SetMeta(ctx, ArchiveIDKey, id); err != nil {
		return "", err
	}
	// Two first mirrors at once: the value stored last is the one.
	return st.Meta(ctx, ArchiveIDKey)
}

// load puts every record's graph and the dataset graph, as of sequence seq
// or later, and leaves the state at seq, following.
func (m *Mirror) load(ctx context.Context, seq int64, id string) error {
	start := time.Now()
	m.log.Info("mirror: full load", "sequence", seq, "base", m.cfg.Base)
	if err := m.writeState(ctx, seq, true, id); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	recs := make(chan proto.Message, 4*m.cfg.Workers)
	var mu sync.Mutex
	var n int
	for range m.cfg.Workers {
		g.Go(func() error {
			var buf bytes.Buffer
			for rec := range recs {
				if err := m.put(gctx, &buf, rec); err != nil {
					return err
				}
				mu.Lock()
				n++
				if n%1000 == 0 {
					m.log.Info("mirror: loading", "records", n, "records_per_second", int(float64(n)/time.Since(start).Seconds()))
				}
				mu.Unlock()
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(recs)
		send := func(rec proto.Message) error {
			select {
			case recs <- rec:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		a := m.cfg.Archive
		err := errors.Join(
			a.WalkEvents(gctx, func(r *annalsv1.Event) error { return send(r) }),
			a.WalkActors(gctx, func(r *annalsv1.Actor) error { return send(r) }),
			a.WalkPlaces(gctx, func(r *annalsv1.Place) error { return send(r) }),
			a.WalkSources(gctx, func(r *annalsv1.Source) error { return send(r) }),
		)
		if err != nil && gctx.Err() == nil {
			return fmt.Errorf("mirror: read the archive: %w", err)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if err := m.putDataset(ctx); err != nil {
		return err
	}
	if err := m.writeState(ctx, seq, false, id); err != nil {
		return err
	}
	m.seq = seq
	m.log.Info("mirror: full load done", "records", n, "sequence", seq, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// follow applies the change log after m.seq, batch by batch; once, it
// returns when there is nothing more to apply.
func (m *Mirror) follow(ctx context.Context, once bool, id string) error {
	for {
		var page []store.LogEntry
		err := m.retry(ctx, "read the change log", func(ctx context.Context) error {
			var err error
			page, err = m.cfg.Archive.Changes(ctx, m.seq, m.cfg.BatchSize)
			return archiveErr(err)
		})
		if err != nil {
			return m.stopped(ctx, err)
		}
		if len(page) > 0 {
			if err := m.apply(ctx, page); err != nil {
				return m.stopped(ctx, err)
			}
			next := page[len(page)-1].Seq
			if err := m.writeState(ctx, next, false, id); err != nil {
				return m.stopped(ctx, err)
			}
			m.seq, m.dirty = next, true
		}
		// The dataset graph (whose description costs a pass over the
		// archive) is refreshed at most every DatasetInterval, or ten times
		// what the last refresh took if that is longer (so that it takes at
		// most a tenth of the time on a large archive), and always before a
		// Sync returns.
		caughtUp := len(page) < m.cfg.BatchSize
		if m.dirty && (once && caughtUp || time.Since(m.lastDataset) >= max(m.cfg.DatasetInterval, 10*m.datasetCost)) {
			if err := m.putDataset(ctx); err != nil {
				return m.stopped(ctx, err)
			}
		}
		if !caughtUp {
			continue
		}
		if last, err := m.cfg.Archive.LastSeq(ctx); err == nil {
			m.cfg.Metrics.setApplied(m.seq, last)
		}
		if once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.cfg.PollInterval):
		}
	}
}

// stopped returns nil when ctx ended (a clean stop), else err.
func (m *Mirror) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// apply replaces the graphs of the records the entries name with the
// records as they are now (or removes them), each record once.
func (m *Mirror) apply(ctx context.Context, page []store.LogEntry) error {
	seen := make(map[string]bool, len(page))
	var names []string
	for _, e := range page {
		if !seen[e.Name] {
			seen[e.Name] = true
			names = append(names, e.Name)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.cfg.Workers)
	for _, name := range names {
		g.Go(func() error {
			var rec proto.Message
			err := m.retry(gctx, "read "+name, func(ctx context.Context) error {
				var err error
				rec, err = store.Get(ctx, m.cfg.Archive, name)
				if errors.Is(err, store.ErrNotFound) {
					rec, err = nil, nil
				}
				return archiveErr(err)
			})
			if err != nil {
				return err
			}
			if rec == nil {
				graph := m.Graph(name)
				if err := m.retry(gctx, "delete "+graph, func(ctx context.Context) error { return m.cfg.Target.Delete(ctx, graph) }); err != nil {
					return err
				}
				m.cfg.Metrics.wrote("delete")
				return nil
			}
			var buf bytes.Buffer
			return m.put(gctx, &buf, rec)
		})
	}
	return g.Wait()
}

// put renders rec into buf and replaces its graph.
func (m *Mirror) put(ctx context.Context, buf *bytes.Buffer, rec proto.Message) error {
	name := rec.(interface{ GetName() string }).GetName()
	buf.Reset()
	if err := m.cfg.Renderer.Record(ctx, buf, rec); err != nil {
		m.cfg.Metrics.error(KindRender)
		return fmt.Errorf("mirror: render %s: %w", name, err)
	}
	graph := m.Graph(name)
	body := buf.Bytes()
	if err := m.retry(ctx, "put "+graph, func(ctx context.Context) error { return m.cfg.Target.Put(ctx, graph, body) }); err != nil {
		return err
	}
	m.cfg.Metrics.wrote("put")
	return nil
}

// putDataset replaces the dataset graph.
func (m *Mirror) putDataset(ctx context.Context) error {
	start := time.Now()
	defer func() { m.datasetCost = time.Since(start) }()
	var buf bytes.Buffer
	if err := m.cfg.Renderer.Dataset(ctx, &buf); err != nil {
		m.cfg.Metrics.error(KindRender)
		return fmt.Errorf("mirror: render the dataset description: %w", err)
	}
	if err := m.retry(ctx, "put "+m.datasetGraph, func(ctx context.Context) error {
		return m.cfg.Target.Put(ctx, m.datasetGraph, buf.Bytes())
	}); err != nil {
		return err
	}
	m.cfg.Metrics.wrote("put")
	m.dirty, m.lastDataset = false, time.Now()
	return nil
}

// writeState replaces the state graph.
func (m *Mirror) writeState(ctx context.Context, seq int64, loading bool, id string) error {
	s := "<" + m.stateGraph + ">"
	phase := "following"
	if loading {
		phase = "loading"
	}
	term := func(t string) string { return m.cfg.Base + exporter.VocabPath + "#" + t }
	var b strings.Builder
	fmt.Fprintf(&b, "%s <%s> <%s/dataset> .\n", s, term(termOf), m.cfg.Base)
	fmt.Fprintf(&b, "%s <%s> \"%d\"^^<%s> .\n", s, term(termSequence), seq, xsdInteger)
	fmt.Fprintf(&b, "%s <%s> %q .\n", s, term(termPhase), phase)
	if id != "" {
		fmt.Fprintf(&b, "%s <%s> %s .\n", s, term(termArchive), strconv.QuoteToASCII(id))
	}
	fmt.Fprintf(&b, "%s <%s> \"%s\"^^<%s> .\n", s, predModified, time.Now().UTC().Format("2006-01-02T15:04:05Z"), xsdDateTime)
	body := []byte(b.String())
	if err := m.retry(ctx, "write the state graph", func(ctx context.Context) error {
		return m.cfg.Target.Put(ctx, m.stateGraph, body)
	}); err != nil {
		return err
	}
	if !loading {
		if last, err := m.cfg.Archive.LastSeq(ctx); err == nil {
			m.cfg.Metrics.setApplied(seq, last)
		}
	}
	if m.onStateWrite != nil {
		m.onStateWrite(seq)
	}
	return nil
}

// parseState reads the state graph's N-Triples (as a store writes them
// back: tabs or spaces between terms, any valid escapes).
func parseState(b []byte) (State, error) {
	st := State{Found: true}
	seen := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// <s> <p> object .
		_, rest, ok := strings.Cut(line, ">")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "<") {
			continue
		}
		p, obj, ok := strings.Cut(rest[1:], ">")
		if !ok {
			continue
		}
		obj = strings.TrimSuffix(strings.TrimSpace(obj), ".")
		obj = strings.TrimSpace(obj)
		lex := literal(obj)
		switch p[strings.LastIndexByte(p, '#')+1:] { // the term, whatever the base
		case termSequence:
			n, err := strconv.ParseInt(lex, 10, 64)
			if err != nil {
				return st, fmt.Errorf("mirror: the state graph's sequence %q: %v", obj, err)
			}
			st.Sequence, seen = n, true
		case termPhase:
			st.Loading = lex == "loading"
		case termArchive:
			st.Archive = lex
		}
	}
	if !seen {
		return st, errors.New("mirror: the state graph has no sequence number")
	}
	return st, sc.Err()
}

// literal returns the lexical form of an N-Triples literal, unescaped.
func literal(obj string) string {
	if !strings.HasPrefix(obj, `"`) {
		return obj
	}
	end := strings.LastIndex(obj, `"`)
	if end <= 0 {
		return obj
	}
	s, err := strconv.Unquote(`"` + obj[1:end] + `"`)
	if err != nil {
		return obj[1:end]
	}
	return s
}

// archiveErr marks a failure to read the archive.
func archiveErr(err error) error {
	if err == nil {
		return nil
	}
	return &archiveError{err}
}

type archiveError struct{ err error }

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

// retry runs fn until it succeeds, fails for good (a permanent store error,
// corrupt or incompatible archive), ctx ends, or RetryFor has passed,
// backing off from 100 ms to 5 s between attempts.
func (m *Mirror) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	deadline := time.Now().Add(m.cfg.RetryFor)
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		kind, permanent := classify(err)
		m.cfg.Metrics.error(kind)
		if permanent || time.Now().After(deadline) {
			return fmt.Errorf("mirror: %s: %w", what, err)
		}
		if attempt == 1 || attempt%10 == 0 {
			m.log.Warn("mirror: retrying", "what", what, "attempt", attempt, "kind", kind, "error", err.Error())
		}
		wait := delay/2 + rand.N(delay/2+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// classify names an error's kind and says whether retrying is pointless.
func classify(err error) (kind string, permanent bool) {
	var se *StoreError
	var ae *archiveError
	switch {
	case errors.As(err, &se):
		return se.Kind, se.Permanent()
	case errors.As(err, &ae):
		return KindArchive, errors.Is(err, store.ErrDataLoss) || errors.Is(err, store.ErrIncompatible)
	}
	return KindUnreachable, false
}
