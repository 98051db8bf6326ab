package exporter

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/knakk/rdf"
)

// writerBufSize is how many bytes a writer gathers before it writes them on.
const writerBufSize = 64 << 10

// writer is a streaming N-Triples and Turtle writer over knakk/rdf's terms.
// knakk/rdf's TripleEncoder formats every term with fmt and allocates
// several strings per triple; this writer appends the same bytes to one
// reused buffer, which is what lets a dump run at millions of triples a
// second (see BENCHMARKS.md, "RDF writers").
//
// The bytes are knakk/rdf's for every triple whose literals hold no control
// character other than tab, line feed and carriage return: N-Triples is
// "s p o .\n" with IRIs in full, and Turtle follows TripleEncoder.Encode
// step for step (the same prefix declarations at the same places, the same
// tabs, " ;\n" and " ,\n" continuations), so the golden files hold. Where
// knakk/rdf writes a control character raw, this writer escapes it as
// \u00XX (valid either way in RDF 1.1; several parsers mishandle the raw
// form). The Turtle defects of knakk/rdf are reproduced, not fixed: the
// triples that would hit one are refused (see checkTurtle).
type writer struct {
	w   io.Writer
	buf []byte
	err error

	turtle bool
	// Turtle state, as in knakk/rdf's TripleEncoder.
	ns      map[string]*nsState // the namespaces with a prefix
	recent  [6]*nsState         // the last namespaces looked up, latest first
	open    bool                // a statement is open (its " ." not yet written)
	curSubj rdf.Subject
	curPred string
}

// newWriter returns a writer of format f. For Turtle, prefix maps the
// namespaces that may be written as prefixed names to their prefixes, and
// the prefixes of declare are declared at once, before any triple, with
// @prefix lines: a namespace of prefix that is not in declare is declared
// where it is first used, as knakk/rdf does, which closes the statement
// then open.
func newWriter(w io.Writer, f Format, prefix map[string]string, declare []vocabulary) *writer {
	x := &writer{w: w, buf: make([]byte, 0, writerBufSize), turtle: f == Turtle}
	if x.turtle {
		x.ns = make(map[string]*nsState, len(prefix))
		for ns, p := range prefix {
			x.ns[ns] = &nsState{ns: ns, prefix: p}
		}
		for _, v := range declare {
			if st := x.ns[v.ns]; st != nil && !st.declared {
				x.declare(st)
			}
		}
	}
	return x
}

// write appends one triple.
func (x *writer) write(t rdf.Triple) error {
	if x.err != nil {
		return x.err
	}
	if x.turtle {
		if err := x.turtleTriple(t); err != nil {
			return err
		}
	} else {
		x.ntriple(t)
	}
	if len(x.buf) >= writerBufSize-(writerBufSize>>3) {
		x.flush()
	}
	return x.err
}

// close ends an open Turtle statement and writes out what is buffered. The
// writer takes no more triples after it.
func (x *writer) close() error {
	if x.err != nil {
		return x.err
	}
	if x.turtle && x.open {
		x.buf = append(x.buf, " ."...)
		x.open = false
	}
	x.flush()
	if x.err == nil {
		x.err = errWriterClosed
		return nil
	}
	return x.err
}

var errWriterClosed = rdf.ErrEncoderClosed

func (x *writer) flush() {
	if x.err != nil || len(x.buf) == 0 {
		return
	}
	n, err := x.w.Write(x.buf)
	if err == nil && n < len(x.buf) {
		err = io.ErrShortWrite
	}
	x.err = err
	x.buf = x.buf[:0]
}

// writeRaw appends bytes already written as N-Triples.
func (x *writer) writeRaw(b []byte) error {
	if x.err != nil {
		return x.err
	}
	if len(x.buf)+len(b) > cap(x.buf) {
		x.flush()
		if x.err == nil && len(b) >= cap(x.buf) {
			n, err := x.w.Write(b)
			if err == nil && n < len(b) {
				err = io.ErrShortWrite
			}
			x.err = err
			return err
		}
	}
	x.buf = append(x.buf, b...)
	return x.err
}

// ---- N-Triples ----

func (x *writer) ntriple(t rdf.Triple) { x.buf = appendNTriple(x.buf, t) }

// appendNTriple appends t as a line of N-Triples.
func appendNTriple(b []byte, t rdf.Triple) []byte {
	b = appendSubject(b, t.Subj)
	b = append(b, ' ')
	b = appendIRI(b, t.Pred.(rdf.IRI).String())
	b = append(b, ' ')
	switch o := t.Obj.(type) {
	case rdf.IRI:
		b = appendIRI(b, o.String())
	case rdf.Literal:
		b = appendLiteralNT(b, o)
	case rdf.Blank:
		b = append(b, o.Serialize(rdf.NTriples)...)
	}
	return append(b, " .\n"...)
}

func appendSubject(b []byte, s rdf.Subject) []byte {
	switch s := s.(type) {
	case rdf.IRI:
		return appendIRI(b, s.String())
	case rdf.Blank:
		return append(b, s.Serialize(rdf.NTriples)...)
	}
	return b
}

// appendIRI writes <iri>. rdf.NewIRI refuses every character IRIREF would
// need escaped (controls, space, <>"{}|^`\), so the text goes as it is.
func appendIRI(b []byte, iri string) []byte {
	b = append(b, '<')
	b = append(b, iri...)
	return append(b, '>')
}

// appendLiteralNT writes a literal as N-Triples: "text", "text"@tag or
// "text"^^<datatype>.
func appendLiteralNT(b []byte, l rdf.Literal) []byte {
	b = appendQuoted(b, l.String())
	switch l.DataType {
	case rdfLangString:
		b = append(b, '@')
		return append(b, l.Lang()...)
	case xsdString:
		return b
	}
	b = append(b, "^^"...)
	return appendIRI(b, l.DataType.String())
}

// appendQuoted writes s between double quotes, escaped for a STRING_LITERAL_QUOTE
// of N-Triples and Turtle: \" \\ \n \r as ECHARs, other control characters
// but tab as \u00XX; invalid UTF-8 becomes U+FFFD, as knakk/rdf writes it.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	// Most text is valid UTF-8 with nothing to escape: look for the bytes
	// that need escaping (quote, backslash, controls but tab) through a
	// table, and check the encoding once, at machine speed.
	if utf8.ValidString(s) {
		start := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !quoteEscape[c] {
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, `\"`...)
			case '\\':
				b = append(b, `\\`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				const hex = "0123456789ABCDEF"
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			start = i + 1
		}
		b = append(b, s[start:]...)
		return append(b, '"')
	}
	return appendQuotedRunes(b, s)
}

// appendQuotedRunes is appendQuoted after the opening quote, rune by rune:
// for text that is not valid UTF-8.
func appendQuotedRunes(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += n
			continue
		}
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t' || (c >= 0x20 && c != 0x7f):
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if esc != "" {
			b = append(b, esc...)
		} else {
			const hex = "0123456789ABCDEF"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// quoteEscape marks the bytes appendQuoted escapes in valid UTF-8: quote,
// backslash, and the control characters other than tab (DEL included).
var quoteEscape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t'
	}
	t['"'], t['\\'], t[0x7f] = true, true, true
	return t
}()

// ---- Turtle ----

// nsState is a namespace with a Turtle prefix.
type nsState struct {
	ns, prefix string
	declared   bool // its @prefix has been written
}

// resolved is an IRI ready to write: a prefixed name when prefix is set, else in full.
type resolved struct {
	iri           string
	prefix, local string
	prefixed, a   bool // a: rdf:type, written "a"
}

// turtleTriple follows knakk/rdf's TripleEncoder.Encode: the object's
// prefix is declared first, then, as the statement requires, the
// predicate's and the subject's; a declaration closes an open statement, so
// that the triple then starts a new one.
//
// It refuses, as checkTurtle describes, what knakk/rdf would write as
// invalid Turtle: rdf:type as subject, a prefixed name whose local part is
// not safeLocal, and literals that would not read back. rdf:type as an
// object, which knakk/rdf writes "a", is written rdf:type.
func (x *writer) turtleTriple(t rdf.Triple) error {
	var (
		o, p, s resolved
		dt      bool // o is the datatype of a literal object
		err     error
	)
	if s, ok := t.Subj.(rdf.IRI); ok && s.String() == rdfTypeIRI {
		return errTypeSubject
	}
	switch obj := t.Obj.(type) {
	case rdf.IRI:
		// rdf:type as an object (a VoID property partition of rdf:type) is
		// written rdf:type, where knakk/rdf writes the keyword "a", which
		// is no object: resolveDatatype never makes "a".
		if o, err = x.resolveDatatype(obj.String()); err != nil {
			return err
		}
	case rdf.Literal:
		if err := checkLexical(obj); err != nil {
			return err
		}
		if !builtinTurtleType(obj.DataType) {
			if o, err = x.resolveDatatype(obj.DataType.String()); err != nil {
				return err
			}
			if o.prefixed && strings.ContainsAny(obj.String(), "\"\\\n\r") {
				return fmt.Errorf("exporter: literal %q with a prefixed datatype would be written unescaped", obj.String())
			}
			dt = true
		}
	}
	pred := t.Pred.(rdf.IRI).String()
	const (
		full = iota
		predList
		objList
	)
	mode := full
	if x.open {
		if sameSubject(x.curSubj, t.Subj) {
			if x.curPred == pred {
				mode = objList
			} else {
				if p, err = x.resolve(pred); err != nil {
					return err
				}
				if x.open {
					mode = predList
				} else if s, err = x.resolveSubject(t.Subj); err != nil {
					return err
				}
			}
		} else {
			x.buf = append(x.buf, " .\n"...)
			x.open = false
			if p, err = x.resolve(pred); err != nil {
				return err
			}
			if s, err = x.resolveSubject(t.Subj); err != nil {
				return err
			}
		}
	} else {
		if p, err = x.resolve(pred); err != nil {
			return err
		}
		if s, err = x.resolveSubject(t.Subj); err != nil {
			return err
		}
	}
	x.curSubj, x.curPred = t.Subj, pred
	x.open = true

	b := x.buf
	switch mode {
	case objList:
		b = append(b, " ,\n\t\t\t"...)
	case predList:
		b = append(b, " ;\n\t"...)
		b = appendTerm(b, p)
		b = append(b, '\t')
	default:
		if bl, ok := t.Subj.(rdf.Blank); ok {
			b = append(b, bl.Serialize(rdf.Turtle)...)
		} else {
			b = appendTerm(b, s)
		}
		b = append(b, '\t')
		b = appendTerm(b, p)
		b = append(b, '\t')
	}
	switch obj := t.Obj.(type) {
	case rdf.IRI:
		b = appendTerm(b, o)
	case rdf.Literal:
		switch obj.DataType {
		case rdfLangString:
			b = appendQuoted(b, obj.String())
			b = append(b, '@')
			b = append(b, obj.Lang()...)
		case xsdString:
			b = appendQuoted(b, obj.String())
		case xsdInteger, xsdDecimal, xsdBoolean, xsdDouble:
			b = append(b, obj.String()...)
		default:
			b = appendQuoted(b, obj.String())
			b = append(b, "^^"...)
			if !dt {
				panic("exporter: writer: unresolved datatype")
			}
			b = appendTerm(b, o)
		}
	case rdf.Blank:
		b = append(b, obj.Serialize(rdf.Turtle)...)
	}
	x.buf = b
	return nil
}

var errTypeSubject = errors.New("exporter: rdf:type as a subject cannot be written as Turtle by knakk/rdf")

// sameSubject is knakk/rdf's TermsEqual for subjects.
func sameSubject(a, b rdf.Subject) bool {
	switch a := a.(type) {
	case rdf.IRI:
		bi, ok := b.(rdf.IRI)
		return ok && a == bi
	case rdf.Blank:
		bb, ok := b.(rdf.Blank)
		return ok && a == bb
	}
	return false
}

const rdfTypeIRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

// splitIRI is rdf.IRI.Split: the IRI cut after its last '/' or '#'.
func splitIRI(iri string) (ns, local string) {
	for i := len(iri) - 1; i >= 0; i-- {
		if c := iri[i]; c == '/' || c == '#' {
			return iri[:i+1], iri[i+1:]
		}
	}
	return "", ""
}

// namespace returns the state of ns, or nil if it has no prefix. The
// namespaces last looked up are remembered: a record's IRIs share a few.
func (x *writer) namespace(ns string) *nsState {
	for i, st := range x.recent {
		if st == nil {
			break
		}
		if st.ns == ns {
			if i > 0 {
				copy(x.recent[1:i+1], x.recent[:i])
				x.recent[0] = st
			}
			return st
		}
	}
	st := x.ns[ns]
	if st == nil {
		return nil
	}
	copy(x.recent[1:], x.recent[:len(x.recent)-1])
	x.recent[0] = st
	return st
}

// resolve returns how an IRI in subject, predicate or object position is
// written, declaring its prefix first if need be.
func (x *writer) resolve(iri string) (resolved, error) {
	if iri == rdfTypeIRI {
		return resolved{iri: iri, a: true}, nil
	}
	return x.resolveDatatype(iri)
}

// resolveDatatype is resolve for a datatype, which is never written "a".
// An IRI in a prefixed namespace whose local name would need escaping is
// refused: knakk/rdf would write it unescaped.
func (x *writer) resolveDatatype(iri string) (resolved, error) {
	ns, local := splitIRI(iri)
	if ns == "" {
		return resolved{iri: iri}, nil
	}
	st := x.namespace(ns)
	if st == nil {
		return resolved{iri: iri}, nil
	}
	if !safeLocal(local) {
		return resolved{}, fmt.Errorf("exporter: IRI <%s> would be written as an invalid prefixed name", iri)
	}
	if !st.declared {
		x.declare(st)
	}
	return resolved{iri: iri, prefix: st.prefix, local: local, prefixed: true}, nil
}

// declare writes the @prefix line of st, closing the statement open, if any.
func (x *writer) declare(st *nsState) {
	st.declared = true
	if x.open {
		x.buf = append(x.buf, " .\n"...)
	}
	x.buf = append(x.buf, "@prefix "...)
	x.buf = append(x.buf, st.prefix...)
	x.buf = append(x.buf, ":\t<"...)
	x.buf = append(x.buf, st.ns...)
	x.buf = append(x.buf, "> .\n"...)
	x.open = false
}

func (x *writer) resolveSubject(s rdf.Subject) (resolved, error) {
	if s, ok := s.(rdf.IRI); ok {
		return x.resolve(s.String())
	}
	return resolved{}, nil
}

func appendTerm(b []byte, t resolved) []byte {
	switch {
	case t.a:
		return append(b, 'a')
	case t.prefixed:
		b = append(b, t.prefix...)
		b = append(b, ':')
		return append(b, t.local...)
	}
	return appendIRI(b, t.iri)
}

// builtinTurtleType reports whether knakk/rdf writes a literal of type dt
// without naming the type (strings, language-tagged strings, numbers, booleans).
func builtinTurtleType(dt rdf.IRI) bool {
	switch dt {
	case xsdString, xsdInteger, xsdBoolean, xsdDouble, xsdDecimal, rdfLangString:
		return true
	}
	return false
}
