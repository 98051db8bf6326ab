package exporter

import (
	"os"
	"strings"
	"testing"

	"github.com/knakk/rdf"
)

// TestVocabularyDefined: vocab.ttl parses (knakk/rdf and rapper) and defines,
// with a label, every annals: term the mapping emits.
func TestVocabularyDefined(t *testing.T) {
	data, err := os.ReadFile("vocab.ttl")
	if err != nil {
		t.Fatal(err)
	}
	labelled := map[string]bool{}
	for _, tr := range decode(t, data, Turtle) {
		if tr.Pred == rdfsLabel {
			labelled[tr.Subj.String()] = true
		}
	}
	for iri := range vocabIndex {
		if strings.HasPrefix(iri, VocabNS) && !labelled[iri] {
			t.Errorf("vocab.ttl does not define %s", iri)
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
		if _, ok := predicateRank[tr.Pred.String()]; !ok {
			t.Errorf("predicate %s is not in predicateOrder", tr.Pred)
		}
	}
}
