// Package exporter turns the archive's records into RDF triples, linked to
// Wikidata, and writes them as Turtle or N-Triples, streaming.
//
// Each kind of record maps to triples through one table, documented in
// MAPPING.md beside this file (schema.org and the Simple Event Model for
// classes and core properties, Wikidata direct properties where Wikidata has
// one, owl:sameAs to Wikidata entities, PROV-O for provenance, VoID and DCAT
// for the dataset). Terms are github.com/knakk/rdf's; the writer (writer.go)
// writes the bytes knakk/rdf's encoders write, many times faster, and the
// mapping keeps clear of the inputs knakk/rdf's Turtle encoder writes
// wrongly, which the Turtle writer refuses (checkTurtle) should one slip
// through.
//
// Output is deterministic: the same archive gives the same bytes. Memory does
// not grow with the archive: records are streamed from store.Reader's Walk
// functions, mapped and written a few at a time (see records).
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// DefaultBase is the base IRI used when none is configured: the default
// address of Annals' HTTP server, so that every IRI of an export made with
// the defaults dereferences on a locally running server. Anyone publishing
// the data sets their public base instead.
const DefaultBase = "http://localhost:8080"

// ErrBadBase is returned (wrapped) by New for a base IRI it cannot use.
var ErrBadBase = errors.New("bad base IRI")

// progressEvery is how many triples Dataset writes between progress reports.
const progressEvery = 10_000

// Exporter maps records to RDF under one base IRI and writes them. It holds
// no state between calls and is safe for concurrent use.
type Exporter struct {
	base       string
	namespaces []vocabulary      // every Turtle prefix, in the order the header declares them
	prefixes   map[string]string // namespace -> Turtle prefix
	dataset    rdf.IRI
}

// New returns an Exporter whose resource IRIs are {base}/events/{id},
// {base}/actors/{id}, {base}/places/{id} and {base}/sources/{id}. base must
// be an absolute http or https IRI without a query, a fragment or a trailing
// slash, such as DefaultBase or "https://annals.example.org/data".
func New(base string) (*Exporter, error) {
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
		prefixes: make(map[string]string, len(vocabularies)+4),
		dataset:  mustIRI(base + "/dataset"),
	}
	x.namespaces = append(x.namespaces, vocabularies...)
	for _, v := range vocabularies {
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
	return x, nil
}

// Base returns the base IRI.
func (x *Exporter) Base() string { return x.base }

// IRI returns the IRI of the resource with the given name, "{base}/{name}",
// such as "http://localhost:8080/events/soviet-japanese-neutrality-pact".
func (x *Exporter) IRI(name string) string { return x.base + "/" + name }

// DatasetIRI returns the IRI of the dataset, "{base}/dataset", the subject of
// the VoID/DCAT description that ends every dump; the dumps themselves are at
// "{base}/dataset.ttl" and "{base}/dataset.nt".
func (x *Exporter) DatasetIRI() string { return x.dataset.String() }

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

// Dataset writes the whole archive to w in format f: every event, actor,
// place and source, each collection in name order, and last the VoID/DCAT
// description of the dataset, whose void:triples is the number of triples
// written, itself included. It returns that number. Memory does not grow with
// the archive. progress, if not nil, is called with the number of triples
// written so far about every 10 000 triples and once at the end. Nothing is
// compressed: gzip is the caller's business.
func (x *Exporter) Dataset(ctx context.Context, r store.Reader, w io.Writer, f Format, progress func(triples int64)) (int64, error) {
	enc, err := x.newEncoder(w, f)
	if err != nil {
		return 0, err
	}
	return x.writeDataset(ctx, r, enc, progress)
}

// writeDataset is Dataset through enc.
func (x *Exporter) writeDataset(ctx context.Context, r store.Reader, enc *encoder, progress func(triples int64)) (int64, error) {
	if err := enc.encode(x.header(nil)); err != nil {
		return 0, err
	}
	example, hasExample, err := x.records(ctx, r, enc, progress)
	if err != nil {
		return enc.n, err
	}
	if err := x.finish(ctx, r, enc, example, hasExample); err != nil {
		return enc.n, err
	}
	if progress != nil {
		progress(enc.n)
	}
	return enc.n, nil
}

// Description writes the VoID/DCAT description of the dataset alone: the
// triples that end a dump written now, with the same void:triples count. It
// finds the count by mapping the whole archive without writing it, so it
// costs about as much as a dump.
func (x *Exporter) Description(ctx context.Context, r store.Reader, w io.Writer, f Format) error {
	probe, err := x.newEncoder(io.Discard, f)
	if err != nil {
		return err
	}
	if err := probe.encode(x.header(nil)); err != nil {
		return err
	}
	example, hasExample, err := x.records(ctx, r, probe, nil)
	if err != nil {
		return err
	}
	st, err := r.Stats(ctx)
	if err != nil {
		return fmt.Errorf("exporter: dataset: %w", err)
	}
	b := x.newBuilder()
	x.describeDataset(b, st, probe, example, hasExample)
	ts, err := b.done()
	if err != nil {
		return err
	}
	enc, err := x.newEncoder(w, f)
	if err != nil {
		return err
	}
	if err := enc.encode(x.header(ts)); err != nil {
		return err
	}
	if err := enc.encode(ts); err != nil {
		return err
	}
	return enc.close()
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
	seq  int
	recs []proto.Message
	ts   []rdf.Triple // the triples of the records, one after the other
	ends []int        // ends[i]: the end in ts of the triples of recs[i]
	err  error        // the mapping error of record len(ends), if any
}

// records writes every event, actor, place and source to enc, each
// collection in name order, and returns the first resource's IRI as the
// dataset's example resource. Walking the store, mapping and writing run
// concurrently (see chunkRecords); the output is the same as if they ran
// one after the other.
func (x *Exporter) records(ctx context.Context, r store.Reader, enc *encoder, progress func(triples int64)) (rdf.IRI, bool, error) {
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
			c.recs, c.ts, c.ends, c.err = c.recs[:0], c.ts[:0], c.ends[:0], nil
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
	for range mappers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := x.newBuilder()
			for c := range walked {
				x.mapChunk(b, c)
				mapped <- c
			}
		}()
	}
	go func() {
		wg.Wait()
		close(mapped)
	}()

	var (
		example    rdf.IRI
		hasExample bool
		reported   int64
		err        error
		next       int
		pending    = map[int]*chunk{}
	)
	write := func(c *chunk) error {
		start := 0
		for i, end := range c.ends {
			if !hasExample {
				example, hasExample = x.iri(c.recs[i].(interface{ GetName() string }).GetName()), true
			}
			if err := enc.encode(c.ts[start:end]); err != nil {
				return err
			}
			start = end
			if progress != nil && enc.n-reported >= progressEvery {
				reported = enc.n
				progress(enc.n)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return c.err
	}
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
			if err = write(c); err != nil {
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
		return example, hasExample, fmt.Errorf("exporter: dataset: %w", err)
	}
	return example, hasExample, nil
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
		ts, err := b.appendDone(c.ts)
		if err != nil {
			c.err = err
			return
		}
		c.ts = ts
		c.ends = append(c.ends, len(c.ts))
	}
	b.reset()
}

// finish writes the dataset description after the records and closes enc.
func (x *Exporter) finish(ctx context.Context, r store.Reader, enc *encoder, example rdf.IRI, hasExample bool) error {
	st, err := r.Stats(ctx)
	if err != nil {
		return fmt.Errorf("exporter: dataset: %w", err)
	}
	b := x.newBuilder()
	x.describeDataset(b, st, enc, example, hasExample)
	ts, err := b.done()
	if err == nil {
		err = enc.encode(ts)
	}
	if err == nil {
		err = enc.close()
	}
	return err
}

// Resource writes the description of one record, named "events/{id}",
// "actors/{id}", "places/{id}" or "sources/{id}", to w in format f: the
// triples of EventTriples (ActorTriples, …) for it. A name that does not
// exist gives an error wrapping store.ErrNotFound; a malformed one, an error
// wrapping resource.ErrMalformed.
func (x *Exporter) Resource(ctx context.Context, r store.Reader, name string, w io.Writer, f Format) error {
	rec, err := store.Get(ctx, r, name)
	if err != nil {
		return fmt.Errorf("exporter: %s: %w", name, err)
	}
	enc, err := x.newEncoder(w, f)
	if err != nil {
		return err
	}
	b := x.newBuilder()
	switch rec := rec.(type) {
	case *annalsv1.Event:
		b.event(rec)
	case *annalsv1.Actor:
		b.actor(rec)
	case *annalsv1.Place:
		b.place(rec)
	case *annalsv1.Source:
		b.source(rec)
	}
	if len(b.ts) == 0 && b.err == nil {
		return fmt.Errorf("exporter: %s: %w", name, store.ErrNotFound)
	}
	ts, err := b.done()
	if err != nil {
		return err
	}
	if err := enc.encode(x.header(ts)); err != nil {
		return err
	}
	if err := enc.encode(ts); err != nil {
		return err
	}
	return enc.close()
}

// header returns the triples that open every document, one for each
// namespace with a Turtle prefix: <namespace> vann:preferredNamespacePrefix
// "prefix". With ts, only the namespaces ts uses (and vann's) are included;
// without, all of them.
//
// They are there for knakk/rdf's Turtle encoder, which writes a prefix
// declaration where the prefix is first used and so, mid-description, closes
// the statement and repeats the subject. Written first, each as the subject
// of its own statement, they make every declaration come before the data,
// and they tell a reader of either format which prefixes the data uses.
func (x *Exporter) header(ts []rdf.Triple) []rdf.Triple {
	var used map[string]bool
	if ts != nil {
		used = map[string]bool{vocabularies[0].ns: true}
		mark := func(iri rdf.IRI) {
			if ns, _ := iri.Split(); x.prefixes[ns] != "" {
				used[ns] = true
			}
		}
		for _, t := range ts {
			if s, ok := t.Subj.(rdf.IRI); ok {
				mark(s)
			}
			mark(t.Pred.(rdf.IRI))
			switch o := t.Obj.(type) {
			case rdf.IRI:
				mark(o)
			case rdf.Literal:
				mark(o.DataType)
			}
		}
	}
	var h []rdf.Triple
	for _, v := range x.namespaces {
		if used == nil || used[v.ns] {
			h = append(h, rdf.Triple{Subj: mustIRI(v.ns), Pred: vannPreferredNamespacePrefix, Obj: plainLit(v.prefix)})
		}
	}
	return h
}

// describeDataset adds the VoID/DCAT description of the dataset to b. The
// number of triples it states counts everything enc has written plus the
// description itself.
func (x *Exporter) describeDataset(b *builder, st store.Stats, enc *encoder, example rdf.IRI, hasExample bool) {
	d := x.dataset
	b.add(d, rdfType, voidDataset)
	b.add(d, rdfType, dcatDataset)
	b.add(d, dctermsTitle, langLit("Annals: historical events linked to Wikidata", "en"))
	b.add(d, dctermsLicense, licenseCCBYSA4)
	if st.LastModified != 0 {
		b.add(d, dctermsModified, typedLit(time.Unix(0, st.LastModified).UTC().Format(time.RFC3339Nano), xsdDateTime))
	}
	b.add(d, voidURISpace, plainLit(x.base+"/"))
	if hasExample {
		b.add(d, voidExampleResource, example)
	}
	b.add(d, voidFeature, formatNTriples)
	b.add(d, voidFeature, formatTurtle)
	for _, dump := range []struct {
		f     Format
		media rdf.IRI
	}{{NTriples, mediaNTriples}, {Turtle, mediaTurtle}} {
		file := mustIRI(x.base + "/dataset" + dump.f.Extension())
		dist := mustIRI(x.base + "/dataset#" + dump.f.String())
		b.add(d, voidDataDump, file)
		b.add(d, dcatDistribProp, dist)
		b.add(dist, rdfType, dcatDistribution)
		b.add(dist, dcatDownloadURL, file)
		b.add(dist, dcatMediaType, dump.media)
		b.add(dist, dctermsLicense, licenseCCBYSA4)
	}
	// The vocabularies: those of the records and those of this description.
	used := make([]bool, len(vocabularies))
	copy(used, enc.used)
	probe := &encoder{used: used}
	for _, t := range b.ts {
		probe.note(t)
	}
	probe.note(rdf.Triple{Subj: d, Pred: voidVocabulary, Obj: d})
	probe.note(rdf.Triple{Subj: d, Pred: voidTriples, Obj: typedLit("0", xsdInteger)})
	for i, v := range vocabularies {
		if used[i] {
			b.add(d, voidVocabulary, mustIRI(v.ns))
		}
	}
	total := enc.n + int64(len(b.ts)) + 1
	b.add(d, voidTriples, typedLit(fmt.Sprint(total), xsdInteger))
}
