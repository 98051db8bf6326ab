package exporter

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/knakk/rdf"
)

// ContextPath is where Annals serves the JSON-LD @context of its documents,
// under the base IRI: {base}/context.jsonld.
const ContextPath = "/context.jsonld"

// ContextIRI returns the IRI of the JSON-LD @context every JSON-LD document
// of this exporter refers to: {base}/context.jsonld, which Annals' HTTP
// server serves (Context writes it).
func (x *Exporter) ContextIRI() string { return x.base + ContextPath }

// Context writes the JSON-LD context document: one prefix per namespace the
// data uses (those of the Turtle output, records' collections included), so
// that every IRI of a document can be written as a compact IRI such as
// "schema:name" or "event:soviet-japanese-neutrality-pact". Nothing else is
// in it (no term coerces a type, no default language), so a value reads the
// same with or without the context's help and the documents stay close to
// the triples they hold.
func (x *Exporter) Context(w io.Writer) error {
	b := []byte("{\n  \"@context\": {")
	for i, v := range x.namespaces {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendJSONString(b, v.prefix)
		b = append(b, ": "...)
		b = appendJSONString(b, v.ns)
	}
	b = append(b, "\n  }\n}\n"...)
	_, err := w.Write(b)
	return err
}

// jsonldWriter writes triples as a JSON-LD document in compact form: an
// object with the @context and an "@graph" array holding one node object
// per subject, whose keys are "@id", "@type" and the predicates as compact
// IRIs, in the order the triples come, and whose values are {"@id": …} for
// IRIs, plain strings for xsd:string, and value objects with "@language" or
// "@type" for the other literals. Triples of one subject must come one after
// the other (they do: see builder.done); those of one predicate may not, the
// node is buffered whole. The output is deterministic and streams: memory
// holds one node.
type jsonldWriter struct {
	w       io.Writer
	buf     []byte
	err     error
	x       *Exporter
	context string

	nodes int         // node objects written
	subj  rdf.Subject // the subject of the node being gathered, nil if none
	types []rdf.IRI
	props []jsonldProp
}

type jsonldProp struct {
	pred rdf.IRI
	objs []rdf.Object
}

func newJSONLDWriter(w io.Writer, x *Exporter, context string) *jsonldWriter {
	j := &jsonldWriter{w: w, x: x, context: context, buf: make([]byte, 0, writerBufSize)}
	j.buf = append(j.buf, "{\n  \"@context\": "...)
	j.buf = appendJSONString(j.buf, context)
	j.buf = append(j.buf, ",\n  \"@graph\": ["...)
	return j
}

var errJSONLDBlank = errors.New("exporter: JSON-LD: blank nodes are not written")

func (j *jsonldWriter) write(t rdf.Triple) error {
	if j.err != nil {
		return j.err
	}
	if _, ok := t.Subj.(rdf.Blank); ok {
		return errJSONLDBlank
	}
	if _, ok := t.Obj.(rdf.Blank); ok {
		return errJSONLDBlank
	}
	if j.subj == nil || !sameSubject(j.subj, t.Subj) {
		j.node()
		j.subj = t.Subj
	}
	p := t.Pred.(rdf.IRI)
	if p == rdfType {
		if o, ok := t.Obj.(rdf.IRI); ok {
			j.types = append(j.types, o)
			return nil
		}
	}
	if n := len(j.props); n > 0 && j.props[n-1].pred == p {
		j.props[n-1].objs = append(j.props[n-1].objs, t.Obj)
		return nil
	}
	for i := range j.props {
		if j.props[i].pred == p {
			j.props[i].objs = append(j.props[i].objs, t.Obj)
			return nil
		}
	}
	j.props = append(j.props, jsonldProp{pred: p, objs: []rdf.Object{t.Obj}})
	return nil
}

// node writes the node gathered so far, if any, and starts afresh.
func (j *jsonldWriter) node() {
	if j.subj == nil {
		return
	}
	b := j.buf
	if j.nodes > 0 {
		b = append(b, ',')
	}
	j.nodes++
	b = append(b, "\n    {\n      \"@id\": "...)
	b = appendJSONString(b, j.x.compact(j.subj.(rdf.IRI).String()))
	if len(j.types) > 0 {
		b = append(b, ",\n      \"@type\": "...)
		if len(j.types) > 1 {
			b = append(b, '[')
		}
		for i, t := range j.types {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONString(b, j.x.compact(t.String()))
		}
		if len(j.types) > 1 {
			b = append(b, ']')
		}
	}
	for _, p := range j.props {
		b = append(b, ",\n      "...)
		b = appendJSONString(b, j.x.compact(p.pred.String()))
		b = append(b, ": "...)
		if len(p.objs) == 1 {
			b = j.value(b, p.objs[0])
			continue
		}
		b = append(b, '[')
		for i, o := range p.objs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = j.value(b, o)
		}
		b = append(b, "\n      ]"...)
	}
	b = append(b, "\n    }"...)
	j.buf = b
	clear(j.props)
	j.subj, j.types, j.props = nil, j.types[:0], j.props[:0]
	if len(j.buf) >= writerBufSize-(writerBufSize>>3) {
		j.flush()
	}
}

// value appends one object: {"@id": …} for an IRI, a string for an
// xsd:string, a value object for other literals. Numbers and booleans are
// value objects with their lexical form, never JSON numbers, which JSON-LD
// would turn into xsd:double or canonicalise.
func (j *jsonldWriter) value(b []byte, o rdf.Object) []byte {
	switch o := o.(type) {
	case rdf.IRI:
		b = append(b, `{"@id": `...)
		b = appendJSONString(b, j.x.compact(o.String()))
		return append(b, '}')
	case rdf.Literal:
		switch o.DataType {
		case xsdString:
			return appendJSONString(b, o.String())
		case rdfLangString:
			b = append(b, `{"@value": `...)
			b = appendJSONString(b, o.String())
			b = append(b, `, "@language": `...)
			b = appendJSONString(b, o.Lang())
			return append(b, '}')
		}
		b = append(b, `{"@value": `...)
		b = appendJSONString(b, o.String())
		b = append(b, `, "@type": `...)
		b = appendJSONString(b, j.x.compact(o.DataType.String()))
		return append(b, '}')
	}
	panic(fmt.Sprintf("exporter: JSON-LD: unexpected object %T", o))
}

func (j *jsonldWriter) flush() {
	if j.err != nil || len(j.buf) == 0 {
		return
	}
	n, err := j.w.Write(j.buf)
	if err == nil && n < len(j.buf) {
		err = io.ErrShortWrite
	}
	j.err = err
	j.buf = j.buf[:0]
}

func (j *jsonldWriter) close() error {
	if j.err != nil {
		return j.err
	}
	j.node()
	if j.nodes > 0 {
		j.buf = append(j.buf, "\n  "...)
	}
	j.buf = append(j.buf, "]\n}\n"...)
	j.flush()
	if j.err == nil {
		j.err = errWriterClosed
		return nil
	}
	return j.err
}

// compact writes iri as a compact IRI ("schema:name") when one of the
// context's prefixes is the longest namespace it starts with and what
// follows is not empty and cannot be read as anything but the rest of the
// IRI; otherwise in full.
func (x *Exporter) compact(iri string) string {
	best := -1
	for i, v := range x.namespaces {
		if len(iri) > len(v.ns) && iri[:len(v.ns)] == v.ns && (best < 0 || len(v.ns) > len(x.namespaces[best].ns)) {
			best = i
		}
	}
	if best < 0 {
		return iri
	}
	rest := iri[len(x.namespaces[best].ns):]
	if len(rest) >= 2 && rest[:2] == "//" {
		return iri
	}
	return x.namespaces[best].prefix + ":" + rest
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 written as U+FFFD (as the RDF
// writers do), everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	return appendJSONStr(b, s, false)
}

// appendJSONStr is appendJSONString that, with html set, also escapes <, >
// and & (for JSON inside an HTML <script> element).
func appendJSONStr(b []byte, s string, html bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
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
			if html && (r == '\u2028' || r == '\u2029') {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xf])
				i += n
				start = i
				continue
			}
			i += n
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&')) {
			i++
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
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
