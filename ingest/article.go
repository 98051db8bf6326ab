package ingest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
)

// Limits that tell a section heading from a one-line paragraph.
const (
	maxHeadingRunes = 120
	maxHeadingWords = 12
)

// keyFigureHeadings are the headings (lower-case, without a final colon)
// whose bullets are people taking part in the event.
var keyFigureHeadings = map[string]bool{
	"key figures": true, "key people": true, "key persons": true,
}

// bulletRE matches a bullet line: "•", "‣", "◦" or "▪" (a space after it
// optional), or "-", "*" or "–" followed by a space, with any indentation.
var bulletRE = regexp.MustCompile(`^\s*(?:[•‣◦▪]\s*|[-*–]\s+)(\S.*)$`)

// isBullet reports whether line starts a bulleted entry.
func isBullet(line string) bool { return bulletRE.MatchString(line) }

// isHeading reports whether a one-line block can be a section heading: short,
// not a bullet, and not ending like a sentence or clause.
func isHeading(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" || isBullet(line) || utf8.RuneCountInString(t) > maxHeadingRunes || len(strings.Fields(t)) > maxHeadingWords {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(strings.TrimRight(t, "\"'”’)]»"))
	return !strings.ContainsRune(".,;!", r)
}

// isKeyFigures reports whether heading names a section of key figures.
func isKeyFigures(heading string) bool {
	return keyFigureHeadings[strings.ToLower(strings.TrimSpace(strings.TrimSuffix(heading, ":")))]
}

// articlePart is one piece of the article: a heading, a paragraph or a bulleted entry.
type articlePart struct {
	kind int // partHeading, partParagraph or partItem
	text string
	item *annalsv1.ListItem
}

const (
	partHeading = iota
	partParagraph
	partItem
)

// splitArticle turns the article's blocks into headings, paragraphs and
// bulleted entries. A block that starts with text and goes on with bullets
// is split before the first bullet. A one-line block that looks like a
// heading is one unless nothing follows it.
func splitArticle(bs []block) []articlePart {
	var parts []articlePart
	for bi, b := range bs {
		first := len(b.lines)
		for k, l := range b.lines {
			if isBullet(l) {
				first = k
				break
			}
		}
		if first > 0 {
			head := block{line: b.line, lines: b.lines[:first]}
			last := bi == len(bs)-1 && first == len(b.lines)
			if head.single() && !last && isHeading(head.lines[0]) {
				parts = append(parts, articlePart{kind: partHeading, text: head.text()})
			} else {
				parts = append(parts, articlePart{kind: partParagraph, text: head.text()})
			}
		}
		var cur *annalsv1.ListItem
		for _, l := range b.lines[first:] {
			if m := bulletRE.FindStringSubmatch(l); m != nil {
				cur = listItem(m[1])
				parts = append(parts, articlePart{kind: partItem, item: cur})
				continue
			}
			// A continuation line of the entry above.
			cur.Text = strings.TrimSpace(cur.Text + " " + strings.TrimSpace(l))
		}
	}
	return parts
}

// listItem splits a bullet's text at its first colon into term and text;
// without a colon the whole is the text.
func listItem(s string) *annalsv1.ListItem {
	s = strings.TrimSpace(s)
	if term, text, ok := strings.Cut(s, ":"); ok && strings.TrimSpace(term) != "" {
		return &annalsv1.ListItem{Term: strings.TrimSpace(term), Text: strings.TrimSpace(text)}
	}
	return &annalsv1.ListItem{Text: s}
}

// article builds ev's article from the blocks after the title, and adds the
// people of a key-figures section to the document's actors and ev's participants.
func (p *parser) article(ev *annalsv1.Event, bs []block) []*annalsv1.ArticleSection {
	var sections []*annalsv1.ArticleSection
	var cur *annalsv1.ArticleSection
	section := func() *annalsv1.ArticleSection {
		if cur == nil { // text before the first heading: the lead
			cur = &annalsv1.ArticleSection{}
			sections = append(sections, cur)
		}
		return cur
	}
	var figures []*annalsv1.ListItem
	keyFigures := false
	for _, part := range splitArticle(bs) {
		switch part.kind {
		case partHeading:
			cur = &annalsv1.ArticleSection{Heading: part.text}
			sections = append(sections, cur)
			keyFigures = isKeyFigures(part.text)
		case partParagraph:
			s := section()
			s.Paragraphs = append(s.Paragraphs, part.text)
		case partItem:
			s := section()
			s.Items = append(s.Items, part.item)
			if keyFigures {
				figures = append(figures, part.item)
			}
		}
	}
	p.keyFigures(ev, figures)
	return sections
}

// Words in a key figure's description that give the figure's role.
var (
	signRE      = regexp.MustCompile(`(?i)\b(?:co-?)?sign(?:ed|ing|s|atory|atories)?\b`)
	representRE = regexp.MustCompile(`(?i)\brepresent(?:ed|ing|s|ative|atives)?\b`)
	alongsideRE = regexp.MustCompile(`(?i)\balongside\s+`)
)

// figureRole derives a key figure's role from the description as written:
// SIGNATORY when it says signed, signing or signatory; REPRESENTATIVE when it
// says represented or representing (and nothing of signing); else KEY_FIGURE.
func figureRole(desc string) annalsv1.ParticipantRole {
	switch {
	case signRE.MatchString(desc):
		return annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY
	case representRE.MatchString(desc):
		return annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE
	}
	return annalsv1.ParticipantRole_PARTICIPANT_ROLE_KEY_FIGURE
}

// keyFigures makes each key figure an actor of kind PERSON and a participant
// whose role comes from its description (see figureRole). A person named in
// a description that says "represent…" through "alongside [Title] Name" is a
// REPRESENTATIVE too, without a description: the text describes the figure
// it is written under, not the people it names.
func (p *parser) keyFigures(ev *annalsv1.Event, items []*annalsv1.ListItem) {
	person := annalsv1.ActorKind_ACTOR_KIND_PERSON
	for _, it := range items {
		a := p.actor(personName(it.Term), person)
		if a == nil {
			continue
		}
		it.Actor = a.Name
		p.participant(ev, &annalsv1.Participant{Actor: a.Name, Role: figureRole(it.Text), Description: it.Text, DisplayName: it.Term})
	}
	for _, it := range items {
		if !representRE.MatchString(it.Text) {
			continue
		}
		for _, loc := range alongsideRE.FindAllStringIndex(it.Text, -1) {
			written := capitalisedName(it.Text[loc[1]:])
			if p.named(ev, written) {
				continue
			}
			a := p.actor(personName(written), person)
			if a == nil {
				continue
			}
			p.participant(ev, &annalsv1.Participant{Actor: a.Name, Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE,
				DisplayName: written})
		}
	}
}

// named reports whether the person written as name is already a participant of ev.
func (p *parser) named(ev *annalsv1.Event, written string) bool {
	a, ok := p.actors[resource.MatchKey(personName(written))]
	if !ok {
		return false
	}
	for _, pt := range ev.Participants {
		if pt.Actor == a.Name {
			return true
		}
	}
	return false
}

// nameParticles may stand, lower-case, between the capitalised words of a name.
var nameParticles = map[string]bool{
	"von": true, "van": true, "de": true, "der": true, "den": true, "da": true, "di": true,
	"du": true, "la": true, "le": true, "del": true, "bin": true, "ibn": true, "al": true,
}

// capitalisedName returns the run of capitalised words (and name particles
// between them) at the start of s, up to the first other word or punctuation:
// "Ambassador Yoshitsugu Tatekawa, represented…" gives "Ambassador Yoshitsugu Tatekawa".
func capitalisedName(s string) string {
	var words []string
	for _, w := range strings.Fields(s) {
		trimmed := strings.TrimRightFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '.' })
		if t, ok := strings.CutSuffix(trimmed, "."); ok && utf8.RuneCountInString(t) > 1 {
			trimmed = t // a full stop, not an initial such as "J."
		}
		stop := trimmed != w
		r, _ := utf8.DecodeRuneInString(trimmed)
		if !unicode.IsUpper(r) && !nameParticles[trimmed] {
			break
		}
		words = append(words, trimmed)
		if stop {
			break
		}
	}
	for len(words) > 0 && nameParticles[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	return strings.Join(words, " ")
}

// honorifics are titles dropped from a person's name (compared without a final dot).
var honorifics = map[string]bool{
	"ambassador": true, "general": true, "admiral": true, "marshal": true,
	"colonel": true, "major": true, "captain": true, "lieutenant": true, "commander": true,
	"president": true, "premier": true, "chancellor": true, "minister": true, "secretary": true,
	"king": true, "queen": true, "emperor": true, "empress": true, "prince": true, "princess": true,
	"duke": true, "duchess": true, "count": true, "countess": true, "baron": true, "lord": true,
	"lady": true, "sir": true, "dame": true, "pope": true, "cardinal": true, "bishop": true,
	"archbishop": true, "saint": true, "st": true, "dr": true, "mr": true, "mrs": true, "ms": true,
	"senator": true, "governor": true, "mayor": true, "consul": true, "tsar": true, "czar": true, "kaiser": true,
	"sultan": true, "shah": true, "chairman": true, "generalissimo": true, "envoy": true,
}

// personName strips honorific titles from a person's name as written: every
// word up to and including the last title is dropped, so "Ambassador
// Yoshitsugu Tatekawa" and "Japanese Ambassador Yoshitsugu Tatekawa" both
// give "Yoshitsugu Tatekawa". A name that is all titles is kept as written.
func personName(written string) string {
	words := strings.Fields(written)
	last := -1
	for i, w := range words[:max(len(words)-1, 0)] {
		if honorifics[strings.ToLower(strings.TrimSuffix(w, "."))] {
			last = i
		}
	}
	return strings.Join(words[last+1:], " ")
}
