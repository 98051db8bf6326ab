package exporter

import (
	"strings"
	"testing"

	"github.com/knakk/rdf"
)

// TestVocabularyDefined: vocab.ttl parses (knakk/rdf and rapper) and defines,
// with a label and a comment, every annals: term the mapping emits, under
// every base; and relates each property and class to schema.org, SEM,
// PROV-O, Dublin Core or Wikidata.
func TestVocabularyDefined(t *testing.T) {
	for _, base := range []string{DefaultBase, "https://annals.example.org/data"} {
		x, err := New(base)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := x.VocabularyTriples()
		if err != nil {
			t.Fatal(err)
		}
		for placeholder := range x.annals {
			iri := x.annals[placeholder].String()
			if !strings.HasPrefix(iri, base+"/vocab#") {
				t.Errorf("%s is not under %s/vocab#", iri, base)
			}
			if !x.vocabDefines(ts, iri) {
				t.Errorf("vocab.ttl does not define %s with a label and a comment", iri)
			}
		}
		terms, err := x.VocabTerms()
		if err != nil {
			t.Fatal(err)
		}
		if len(terms) < len(x.annals) {
			t.Errorf("%d terms listed, %d used", len(terms), len(x.annals))
		}
		for _, term := range terms {
			related := false
			for _, r := range term.Relations {
				for _, ns := range []string{"schema:", "sem:", "wdt:", "wd:", "prov:", "dcterms:", "wikibase:", "owl:sameAs"} {
					related = related || strings.HasPrefix(r.Value, ns)
				}
				related = related || strings.HasPrefix(r.Property, "skos:broader")
			}
			if !related {
				t.Errorf("%s: no relation to schema.org, SEM, PROV-O, Dublin Core or Wikidata", term.Name)
			}
		}
	}
	t.Run("rapper", func(t *testing.T) {
		needRapper(t)
		rapper(t, "vocab.ttl", Turtle)
	})
}

// TestPredicateOrder: every predicate of the mapping has its place in
// predicateOrder, so that output is laid out as designed.
func TestPredicateOrder(t *testing.T) {
	x := newExporter(t)
	b := fixtureBatch()
	var all []rdf.Triple
	for _, e := range b.Events {
		ts, err := x.EventTriples(e)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	for _, a := range b.Actors {
		ts, err := x.ActorTriples(a)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	for _, p := range b.Places {
		ts, err := x.PlaceTriples(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	for _, s := range b.Sources {
		ts, err := x.SourceTriples(s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ts...)
	}
	for _, tr := range all {
		if _, ok := x.rank[tr.Pred.String()]; !ok {
			t.Errorf("predicate %s is not in predicateOrder", tr.Pred)
		}
	}
}
