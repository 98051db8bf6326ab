// Package exporter turns the archive's records into RDF triples, linked to
// Wikidata, and writes them as Turtle, N-Triples or JSON-LD, streaming.
//
// Each kind of record maps to triples through one table, documented in
// MAPPING.md beside this file (schema.org and the Simple Event Model for
// classes and core properties, Wikidata direct properties where Wikidata has
// one and the statement is true as Wikidata's "truthy" values are read,
// owl:sameAs or skos:closeMatch to Wikidata entities, PROV-O for
// provenance, VoID and DCAT for the dataset). Terms are github.com/knakk/rdf's;
// the writer (writer.go) writes the bytes knakk/rdf's encoders write, many
// times faster, and the mapping keeps clear of the inputs knakk/rdf's
// Turtle encoder writes wrongly, which the Turtle writer refuses
// (checkTurtle) should one slip through.
//
// The dump is the union of two kinds of triple sets and nothing else: each
// record's own triples (RecordTriples; every subject is the record's IRI or
// a node under it, {iri}#…), which depend on that record alone, and the
// description of the dataset (DatasetTriples), whose subjects are
// {base}/dataset and nodes under it. A store kept in sync with the archive
// can hold each record in a named graph of its own and replace it when the
// record changes. What depends on other records (the labels of linked
// resources, the events an actor takes part in) is only in the per-resource
// documents (Resource).
//
// Output is deterministic: the same archive gives the same bytes, whenever
// and wherever it was loaded (no clock is read). Memory does not grow with
// the archive: records are streamed from store.Reader's Walk functions,
// mapped and written a few at a time (see records).
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// DefaultBase is the base IRI used when none is configured: the default
// address of Annals' HTTP server, so that every IRI of an export made with
// the defaults dereferences on a locally running server. Anyone publishing
// the data sets their public base instead (see IsLoopback).
const DefaultBase = "http://localhost:8080"

// OutputVersion names the RDF this exporter writes for given records: the
// first 16 hex digits of the SHA-256 of testdata/pact.golden.ttl, the
// golden Turtle of the pact. Whoever changes a byte of the output updates
// the golden file and this constant with it (TestOutputVersion fails
// until then); servers put it in the dataset's entity tags, so that a
// cached dump of an older Annals is never revalidated.
const OutputVersion = "abeadf500c634146"

// ErrBadBase is returned (wrapped) by New for a base IRI it cannot use.
var ErrBadBase = errors.New("bad base IRI")

// progressEvery is how many triples Dataset writes between progress reports.
const progressEvery = 10_000

// Exporter maps records to RDF under one base IRI and writes them. It holds
// no state between calls and is safe for concurrent use.
type Exporter struct {
	base       string
	vocabNS    string            // {base}/vocab#, the annals: namespace
	namespaces []vocabulary      // every Turtle prefix, in the order documents declare them
	prefixes   map[string]string // namespace -> Turtle prefix
	annals     map[string]rdf.IRI
	vocabIdx   map[string]int // term IRI -> index in namespaces of its vocabulary
	rank       map[string]int // predicate IRI -> place in predicateOrder
	// By rank (see rank): each predicate's IRI and its vocabulary's index
	// in namespaces (-1: none); the ranks tally.count treats apart.
	rankIRI                              []string
	rankPred                             []rdf.Predicate
	rankVocab                            []int
	rankType, rankSameAs, rankCloseMatch int
	dataset                              rdf.IRI
	sparql                               string // the SPARQL endpoint, "" if none
}

// Option configures an Exporter.
type Option func(*Exporter) error

// WithSPARQLEndpoint names the SPARQL endpoint that serves the dataset:
// the dataset description states it (void:sparqlEndpoint). u must be an
// absolute http or https URL.
func WithSPARQLEndpoint(u string) Option {
	return func(x *Exporter) error {
		if u == "" {
			return nil
		}
		if _, err := absoluteIRI(u); err != nil {
			return fmt.Errorf("SPARQL endpoint: %w", err)
		}
		x.sparql = u
		return nil
	}
}

// New returns an Exporter whose resource IRIs are {base}/events/{id},
// {base}/actors/{id}, {base}/places/{id} and {base}/sources/{id}, and whose
// vocabulary is {base}/vocab#. base must be an absolute http or https IRI
// without a query, a fragment or a trailing slash, such as DefaultBase or
// "https://annals.example.org/data".
func New(base string, opts ...Option) (*Exporter, error) {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w %q: %v", ErrBadBase, base, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w %q: want an absolute http or https IRI", ErrBadBase, base)
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%w %q: no host", ErrBadBase, base)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(base, "?#"):
		return nil, fmt.Errorf("%w %q: a base IRI has no query or fragment", ErrBadBase, base)
	case strings.HasSuffix(base, "/"):
		return nil, fmt.Errorf("%w %q: remove the trailing slash", ErrBadBase, base)
	}
	if _, err := rdf.NewIRI(base); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadBase, base, err)
	}
	x := &Exporter{
		base:     base,
		vocabNS:  base + VocabPath + "#",
		prefixes: make(map[string]string, len(vocabularies)+4),
		annals:   map[string]rdf.IRI{},
		vocabIdx: make(map[string]int, len(vocabIndex)),
		rank:     make(map[string]int, len(predicateOrder)),
		dataset:  mustIRI(base + "/dataset"),
	}
	for _, v := range vocabularies {
		if v.ns == vocabPlaceholder {
			v.ns = x.vocabNS
		}
		x.namespaces = append(x.namespaces, v)
	}
	for iri, i := range vocabIndex {
		if local, ok := strings.CutPrefix(iri, vocabPlaceholder); ok {
			real, err := rdf.NewIRI(x.vocabNS + local)
			if err != nil {
				return nil, fmt.Errorf("%w %q: %v", ErrBadBase, base, err)
			}
			x.annals[iri] = real
			iri = real.String()
		}
		x.vocabIdx[iri] = i
	}
	for i, p := range predicateOrder {
		if k := x.vocab(p).String(); !hasKey(x.rank, k) {
			x.rank[k] = i
		}
	}
	x.rankIRI, x.rankVocab = make([]string, len(predicateOrder)), make([]int, len(predicateOrder))
	x.rankPred = make([]rdf.Predicate, len(predicateOrder))
	for i, p := range predicateOrder {
		x.rankIRI[i] = x.vocab(p).String()
		x.rankPred[i] = x.vocab(p)
		x.rankVocab[i] = -1
		if v, ok := x.vocabIdx[x.rankIRI[i]]; ok {
			x.rankVocab[i] = v
		}
	}
	x.rankType, x.rankSameAs, x.rankCloseMatch = x.rank[rdfType.String()], x.rank[owlSameAs.String()], x.rank[skosCloseMatch.String()]
	for _, v := range x.namespaces {
		if _, taken := x.prefixes[v.ns]; taken {
			return nil, fmt.Errorf("%w %q: its vocabulary would share a namespace with another", ErrBadBase, base)
		}
		x.prefixes[v.ns] = v.prefix
	}
	// Resource ids are slugs (resource.CheckID): a-z, 0-9 and inner single
	// hyphens, possibly with a leading digit, all of which a Turtle 1.1 local
	// name may hold unescaped.
	for _, p := range []struct {
		k      resource.Kind
		prefix string
	}{{resource.Events, "event"}, {resource.Actors, "actor"}, {resource.Places, "place"}, {resource.Sources, "source"}} {
		ns := base + "/" + string(p.k) + "/"
		if _, taken := x.prefixes[ns]; taken {
			return nil, fmt.Errorf("%w %q: its resources would share a namespace with a vocabulary", ErrBadBase, base)
		}
		x.prefixes[ns] = p.prefix
		x.namespaces = append(x.namespaces, vocabulary{p.prefix, ns})
	}
	for _, o := range opts {
		if err := o(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// vocab returns i, or for a term of Annals' vocabulary as declared in this
// package (vocabPlaceholder) its IRI under this exporter's base.
func (x *Exporter) vocab(i rdf.IRI) rdf.IRI {
	s := i.String()
	if len(s) > len(vocabPlaceholder) && s[:4] == "urn:" {
		if real, ok := x.annals[s]; ok {
			return real
		}
	}
	return i
}

// noteVocab marks in used the vocabularies t uses: its predicate, any term
// of a vocabulary as object, and its literal's datatype.
func (x *Exporter) noteVocab(used []bool, t rdf.Triple) {
	if i, ok := x.vocabIdx[t.Pred.String()]; ok {
		used[i] = true
	}
	switch o := t.Obj.(type) {
	case rdf.IRI:
		if i, ok := x.vocabIdx[o.String()]; ok {
			used[i] = true
		}
	case rdf.Literal:
		if i, ok := x.vocabIdx[o.DataType.String()]; ok {
			used[i] = true
		}
	}
}

// Base returns the base IRI.
func (x *Exporter) Base() string { return x.base }

// VocabIRI returns the IRI of Annals' vocabulary document, {base}/vocab;
// its terms are {base}/vocab#{term}.
func (x *Exporter) VocabIRI() string { return x.base + VocabPath }

// SPARQLEndpoint returns the configured SPARQL endpoint, or "".
func (x *Exporter) SPARQLEndpoint() string { return x.sparql }

// IRI returns the IRI of the resource with the given name, "{base}/{name}",
// such as "http://localhost:8080/events/soviet-japanese-neutrality-pact".
// It is also the name of the record's graph in a store that keeps one
// named graph per record.
func (x *Exporter) IRI(name string) string { return x.base + "/" + name }

// DatasetIRI returns the IRI of the dataset, "{base}/dataset", the subject of
// the VoID/DCAT description that ends every dump; the dumps themselves are at
// "{base}/dataset.ttl", "{base}/dataset.nt", "{base}/dataset.nt.gz" and
// "{base}/dataset.jsonld".
func (x *Exporter) DatasetIRI() string { return x.dataset.String() }

// IsLoopback reports whether base names this machine only (localhost, a
// loopback or unspecified address): IRIs under it dereference nowhere else,
// so data published with it cannot be followed by anyone.
func IsLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return false
}

// EventTriples returns the triples that describe e, grouped by subject (see
// MAPPING.md). It fails for a record that cannot be mapped: a malformed
// resource name or Wikidata id, an invalid date.
func (x *Exporter) EventTriples(e *annalsv1.Event) ([]rdf.Triple, error) {
	b := x.newBuilder()
	b.event(e)
	return b.done()
}

// ActorTriples returns the triples that describe a, grouped by subject.
func (x *Exporter) ActorTriples(a *annalsv1.Actor) ([]rdf.Triple, error) {
	b := x.newBuilder()
	b.actor(a)
	return b.done()
}

// PlaceTriples returns the triples that describe p, grouped by subject.
func (x *Exporter) PlaceTriples(p *annalsv1.Place) ([]rdf.Triple, error) {
	b := x.newBuilder()
	b.place(p)
	return b.done()
}

// SourceTriples returns the triples that describe s, grouped by subject.
func (x *Exporter) SourceTriples(s *annalsv1.Source) ([]rdf.Triple, error) {
	b := x.newBuilder()
	b.source(s)
	return b.done()
}

// Triples returns the triples of one record (an *annalsv1.Event, Actor,
// Place or Source): exactly those the dump holds about it, and nothing that
// depends on another record. Every subject is the record's IRI (x.IRI of
// its name) or a node under it ({iri}#…).
func (x *Exporter) Triples(rec proto.Message) ([]rdf.Triple, error) {
	b := x.newBuilder()
	if !b.record(rec) {
		return nil, fmt.Errorf("exporter: %T is not a record", rec)
	}
	return b.done()
}

// record maps rec with b; it reports false for a message that is no record.
func (b *builder) record(rec proto.Message) bool {
	switch m := rec.(type) {
	case *annalsv1.Event:
		b.event(m)
	case *annalsv1.Actor:
		b.actor(m)
	case *annalsv1.Place:
		b.place(m)
	case *annalsv1.Source:
		b.source(m)
	default:
		return false
	}
	return true
}

// RecordTriples writes the triples of one record (see Triples) to w as
// N-Triples, one a line, in the order the dump has them, and returns how
// many it wrote. The dump is these triples for every record, then
// DatasetTriples: a store that keeps each record in a named graph (its IRI)
// replaces the graph with this output when the record changes.
func (x *Exporter) RecordTriples(ctx context.Context, w io.Writer, rec proto.Message) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ts, err := x.Triples(rec)
	if err != nil {
		return 0, err
	}
	return x.writeDoc(w, NTriples, ts)
}

// Dataset writes the whole archive to w in format f: every event, actor,
// place and source, each collection in name order, and last the VoID/DCAT
// description of the dataset (DatasetTriples), whose void:triples is the
// number of triples written, itself included. It returns that number.
// Memory does not grow with the archive. progress, if not nil, is called
// with the number of triples written so far about every 10 000 triples and
// once at the end. Nothing is compressed: gzip is the caller's business.
func (x *Exporter) Dataset(ctx context.Context, r store.Reader, w io.Writer, f Format, progress func(triples int64)) (int64, error) {
	enc, err := x.newEncoder(w, f)
	if err != nil {
		return 0, err
	}
	return x.writeDataset(ctx, r, enc, progress)
}

// writeDataset is Dataset through enc. The mappers count their chunks'
// triples for the description and, for N-Triples, write them out as text
// too, so that the calling goroutine only passes bytes on in order.
func (x *Exporter) writeDataset(ctx context.Context, r store.Reader, enc *encoder, progress func(triples int64)) (int64, error) {
	t := x.newTally()
	parts := x.newTallies()
	_, ours := enc.w.(*writer) // not knakk/rdf's encoder, which tests compare with
	nt := enc.f == NTriples && ours
	var reported int64
	err := x.chunks(ctx, r, func(worker int, c *chunk) {
		parts[worker].count(len(c.ends), c.ts, c.ranks)
		if nt {
			c.nt = c.nt[:0]
			for _, tr := range c.ts {
				c.nt = appendNTriple(c.nt, tr)
			}
		}
	}, func(c *chunk) error {
		for _, m := range c.recs[:len(c.ends)] {
			t.note(m)
		}
		var err error
		if nt {
			err = enc.raw(c.nt, len(c.ts))
		} else {
			err = enc.encode(c.ts)
		}
		if err != nil {
			return err
		}
		if progress != nil && enc.n-reported >= progressEvery {
			reported = enc.n
			progress(enc.n)
		}
		return c.err
	})
	if err != nil {
		return enc.n, err
	}
	for _, p := range parts {
		t.merge(p)
	}
	desc, err := x.describe(t)
	if err != nil {
		return enc.n, err
	}
	if err := enc.encode(desc); err != nil {
		return enc.n, err
	}
	if err := enc.close(); err != nil {
		return enc.n, err
	}
	if progress != nil {
		progress(enc.n)
	}
	return enc.n, nil
}

// DatasetTriples writes, as N-Triples, the description of the dataset that
// ends the dump (DatasetTriples of the same archive is byte for byte the
// end of Dataset's N-Triples): VoID and DCAT, counts, partitions, the
// linkset to Wikidata. Its subjects are DatasetIRI and nodes under it. It
// counts the archive, so it costs about as much as a dump, without the
// writing. It returns the number of triples written.
func (x *Exporter) DatasetTriples(ctx context.Context, r store.Reader, w io.Writer) (int64, error) {
	t := x.newTally()
	parts := x.newTallies()
	if err := x.chunks(ctx, r, func(worker int, c *chunk) {
		parts[worker].count(len(c.ends), c.ts, c.ranks)
	}, func(c *chunk) error {
		for _, m := range c.recs[:len(c.ends)] {
			t.note(m)
		}
		return c.err
	}); err != nil {
		return 0, err
	}
	for _, p := range parts {
		t.merge(p)
	}
	desc, err := x.describe(t)
	if err != nil {
		return 0, err
	}
	return x.writeDoc(w, NTriples, desc)
}

// Pipelining of records: the store is walked in one goroutine, records are
// mapped to triples by mappers goroutines, chunkRecords records at a time,
// and the calling goroutine writes the chunks in order. What is in flight is
// bounded by the channels, so memory stays flat.
const (
	chunkRecords = 16
	mappers      = 2
)

// chunk is a run of consecutive records: walked, then mapped, then written.
type chunk struct {
	seq   int
	recs  []proto.Message
	ts    []rdf.Triple // the triples of the records, one after the other
	ranks []int32      // ranks[i]: the rank of the predicate of ts[i] (Exporter.rank)
	ends  []int        // ends[i]: the end in ts of the triples of recs[i]
	err   error        // the mapping error of record len(ends), if any
	nt    []byte       // what a hook wrote of ts (writeDataset: N-Triples)
}

// records maps every event, actor, place and source, each collection in
// name order, and calls fn with each record and its triples, one record
// after the other. Walking the store, mapping and calling fn run
// concurrently (see chunkRecords); fn is called in order from the calling
// goroutine, as if they ran one after the other. ts is reused after fn
// returns.
func (x *Exporter) records(ctx context.Context, r store.Reader, fn func(m proto.Message, ts []rdf.Triple) error) error {
	return x.chunks(ctx, r, nil, func(c *chunk) error {
		start := 0
		for i, end := range c.ends {
			if err := fn(c.recs[i], c.ts[start:end]); err != nil {
				return err
			}
			start = end
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return c.err
	})
}

// chunks is records a chunk at a time: the mapper goroutine that mapped a
// chunk runs hook on it (worker, 0 to mappers-1, tells the mappers apart,
// so that a hook may keep state of its own per mapper), then fn gets the
// chunks in order in the calling goroutine. fn returns c.err, or its own
// error, to stop. c is reused after fn returns.
func (x *Exporter) chunks(ctx context.Context, r store.Reader, hook func(worker int, c *chunk), fn func(c *chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		walked  = make(chan *chunk, mappers)
		mapped  = make(chan *chunk, 2*mappers)
		free    = make(chan *chunk, 4*mappers+2) // chunks to reuse
		walkErr error
		wg      sync.WaitGroup
	)
	newChunk := func() *chunk {
		select {
		case c := <-free:
			clear(c.recs)
			c.recs, c.ts, c.ranks, c.ends, c.err = c.recs[:0], c.ts[:0], c.ranks[:0], c.ends[:0], nil
			return c
		default:
			return &chunk{recs: make([]proto.Message, 0, chunkRecords)}
		}
	}
	go func() {
		defer close(walked)
		seq := 0
		c := newChunk()
		send := func() error {
			c.seq = seq
			seq++
			select {
			case walked <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			c = newChunk()
			return nil
		}
		add := func(m proto.Message) error {
			if c.recs = append(c.recs, m); len(c.recs) == chunkRecords {
				return send()
			}
			return nil
		}
		err := r.WalkEvents(ctx, func(e *annalsv1.Event) error { return add(e) })
		if err == nil {
			err = r.WalkActors(ctx, func(a *annalsv1.Actor) error { return add(a) })
		}
		if err == nil {
			err = r.WalkPlaces(ctx, func(p *annalsv1.Place) error { return add(p) })
		}
		if err == nil {
			err = r.WalkSources(ctx, func(s *annalsv1.Source) error { return add(s) })
		}
		if err == nil && len(c.recs) > 0 {
			err = send()
		}
		walkErr = err
	}()
	for worker := range mappers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := x.newBuilder()
			for c := range walked {
				x.mapChunk(b, c)
				if hook != nil {
					hook(worker, c)
				}
				mapped <- c
			}
		}()
	}
	go func() {
		wg.Wait()
		close(mapped)
	}()

	var (
		err     error
		next    int
		pending = map[int]*chunk{}
	)
	for c := range mapped {
		if err != nil {
			continue // drain, so that the goroutines end
		}
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err = fn(c); err == nil {
				err = ctx.Err()
			}
			if err != nil {
				cancel()
				break
			}
			select {
			case free <- c:
			default:
			}
		}
	}
	// mapped is closed: the walker and the mappers are done.
	if err == nil {
		err = walkErr
	}
	if err != nil {
		return fmt.Errorf("exporter: dataset: %w", err)
	}
	return nil
}

// mapChunk maps the records of c to triples with b, stopping at the first
// record that fails.
func (x *Exporter) mapChunk(b *builder, c *chunk) {
	for _, m := range c.recs {
		b.reset()
		switch m := m.(type) {
		case *annalsv1.Event:
			b.event(m)
		case *annalsv1.Actor:
			b.actor(m)
		case *annalsv1.Place:
			b.place(m)
		case *annalsv1.Source:
			b.source(m)
		}
		ts, ranks, err := b.appendDoneRanks(c.ts, c.ranks)
		if err != nil {
			c.err = err
			return
		}
		c.ts, c.ranks = ts, ranks
		c.ends = append(c.ends, len(c.ts))
	}
	b.reset()
}
