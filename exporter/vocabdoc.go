package exporter

import (
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/knakk/rdf"
)

// The vocabulary document ({base}/vocab) and the SHACL shapes
// ({base}/shapes.ttl), as served: vocab.ttl and shapes.ttl beside this
// file, written for DefaultBase, with that base replaced by the exporter's.

//go:embed vocab.ttl
var vocabTTL string

//go:embed shapes.ttl
var shapesTTL string

// ShapesPath is where Annals serves its SHACL shapes under the base IRI.
const ShapesPath = "/shapes.ttl"

// rebase rewrites text written for DefaultBase (vocab.ttl, shapes.ttl) for
// this exporter's base: the vocabulary's and the shapes' namespaces.
func (x *Exporter) rebase(text string) string {
	if x.base == DefaultBase {
		return text
	}
	text = strings.ReplaceAll(text, DefaultBase+VocabPath, x.base+VocabPath)
	return strings.ReplaceAll(text, DefaultBase+"/shapes#", x.base+"/shapes#")
}

// Shapes writes the SHACL shapes the exporter's output keeps, as Turtle.
func (x *Exporter) Shapes(w io.Writer) error {
	_, err := io.WriteString(w, x.rebase(shapesTTL))
	return err
}

// VocabularyTriples returns the triples of the vocabulary document.
func (x *Exporter) VocabularyTriples() ([]rdf.Triple, error) {
	dec := rdf.NewTripleDecoder(strings.NewReader(x.rebase(vocabTTL)), rdf.Turtle)
	var ts []rdf.Triple
	for {
		t, err := dec.Decode()
		if err == io.EOF {
			return ts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("exporter: vocabulary: %w", err)
		}
		ts = append(ts, t)
	}
}

// Vocabulary writes the document of Annals' vocabulary in format f: for
// Turtle, vocab.ttl as written (comments included); for the others, its
// triples.
func (x *Exporter) Vocabulary(w io.Writer, f Format) error {
	if f == Turtle {
		_, err := io.WriteString(w, x.rebase(vocabTTL))
		return err
	}
	ts, err := x.VocabularyTriples()
	if err != nil {
		return err
	}
	_, err = x.writeDoc(w, f, ts)
	return err
}

// VocabTerm is one term of Annals' vocabulary, for its HTML page.
type VocabTerm struct {
	// IRI is the term's IRI, {base}/vocab#{Name}.
	IRI, Name string
	// Types are what the term is (owl:ObjectProperty, sem:RoleType …), as compact IRIs.
	Types []string
	// Label and Comment are the English label and comment.
	Label, Comment string
	// Relations are the term's other statements, such as its relation to
	// schema.org, SEM or Wikidata (rdfs:subPropertyOf, skos:closeMatch,
	// rdfs:seeAlso …).
	Relations []VocabRelation
}

// VocabRelation is one statement about a term: Property (a compact IRI)
// and its Value, an IRI (Link set) or a literal.
type VocabRelation struct {
	Property, Value, Link string
}

// VocabTerms returns the terms of the vocabulary, in the order vocab.ttl
// defines them.
func (x *Exporter) VocabTerms() ([]VocabTerm, error) {
	ts, err := x.VocabularyTriples()
	if err != nil {
		return nil, err
	}
	var terms []VocabTerm
	index := map[string]int{}
	for _, t := range ts {
		s := t.Subj.String()
		name, ok := strings.CutPrefix(s, x.vocabNS)
		if !ok {
			continue
		}
		i, ok := index[s]
		if !ok {
			i = len(terms)
			index[s] = i
			terms = append(terms, VocabTerm{IRI: s, Name: name})
		}
		term := &terms[i]
		switch p := t.Pred.(rdf.IRI); {
		case p == rdfType:
			term.Types = append(term.Types, x.compact(t.Obj.String()))
		case p == rdfsLabel:
			term.Label = t.Obj.String()
		case p.String() == rdfsComment:
			term.Comment = t.Obj.String()
		case p.String() == rdfsIsDefinedBy:
		default:
			rel := VocabRelation{Property: x.compact(p.String()), Value: t.Obj.String()}
			if o, ok := t.Obj.(rdf.IRI); ok {
				rel.Value, rel.Link = x.compact(o.String()), o.String()
			}
			term.Relations = append(term.Relations, rel)
		}
	}
	for i := range terms {
		slices.SortStableFunc(terms[i].Relations, func(a, b VocabRelation) int { return strings.Compare(a.Property, b.Property) })
	}
	return terms, nil
}

const (
	rdfsComment     = "http://www.w3.org/2000/01/rdf-schema#comment"
	rdfsIsDefinedBy = "http://www.w3.org/2000/01/rdf-schema#isDefinedBy"
)

// vocabDefines reports whether the vocabulary document defines iri with a label and a comment.
func (x *Exporter) vocabDefines(ts []rdf.Triple, iri string) bool {
	var label, comment bool
	for _, t := range ts {
		if t.Subj.String() != iri {
			continue
		}
		label = label || t.Pred == rdfsLabel
		comment = comment || t.Pred.String() == rdfsComment
	}
	return label && comment
}
