package exporter

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/knakk/rdf"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func newExporter(t testing.TB) *Exporter {
	t.Helper()
	x, err := New(DefaultBase)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func fixtureStore() *fakeStore { return newFake(fixtureBatch(), fixtureLastModified) }

// exportDataset writes the fixture archive in format f and returns the bytes and the count.
func exportDataset(t testing.TB, x *Exporter, r store.Reader, f Format) ([]byte, int64) {
	t.Helper()
	var buf bytes.Buffer
	n, err := x.Dataset(context.Background(), r, &buf, f, nil)
	if err != nil {
		t.Fatalf("Dataset(%v): %v", f, err)
	}
	return buf.Bytes(), n
}

func TestGoldenPact(t *testing.T) {
	x := newExporter(t)
	var buf bytes.Buffer
	if err := x.Resource(context.Background(), fixtureStore(), pactName, &buf, Turtle); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "pact.golden.ttl")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./exporter -run TestGoldenPact -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Turtle of %s differs from %s (run with -update if the change is intended):\n%s", pactName, path, lineDiff(string(want), buf.String()))
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return "(no line differs)"
}

func TestDeterministic(t *testing.T) {
	for _, f := range []Format{Turtle, NTriples} {
		t.Run(f.String(), func(t *testing.T) {
			x := newExporter(t)
			a, na := exportDataset(t, x, fixtureStore(), f)
			// A second exporter and a store built from freshly made records.
			b, nb := exportDataset(t, newExporter(t), fixtureStore(), f)
			if na != nb || !bytes.Equal(a, b) {
				t.Fatalf("two exports differ: %d vs %d triples, %d vs %d bytes", na, nb, len(a), len(b))
			}
		})
	}
}

// TestRecordOrderIrrelevant: labels, places and participants given in another
// order give the same bytes.
func TestRecordOrderIrrelevant(t *testing.T) {
	x := newExporter(t)
	ev, _ := fixtureStore().GetEvent(context.Background(), pactName)
	a, err := x.EventTriples(ev)
	if err != nil {
		t.Fatal(err)
	}
	rev := cloneEvent(ev)
	reverse(rev.Labels)
	reverse(rev.Participants)
	reverse(rev.Relations)
	reverse(rev.Sources)
	b, err := x.EventTriples(rev)
	if err != nil {
		t.Fatal(err)
	}
	if ntriples(t, a) != ntriples(t, b) {
		t.Errorf("reordering a record's lists changed its triples:\n%s\n---\n%s", ntriples(t, a), ntriples(t, b))
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func ntriples(t testing.TB, ts []rdf.Triple) string {
	t.Helper()
	var b strings.Builder
	enc := rdf.NewTripleEncoder(&b, rdf.NTriples)
	for _, tr := range ts {
		if err := enc.Encode(tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// decode parses data with knakk/rdf's own decoder.
func decode(t testing.TB, data []byte, f Format) []rdf.Triple {
	t.Helper()
	kf := rdf.Turtle
	if f == NTriples {
		kf = rdf.NTriples
	}
	dec := rdf.NewTripleDecoder(bytes.NewReader(data), kf)
	var ts []rdf.Triple
	for {
		tr, err := dec.Decode()
		if err == io.EOF {
			return ts
		}
		if err != nil {
			t.Fatalf("knakk/rdf cannot read its own %v output: %v", f, err)
		}
		ts = append(ts, tr)
	}
}

func TestVoIDTriplesCountsEverything(t *testing.T) {
	x := newExporter(t)
	for _, f := range []Format{Turtle, NTriples} {
		t.Run(f.String(), func(t *testing.T) {
			data, n := exportDataset(t, x, fixtureStore(), f)
			ts := decode(t, data, f)
			if int64(len(ts)) != n {
				t.Errorf("Dataset returned %d, knakk/rdf reads %d triples", n, len(ts))
			}
			if got := voidTriplesValue(t, ts); got != n {
				t.Errorf("void:triples = %d, want %d", got, n)
			}
			// Every vocabulary the mapping uses is listed, and only those.
			listed := map[string]bool{}
			for _, tr := range ts {
				if tr.Pred == voidVocabulary {
					listed[tr.Obj.String()] = true
				}
			}
			for _, tr := range ts {
				for _, term := range []rdf.Term{tr.Pred, tr.Obj} {
					iri, ok := term.(rdf.IRI)
					if !ok || (term == rdf.Term(tr.Obj) && tr.Pred != rdfType) {
						continue
					}
					if i, ok := vocabIndex[iri.String()]; ok && !listed[vocabularies[i].ns] {
						t.Errorf("vocabulary %s is used (%s) but not listed", vocabularies[i].ns, iri)
					}
				}
			}
			if len(listed) < 10 {
				t.Errorf("only %d vocabularies listed: %v", len(listed), listed)
			}
		})
	}
}

func voidTriplesValue(t testing.TB, ts []rdf.Triple) int64 {
	t.Helper()
	for _, tr := range ts {
		if tr.Pred == voidTriples && strings.HasSuffix(tr.Subj.String(), "/dataset") {
			v, err := tr.Obj.(rdf.Literal).Typed()
			if err != nil {
				t.Fatal(err)
			}
			return int64(v.(int))
		}
	}
	t.Fatal("no void:triples")
	return 0
}

func TestTurtleGroupsSubjects(t *testing.T) {
	x := newExporter(t)
	data, n := exportDataset(t, x, fixtureStore(), Turtle)
	ts := decode(t, data, Turtle)
	// Each subject appears in one run of consecutive triples.
	seen := map[string]bool{}
	prev := ""
	subjects := 0
	for _, tr := range ts {
		s := tr.Subj.String()
		if s != prev {
			if seen[s] {
				t.Errorf("subject %s appears in two places", s)
			}
			seen[s] = true
			subjects++
			prev = s
		}
	}
	// Turtle names each subject once: every line that does not start with
	// a tab (a continuation) or "@prefix" starts the statement of a new subject.
	lines := strings.Split(string(data), "\n")
	statements, prefixes := 0, 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "@prefix "):
			prefixes++
			if statements > len(x.namespaces) {
				t.Errorf("line %d: a prefix declared after the data began: %s", i+1, l)
			}
		case !strings.HasPrefix(l, "\t"):
			statements++
		}
	}
	if statements != subjects {
		t.Errorf("%d statements for %d subjects (%d triples)", statements, subjects, n)
	}
	if prefixes != len(x.namespaces) {
		t.Errorf("%d prefixes declared, want %d", prefixes, len(x.namespaces))
	}
	if !strings.Contains(string(data), " ;\n") || !strings.Contains(string(data), " ,\n") {
		t.Error("no predicate lists or object lists in the Turtle output")
	}
}

func TestResourceErrors(t *testing.T) {
	x := newExporter(t)
	r := fixtureStore()
	for _, tc := range []struct {
		name string
		want error
	}{
		{"events/no-such-event", store.ErrNotFound},
		{"actors/nobody", store.ErrNotFound},
		{"places/nowhere", store.ErrNotFound},
		{"sources/0000000000000000", store.ErrNotFound},
		{"events/Bad_Id", resource.ErrMalformed},
		{"people/someone", resource.ErrMalformed},
		{"", resource.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := x.Resource(context.Background(), r, tc.name, &buf, Turtle)
			if !errors.Is(err, tc.want) {
				t.Errorf("Resource(%q) = %v, want %v", tc.name, err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q on error", buf.String())
			}
		})
	}
}

// allNames lists the records of the fixture archive.
func allNames() []string {
	b := fixtureBatch()
	var names []string
	for _, e := range b.Events {
		names = append(names, e.Name)
	}
	for _, a := range b.Actors {
		names = append(names, a.Name)
	}
	for _, p := range b.Places {
		names = append(names, p.Name)
	}
	for _, s := range b.Sources {
		names = append(names, s.Name)
	}
	return names
}

// TestResourceEveryRecord: every record's document starts with the record's
// own triples, exactly those of Triples (subjects: the record and nodes
// under it); what follows is about other resources (their labels, the
// events that link to the record) or the record's documents, each of which
// names the record as its foaf:primaryTopic and has a licence.
func TestResourceEveryRecord(t *testing.T) {
	x := newExporter(t)
	r := fixtureStore()
	for _, name := range allNames() {
		rec, err := store.Get(context.Background(), r, name)
		if err != nil {
			t.Fatal(err)
		}
		own, err := x.Triples(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []Format{Turtle, NTriples} {
			var buf bytes.Buffer
			if err := x.Resource(context.Background(), r, name, &buf, f); err != nil {
				t.Fatalf("Resource(%s, %v): %v", name, f, err)
			}
			ts := decode(t, buf.Bytes(), f)
			if len(ts) < len(own) || canonical(t, ts[:len(own)], nil) != canonical(t, own, nil) {
				t.Errorf("Resource(%s, %v) does not start with the record's triples", name, f)
				continue
			}
			self := x.IRI(name)
			docs := map[string]bool{}
			for _, tr := range ts[len(own):] {
				s := tr.Subj.String()
				switch {
				case s == self || strings.HasPrefix(s, self+"#"):
					t.Errorf("Resource(%s): more about the record after its own triples: %s", name, ntriples(t, []rdf.Triple{tr}))
				case strings.HasPrefix(s, self+"."):
					if tr.Pred == foafPrimaryTopic && tr.Obj.String() == self {
						docs[s] = true
					}
				case tr.Pred == rdfsLabel || tr.Pred == dctermsTitle:
				default:
					if tr.Obj.String() != self {
						t.Errorf("Resource(%s): %s is neither a label, a link to the record nor about its documents", name, ntriples(t, []rdf.Triple{tr}))
					}
				}
			}
			if len(docs) != len(DocumentFormats) {
				t.Errorf("Resource(%s): documents %v", name, docs)
			}
		}
	}
}

func TestMappingErrors(t *testing.T) {
	x := newExporter(t)
	good := func() *annalsv1.Event {
		return &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1941, 4, 13)}
	}
	for _, tc := range []struct {
		name string
		edit func(e *annalsv1.Event)
	}{
		{"malformed name", func(e *annalsv1.Event) { e.Name = "events/X Y" }},
		{"wrong collection", func(e *annalsv1.Event) { e.Name = "actors/x" }},
		{"no date", func(e *annalsv1.Event) { e.Date = nil }},
		{"invalid date", func(e *annalsv1.Event) { e.Date = day(1941, 2, 30) }},
		{"year zero", func(e *annalsv1.Event) { e.Date = day(0, 1, 1) }},
		{"bad Wikidata id", func(e *annalsv1.Event) { e.WikidataId = "https://www.wikidata.org/wiki/Q1" }},
		{"bad place", func(e *annalsv1.Event) { e.Places = []string{"places/a b"} }},
		{"actor as place", func(e *annalsv1.Event) { e.Places = []string{"actors/x"} }},
		{"bad source", func(e *annalsv1.Event) { e.Sources = []string{"sources/"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := good()
			if _, err := x.EventTriples(e); err != nil {
				t.Fatalf("the unedited record fails: %v", err)
			}
			tc.edit(e)
			if ts, err := x.EventTriples(e); err == nil {
				t.Errorf("no error; triples:\n%s", ntriples(t, ts))
			}
		})
	}
	if _, err := x.PlaceTriples(&annalsv1.Place{Name: "places/x", Coordinates: &annalsv1.Coordinates{Latitude: 91}}); err == nil {
		t.Error("latitude 91 accepted")
	}
	if _, err := x.SourceTriples(&annalsv1.Source{Name: "sources/x", Sha256: "ABC"}); err == nil {
		t.Error("malformed sha256 accepted")
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{DefaultBase, true},
		{"https://annals.example.org", true},
		{"https://example.org/data/annals", true},
		{"http://example.org/x(y)", true},
		{"http://[::1]:8080", true},
		{"https://example.org/", false},
		{"example.org", false},
		{"/relative", false},
		{"ftp://example.org", false},
		{"https://example.org/?q=1", false},
		{"https://example.org/#frag", false},
		{"https://example.org/a b", false},
		{"https://example.org/a<b", false},
		{"http://", false},
		{"", false},
	} {
		x, err := New(tc.base)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) = %v, want ok=%v", tc.base, err, tc.ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrBadBase) {
			t.Errorf("New(%q) error %v does not wrap ErrBadBase", tc.base, err)
		}
		if err == nil && x.IRI("events/x") != tc.base+"/events/x" {
			t.Errorf("IRI = %q", x.IRI("events/x"))
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
	}{
		{"turtle", Turtle}, {"TTL", Turtle}, {"text/turtle; charset=utf-8", Turtle},
		{"ntriples", NTriples}, {"n-triples", NTriples}, {"nt", NTriples}, {"application/n-triples", NTriples},
		{"rdfxml", 0}, {"", 0},
	} {
		got, err := ParseFormat(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ParseFormat(%q) error does not wrap ErrUnknownFormat", tc.in)
		}
		if err == nil {
			if back, _ := ParseFormat(got.String()); back != got {
				t.Errorf("ParseFormat(%v.String()) = %v", got, back)
			}
			if back, _ := ParseFormat(got.ContentType()); back != got {
				t.Errorf("ParseFormat(%v.ContentType()) = %v", got, back)
			}
		}
	}
}

func TestProgressAndCancel(t *testing.T) {
	x := newExporter(t)
	r := newFake(fixtureBatch(), fixtureLastModified)
	r.gen, r.n = synthEvent, 600
	var calls []int64
	n, err := x.Dataset(context.Background(), r, io.Discard, NTriples, func(n int64) { calls = append(calls, n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 3 || calls[len(calls)-1] != n {
		t.Fatalf("progress calls %v for %d triples", calls, n)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Errorf("progress went from %d to %d", calls[i-1], calls[i])
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	r.onWalk = func(i int) {
		if i == 10 {
			cancel()
		}
	}
	if _, err := x.Dataset(ctx, r, io.Discard, Turtle, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	x := newExporter(t)
	for _, f := range []Format{Turtle, NTriples} {
		if _, err := x.Dataset(context.Background(), fixtureStore(), &failingWriter{after: 5000}, f, nil); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%v: write error not reported: %v", f, err)
		}
	}
}

func cloneEvent(e *annalsv1.Event) *annalsv1.Event {
	return proto.Clone(e).(*annalsv1.Event)
}

// TestDumpIsUnionOfRecords: the dump is exactly the union of every record's
// triples (RecordTriples) and the dataset description (DatasetTriples), in
// every format: nothing else, nothing twice. Each record's triples have the
// record or a node under it as subject, and no other record's subject.
func TestDumpIsUnionOfRecords(t *testing.T) {
	x := newExporter(t)
	for _, a := range []struct {
		name string
		r    *fakeStore
	}{{"fixture", fixtureStore()}, {"synth", synthArchive(t, 200)}} {
		t.Run(a.name, func(t *testing.T) {
			ctx := context.Background()
			var union bytes.Buffer
			var count int64
			collect := func(m proto.Message) error {
				name := m.(interface{ GetName() string }).GetName()
				var one bytes.Buffer
				n, err := x.RecordTriples(ctx, &one, m)
				if err != nil {
					return err
				}
				count += n
				self := x.IRI(name)
				for _, tr := range decode(t, one.Bytes(), NTriples) {
					if s := tr.Subj.String(); s != self && !strings.HasPrefix(s, self+"#") {
						t.Errorf("%s: triple about %s", name, s)
					}
				}
				union.Write(one.Bytes())
				return nil
			}
			r := a.r
			if err := r.WalkEvents(ctx, func(e *annalsv1.Event) error { return collect(e) }); err != nil {
				t.Fatal(err)
			}
			if err := r.WalkActors(ctx, func(e *annalsv1.Actor) error { return collect(e) }); err != nil {
				t.Fatal(err)
			}
			if err := r.WalkPlaces(ctx, func(e *annalsv1.Place) error { return collect(e) }); err != nil {
				t.Fatal(err)
			}
			if err := r.WalkSources(ctx, func(e *annalsv1.Source) error { return collect(e) }); err != nil {
				t.Fatal(err)
			}
			var desc bytes.Buffer
			nd, err := x.DatasetTriples(ctx, r, &desc)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range decode(t, desc.Bytes(), NTriples) {
				if s := tr.Subj.String(); s != x.DatasetIRI() && !strings.HasPrefix(s, x.DatasetIRI()+"#") {
					t.Errorf("dataset description has a triple about %s", s)
				}
			}
			nt, n := exportDataset(t, x, r, NTriples)
			if want := append(union.Bytes(), desc.Bytes()...); !bytes.Equal(nt, want) {
				t.Errorf("the N-Triples dump is not the records' triples then the description (%d vs %d bytes)", len(nt), len(want))
			}
			if n != count+nd {
				t.Errorf("dump has %d triples, records %d + description %d", n, count, nd)
			}
			all := decode(t, append(union.Bytes(), desc.Bytes()...), NTriples)
			for _, f := range []Format{Turtle, JSONLD} {
				data, fn := exportDataset(t, x, r, f)
				if fn != n {
					t.Errorf("%v dump has %d triples, N-Triples %d", f, fn, n)
				}
				if f == Turtle && canonical(t, decode(t, data, f), nil) != canonical(t, all, nil) {
					t.Errorf("%v dump differs from the union", f)
				}
			}
		})
	}
}

// TestConcurrentExports: one Exporter serves concurrent exports (run with -race).
func TestConcurrentExports(t *testing.T) {
	x := newExporter(t)
	want, _ := exportDataset(t, x, fixtureStore(), Turtle)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			var buf bytes.Buffer
			_, err := x.Dataset(context.Background(), fixtureStore(), &buf, Turtle, nil)
			if err == nil && !bytes.Equal(buf.Bytes(), want) {
				err = errors.New("a concurrent export differs")
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestDescriptionMatchesDump: the served description is the description
// that ends the dump (DatasetTriples) plus, for every dump file, its size
// and SHA-256, which match the files Dataset writes.
func TestDescriptionMatchesDump(t *testing.T) {
	x := newExporter(t)
	ctx := context.Background()
	var end bytes.Buffer
	if _, err := x.DatasetTriples(ctx, fixtureStore(), &end); err != nil {
		t.Fatal(err)
	}
	inDump := decode(t, end.Bytes(), NTriples)
	s, err := x.Survey(ctx, fixtureStore())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Turtle, NTriples, JSONLD} {
		var buf bytes.Buffer
		if err := x.WriteDescription(&buf, f, s); err != nil {
			t.Fatal(err)
		}
		if f == JSONLD {
			continue // checked by jsonld.js (TestJSONLDMatchesTurtle)
		}
		desc := decode(t, buf.Bytes(), f)
		var rest []rdf.Triple
		have := map[string]bool{}
		for _, tr := range desc {
			have[ntriples(t, []rdf.Triple{tr})] = true
		}
		for _, tr := range inDump {
			if !have[ntriples(t, []rdf.Triple{tr})] {
				t.Errorf("%v: the served description lacks %s", f, ntriples(t, []rdf.Triple{tr}))
			}
		}
		for _, tr := range desc {
			if tr.Pred == dcatByteSize || tr.Pred == spdxChecksum || strings.HasSuffix(tr.Subj.String(), "-sha256") {
				rest = append(rest, tr)
			}
		}
		if len(desc) != len(inDump)+len(rest) || len(rest) != 5*len(Distributions) {
			t.Errorf("%v: %d triples served, %d in the dump, %d about sizes and digests", f, len(desc), len(inDump), len(rest))
		}
		if got := voidTriplesValue(t, desc); got != s.Triples {
			t.Errorf("%v: Description says %d triples, the survey %d", f, got, s.Triples)
		}
	}
	for _, d := range s.Dists {
		var buf bytes.Buffer
		var w io.Writer = &buf
		var zw *gzip.Writer
		if d.Gzip {
			zw = NewGzipWriter(&buf)
			w = zw
		}
		n, err := x.Dataset(ctx, fixtureStore(), w, d.Format, nil)
		if err != nil {
			t.Fatal(err)
		}
		if zw != nil {
			zw.Close()
		}
		sum := sha256.Sum256(buf.Bytes())
		if int64(buf.Len()) != d.Bytes || hex.EncodeToString(sum[:]) != d.SHA256 {
			t.Errorf("%s: %d bytes %x, the survey says %d bytes %s", d.File(), buf.Len(), sum, d.Bytes, d.SHA256)
		}
		if n != s.Triples {
			t.Errorf("%s: %d triples, the survey says %d", d.File(), n, s.Triples)
		}
	}
}

// TestOutputVersion: OutputVersion names the golden Turtle of the pact, so
// that a change of the output cannot land without a new OutputVersion.
func TestOutputVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pact.golden.ttl"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:])[:16]; got != OutputVersion {
		t.Errorf("OutputVersion is %q, but testdata/pact.golden.ttl is %q: the output changed; set OutputVersion = %q", OutputVersion, got, got)
	}
}
