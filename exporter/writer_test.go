package exporter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/knakk/rdf"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/synth"
)

// knakkWriter is the tripleWriter the exporter used before writer:
// knakk/rdf's streaming TripleEncoder, with the exporter's prefixes and no
// generated ones. knakk/rdf declares a prefix where it is first used; to
// declare the prefixes writer declares first, it is given, first, one
// triple per namespace with that namespace as subject
// (<ns> vann:preferredNamespacePrefix "p"), which stripHeader then removes
// from its output.
type knakkWriter struct {
	enc    *rdf.TripleEncoder
	header []rdf.Triple
}

func newKnakkWriter(w io.Writer, f Format, prefix map[string]string, declare []vocabulary) *knakkWriter {
	kf := rdf.NTriples
	if f == Turtle {
		kf = rdf.Turtle
	}
	enc := rdf.NewTripleEncoder(w, kf)
	enc.GenerateNamespaces = false
	for ns, p := range prefix {
		enc.Namespaces[ns] = p
	}
	k := &knakkWriter{enc: enc}
	if f == Turtle {
		for _, v := range declare {
			k.header = append(k.header, rdf.Triple{Subj: mustIRI(v.ns), Pred: vannPreferredNamespacePrefix, Obj: plainLit(v.prefix)})
		}
	}
	return k
}

func (k *knakkWriter) flushHeader() error {
	h := k.header
	k.header = nil
	for _, t := range h {
		if err := k.enc.Encode(t); err != nil {
			return err
		}
	}
	return nil
}

func (k *knakkWriter) write(t rdf.Triple) error {
	if err := k.flushHeader(); err != nil {
		return err
	}
	return k.enc.Encode(t)
}

func (k *knakkWriter) close() error {
	if err := k.flushHeader(); err != nil {
		return err
	}
	return k.enc.Close()
}

// headerLine is a line of knakk/rdf's output that stripHeader removes.
var headerLine = regexp.MustCompile(`(?m)^[A-Za-z][A-Za-z0-9_-]*:\tvann:preferredNamespacePrefix\t"[A-Za-z0-9_-]*"( \.)?\n?`)

// typeObject is rdf:type as an object in knakk/rdf's output, which it writes
// as the keyword "a" (invalid there) and writer as rdf:type.
var typeObject = regexp.MustCompile(`(\tvoid:property\t)a( [.;,])`)

// stripHeader removes the header triples of a knakkWriter from its output,
// and writes rdf:type as an object as writer does.
func stripHeader(b []byte) []byte {
	return typeObject.ReplaceAll(headerLine.ReplaceAll(b, nil), []byte("${1}rdf:type${2}"))
}

// knakkDataset is Dataset written by knakk/rdf's encoder.
func knakkDataset(t testing.TB, x *Exporter, r store.Reader, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := x.newEncoder(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	enc.w = newKnakkWriter(&buf, f, enc.prefix, x.namespaces)
	if _, err := x.writeDataset(context.Background(), r, enc, nil); err != nil {
		t.Fatalf("knakk/rdf Dataset(%v): %v", f, err)
	}
	return stripHeader(buf.Bytes())
}

// synthArchive is a store of n events made by package synth (the
// generator behind `annals gen`), with all their actors and places.
func synthArchive(t testing.TB, n int) *fakeStore {
	t.Helper()
	var all store.Batch
	err := synth.New(7, n).Batches(1000, func(b *store.Batch) error {
		all.Events = append(all.Events, b.Events...)
		all.Actors = append(all.Actors, b.Actors...)
		all.Places = append(all.Places, b.Places...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return newFake(all, 1764028800e9)
}

// TestWriterMatchesKnakk: writer writes the bytes knakk/rdf's encoder
// writes, in both formats, for the fixture archive, the tricky texts and
// archives from package synth and from the benchmarks' generator, but for
// control characters, which knakk/rdf writes raw and writer escapes. The golden files
// and the independent parsers' tests then hold for writer as they held for
// knakk/rdf.
func TestWriterMatchesKnakk(t *testing.T) {
	x := newExporter(t)
	tricky, _ := trickyArchive()
	archives := []struct {
		name string
		r    store.Reader
	}{
		{"fixture", fixtureStore()},
		{"tricky", tricky},
		{"synthetic", synthStore(300)},
		{"synth", synthArchive(t, 500)},
		{"empty", newFake(store.Batch{}, 0)},
	}
	for _, a := range archives {
		for _, f := range []Format{NTriples, Turtle} {
			t.Run(a.name+"/"+f.String(), func(t *testing.T) {
				got, _ := exportDataset(t, x, a.r, f)
				want := escapeControls(knakkDataset(t, x, a.r, f))
				if !bytes.Equal(got, want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					t.Fatalf("writer and knakk/rdf differ at byte %d:\nwriter: %q\nknakk:  %q",
						i, excerpt(got, i), excerpt(want, i))
				}
			})
		}
	}
}

func excerpt(b []byte, i int) string {
	lo, hi := max(0, i-40), min(len(b), i+40)
	return string(b[lo:hi])
}

// escapeControls rewrites the control characters knakk/rdf writes raw as
// writer escapes them. In knakk/rdf's output they can only be inside
// literals: IRIs cannot hold them and the separators are spaces, tabs and
// line feeds.
func escapeControls(b []byte) []byte {
	const hex = "0123456789ABCDEF"
	var out []byte
	for _, c := range b {
		if isEscapedControl(rune(c)) {
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			continue
		}
		out = append(out, c)
	}
	return out
}

// isEscapedControl reports the characters writer escapes and knakk/rdf
// writes raw: control characters other than tab, line feed and carriage return.
func isEscapedControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// TestWriterEscapes: text of every byte value, in both formats, reads back
// unchanged through knakk/rdf's decoder; control characters are written as
// \u escapes and never raw; invalid UTF-8 becomes U+FFFD as with knakk/rdf.
func TestWriterEscapes(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		all.WriteByte(byte(c))
	}
	all.WriteString("é€𝔘 \u2028\u2029\ufeff")
	text := all.String()
	s := mustIRI("http://example.org/s")
	for _, f := range []Format{NTriples, Turtle} {
		for _, o := range []rdf.Object{plainLit(text), langLit(text, "en"), typedLit(text, mustIRI("http://example.org/dt"))} {
			var buf bytes.Buffer
			w := newWriter(&buf, f, nil, nil)
			if err := w.write(rdf.Triple{Subj: s, Pred: rdfsLabel, Obj: o}); err != nil {
				t.Fatal(err)
			}
			if err := w.close(); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.ContainsFunc(out, isEscapedControl) {
				t.Errorf("%v: a control character written raw: %q", f, out)
			}
			if !strings.Contains(out, `\u0000\u0001`) || !strings.Contains(out, `\u001F !\"`) || !strings.Contains(out, `~\u007F`) {
				t.Errorf("%v: escapes missing: %q", f, out)
			}
			ts := decode(t, buf.Bytes(), f)
			if len(ts) != 1 || ts[0].Obj.(rdf.Literal).String() != text {
				t.Errorf("%v: read back %v, want the text unchanged", f, ts)
			}
		}
	}
	// Invalid UTF-8, which proto strings never hold, is replaced as knakk/rdf replaces it.
	bad := plainLit("a\xffb\xc3")
	var got, want bytes.Buffer
	w := newWriter(&got, NTriples, nil, nil)
	k := newKnakkWriter(&want, NTriples, nil, nil)
	for _, tw := range []tripleWriter{w, k} {
		if err := tw.write(rdf.Triple{Subj: s, Pred: rdfsLabel, Obj: bad}); err != nil {
			t.Fatal(err)
		}
		if err := tw.close(); err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != want.String() {
		t.Errorf("invalid UTF-8: writer %q, knakk/rdf %q", got.String(), want.String())
	}
}

// TestWriterErrors: a failing io.Writer's error is returned, by write once
// the buffer fills or by close, and sticks; a closed writer refuses triples.
func TestWriterErrors(t *testing.T) {
	boom := errors.New("boom")
	tr := rdf.Triple{Subj: mustIRI("http://example.org/s"), Pred: rdfsLabel, Obj: plainLit(strings.Repeat("x", 1000))}
	for _, f := range []Format{NTriples, Turtle} {
		w := newWriter(failWriter{boom}, f, nil, nil)
		var err error
		for i := 0; i < 200 && err == nil; i++ {
			err = w.write(tr)
		}
		if !errors.Is(err, boom) {
			t.Errorf("%v: write = %v, want %v", f, err, boom)
		}
		if err := w.close(); !errors.Is(err, boom) {
			t.Errorf("%v: close = %v, want %v", f, err, boom)
		}
		w = newWriter(failWriter{boom}, f, nil, nil)
		if err := w.write(tr); err != nil {
			t.Errorf("%v: a buffered write failed: %v", f, err)
		}
		if err := w.close(); !errors.Is(err, boom) {
			t.Errorf("%v: close = %v, want %v", f, err, boom)
		}
		w = newWriter(io.Discard, f, nil, nil)
		if err := w.close(); err != nil {
			t.Fatal(err)
		}
		if err := w.write(tr); err == nil {
			t.Errorf("%v: a closed writer took a triple", f)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestWriterRefusesWhatCheckTurtleRefuses: the Turtle writer refuses a
// triple exactly when checkTurtle does, for the triples of the fixture,
// tricky and synthetic dumps and for the pitfalls of knakk/rdf's encoder,
// each written first and after a triple about the same subject and with
// the same predicate.
func TestWriterRefusesWhatCheckTurtleRefuses(t *testing.T) {
	x := newExporter(t)
	var ts []rdf.Triple
	tricky, _ := trickyArchive()
	for _, r := range []store.Reader{fixtureStore(), tricky, synthStore(50)} {
		data, _ := exportDataset(t, x, r, NTriples)
		ts = append(ts, decode(t, data, NTriples)...)
	}
	s := mustIRI(x.IRI("events/x"))
	bad := []rdf.Triple{
		{Subj: rdfType, Pred: rdfsLabel, Obj: plainLit("type")},
		{Subj: s, Pred: schemaName, Obj: typedLit(`1941"`, xsdDate)},
		{Subj: s, Pred: schemaName, Obj: typedLit("1941\n", xsdGYear)},
		{Subj: s, Pred: schemaName, Obj: typedLit(`a\b`, geoWKTLiteral)},
		{Subj: s, Pred: schemaName, Obj: typedLit("1.5", xsdDouble)},
		{Subj: s, Pred: schemaName, Obj: typedLit("55", xsdDecimal)},
		{Subj: s, Pred: schemaName, Obj: typedLit("1.0", xsdInteger)},
		{Subj: s, Pred: schemaName, Obj: typedLit("yes", xsdBoolean)},
		{Subj: s, Pred: schemaName, Obj: typedLit("x", mustIRI(x.vocabNS+"a(b)"))},
		{Subj: s, Pred: mustIRI(x.vocabNS + "a=b"), Obj: plainLit("x")},
		{Subj: mustIRI(x.IRI("events/a~b")), Pred: schemaName, Obj: plainLit("x")},
		{Subj: s, Pred: schemaName, Obj: mustIRI(x.IRI("events/ab."))},
		{Subj: s, Pred: schemaName, Obj: mustIRI(x.IRI("events/-ab"))},
		{Subj: s, Pred: schemaName, Obj: typedLit("quote \" and\nnewline", mustIRI("http://example.org/ns/dt"))},
		{Subj: mustIRI("http://example.org/ns/a(b)"), Pred: mustIRI("http://example.org/ns/p.q"), Obj: mustIRI("http://example.org/ns/-x.")},
	}
	ts = append(ts, bad...)
	refused := 0
	for _, tr := range ts {
		want := checkTurtle(tr, x.prefixes)
		if want != nil {
			refused++
		}
		for _, before := range []rdf.Triple{
			{},
			{Subj: tr.Subj, Pred: schemaDescription, Obj: plainLit("same subject")},
			{Subj: tr.Subj, Pred: tr.Pred, Obj: plainLit("same predicate")},
		} {
			w := newWriter(io.Discard, Turtle, x.prefixes, nil)
			if before.Subj != nil {
				if err := w.write(before); err != nil && want == nil {
					t.Fatalf("%v: %v", before, err)
				} else if err != nil {
					continue // refused for its subject or predicate already
				}
			}
			got := w.write(tr)
			if (got == nil) != (want == nil) {
				t.Errorf("%s: writer says %v, checkTurtle %v", ntriples(t, []rdf.Triple{tr}), got, want)
			}
		}
	}
	if refused < len(bad)-2 {
		t.Errorf("checkTurtle refused %d triples; want the %d pitfalls", refused, len(bad)-2)
	}
}

// FuzzAppendQuoted: the table-driven path for valid UTF-8 writes what
// the rune-by-rune one does.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\nd\re\tf\x00g\x1fh\x7fi", "Москва 日本 \U0001F600", "\xff\xfe", "x\u2028y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendQuoted(nil, s))
		want := `"` + string(appendQuotedRunes(nil, s))
		if got != want {
			t.Fatalf("appendQuoted(%q) = %q; rune by rune %q", s, got, want)
		}
	})
}
