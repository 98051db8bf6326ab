// Package synth generates a realistic synthetic archive, deterministically
// from a seed: events with labels in English, Russian and Japanese, articles,
// dates across five millennia (3000 BCE to 2020 CE, skewed toward recent
// centuries, at varied precision, some in the Julian calendar), places with
// coordinates, actors of every kind with life dates, participants in varied
// roles and relations between events (follows/followed by chains, cause and
// effect, part of, ended by). It exists to measure Annals at scale.
//
// Every record is a pure function of the seed, the archive size and its
// index, so records are made one at a time and streamed (see
// Generator.Batches): memory does not grow with the archive, and the same
// seed and size give the same records, byte for byte.
//
// The shape of the archive: about events/10 actors (60% people, the rest
// states, governments, organisations and groups) and events/50 places, each
// active around a year so that events draw contemporaries; event dates at
// about 60% day, 15% month, 15% year, 5% decade and 5% century precision,
// three quarters of those before 1582 in the Julian calendar, a fifth with an
// end date; 1-3 places and 1-5 participants per event; an article of a lead
// and 1-4 titled sections (a few hundred bytes to a few KB) and a Key Figures
// list; English labels on every record, Russian (Cyrillic) on about 60% and
// Japanese (katakana) on about 45%. Every date passes histdate.Validate.
//
// Names are made of syllables that encode the record's index, so every name
// is unique and pronounceable ("Treaty of Kalevo Misuta") and slugs to a
// unique resource id. The same encoding lets the generator find a record
// again from its resource name (Generator.Actor, Generator.Place), which is
// how WriteDocument resolves names without the generator holding the archive.
//
// WriteDocument writes an event in the seed format that package ingest
// reads; what the format cannot hold is listed there.
//
// Synthetic records never carry Wikidata ids: Annals never invents one, and a
// made-up Q-number would point at a real, unrelated item.
package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// MaxEvents is the largest archive a Generator makes; the name codes of
// actors and places run out above it.
const MaxEvents = 100_000_000

// ErrTooLarge is returned by Batches for an archive above MaxEvents.
var ErrTooLarge = errors.New("synthetic archive too large")

// blockSize is the number of consecutive events that may form one structure:
// a chain, a war with its battles, or pairs of cause and effect.
const blockSize = 6

// Salts separate the random streams of different purposes.
const (
	saltEvent = iota + 1
	saltBlock
	saltBlockKind
	saltCategory
	saltActor
	saltActorPrefix
	saltPlace
	saltPlacePrefix
	saltPlaceCountry
	saltStateCenter
	saltCodec
)

// Generator makes the records of one synthetic archive. Its methods may be
// called concurrently; they share no mutable state.
type Generator struct {
	seed                   uint64
	events, actors, places int

	// Sources, when set before Batches is called, gives every event one
	// Source: the seed-format document WriteDocument writes for it, named
	// by its SHA-256 as ingest names sources, with DocumentName as its file
	// name and a fixed import time. It roughly doubles the bytes generated.
	Sources bool

	eventCodec, personCodec, bodyCodec, placeCodec *codec
}

// New returns a generator of an archive of events events (negative counts as
// zero), with about events/10 actors and events/50 places, and at least 40
// actors and 24 places.
func New(seed uint64, events int) *Generator {
	events = max(events, 0)
	g := &Generator{
		seed:   seed,
		events: events,
		actors: max(events/10, 40),
		places: max(events/50, 24),
	}
	g.eventCodec = newCodec(6, g.hash(saltCodec, 1), [][3]uint8{{3, 3}, {2, 4}, {4, 2}, {3, 3}})
	// A person's first word has at least three syllables, so it is never a
	// title such as "Duke" or "Pope" that a reader of documents drops.
	g.personCodec = newCodec(6, g.hash(saltCodec, 2), [][3]uint8{{3, 3}, {4, 2}, {3, 3}})
	g.bodyCodec = newCodec(4, g.hash(saltCodec, 3), [][3]uint8{{4}, {2, 2}})
	g.placeCodec = newCodec(4, g.hash(saltCodec, 4), [][3]uint8{{4}, {4}, {2, 2}})
	return g
}

// Size returns the number of events, actors and places of the archive.
func (g *Generator) Size() (events, actors, places int) { return g.events, g.actors, g.places }

// splitmix64 is the SplitMix64 finaliser: a good 64-bit mix.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hash is a pure function of the seed, a salt and an index.
func (g *Generator) hash(salt, i uint64) uint64 {
	return splitmix64(g.seed ^ splitmix64(salt<<48^i))
}

// rng returns the random stream of one record.
func (g *Generator) rng(salt, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.hash(salt, i), g.hash(salt+0x100, i)))
}

// Batches calls fn with the whole archive in batches of at most batchSize
// records: first the actors, then the places, then the events (with their
// sources when Sources is set, which do not count toward batchSize). Each
// batch is new, so fn may keep it or hand it to a store, which may change it.
// Batches stops at, and returns, the first error fn returns.
func (g *Generator) Batches(batchSize int, fn func(*store.Batch) error) error {
	if batchSize < 1 {
		return fmt.Errorf("synth: batch size %d; want at least 1", batchSize)
	}
	if g.events > MaxEvents {
		return fmt.Errorf("%w: %d events; at most %d", ErrTooLarge, g.events, MaxEvents)
	}
	b, n := &store.Batch{}, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := fn(b)
		b, n = &store.Batch{}, 0
		return err
	}
	add := func() error {
		if n++; n >= batchSize {
			return flush()
		}
		return nil
	}
	for a := range g.actors {
		b.Actors = append(b.Actors, g.ActorAt(a))
		if err := add(); err != nil {
			return err
		}
	}
	for p := range g.places {
		b.Places = append(b.Places, g.PlaceAt(p))
		if err := add(); err != nil {
			return err
		}
	}
	for i := range g.events {
		ev, src, err := g.eventWithSource(i)
		if err != nil {
			return err
		}
		b.Events = append(b.Events, ev)
		if src != nil {
			b.Sources = append(b.Sources, src)
		}
		if err := add(); err != nil {
			return err
		}
	}
	return flush()
}

// ---- actors ----

// classOf returns the class of actor index a: of every 20 consecutive
// indices 12 are people, 3 states, 2 governments (of the states 3 below
// them), 2 organisations and 1 group, so every class spans the whole pool.
func classOf(a int) class {
	switch r := a % 20; {
	case r < 12:
		return classPerson
	case r < 15:
		return classState
	case r < 17:
		return classGovernment
	case r < 19:
		return classOrganization
	}
	return classGroup
}

// residues lists the positions within 20 of each class.
var residues = [...][]int{
	classPerson:       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	classState:        {12, 13, 14},
	classGovernment:   {15, 16},
	classOrganization: {17, 18},
	classGroup:        {19},
}

// kinds maps classes to actor kinds.
var kinds = [...]annalsv1.ActorKind{
	classPerson:       annalsv1.ActorKind_ACTOR_KIND_PERSON,
	classState:        annalsv1.ActorKind_ACTOR_KIND_STATE,
	classGovernment:   annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT,
	classOrganization: annalsv1.ActorKind_ACTOR_KIND_ORGANIZATION,
	classGroup:        annalsv1.ActorKind_ACTOR_KIND_GROUP,
}

// govState is the state whose government actor a is.
func govState(a int) int { return a - 3 }

// floruit is the astronomical year around which pool member i of n was
// active: pools are ordered in time, most recent first, following the same
// skewed distribution as the events, so that events pick contemporaries.
func floruit(i, n int) int64 { return yearAt((float64(i) + 0.5) / float64(n)) }

// near returns a pool index of n whose floruit is close to astronomical year y.
func near(r *rand.Rand, y int64, n, jitter int) int {
	i := int(quantileOf(y)*float64(n)) + r.IntN(2*jitter+1) - jitter
	return min(max(i, 0), n-1)
}

// pickActor returns an actor of class c active around astronomical year y.
func (g *Generator) pickActor(r *rand.Rand, c class, y int64) int {
	res := residues[c]
	a := near(r, y, g.actors, 60)/20*20 + res[r.IntN(len(res))]
	for a >= g.actors {
		a -= 20
	}
	return a
}

// actorName holds an actor's name parts.
type actorName struct {
	class  class
	code   code
	prefix struct{ en, ru, ja string }
}

func (g *Generator) actorName(a int) actorName {
	n := actorName{class: classOf(a)}
	h := int(g.hash(saltActorPrefix, uint64(a)) >> 33)
	switch n.class {
	case classPerson:
		n.code = g.personCodec.encode(uint64(a))
		return n
	case classState:
		n.prefix = statePrefixes[h%len(statePrefixes)]
	case classGovernment:
		n.prefix = govPrefix
		n.code = g.bodyCodec.encode(uint64(govState(a)))
		return n
	case classOrganization:
		n.prefix = orgPrefixes[h%len(orgPrefixes)]
	case classGroup:
		n.prefix = groupPrefixes[h%len(groupPrefixes)]
	}
	n.code = g.bodyCodec.encode(uint64(a))
	return n
}

func (n actorName) en() string {
	if n.prefix.en == "" {
		return n.code.enString()
	}
	var b strings.Builder
	b.Grow(len(n.prefix.en) + 16)
	b.WriteString(n.prefix.en)
	b.WriteByte(' ')
	n.code.en(&b)
	return b.String()
}

func (n actorName) ru() string {
	if n.prefix.ru == "" {
		return n.code.ru()
	}
	return pattern(n.prefix.ru, n.code.ru())
}

func (n actorName) ja() string {
	if n.prefix.ja == "" {
		return n.code.ja()
	}
	return pattern(n.prefix.ja, n.code.ja())
}

// actorRef is what an event needs to know of an actor.
type actorRef struct {
	idx   int
	name  string // resource name
	label string
	class class
}

func (g *Generator) actorRef(a int) actorRef {
	n := g.actorName(a)
	en := n.en()
	return actorRef{idx: a, name: nameIn(resource.Actors, en), label: en, class: n.class}
}

// ActorAt returns actor i of the archive, 0 <= i < the actor count of Size.
func (g *Generator) ActorAt(i int) *annalsv1.Actor {
	r := g.rng(saltActor, uint64(i))
	n := g.actorName(i)
	en := n.en()
	ac := &annalsv1.Actor{
		Name:   nameIn(resource.Actors, en),
		Kind:   kinds[n.class],
		Labels: []*annalsv1.Label{{Language: "en", Value: en}},
	}
	if r.IntN(100) < 70 {
		ac.Labels = append(ac.Labels, &annalsv1.Label{Language: "ru", Value: n.ru()})
	}
	if r.IntN(100) < 50 {
		ac.Labels = append(ac.Labels, &annalsv1.Label{Language: "ja", Value: n.ja()})
	}
	f := floruit(i, g.actors)
	lifeDate := func(astro int64) *annalsv1.HistoricalDate {
		p := annalsv1.DatePrecision_DATE_PRECISION_DAY
		switch k := r.IntN(10); {
		case k >= 8:
			p = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		case k >= 6:
			p = annalsv1.DatePrecision_DATE_PRECISION_MONTH
		}
		if astro < 500 && p == annalsv1.DatePrecision_DATE_PRECISION_DAY {
			p = annalsv1.DatePrecision_DATE_PRECISION_YEAR // ancient lives are known to the year at best
		}
		return makeDate(r, astro, p)
	}
	var start, end int64
	hasEnd := true
	switch n.class {
	case classPerson:
		start = f - 20 - int64(r.IntN(30)) // alive at the floruit
		end = f + int64(r.IntN(40))
		st := g.actorRef(g.pickActor(r, classState, f))
		pos := positions[r.IntN(len(positions))]
		ac.Positions = []string{pos + " of " + prose(st.label, st.class)}
		if r.IntN(4) == 0 {
			ac.Positions = append(ac.Positions, positions[r.IntN(len(positions))])
		}
		ac.State = st.name
		ac.Description = pos + " of " + prose(st.label, st.class) + ", active around " + yearText(clampYear(f)) + "."
	case classState:
		start = f - 50 - int64(r.IntN(350))
		end = f + 20 + int64(r.IntN(300))
		ac.Description = "Historical state, flourishing around " + yearText(clampYear(f)) + "."
	case classGovernment:
		st := g.actorRef(govState(i))
		ac.State = st.name
		start = f - 20 - int64(r.IntN(200))
		end = f + 10 + int64(r.IntN(200))
		ac.Description = "The government of " + prose(st.label, st.class) + "."
	case classOrganization:
		start = f - 10 - int64(r.IntN(150))
		end = f + 10 + int64(r.IntN(200))
		if r.IntN(2) == 0 {
			ac.State = g.actorRef(g.pickActor(r, classState, f)).name
		}
		ac.Description = "Organisation founded around " + yearText(clampYear(start)) + "."
	case classGroup:
		start = f - int64(r.IntN(100))
		hasEnd = false
		ac.Description = "A people or community recorded around " + yearText(clampYear(f)) + "."
	}
	start = max(start, minAstro-500)
	ac.StartDate = lifeDate(start)
	if hasEnd && end <= maxAstro {
		ac.EndDate = lifeDate(end)
	}
	return ac
}

// clampYear returns the historical year of astronomical year a.
func clampYear(a int64) int32 {
	if a <= 0 {
		return int32(a - 1)
	}
	return int32(a)
}

// Actor returns the actor with resource name name, as ActorAt makes it, and
// whether the archive has such an actor. It decodes the index from the name.
func (g *Generator) Actor(name string) (*annalsv1.Actor, bool) {
	id, err := resource.ParseKind(name, resource.Actors)
	if err != nil {
		return nil, false
	}
	prefix, codeSlug := splitCodeSlug(id)
	syll, ok := parseCodeSlug(codeSlug)
	if !ok {
		return nil, false
	}
	var a uint64
	switch {
	case prefix == "":
		a, ok = g.personCodec.decode(syll)
	case prefix == slug(govPrefix.en):
		a, ok = g.bodyCodec.decode(syll)
		a += 3
	default:
		a, ok = g.bodyCodec.decode(syll)
	}
	if !ok || a >= uint64(g.actors) || g.actorRef(int(a)).name != name {
		return nil, false
	}
	return g.ActorAt(int(a)), true
}

// ---- places ----

// placeRef is what an event needs to know of a place.
type placeRef struct {
	idx     int
	name    string
	label   string
	country actorRef
}

func (g *Generator) placeName(m int) (code, struct{ en, ru, ja string }) {
	w := placeWords[int(g.hash(saltPlacePrefix, uint64(m))>>33)%len(placeWords)]
	return g.placeCodec.encode(uint64(m)), w
}

func (g *Generator) placeRef(m int) placeRef {
	cd, w := g.placeName(m)
	var b strings.Builder
	if w.en != "" {
		b.WriteString(w.en)
		b.WriteByte(' ')
	}
	cd.en(&b)
	en := b.String()
	r := g.rng(saltPlaceCountry, uint64(m))
	return placeRef{
		idx:     m,
		name:    nameIn(resource.Places, en),
		label:   en,
		country: g.actorRef(g.pickActor(r, classState, floruit(m, g.places))),
	}
}

// PlaceAt returns place i of the archive, 0 <= i < the place count of Size.
func (g *Generator) PlaceAt(i int) *annalsv1.Place {
	ref := g.placeRef(i)
	cd, w := g.placeName(i)
	r := g.rng(saltPlace, uint64(i))
	pl := &annalsv1.Place{
		Name:        ref.name,
		Labels:      []*annalsv1.Label{{Language: "en", Value: ref.label}},
		Country:     ref.country.name,
		Description: "A " + placeKinds[r.IntN(len(placeKinds))] + " in " + prose(ref.country.label, classState) + ".",
	}
	if r.IntN(100) < 60 {
		pl.Labels = append(pl.Labels, &annalsv1.Label{Language: "ru", Value: pattern(w.ru, cd.ru())})
	}
	if r.IntN(100) < 45 {
		pl.Labels = append(pl.Labels, &annalsv1.Label{Language: "ja", Value: pattern(w.ja, cd.ja())})
	}
	// Places cluster around the centre of their country.
	c := g.hash(saltStateCenter, uint64(ref.country.idx))
	lat := -50 + 115*float64(c>>40)/float64(1<<24)
	lon := -180 + 360*float64(c&0xffffff)/float64(1<<24)
	lat += (r.Float64() - 0.5) * 8
	lon += (r.Float64() - 0.5) * 8
	lat = math.Max(-89.9, math.Min(89.9, lat))
	if lon >= 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	pl.Coordinates = &annalsv1.Coordinates{Latitude: math.Round(lat*1e5) / 1e5, Longitude: math.Round(lon*1e5) / 1e5}
	return pl
}

// Place returns the place with resource name name, as PlaceAt makes it, and
// whether the archive has such a place.
func (g *Generator) Place(name string) (*annalsv1.Place, bool) {
	id, err := resource.ParseKind(name, resource.Places)
	if err != nil {
		return nil, false
	}
	_, codeSlug := splitCodeSlug(id)
	syll, ok := parseCodeSlug(codeSlug)
	if !ok {
		return nil, false
	}
	m, ok := g.placeCodec.decode(syll)
	if !ok || m >= uint64(g.places) || g.placeRef(int(m)).name != name {
		return nil, false
	}
	return g.PlaceAt(int(m)), true
}
