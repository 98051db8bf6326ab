package exporter

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/knakk/rdf"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// pieces that random texts are made of: everything the writers must escape,
// whatever Turtle gives meaning to, and text in several scripts.
var pieces = []string{
	`"`, `'`, `\`, "\n", "\r", "\t", `"""`, `\"`, `\\`, `\u0041`, `\n`, "\x01", "\x1f", "\x7f",
	"<", ">", "{", "}", "^^", "@en", "#", ";", ",", ".", " ", ":", "_:b0", "a",
	"Пакт", "日ソ", "📜", "𠀋", "é", "e\u0301", "\u200b", "\u202e", "%20", "&amp;", "\u0085", "\u2028",
}

var tags = []string{"en", "ru", "ja", "ja-Latn", "zh-Hant-TW", "EN-gb", "", "x", "not a tag", "sr-Cyrl-RS", "es-419"}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(12); n >= 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestRandomLiteralsRoundTrip is a property test with a fixed seed: random
// texts from pieces, with random tags, come back unchanged from both writers
// through knakk/rdf's decoder and through rapper.
func TestRandomLiteralsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1941, 413))
	var batch store.Batch
	want := map[string]trickyCase{}
	x := newExporter(t)
	for i := 0; i < 300; i++ {
		text, tag := randomText(r), tags[r.IntN(len(tags))]
		name := "events/random-" + strings.Repeat("a", i/26) + string(rune('a'+i%26))
		batch.Events = append(batch.Events, &annalsv1.Event{
			Name: name, Labels: []*annalsv1.Label{lbl(tag, text)}, Summary: text, Date: day(1941, 4, 13),
			Article: []*annalsv1.ArticleSection{{Heading: text, Paragraphs: []string{text, text}}},
		})
		want[x.IRI(name)] = trickyCase{name: name, value: text, tag: tag, wantTag: tagOf(tag)}
	}
	fake := newFake(batch, 1)
	dir := t.TempDir()
	for _, f := range []Format{Turtle, NTriples} {
		data, n := exportDataset(t, x, fake, f)
		ts := decode(t, data, f)
		if int64(len(ts)) != n {
			t.Fatalf("%v: knakk/rdf reads %d triples of %d", f, len(ts), n)
		}
		checkTricky(t, f.String()+"/knakk", ts, want)
		file := filepath.Join(dir, "random"+f.Extension())
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(f.String()+"/rapper", func(t *testing.T) {
			needRapper(t)
			checkTricky(t, f.String()+"/rapper", decode(t, rapperNTriples(t, file, f), NTriples), want)
		})
	}
}

// FuzzLiteralRoundTrip: any valid UTF-8 text with any tag is written by
// both writers so that knakk/rdf's decoder reads it back unchanged.
func FuzzLiteralRoundTrip(f *testing.F) {
	for _, c := range trickyCases {
		f.Add(c.value, c.tag)
	}
	x, err := New(DefaultBase)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, tag string) {
		if !utf8.ValidString(text) {
			t.Skip("proto strings are valid UTF-8")
		}
		e := &annalsv1.Event{Name: "events/fuzz", Labels: []*annalsv1.Label{lbl(tag, text)}, Date: day(1941, 4, 13)}
		ts, err := x.EventTriples(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []Format{Turtle, NTriples} {
			var buf bytes.Buffer
			enc, _ := x.newEncoder(&buf, format)
			if err := enc.encode(ts); err != nil {
				t.Fatal(err)
			}
			if err := enc.close(); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, tr := range decode(t, buf.Bytes(), format) {
				if tr.Pred == rdfsLabel && tr.Subj.String() == x.IRI("events/fuzz") {
					l := tr.Obj.(rdf.Literal)
					if l.String() != text || l.Lang() != tagOf(tag) {
						t.Fatalf("%v: %q@%q read back as %q@%q", format, text, tag, l.String(), l.Lang())
					}
					found = true
				}
			}
			if text != "" && !found {
				t.Fatalf("%v: label lost", format)
			}
		}
	})
}

// tagOf is the language tag a label written with tag gets: tag normalised,
// "und" when it is empty or not BCP 47.
func tagOf(tag string) string {
	if n := normaliseLang(tag); n != "" {
		return n
	}
	return "und"
}
