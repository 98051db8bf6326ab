package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// blockKind is the structure a block of blockSize consecutive events forms.
type blockKind uint8

const (
	blockIndependent blockKind = iota
	blockSeries                // a chain: each event follows the one before
	blockCampaign              // a war (the first event) and its battles, ended by a treaty
	blockCausal                // pairs: the first of each pair has the second as effect
)

func (g *Generator) blockKind(block int) blockKind {
	switch h := g.hash(saltBlockKind, uint64(block)) % 100; {
	case h < 30:
		return blockSeries
	case h < 45:
		return blockCampaign
	case h < 55:
		return blockCausal
	}
	return blockIndependent
}

// blockOf returns event i's block, its position in it and the block's bounds [s, e).
func (g *Generator) blockOf(i int) (kind blockKind, pos, s, e int) {
	block := i / blockSize
	s = block * blockSize
	return g.blockKind(block), i - s, s, min(s+blockSize, g.events)
}

// categoryOf returns the category of event i.
func (g *Generator) categoryOf(i int) int {
	kind, pos, s, e := g.blockOf(i)
	h := g.hash(saltCategory, uint64(i))
	if kind == blockCampaign {
		switch {
		case pos == 0:
			return catWar
		case pos == e-s-1 && e-s >= 3:
			return []int{catTreaty, catPeace}[h%2]
		}
		return []int{catBattle, catBattle, catSiege, catConquest}[h%4]
	}
	return independentCats[h%uint64(len(independentCats))]
}

// EventName returns the resource name of event i without making the event.
func (g *Generator) EventName(i int) string {
	return nameIn(resource.Events, g.eventTitle(i, g.categoryOf(i)))
}

func (g *Generator) eventTitle(i, cat int) string {
	var b strings.Builder
	b.Grow(32)
	b.WriteString(categories[cat].prefix)
	b.WriteByte(' ')
	g.eventCodec.encode(uint64(i)).en(&b)
	return b.String()
}

// eventYear returns the astronomical year of event i and, for the first event
// of a campaign, the year its war ended (else 0).
func (g *Generator) eventYear(i int, r *rand.Rand) (year, endYear int64) {
	kind, pos, _, _ := g.blockOf(i)
	if kind == blockIndependent {
		return yearAt(r.Float64()), 0
	}
	rb := g.rng(saltBlock, uint64(i/blockSize))
	switch kind {
	case blockSeries:
		gap := int64(1 + rb.IntN(25))
		base := min(yearAt(rb.Float64()), maxAstro-(blockSize-1)*gap)
		return base + int64(pos)*gap, 0
	case blockCampaign:
		span := int64(1 + rb.IntN(10))
		base := min(yearAt(rb.Float64()), maxAstro-span)
		if pos == 0 {
			return base, base + span
		}
		return base + int64(pos-1)*span/(blockSize-2), 0
	}
	gap := int64(rb.IntN(8))
	base := min(yearAt(rb.Float64()), maxAstro-(blockSize-1)*gap)
	return base + int64(pos)*gap, 0
}

// relations returns the typed links of event i, which follow from its block.
func (g *Generator) relations(i int) []*annalsv1.EventRelation {
	kind, pos, s, e := g.blockOf(i)
	var out []*annalsv1.EventRelation
	rel := func(t annalsv1.RelationType, j int) {
		out = append(out, &annalsv1.EventRelation{Type: t, Event: g.EventName(j)})
	}
	switch kind {
	case blockSeries:
		if i > s {
			rel(annalsv1.RelationType_RELATION_TYPE_FOLLOWS, i-1)
		}
		if i+1 < e {
			rel(annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY, i+1)
		}
	case blockCampaign:
		if pos == 0 {
			for j := s + 1; j < e; j++ {
				rel(annalsv1.RelationType_RELATION_TYPE_HAS_PART, j)
			}
			if e-s >= 3 {
				rel(annalsv1.RelationType_RELATION_TYPE_ENDED_BY, e-1)
			}
			break
		}
		rel(annalsv1.RelationType_RELATION_TYPE_PART_OF, s)
		if pos == e-s-1 && e-s >= 3 {
			rel(annalsv1.RelationType_RELATION_TYPE_ENDS, s)
		}
		if i > s+1 {
			rel(annalsv1.RelationType_RELATION_TYPE_FOLLOWS, i-1)
		}
		if i+1 < e {
			rel(annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY, i+1)
		}
	case blockCausal:
		if pos%2 == 0 && i+1 < e {
			rel(annalsv1.RelationType_RELATION_TYPE_HAS_EFFECT, i+1)
		} else if pos%2 == 1 {
			rel(annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE, i-1)
		}
	}
	return out
}

// EventAt returns event i of the archive, 0 <= i < the event count of Size.
// It carries no sources (see Generator.Sources and Batches).
func (g *Generator) EventAt(i int) *annalsv1.Event {
	ev, _ := g.event(i)
	return ev
}

// eventRefs holds the actors and places an event refers to, and resolves
// them for WriteDocument without decoding names.
type eventRefs struct {
	places []placeRef
	actors []actorRef
}

func (x *eventRefs) Actor(name string) (*annalsv1.Actor, bool) {
	for _, a := range x.actors {
		if a.name == name {
			return &annalsv1.Actor{Name: a.name, Kind: kinds[a.class], Labels: []*annalsv1.Label{{Language: "en", Value: a.label}}}, true
		}
	}
	for _, p := range x.places {
		if p.country.name == name {
			return &annalsv1.Actor{Name: name, Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: []*annalsv1.Label{{Language: "en", Value: p.country.label}}}, true
		}
	}
	return nil, false
}

func (x *eventRefs) Place(name string) (*annalsv1.Place, bool) {
	for _, p := range x.places {
		if p.name == name {
			return &annalsv1.Place{Name: p.name, Labels: []*annalsv1.Label{{Language: "en", Value: p.label}}, Country: p.country.name}, true
		}
	}
	return nil, false
}

// sourceTime is the import time of every synthetic source: fixed, so that
// the archive is the same on every run.
var sourceTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// eventWithSource returns event i and, when g.Sources is set, its source.
func (g *Generator) eventWithSource(i int) (*annalsv1.Event, *annalsv1.Source, error) {
	ev, refs := g.event(i)
	if !g.Sources {
		return ev, nil, nil
	}
	var buf bytes.Buffer
	buf.Grow(4096)
	if err := WriteDocument(&buf, ev, refs); err != nil {
		return nil, nil, fmt.Errorf("synth: event %d: %w", i, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	hexSum := hex.EncodeToString(sum[:])
	src := &annalsv1.Source{
		Name:       resource.Name(resource.Sources, hexSum[:16]),
		Title:      ev.Labels[0].Value,
		Filename:   DocumentName(i, ev),
		Text:       buf.String(),
		Sha256:     hexSum,
		ImportTime: timestamppb.New(sourceTime),
		Event:      ev.Name,
	}
	ev.Sources = []string{src.Name}
	return ev, src, nil
}

// DocumentName returns the file name of event i's document: the index in
// seven digits, an underscore and the event's id, as in
// "0000042_treaty-of-kalevo-misuta.txt".
func DocumentName(i int, ev *annalsv1.Event) string {
	_, id, _ := strings.Cut(ev.GetName(), "/")
	return fmt.Sprintf("%07d_%s.txt", i, id)
}

func (g *Generator) event(i int) (*annalsv1.Event, *eventRefs) {
	r := g.rng(saltEvent, uint64(i))
	cat := g.categoryOf(i)
	c := &categories[cat]
	cd := g.eventCodec.encode(uint64(i))
	title := g.eventTitle(i, cat)
	ev := &annalsv1.Event{
		Name:   nameIn(resource.Events, title),
		Labels: make([]*annalsv1.Label, 1, 3),
	}
	ev.Labels[0] = &annalsv1.Label{Language: "en", Value: title}
	if r.IntN(100) < 60 {
		ev.Labels = append(ev.Labels, &annalsv1.Label{Language: "ru", Value: pattern(c.ru, cd.ru())})
	}
	if r.IntN(100) < 45 {
		ev.Labels = append(ev.Labels, &annalsv1.Label{Language: "ja", Value: pattern(c.ja, cd.ja())})
	}

	// When.
	year, endYear := g.eventYear(i, r)
	ev.Date = makeDate(r, year, pickPrecision(r))
	switch p := ev.Date.Precision; {
	case p == annalsv1.DatePrecision_DATE_PRECISION_DECADE || p == annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
	case endYear != 0: // a war lasts until endYear
		ev.EndDate = dateInYear(r, endYear, ev.Date)
	case r.IntN(100) < 20:
		maxYears := 1
		if cat == catSiege || cat == catWar {
			maxYears = 5
		}
		if e := laterDate(r, ev.Date, maxYears); histdate.Astronomical(e.Year) <= maxAstro {
			ev.EndDate = e
		}
	}

	// Where.
	refs := &eventRefs{}
	nPlaces := 1
	if k := r.IntN(100); k >= 92 {
		nPlaces = 3
	} else if k >= 70 {
		nPlaces = 2
	}
	for range nPlaces {
		p := g.placeRef(near(r, year, g.places, 3))
		if !containsPlace(refs.places, p.name) {
			refs.places = append(refs.places, p)
			ev.Places = append(ev.Places, p.name)
		}
	}

	// Who: one or two parties, then up to three people, at most five in all.
	nParties := 1 + r.IntN(2)
	ev.Participants = make([]*annalsv1.Participant, 0, 5)
	var parties []actorRef
	for range nParties {
		a := g.actorRef(g.pickActor(r, c.parties[r.IntN(len(c.parties))], year))
		if containsActor(refs.actors, a.name) {
			continue
		}
		refs.actors = append(refs.actors, a)
		parties = append(parties, a)
		ev.Participants = append(ev.Participants, &annalsv1.Participant{Actor: a.name, Role: c.partyRole})
	}
	place := refs.places[0]
	f := &filler{
		e: title, n: c.noun, p: place.label, c: prose(place.country.label, classState),
		a: prose(parties[0].label, parties[0].class), b: "its neighbours",
		k: "a local chronicler", w: when(ev.Date), y: yearText(ev.Date.Year),
		spans: make([]span, 0, 24),
	}
	f.out.Grow(4096)
	if len(parties) > 1 {
		f.b = prose(parties[1].label, parties[1].class)
	}
	var figures []*annalsv1.ListItem
	for range r.IntN(4) {
		a := g.actorRef(g.pickActor(r, classPerson, year))
		if containsActor(refs.actors, a.name) {
			continue
		}
		refs.actors = append(refs.actors, a)
		role := c.roles[r.IntN(len(c.roles))]
		texts := roleTexts[role]
		pt := &annalsv1.Participant{Actor: a.name, Role: role}
		it := &annalsv1.ListItem{Term: a.label, Actor: a.name}
		f.text(texts[r.IntN(len(texts))], &pt.Description, &it.Text)
		ev.Participants = append(ev.Participants, pt)
		figures = append(figures, it)
		if len(figures) == 1 {
			f.k = a.label
		}
	}

	// What.
	f.text(c.summaries[r.IntN(len(c.summaries))], &ev.Summary, nil)
	nSections := 1 + r.IntN(4)
	ev.Article = make([]*annalsv1.ArticleSection, 0, nSections+2)
	lead := &annalsv1.ArticleSection{Paragraphs: make([]string, 1)}
	start := f.begin()
	f.fill(&f.out, leadSentences[r.IntN(len(leadSentences))])
	f.out.WriteByte(' ')
	f.sentences(r, c.sentences, 1+r.IntN(2))
	f.end(start, &lead.Paragraphs[0], nil)
	ev.Article = append(ev.Article, lead)
	var used [8]string
	for s := 0; s < nSections; s++ {
		heading := pickHeading(r, c.headings, used[:s])
		used[s] = heading
		sec := &annalsv1.ArticleSection{Heading: heading, Paragraphs: make([]string, 1+r.IntN(3))}
		for k := range sec.Paragraphs {
			f.paragraph(r, c.sentences, 2+r.IntN(4), &sec.Paragraphs[k])
		}
		ev.Article = append(ev.Article, sec)
	}
	if len(figures) > 0 {
		ev.Article = append(ev.Article, &annalsv1.ArticleSection{Heading: "Key Figures", Items: figures})
	}
	f.done()

	ev.Relations = g.relations(i)

	if r.IntN(10) != 0 {
		style := styles[r.IntN(len(styles))]
		var caption string
		if r.IntN(2) == 0 {
			caption = style + " based depiction of " + strings.TrimSuffix(ev.Summary, ".")
		} else {
			caption = style + " depiction of the " + title + captionTail[r.IntN(len(captionTail))]
		}
		ev.Illustration = &annalsv1.Illustration{
			Caption: caption + " (" + yearText(ev.Date.Year) + ")",
			Style:   strings.ToLower(style),
			Year:    ev.Date.Year,
		}
	}
	return ev, refs
}

// pickHeading draws a heading from the category's own and the generic ones, avoiding used.
func pickHeading(r *rand.Rand, own, used []string) string {
	for {
		var h string
		if k := r.IntN(len(own) + len(genericHeadings)); k < len(own) {
			h = own[k]
		} else {
			h = genericHeadings[k-len(own)]
		}
		dup := false
		for _, u := range used {
			dup = dup || u == h
		}
		if !dup {
			return h
		}
	}
}

func containsPlace(ps []placeRef, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

func containsActor(as []actorRef, name string) bool {
	for _, a := range as {
		if a.name == name {
			return true
		}
	}
	return false
}
