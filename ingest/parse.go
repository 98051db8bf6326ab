// Package ingest turns documents in the seed format into records: Parse reads
// one document into an event, its source and the actors and places it names;
// Reconcile matches those names to records already in the archive; Import
// does both and writes the result in one transaction.
//
// # The seed format
//
// A document is a sequence of parts separated by blank lines:
//
//	April 13, 1941                                  date line
//	The Soviet Union and Japan signed …             summary (one paragraph)
//	Moscow, Soviet Union | Government of Japan, …   place line: place, country | parties
//	Watercolor painting based depiction of … (1941) illustration caption (optional)
//	Soviet–Japanese Neutrality Pact                 title
//	On April 13, 1941, …                            the lead (optional)
//	Context and Background                          a section heading
//	During the late 1930s …                         its paragraphs
//	Key Figures                                     a section of people
//	  • Vyacheslav Molotov: The Soviet Foreign …    bullets "Name: description"
//
// A UTF-8 byte-order mark, CRLF line ends, trailing spaces and extra blank
// lines are accepted; text is normalised to NFC.
package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
)

// Document is one parsed document: the source revision it came from, the
// event it describes, and provisional records for the actors and places it
// names. Provisional records are named from the slug of their English label
// and carry only what the document says (label, kind, a place's country);
// Reconcile replaces them with existing records where the names match.
// References between the records (participants, places, a place's country,
// list items) use the provisional names. Every participant's display_name
// is the name as written; Reconcile clears it where it equals the label of
// the record the name resolves to, as the proto asks.
type Document struct {
	// Source is the document itself: title, filename, NFC text, SHA-256 and
	// the name "sources/" + the first 16 hex digits of the SHA-256.
	Source *annalsv1.Source
	// Event is the event the document describes, named "events/" + the slug of the title.
	Event *annalsv1.Event
	// Actors are the countries, parties and people the document names, in order of first mention.
	Actors []*annalsv1.Actor
	// Places are the places the document names, in order of first mention.
	Places []*annalsv1.Place
}

// maxTitleRunes bounds a title line; a longer line is read as a paragraph.
const maxTitleRunes = 200

// ParseReader is Parse for a document read from r. It reads at most
// MaxDocumentBytes+1 bytes, so a larger document is refused (with
// ErrTooLarge inside a *ParseError) without being read in full. An error
// reading r is returned wrapped, not as a *ParseError.
func ParseReader(filename string, r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	return Parse(filename, data)
}

// Parse reads one document in the seed format (see the package comment).
// It refuses a document with a *ParseError naming the line and what was
// expected there: an empty document, bytes that are not UTF-8, a missing or
// impossible date, a missing place line or title, or more than
// MaxDocumentBytes bytes.
func Parse(filename string, data []byte) (*Document, error) {
	if len(data) > MaxDocumentBytes {
		return nil, &ParseError{File: filename, Err: ErrTooLarge,
			Msg: fmt.Sprintf("document is larger than %d bytes", MaxDocumentBytes)}
	}
	if !utf8.Valid(data) {
		line, off := invalidUTF8(data)
		return nil, &ParseError{File: filename, Line: line,
			Msg: fmt.Sprintf("expected UTF-8 text, found an invalid byte 0x%02x (byte offset %d)", data[off], off)}
	}
	if line, r, ok := forbiddenRune(data); ok {
		return nil, &ParseError{File: filename, Line: line,
			Msg: fmt.Sprintf("expected text, found the control character or noncharacter %U", r)}
	}
	text := norm.NFC.String(string(data))
	p := &parser{file: filename, blocks: splitBlocks(text)}
	if len(p.blocks) == 0 {
		return nil, p.errorf(1, "expected a date line such as \"April 13, 1941\", found an empty document")
	}
	return p.parse(text)
}

// forbiddenRune finds the first rune no document may hold: a C0 control
// character other than tab, line feed and carriage return, DEL, a C1 control
// character, or a Unicode noncharacter (U+FDD0–U+FDEF, U+xxFFFE, U+xxFFFF).
// Such runes carry no text, and RDF tools mangle them (Raptor cuts a
// string at U+0000 or U+FFFE). It returns their 1-based line.
func forbiddenRune(data []byte) (line int, r rune, found bool) {
	line = 1
	for _, r := range string(data) {
		switch {
		case r == '\n':
			line++
		case r == '\t' || r == '\r':
		case r < 0x20 || r >= 0x7f && r < 0xa0,
			r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
			return line, r, true
		}
	}
	return 0, 0, false
}

// invalidUTF8 returns the 1-based line and the byte offset of the first byte
// of data that is not valid UTF-8.
func invalidUTF8(data []byte) (line, off int) {
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	return bytes.Count(data[:off], []byte("\n")) + 1, off
}

// block is a run of non-blank lines. Lines keep their indentation but lose
// their line end and trailing spaces.
type block struct {
	line  int // the 1-based line number of lines[0]
	lines []string
}

// text joins the block's lines into one paragraph.
func (b block) text() string {
	parts := make([]string, len(b.lines))
	for i, l := range b.lines {
		parts[i] = strings.TrimSpace(l)
	}
	return strings.Join(parts, " ")
}

// single reports whether the block is one line.
func (b block) single() bool { return len(b.lines) == 1 }

// splitBlocks splits text into blocks at blank lines, dropping a leading byte-order mark.
func splitBlocks(text string) []block {
	text = strings.TrimPrefix(text, "\ufeff")
	var blocks []block
	var cur *block
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if strings.TrimSpace(l) == "" {
			cur = nil
			continue
		}
		if cur == nil {
			blocks = append(blocks, block{line: i + 1})
			cur = &blocks[len(blocks)-1]
		}
		cur.lines = append(cur.lines, l)
	}
	return blocks
}

// parser holds the state of one Parse call.
type parser struct {
	file   string
	blocks []block
	doc    Document
	actors map[string]*annalsv1.Actor // by resource.MatchKey of the label
	places map[string]*annalsv1.Place
}

func (p *parser) errorf(line int, format string, args ...any) *ParseError {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lastLine is the line to blame for a part missing at the end of the document.
func (p *parser) lastLine() int {
	b := p.blocks[len(p.blocks)-1]
	return b.line + len(b.lines) - 1
}

// lineAt is the line of block i, or lastLine when there is no block i.
func (p *parser) lineAt(i int) int {
	if i < len(p.blocks) {
		return p.blocks[i].line
	}
	return p.lastLine()
}

func (p *parser) parse(text string) (*Document, error) {
	p.actors = map[string]*annalsv1.Actor{}
	p.places = map[string]*annalsv1.Place{}
	bs := p.blocks

	// Date line.
	if !bs[0].single() {
		return nil, p.errorf(bs[0].line+1, "expected a blank line after the date line %q", clip(bs[0].text(), 60))
	}
	date, err := parseDate(bs[0].text())
	if err != nil {
		return nil, p.errorf(bs[0].line, "%s", err)
	}
	ev := &annalsv1.Event{Date: date}

	// Summary (optional) and the place line.
	i := 1
	if i < len(bs) && !isPlaceLine(bs[i]) {
		ev.Summary = bs[i].text()
		i++
	}
	if i >= len(bs) || !isPlaceLine(bs[i]) {
		found := "the end of the document"
		if i < len(bs) {
			found = fmt.Sprintf("%q", clip(bs[i].text(), 60))
		}
		return nil, p.errorf(p.lineAt(i), "expected the place line \"Place, Country | Party, Party\" after the summary, found %s", found)
	}
	p.placeLine(ev, bs[i].text())
	i++

	// Illustration caption (optional): a paragraph ending in "(year)" that is
	// followed by a title or by nothing (when it stands where the title
	// should, the title is the one to report missing).
	if i < len(bs) && (i+1 == len(bs) || isTitle(bs[i+1])) {
		if year, ok := captionYear(bs[i].text()); ok {
			caption := bs[i].text()
			ev.Illustration = &annalsv1.Illustration{Caption: caption, Style: captionStyle(caption), Year: year}
			i++
		}
	}

	// Title.
	if i >= len(bs) {
		return nil, p.errorf(p.lastLine(), "expected the title on a line of its own after the place line and the caption, found the end of the document")
	}
	if !isTitle(bs[i]) {
		return nil, p.errorf(bs[i].line, "expected the title (a line of its own, at most %d characters, not ending in \".\"), found %q", maxTitleRunes, clip(bs[i].text(), 60))
	}
	title := bs[i].text()
	ev.Name = resource.Name(resource.Events, resource.Slug(title))
	ev.Labels = []*annalsv1.Label{{Language: "en", Value: title}}
	i++

	// Article.
	ev.Article = p.article(ev, bs[i:])

	canon := Canonical(text)
	hexSum := Digest(canon)
	src := &annalsv1.Source{
		Name:     resource.Name(resource.Sources, hexSum[:16]),
		Title:    title,
		Filename: p.file,
		Text:     canon,
		Sha256:   hexSum,
		Event:    ev.Name,
	}
	ev.Sources = []string{src.Name}
	p.doc.Source, p.doc.Event = src, ev
	return &p.doc, nil
}

// Canonical is the text of a document as the parser reads it: NFC, without
// a byte-order mark, LF line ends, no trailing spaces, exactly one blank
// line between blocks, none before the first or after the last, and a final
// line end. Two documents with the same canonical text are the same
// document (one source), however they were encoded.
func Canonical(text string) string {
	text = norm.NFC.String(text)
	var b strings.Builder
	b.Grow(len(text))
	for i, bl := range splitBlocks(text) {
		if i > 0 {
			b.WriteByte('\n')
		}
		for _, l := range bl.lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Digest is the hex SHA-256 of a document's canonical text: the source's
// sha256 and, in its first 16 digits, its name.
func Digest(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// isPlaceLine reports whether b is the "Place, Country | Party, Party" line.
func isPlaceLine(b block) bool { return b.single() && strings.Contains(b.lines[0], "|") }

// isTitle reports whether b can be a title: one short line that is not a
// sentence, a bullet or a place line, and has letters or digits to name the event.
func isTitle(b block) bool {
	if !b.single() || isPlaceLine(b) || isBullet(b.lines[0]) {
		return false
	}
	t := b.text()
	return utf8.RuneCountInString(t) <= maxTitleRunes && !strings.HasSuffix(t, ".") && resource.Slug(t) != ""
}

// placeLine reads "Place, Country | Party, Party". The place is the text
// before the last comma left of "|" (a place without a comma has no
// country); the parties are the comma-separated names right of it.
func (p *parser) placeLine(ev *annalsv1.Event, line string) {
	left, right, _ := strings.Cut(line, "|")
	left = strings.TrimSpace(left)
	country := ""
	if k := strings.LastIndex(left, ","); k >= 0 {
		country = strings.TrimSpace(left[k+1:])
		left = strings.TrimSpace(left[:k])
	}
	var countryActor *annalsv1.Actor
	if country != "" {
		countryActor = p.actor(country, annalsv1.ActorKind_ACTOR_KIND_STATE)
	}
	if pl := p.place(left); pl != nil {
		if countryActor != nil {
			pl.Country = countryActor.Name
		}
		ev.Places = append(ev.Places, pl.Name)
	}
	for _, party := range strings.Split(right, ",") {
		party = strings.TrimSpace(party)
		a := p.actor(party, partyKind(party, country))
		if a == nil {
			continue
		}
		p.participant(ev, &annalsv1.Participant{Actor: a.Name, Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY, DisplayName: party})
	}
}

// statePrefixes and stateSuffixes mark a party's name as a state's.
var (
	statePrefixes = []string{"kingdom of ", "republic of ", "empire of ", "principality of ", "duchy of ",
		"grand duchy of ", "sultanate of ", "emirate of ", "khanate of ", "tsardom of ", "state of "}
	stateSuffixes = []string{" empire", " republic", " kingdom"}
)

// partyKind derives a party's kind from its name alone: GOVERNMENT for
// "Government of …"; STATE for the country of the place line and for names
// such as "Kingdom of …", "Republic of …", "… Empire"; otherwise unspecified.
func partyKind(name, country string) annalsv1.ActorKind {
	l := strings.ToLower(name)
	switch {
	case strings.HasPrefix(l, "government of "):
		return annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT
	case country != "" && resource.MatchKey(name) == resource.MatchKey(country):
		return annalsv1.ActorKind_ACTOR_KIND_STATE
	}
	for _, s := range statePrefixes {
		if strings.HasPrefix(l, s) {
			return annalsv1.ActorKind_ACTOR_KIND_STATE
		}
	}
	for _, s := range stateSuffixes {
		if strings.HasSuffix(l, s) {
			return annalsv1.ActorKind_ACTOR_KIND_STATE
		}
	}
	return annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED
}

// actor returns the provisional actor for label, making it on first mention.
// Names with the same resource.MatchKey are one actor. It returns nil for a
// label without letters or digits.
func (p *parser) actor(label string, kind annalsv1.ActorKind) *annalsv1.Actor {
	key := resource.MatchKey(label)
	if key == "" {
		return nil
	}
	if a, ok := p.actors[key]; ok {
		if a.Kind == annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED {
			a.Kind = kind
		}
		return a
	}
	a := &annalsv1.Actor{
		Name:   resource.Name(resource.Actors, resource.Slug(label)),
		Kind:   kind,
		Labels: []*annalsv1.Label{{Language: "en", Value: label}},
	}
	p.actors[key] = a
	p.doc.Actors = append(p.doc.Actors, a)
	return a
}

// place returns the provisional place for label, as actor does for actors.
func (p *parser) place(label string) *annalsv1.Place {
	key := resource.MatchKey(label)
	if key == "" {
		return nil
	}
	if pl, ok := p.places[key]; ok {
		return pl
	}
	pl := &annalsv1.Place{
		Name:   resource.Name(resource.Places, resource.Slug(label)),
		Labels: []*annalsv1.Label{{Language: "en", Value: label}},
	}
	p.places[key] = pl
	p.doc.Places = append(p.doc.Places, pl)
	return pl
}

// participant adds pt to ev unless ev already has that actor in that role.
func (p *parser) participant(ev *annalsv1.Event, pt *annalsv1.Participant) {
	for _, q := range ev.Participants {
		if q.Actor == pt.Actor && q.Role == pt.Role {
			return
		}
	}
	ev.Participants = append(ev.Participants, pt)
}

// captionRE finds the parenthesised text a caption ends with.
var captionRE = regexp.MustCompile(`\(([^()]{1,40})\)$`)

// captionYear returns the year a caption ends with, as in "… (1941)" or "… (44 BC)".
func captionYear(s string) (int32, bool) {
	m := captionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	d, err := parseDate(m[1])
	if err != nil || d.Precision != annalsv1.DatePrecision_DATE_PRECISION_YEAR {
		return 0, false
	}
	return d.Year, true
}

// maxStyleWords bounds a caption's style; more words before "of" are a sentence, not a style.
const maxStyleWords = 4

// captionStyle derives the style of an illustration from its caption: the
// words before "based depiction", "depiction of" or "of", lower-cased and
// without a leading article ("Watercolor painting based depiction of …"
// gives "watercolor painting"), or "" when there are none or too many.
func captionStyle(caption string) string {
	l := strings.ToLower(caption)
	end := -1
	for _, marker := range []string{" based depiction", " depiction of ", " of "} {
		if k := strings.Index(l, marker); k >= 0 {
			end = k
			break
		}
	}
	if end < 0 {
		return ""
	}
	words := strings.Fields(l[:end])
	if len(words) > 0 && (words[0] == "a" || words[0] == "an" || words[0] == "the") {
		words = words[1:]
	}
	if len(words) == 0 || len(words) > maxStyleWords {
		return ""
	}
	return strings.Join(words, " ")
}
