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
)

// ErrUnknownFormat is returned (wrapped) by ParseFormat for a name it does not know.
var ErrUnknownFormat = errors.New("unknown RDF format")

// ParseFormat reads a format name: "turtle", "ttl" or "text/turtle" for
// Turtle; "ntriples", "n-triples", "nt" or "application/n-triples" for
// N-Triples. Case is ignored, as are media type parameters.
func ParseFormat(s string) (Format, error) {
	v, _, _ := strings.Cut(s, ";")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "turtle", "ttl", "text/turtle":
		return Turtle, nil
	case "ntriples", "n-triples", "nt", "application/n-triples":
		return NTriples, nil
	}
	return 0, fmt.Errorf("%w %q: want turtle or ntriples", ErrUnknownFormat, s)
}

// String returns the format's name as ParseFormat reads it.
func (f Format) String() string {
	switch f {
	case Turtle:
		return "turtle"
	case NTriples:
		return "ntriples"
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
	}
	return ""
}

// Extension returns the file extension of the format, with its dot: ".ttl" or ".nt".
func (f Format) Extension() string {
	switch f {
	case Turtle:
		return ".ttl"
	case NTriples:
		return ".nt"
	}
	return ""
}

// encoder writes triples through writer (writer.go), streaming, and counts
// them.
type encoder struct {
	f      Format
	w      tripleWriter
	prefix map[string]string // namespace -> Turtle prefix
	n      int64
	used   []bool // used[i]: vocabularies[i] occurs in what was written
}

func (x *Exporter) newEncoder(w io.Writer, f Format) (*encoder, error) {
	switch f {
	case Turtle, NTriples:
	default:
		return nil, fmt.Errorf("exporter: %w %v", ErrUnknownFormat, f)
	}
	e := &encoder{f: f, used: make([]bool, len(vocabularies))}
	if f == Turtle {
		e.prefix = x.prefixes
	}
	e.w = newWriter(w, f, e.prefix)
	return e, nil
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
		e.note(t)
		if err := e.w.write(t); err != nil {
			return fmt.Errorf("exporter: writing: %w", err)
		}
		e.n++
	}
	return nil
}

// note records which vocabularies t uses: its predicate, any term of a
// vocabulary as object, and its literal's datatype.
func (e *encoder) note(t rdf.Triple) {
	if i, ok := vocabIndex[t.Pred.String()]; ok {
		e.used[i] = true
	}
	switch o := t.Obj.(type) {
	case rdf.IRI:
		if i, ok := vocabIndex[o.String()]; ok {
			e.used[i] = true
		}
	case rdf.Literal:
		if i, ok := vocabIndex[o.DataType.String()]; ok {
			e.used[i] = true
		}
	}
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
//   - rdf:type as subject or object (written as the keyword "a"),
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
		if o == rdfType {
			return fmt.Errorf("exporter: rdf:type as an object cannot be written as Turtle by knakk/rdf")
		}
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
