package exporter

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	gohash "hash"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// The dataset description: VoID and DCAT, as Wikidata and DBpedia describe
// their dumps. Everything it states comes from the archive (counts, the
// import times of the source documents) and the configuration (base IRI,
// SPARQL endpoint), never from the clock, so two installs of the same data
// describe it with the same bytes.

// Distribution is one dump file of the dataset.
type Distribution struct {
	// Format is the serialisation; Gzip says the file is gzip-compressed.
	Format Format
	Gzip   bool
	// Bytes and SHA256 (lower-case hex) are the size and digest of the file
	// as served; Survey fills them.
	Bytes  int64
	SHA256 string
}

// Distributions lists the dumps every dataset has, in the order the
// description lists them: N-Triples, gzip-compressed N-Triples, Turtle and
// JSON-LD.
var Distributions = []Distribution{{Format: NTriples}, {Format: NTriples, Gzip: true}, {Format: Turtle}, {Format: JSONLD}}

// File returns the file name of the dump: "dataset.nt", "dataset.nt.gz"…
func (d Distribution) File() string {
	f := "dataset" + d.Format.Extension()
	if d.Gzip {
		f += ".gz"
	}
	return f
}

// id is the fragment of the distribution's node under the dataset IRI.
func (d Distribution) id() string {
	if d.Gzip {
		return d.Format.String() + "-gzip"
	}
	return d.Format.String()
}

// NewGzipWriter returns the gzip writer Annals compresses dumps with: the
// default level and a header without name or time, so that the same dump
// always compresses to the same bytes (those whose size and digest the
// dataset description states).
func NewGzipWriter(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

// tally is what the dataset description counts, gathered record by record.
type tally struct {
	x                  *Exporter
	triples, records   int64
	byPred, byClass    map[string]int64 // byPred: predicates without a rank (count)
	byRank             []int64          // by the rank of the predicate (Exporter.rank)
	lastDatatype       string           // the last literal's datatype, and its vocabulary (-1: none)
	lastDatatypeVocab  int
	used               []bool // used[i]: x.namespaces[i] holds a term the records use
	sameAs, closeMatch int64
	first, last        time.Time // of the sources' import times
	dated              bool
	examples           []rdf.IRI // the first record of each collection
	lastKind           string
}

func (x *Exporter) newTally() *tally {
	return &tally{x: x, byPred: map[string]int64{}, byClass: map[string]int64{}, used: make([]bool, len(x.namespaces))}
}

// newTallies returns a tally for each mapper goroutine to count in.
func (x *Exporter) newTallies() []*tally {
	ts := make([]*tally, mappers)
	for i := range ts {
		ts[i] = x.newTally()
	}
	return ts
}

// add counts one record and its triples.
func (t *tally) add(m proto.Message, ts []rdf.Triple) {
	t.count(1, ts, nil)
	t.note(m)
}

// count counts records records and their triples ts. ranks, when not
// nil, holds the rank of each triple's predicate (chunk.ranks), which
// spares looking the predicate up. Counts add up in any order: mappers
// count their chunks, and merge adds their tallies.
func (t *tally) count(records int, ts []rdf.Triple, ranks []int32) {
	x := t.x
	if t.byRank == nil {
		t.byRank = make([]int64, len(predicateOrder))
	}
	t.records += int64(records)
	t.triples += int64(len(ts))
	for i, tr := range ts {
		r := len(predicateOrder)
		if ranks != nil {
			r = int(ranks[i])
		} else if k, ok := x.rank[tr.Pred.String()]; ok {
			r = k
		}
		if r < len(predicateOrder) {
			t.byRank[r]++
			if v := x.rankVocab[r]; v >= 0 {
				t.used[v] = true
			}
		} else {
			p := tr.Pred.String()
			t.byPred[p]++
			if v, ok := x.vocabIdx[p]; ok {
				t.used[v] = true
			}
		}
		switch r {
		case x.rankType:
			t.byClass[tr.Obj.String()]++
		case x.rankSameAs:
			t.sameAs++
		case x.rankCloseMatch:
			t.closeMatch++
		}
		switch o := tr.Obj.(type) {
		case rdf.IRI:
			if v, ok := x.vocabIdx[o.String()]; ok {
				t.used[v] = true
			}
		case rdf.Literal:
			// Literals of a record share a few datatypes: look the
			// last one up once.
			if dt := o.DataType.String(); dt != t.lastDatatype {
				t.lastDatatype, t.lastDatatypeVocab = dt, -1
				if v, ok := x.vocabIdx[dt]; ok {
					t.lastDatatypeVocab = v
				}
			}
			if t.lastDatatypeVocab >= 0 {
				t.used[t.lastDatatypeVocab] = true
			}
		}
	}
}

// predCounts returns the triples counted of each predicate, by its IRI.
func (t *tally) predCounts() map[string]int64 {
	m := maps.Clone(t.byPred)
	for r, n := range t.byRank {
		if n > 0 {
			m[t.x.rankIRI[r]] += n
		}
	}
	return m
}

// note notes what the description takes from a record itself, in the
// order of the dump: the first of each collection, the sources' import times.
func (t *tally) note(m proto.Message) {
	name := m.(interface{ GetName() string }).GetName()
	if kind, _, _ := strings.Cut(name, "/"); kind != t.lastKind {
		t.lastKind = kind
		t.examples = append(t.examples, t.x.iri(name))
	}
	if s, ok := m.(*annalsv1.Source); ok && s.GetImportTime() != nil {
		at := s.GetImportTime().AsTime().UTC()
		if !t.dated || at.Before(t.first) {
			t.first = at
		}
		if !t.dated || at.After(t.last) {
			t.last = at
		}
		t.dated = true
	}
}

// merge adds the counts of o (see count) to t.
func (t *tally) merge(o *tally) {
	t.records += o.records
	t.triples += o.triples
	for k, v := range o.byPred {
		t.byPred[k] += v
	}
	if t.byRank == nil {
		t.byRank = make([]int64, len(predicateOrder))
	}
	for r, n := range o.byRank {
		t.byRank[r] += n
	}
	for k, v := range o.byClass {
		t.byClass[k] += v
	}
	t.sameAs += o.sameAs
	t.closeMatch += o.closeMatch
	for i, u := range o.used {
		t.used[i] = t.used[i] || u
	}
}

// partition is what a class or property partition states; counts nil means
// the structure only (numbers are zero).
type partitionCounts struct {
	total           int64
	byPred, byClass map[string]int64
}

// describe returns the dataset description that ends a dump of the tallied
// records. Its counts include its own triples: void:triples is the number
// of triples in the whole dump, each property partition counts the triples
// of its property in the whole dump, each class partition the subjects of
// its class. What the description lists (partitions, vocabularies) depends
// on what it uses itself, so its shape is found first, then its numbers,
// which do not change its shape.
func (x *Exporter) describe(t *tally) ([]rdf.Triple, error) {
	byPred := t.predCounts()
	preds, classes := keys(byPred), keys(t.byClass)
	used := slices.Clone(t.used)
	var ts []rdf.Triple
	for round := 0; ; round++ {
		var err error
		if ts, err = x.description(t, preds, classes, used, nil); err != nil {
			return nil, err
		}
		np, nc, nu := slices.Clone(preds), slices.Clone(classes), slices.Clone(used)
		for _, tr := range ts {
			np = insertSorted(np, tr.Pred.String())
			if tr.Pred == rdfType {
				nc = insertSorted(nc, tr.Obj.String())
			}
			x.noteVocab(nu, tr)
		}
		if slices.Equal(np, preds) && slices.Equal(nc, classes) && slices.Equal(nu, used) {
			break
		}
		if round > 4 {
			return nil, fmt.Errorf("exporter: the dataset description does not settle")
		}
		preds, classes, used = np, nc, nu
	}
	c := &partitionCounts{total: t.triples + int64(len(ts)), byPred: map[string]int64{}, byClass: map[string]int64{}}
	for k, v := range byPred {
		c.byPred[k] = v
	}
	for k, v := range t.byClass {
		c.byClass[k] = v
	}
	for _, tr := range ts {
		c.byPred[tr.Pred.String()]++
		if tr.Pred == rdfType {
			c.byClass[tr.Obj.String()]++
		}
	}
	final, err := x.description(t, preds, classes, used, c)
	if err != nil {
		return nil, err
	}
	if len(final) != len(ts) {
		return nil, fmt.Errorf("exporter: the dataset description changed shape (%d, then %d triples)", len(ts), len(final))
	}
	return final, nil
}

func keys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

// description builds the dataset description with the given partitions and
// vocabularies; with c nil every number is 0.
func (x *Exporter) description(t *tally, preds, classes []string, used []bool, c *partitionCounts) ([]rdf.Triple, error) {
	if c == nil {
		c = &partitionCounts{}
	}
	b := x.newBuilder()
	d := x.dataset
	home := mustIRI(x.base + "/")
	b.add(d, rdfType, voidDataset)
	b.add(d, rdfType, dcatDataset)
	b.add(d, dctermsTitle, langLit("Annals: historical events linked to Wikidata", "en"))
	b.add(d, dctermsDescription, langLit("Historical events, the actors in them and the places where they happened, with the documents they come from and their articles, linked to Wikidata. Each record is described by its own triples; this description counts them.", "en"))
	pub := hash(d, "publisher")
	b.add(d, dctermsPublisher, pub)
	b.add(pub, rdfType, foafOrganization)
	b.add(pub, foafName, langLit("Annals", "en"))
	b.add(pub, foafHomepage, home)
	b.add(d, dctermsLicense, licenseCCBYSA4)
	if t.dated {
		b.add(d, dctermsIssued, typedLit(t.first.Format(time.RFC3339Nano), xsdDateTime))
		b.add(d, dctermsModified, typedLit(t.last.Format(time.RFC3339Nano), xsdDateTime))
	}
	b.add(d, foafHomepage, home)
	b.add(d, dcatLandingPage, home)
	b.add(d, voidURISpace, plainLit(x.base+"/"))
	if x.sparql != "" {
		b.add(d, voidSPARQLEndpoint, mustIRI(x.sparql))
	}
	b.add(d, voidTriples, integer(c.total))
	b.add(d, voidEntities, integer(t.records))
	b.add(d, voidClasses, integer(int64(len(classes))))
	b.add(d, voidProperties, integer(int64(len(preds))))
	for _, ex := range t.examples {
		b.add(d, voidExampleResource, ex)
	}
	for _, f := range Formats {
		b.add(d, voidFeature, f.featureIRI())
	}
	for _, dist := range Distributions {
		file := mustIRI(x.base + "/" + dist.File())
		node := hash(d, dist.id())
		b.add(d, voidDataDump, file)
		b.add(d, dcatDistribProp, node)
		b.add(node, rdfType, dcatDistribution)
		title := map[Format]string{NTriples: "N-Triples", Turtle: "Turtle", JSONLD: "JSON-LD"}[dist.Format] + " dump"
		if dist.Gzip {
			title = "gzip-compressed " + title
		}
		b.add(node, dctermsTitle, langLit(title, "en"))
		b.add(node, dcatDownloadURL, file)
		b.add(node, dcatMediaType, dist.Format.mediaIRI())
		if dist.Gzip {
			b.add(node, dcatCompress, mediaGzip)
		}
		b.add(node, dctermsLicense, licenseCCBYSA4)
	}
	for i, v := range x.namespaces {
		if used[i] {
			b.add(d, voidVocabulary, mustIRI(v.ns))
		}
	}
	seen := map[string]bool{}
	for _, cl := range classes {
		node, err := x.partitionNode("class", cl, seen)
		if err != nil {
			return nil, err
		}
		b.add(d, voidClassPartition, node)
		b.add(node, voidClass, mustIRI(cl))
		b.add(node, voidEntities, integer(c.byClass[cl]))
	}
	for _, p := range preds {
		node, err := x.partitionNode("property", p, seen)
		if err != nil {
			return nil, err
		}
		b.add(d, voidPropPartition, node)
		b.add(node, voidProperty, mustIRI(p))
		b.add(node, voidTriples, integer(c.byPred[p]))
	}
	// The links to Wikidata, as VoID linksets: the exact ones, and the
	// close ones when there are any.
	wd := hash(d, "wikidata")
	b.add(wd, rdfType, voidDataset)
	b.add(wd, dctermsTitle, langLit("Wikidata", "en"))
	b.add(wd, foafHomepage, wikidataHome)
	b.add(wd, voidURISpace, plainLit("http://www.wikidata.org/entity/"))
	for _, ls := range []struct {
		id   string
		pred rdf.IRI
		n    int64
	}{{"links-wikidata-sameas", owlSameAs, t.sameAs}, {"links-wikidata-closematch", skosCloseMatch, t.closeMatch}} {
		if ls.n == 0 && ls.pred != owlSameAs {
			continue
		}
		node := hash(d, ls.id)
		b.add(d, voidSubset, node)
		b.add(node, rdfType, voidLinkset)
		b.add(node, voidLinkPredicate, ls.pred)
		b.add(node, voidSubjectsTarget, d)
		b.add(node, voidObjectsTarget, wd)
		b.add(node, voidTriples, integer(ls.n))
	}
	return b.done()
}

// partitionNode names the node of the partition of a class or property:
// {dataset}#class-schema-Event, {dataset}#property-wdt-P710.
func (x *Exporter) partitionNode(kind, iri string, seen map[string]bool) (rdf.IRI, error) {
	c := x.compact(iri)
	var frag []byte
	if c == iri {
		sum := sha256.Sum256([]byte(iri))
		frag = []byte("iri-" + hex.EncodeToString(sum[:8]))
	} else {
		for i := 0; i < len(c); i++ {
			switch ch := c[i]; {
			case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '_', ch == '-':
				frag = append(frag, ch)
			case ch == ':':
				frag = append(frag, '-')
			default:
				frag = append(frag, '_')
			}
		}
	}
	id := kind + "-" + string(frag)
	for n := 2; seen[id]; n++ {
		id = kind + "-" + string(frag) + "-" + strconv.Itoa(n)
	}
	seen[id] = true
	return rdf.NewIRI(x.dataset.String() + "#" + id)
}

// Survey is what one pass over the whole archive learns: the dataset
// description that ends every dump, and the size and SHA-256 of every dump
// file (Distributions, in order). A served description states both
// (WriteDescription); a dump cannot state its own size or digest.
type Survey struct {
	// Triples is the number of triples in a dump, description included.
	Triples int64
	// Dists are the dump files with their sizes and digests.
	Dists []Distribution
	desc  []rdf.Triple
}

// Survey writes every dump at once, to nowhere but counters and hashes, and
// returns their sizes and digests with the dataset description. It costs
// about as much as writing the dumps.
func (x *Exporter) Survey(ctx context.Context, r store.Reader) (*Survey, error) {
	type out struct {
		dist Distribution
		h    gohash.Hash
		n    *countingWriter
	}
	outs := make([]out, len(Distributions))
	var encs []*encoder
	var gz *gzip.Writer
	for i, d := range Distributions {
		h := sha256.New()
		cw := &countingWriter{w: h}
		outs[i] = out{d, h, cw}
	}
	var ntw io.Writer
	for i, d := range Distributions {
		switch {
		case d.Gzip:
			gz = NewGzipWriter(outs[i].n)
		case d.Format == NTriples:
			ntw = outs[i].n
		default:
			enc, err := x.newEncoder(outs[i].n, d.Format)
			if err != nil {
				return nil, err
			}
			encs = append(encs, enc)
		}
	}
	// The N-Triples go to their file and, compressed, to the .gz file.
	var w io.Writer = ntw
	if gz != nil {
		w = io.MultiWriter(ntw, gz)
	}
	nt, err := x.newEncoder(w, NTriples)
	if err != nil {
		return nil, err
	}
	encs = append(encs, nt)
	t := x.newTally()
	if err := x.records(ctx, r, func(m proto.Message, ts []rdf.Triple) error {
		t.add(m, ts)
		for _, e := range encs {
			if err := e.encode(ts); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	desc, err := x.describe(t)
	if err != nil {
		return nil, err
	}
	for _, e := range encs {
		if err := e.encode(desc); err != nil {
			return nil, err
		}
		if err := e.close(); err != nil {
			return nil, err
		}
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return nil, err
		}
	}
	s := &Survey{Triples: nt.n, desc: desc}
	for _, o := range outs {
		o.dist.Bytes, o.dist.SHA256 = o.n.n, hex.EncodeToString(o.h.Sum(nil))
		s.Dists = append(s.Dists, o.dist)
	}
	return s, nil
}

// Dist returns the surveyed distribution of format f (compressed or not).
func (s *Survey) Dist(f Format, gz bool) (Distribution, bool) {
	for _, d := range s.Dists {
		if d.Format == f && d.Gzip == gz {
			return d, true
		}
	}
	return Distribution{}, false
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteDescription writes the dataset description as served apart from the
// dumps (at {base}/.well-known/void): the description that ends every dump,
// and for each dump file its size (dcat:byteSize) and SHA-256 (spdx:checksum).
func (x *Exporter) WriteDescription(w io.Writer, f Format, s *Survey) error {
	b := x.newBuilder()
	b.ts = append(b.ts, s.desc...)
	for _, d := range s.Dists {
		node := hash(x.dataset, d.id())
		b.add(node, dcatByteSize, typedLit(strconv.FormatInt(d.Bytes, 10), xsdNonNegInt))
		sum := hash(x.dataset, d.id()+"-sha256")
		b.add(node, spdxChecksum, sum)
		b.add(sum, rdfType, spdxChecksumClass)
		b.add(sum, spdxAlgorithm, spdxAlgorithSHA256)
		b.add(sum, spdxChecksumValue, typedLit(d.SHA256, xsdHexBinary))
	}
	ts, err := b.done()
	if err != nil {
		return err
	}
	_, err = x.writeDoc(w, f, ts)
	return err
}

// Description surveys the archive (Survey) and writes the served dataset
// description (WriteDescription).
func (x *Exporter) Description(ctx context.Context, r store.Reader, w io.Writer, f Format) error {
	s, err := x.Survey(ctx, r)
	if err != nil {
		return err
	}
	return x.WriteDescription(w, f, s)
}
