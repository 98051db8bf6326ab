package synth

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
)

// Resolver finds the actors and places an event refers to by resource name.
// A Generator is one; an adapter over a store.Reader is another.
type Resolver interface {
	// Actor returns the actor named name ("actors/{id}"), or false.
	Actor(name string) (*annalsv1.Actor, bool)
	// Place returns the place named name ("places/{id}"), or false.
	Place(name string) (*annalsv1.Place, bool)
}

// WriteDocument writes ev as a document in the seed format that package
// ingest reads: the date line (see DateLine), the summary, the place line
// "Place, Country | Party, Party", the illustration caption, the title (the
// English label), then the article: the lead, each titled section with its
// paragraphs, and bulleted "  • Term: text" entries such as the Key Figures.
//
// The format cannot hold everything a record can, so a document read back
// loses: the calendar (a reader takes dates before 15 October 1582 as
// Julian), a millennium precision (written as the year), the end date, every
// place but the first, labels in other languages, relations, the roles of
// parties (all read back as parties) and of key figures other than
// signatories and representatives, and the Wikidata id. The parties are the
// participants not named in a Key Figures section, in order.
//
// It returns an error, having written nothing, when ev has no valid date or
// English title, when a place or actor cannot be resolved, or when a name
// holds a character that would change how the document reads (a comma or
// "|" in the place line, a colon in a bullet's term).
func WriteDocument(w io.Writer, ev *annalsv1.Event, r Resolver) error {
	var b bytes.Buffer
	b.Grow(4096)
	if err := writeDocument(&b, ev, r); err != nil {
		return fmt.Errorf("%s: %w", ev.GetName(), err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeDocument(b *bytes.Buffer, ev *annalsv1.Event, r Resolver) error {
	if fe := histdate.Validate(ev.GetDate()); fe != nil {
		return fmt.Errorf("date: %w", fe)
	}
	title := ""
	for _, l := range ev.GetLabels() {
		if l.GetLanguage() == "en" {
			title = oneLine(l.GetValue())
			break
		}
	}
	if title == "" || strings.HasSuffix(title, ".") {
		return fmt.Errorf("title %q: want a non-empty English label not ending in \".\"", title)
	}
	block := func(s string) {
		b.WriteString(s)
		b.WriteString("\n\n")
	}
	block(DateLine(ev.GetDate()))
	if s := oneLine(ev.GetSummary()); s != "" {
		if strings.Contains(s, "|") {
			return fmt.Errorf("summary holds \"|\", which would make it the place line")
		}
		block(s)
	}

	// The place line.
	var line strings.Builder
	if len(ev.GetPlaces()) > 0 {
		pl, ok := r.Place(ev.GetPlaces()[0])
		if !ok {
			return fmt.Errorf("unknown place %s", ev.GetPlaces()[0])
		}
		if err := placeLinePart(&line, englishLabel(pl.GetLabels())); err != nil {
			return err
		}
		if c := pl.GetCountry(); c != "" {
			ac, ok := r.Actor(c)
			if !ok {
				return fmt.Errorf("unknown country %s of %s", c, pl.GetName())
			}
			line.WriteString(", ")
			if err := placeLinePart(&line, englishLabel(ac.GetLabels())); err != nil {
				return err
			}
		}
		line.WriteByte(' ')
	}
	line.WriteString("|")
	figures := map[string]bool{}
	for _, s := range ev.GetArticle() {
		if isKeyFigures(s.GetHeading()) {
			for _, it := range s.GetItems() {
				figures[it.GetActor()] = true
			}
		}
	}
	sep := " "
	for _, p := range ev.GetParticipants() {
		if figures[p.GetActor()] {
			continue
		}
		name := p.GetDisplayName()
		if name == "" {
			ac, ok := r.Actor(p.GetActor())
			if !ok {
				return fmt.Errorf("unknown participant %s", p.GetActor())
			}
			name = englishLabel(ac.GetLabels())
		}
		line.WriteString(sep)
		if err := placeLinePart(&line, name); err != nil {
			return err
		}
		sep = ", "
	}
	block(line.String())

	if c := oneLine(ev.GetIllustration().GetCaption()); c != "" {
		block(c)
	}
	block(title)

	for _, s := range ev.GetArticle() {
		if h := oneLine(s.GetHeading()); h != "" {
			block(h)
		}
		for _, p := range s.GetParagraphs() {
			if p := oneLine(p); p != "" {
				block(p)
			}
		}
		if len(s.GetItems()) > 0 {
			for _, it := range s.GetItems() {
				b.WriteString("  • ")
				if t := oneLine(it.GetTerm()); t != "" {
					if strings.Contains(t, ":") {
						return fmt.Errorf("list item term %q holds a colon", t)
					}
					b.WriteString(t)
					b.WriteString(": ")
				}
				b.WriteString(oneLine(it.GetText()))
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
	}
	// One line end at the end of the document, not a blank line.
	b.Truncate(len(bytes.TrimRight(b.Bytes(), "\n")))
	b.WriteByte('\n')
	return nil
}

// placeLinePart writes a name into the place line, refusing the characters
// that separate its parts.
func placeLinePart(b *strings.Builder, name string) error {
	name = oneLine(name)
	if name == "" || strings.ContainsAny(name, ",|") {
		return fmt.Errorf("name %q cannot stand in the place line (empty, or holds \",\" or \"|\")", name)
	}
	b.WriteString(name)
	return nil
}

// englishLabel returns the "en" label, or the first one.
func englishLabel(ls []*annalsv1.Label) string {
	for _, l := range ls {
		if l.GetLanguage() == "en" {
			return l.GetValue()
		}
	}
	if len(ls) > 0 {
		return ls[0].GetValue()
	}
	return ""
}

// oneLine folds line ends and runs of spaces into single spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

// isKeyFigures reports whether a heading names a section of key figures.
func isKeyFigures(h string) bool {
	switch strings.ToLower(strings.TrimSpace(strings.TrimSuffix(h, ":"))) {
	case "key figures", "key people", "key persons":
		return true
	}
	return false
}
