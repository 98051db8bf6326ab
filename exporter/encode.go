package exporter

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/knakk/rdf"
)

// Format is an RDF serialisation the exporter writes.
type Format int

// The formats the exporter writes.
const (
	// Turtle is RDF 1.1 Turtle with prefixes, subjects grouped with ";" and ",".
	Turtle Format = iota + 1
	// NTriples is RDF 1.1 N-Triples: one triple a line, full IRIs.
	NTriples
	// JSONLD is JSON-LD 1.1 in compact form: one node object per subject
	// in an "@graph" array, compacted with the @context Annals serves at
	// {base}/context.jsonld (see jsonld.go).
	JSONLD
)

// Formats lists the formats, in the order documents list them.
var Formats = []Format{Turtle, NTriples, JSONLD}

// ErrUnknownFormat is returned (wrapped) by ParseFormat for a name it does not know.
var ErrUnknownFormat = errors.New("unknown RDF format")

// ParseFormat reads a format name: "turtle", "ttl" or "text/turtle" for
// Turtle; "ntriples", "n-triples", "nt" or "application/n-triples" for
// N-Triples; "jsonld", "json-ld" or "application/ld+json" for JSON-LD. Case
// is ignored, as are media type parameters.
func ParseFormat(s string) (Format, error) {
	v, _, _ := strings.Cut(s, ";")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "turtle", "ttl", "text/turtle":
		return Turtle, nil
	case "ntriples", "n-triples", "nt", "application/n-triples":
		return NTriples, nil
	case "jsonld", "json-ld", "application/ld+json":
		return JSONLD, nil
	}
	return 0, fmt.Errorf("%w %q: want turtle, ntriples or jsonld", ErrUnknownFormat, s)
}

// String returns the format's name as ParseFormat reads it.
func (f Format) String() string {
	switch f {
	case Turtle:
		return "turtle"
	case NTriples:
		return "ntriples"
	case JSONLD:
		return "jsonld"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ContentType returns the media type to send the format with.
func (f Format) ContentType() string {
	switch f {
	case Turtle:
		return "text/turtle; charset=utf-8"
	case NTriples:
		return "application/n-triples"
	case JSONLD:
		return "application/ld+json"
	}
	return ""
}

// MediaType returns the bare media type of the format, without parameters.
func (f Format) MediaType() string {
	t, _, _ := strings.Cut(f.ContentType(), ";")
	return t
}

// Extension returns the file extension of the format, with its dot: ".ttl",
// ".nt" or ".jsonld".
func (f Format) Extension() string {
	switch f {
	case Turtle:
		return ".ttl"
	case NTriples:
		return ".nt"
	case JSONLD:
		return ".jsonld"
	}
	return ""
}

// mediaIRI is the IANA media type registration of the format, as DCAT
// and Dublin Core name media types.
func (f Format) mediaIRI() rdf.IRI {
	switch f {
	case Turtle:
		return mediaTurtle
	case NTriples:
		return mediaNTriples
	}
	return mediaJSONLD
}

// featureIRI is the W3C format IRI VoID names a serialisation with.
func (f Format) featureIRI() rdf.IRI {
	switch f {
	case Turtle:
		return formatTurtle
	case NTriples:
		return formatNTriples
	}
	return formatJSONLD
}

// encoder writes triples through writer (writer.go), streaming, and counts
// them.
type encoder struct {
	x      *Exporter
	f      Format
	w      tripleWriter
	prefix map[string]string // namespace -> Turtle prefix
	n      int64
}

// newEncoder returns an encoder for a document that may use any namespace:
// Turtle output declares every prefix first (a dump).
func (x *Exporter) newEncoder(w io.Writer, f Format) (*encoder, error) {
	return x.newDocEncoder(w, f, nil)
}

// newDocEncoder returns an encoder that writes ts (or, when ts is nil,
// anything): Turtle output declares first the prefixes of the namespaces ts
// uses, all of them when ts is nil. Declarations are @prefix lines, never
// triples.
func (x *Exporter) newDocEncoder(w io.Writer, f Format, ts []rdf.Triple) (*encoder, error) {
	e := &encoder{x: x, f: f}
	switch f {
	case Turtle:
		e.prefix = x.prefixes
		e.w = newWriter(w, f, e.prefix, x.declare(ts))
	case NTriples:
		e.w = newWriter(w, f, nil, nil)
	case JSONLD:
		e.w = newJSONLDWriter(w, x, x.ContextIRI())
	default:
		return nil, fmt.Errorf("exporter: %w %v", ErrUnknownFormat, f)
	}
	return e, nil
}

// writeDoc writes the document ts to w in format f, whole: the prefixes it
// uses (Turtle), its triples, the end. It returns how many triples it wrote.
func (x *Exporter) writeDoc(w io.Writer, f Format, ts []rdf.Triple) (int64, error) {
	enc, err := x.newDocEncoder(w, f, ts)
	if err != nil {
		return 0, err
	}
	if err := enc.encode(ts); err != nil {
		return enc.n, err
	}
	return enc.n, enc.close()
}

// declare returns the namespaces a Turtle document of ts declares, in the
// order of x.namespaces: those ts uses, or all when ts is nil.
func (x *Exporter) declare(ts []rdf.Triple) []vocabulary {
	if ts == nil {
		return x.namespaces
	}
	used := map[string]bool{}
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
	var out []vocabulary
	for _, v := range x.namespaces {
		if used[v.ns] {
			out = append(out, v)
		}
	}
	return out
}

// tripleWriter is what an encoder writes through: writer, or in tests
// knakk/rdf's TripleEncoder, to compare their bytes.
type tripleWriter interface {
	write(rdf.Triple) error
	close() error
}

// encode writes ts, which must hold all the triples of their subjects (see
// group), so that Turtle output groups each subject once.
func (e *encoder) encode(ts []rdf.Triple) error {
	for _, t := range ts {
		if err := e.w.write(t); err != nil {
			return fmt.Errorf("exporter: writing: %w", err)
		}
		e.n++
	}
	return nil
}

// raw writes n triples already written as N-Triples (appendNTriple), for
// an N-Triples encoder.
func (e *encoder) raw(b []byte, n int) error {
	w, ok := e.w.(*writer)
	if !ok || w.turtle {
		return fmt.Errorf("exporter: writing: raw N-Triples to a %v encoder", e.f)
	}
	if err := w.writeRaw(b); err != nil {
		return fmt.Errorf("exporter: writing: %w", err)
	}
	e.n += int64(n)
	return nil
}

func (e *encoder) close() error {
	if err := e.w.close(); err != nil {
		return fmt.Errorf("exporter: writing: %w", err)
	}
	return nil
}

// checkTurtle states the rules that guard the known defects of knakk/rdf's
// Turtle encoder (../shared/toolchain.md), which writer reproduces byte for
// byte; writer applies them as it writes (see turtleTriple), and a test
// checks that the two agree. It returns an error, rather than let invalid
// Turtle be written, when t holds
//   - an IRI in a registered namespace whose local name knakk/rdf would
//     write unescaped although it needs escaping,
//   - rdf:type as subject (written as the keyword "a"; as an object, writer
//     writes rdf:type where knakk/rdf writes "a"),
//   - a literal whose datatype is in a registered namespace and whose lexical
//     form holds a quote, backslash or line break (written unescaped),
//   - a numeric or boolean literal written bare that would not read back as
//     its datatype (doubles, integral decimals).
//
// The mapping never produces such a triple; the check makes a mistake in it
// fail loudly instead of writing a broken dump.
func checkTurtle(t rdf.Triple, prefix map[string]string) error {
	if s, ok := t.Subj.(rdf.IRI); ok {
		if s == rdfType {
			return fmt.Errorf("exporter: rdf:type as a subject cannot be written as Turtle by knakk/rdf")
		}
		if err := checkIRI(s, prefix); err != nil {
			return err
		}
	}
	if err := checkIRI(t.Pred.(rdf.IRI), prefix); err != nil {
		return err
	}
	switch o := t.Obj.(type) {
	case rdf.IRI:
		return checkIRI(o, prefix)
	case rdf.Literal:
		return checkLiteral(o, prefix)
	}
	return nil
}

func checkIRI(iri rdf.IRI, prefix map[string]string) error {
	ns, local := iri.Split()
	if ns == "" {
		return nil
	}
	if _, ok := prefix[ns]; ok && !safeLocal(local) {
		return fmt.Errorf("exporter: IRI <%s> would be written as an invalid prefixed name", iri)
	}
	return nil
}

func checkLiteral(l rdf.Literal, prefix map[string]string) error {
	if err := checkLexical(l); err != nil {
		return err
	}
	if builtinTurtleType(l.DataType) {
		return nil
	}
	ns, _ := l.DataType.Split()
	if _, ok := prefix[ns]; ok && strings.ContainsAny(l.String(), "\"\\\n\r") {
		return fmt.Errorf("exporter: literal %q with a prefixed datatype would be written unescaped", l.String())
	}
	return checkIRI(l.DataType, prefix)
}

// checkLexical refuses numbers and booleans that Turtle, which writes them
// bare, would not read back with their datatype, and doubles.
func checkLexical(l rdf.Literal) error {
	s := l.String()
	switch l.DataType {
	case xsdInteger:
		if !isInteger(s) {
			return fmt.Errorf("exporter: %q is not an xsd:integer Turtle can write bare", s)
		}
	case xsdDecimal:
		if !isDecimal(s) {
			return fmt.Errorf("exporter: %q is not an xsd:decimal Turtle can write bare", s)
		}
	case xsdBoolean:
		if s != "true" && s != "false" {
			return fmt.Errorf("exporter: %q is not an xsd:boolean", s)
		}
	case xsdDouble:
		return fmt.Errorf("exporter: knakk/rdf writes xsd:double %q as a decimal", s)
	}
	return nil
}

var (
	rdfLangString = mustIRI("http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")
	xsdDouble     = mustIRI("http://www.w3.org/2001/XMLSchema#double")
)

// safeLocal reports whether local can be written after a prefix without any
// escaping: empty, or ASCII letters, digits, "_", "-" and "." where "-" and
// "." are not first and "." is not last (Turtle 1.1 PN_LOCAL, which allows a
// leading digit).
func safeLocal(local string) bool {
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c == '-' && i > 0:
		case c == '.' && i > 0 && i < len(local)-1:
		default:
			return false
		}
	}
	return true
}

func isInteger(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	ip, fp, ok := strings.Cut(s, ".")
	if !ok || fp == "" || !isInteger(fp) || fp[0] == '+' || fp[0] == '-' {
		return false
	}
	if ip == "" || ip == "+" || ip == "-" {
		return true
	}
	return isInteger(ip)
}
