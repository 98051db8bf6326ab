package synth

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// archive is a generated archive held whole, for the tests that look at
// every record.
type archive struct {
	g       *Generator
	events  []*annalsv1.Event
	actors  []*annalsv1.Actor
	places  []*annalsv1.Place
	sources []*annalsv1.Source
}

var (
	bigOnce sync.Once
	big     *archive
)

// bigArchive is the 20 000-event archive of seed 7, with sources, made once.
func bigArchive(t *testing.T) *archive {
	t.Helper()
	bigOnce.Do(func() {
		g := New(7, 20000)
		g.Sources = true
		big = collect(t, g, 1000)
	})
	if big == nil {
		t.Fatal("generating the archive failed")
	}
	return big
}

func collect(t testing.TB, g *Generator, batch int) *archive {
	t.Helper()
	a := &archive{g: g}
	err := g.Batches(batch, func(b *store.Batch) error {
		a.events = append(a.events, b.Events...)
		a.actors = append(a.actors, b.Actors...)
		a.places = append(a.places, b.Places...)
		a.sources = append(a.sources, b.Sources...)
		return nil
	})
	if err != nil {
		t.Fatalf("Batches: %v", err)
	}
	return a
}

// digest hashes the deterministic encoding of every record Batches yields.
func digest(t *testing.T, seed uint64, events, batch int, sources bool) string {
	t.Helper()
	g := New(seed, events)
	g.Sources = sources
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	err := g.Batches(batch, func(b *store.Batch) error {
		var msgs []proto.Message
		for _, m := range b.Actors {
			msgs = append(msgs, m)
		}
		for _, m := range b.Places {
			msgs = append(msgs, m)
		}
		for _, m := range b.Events {
			msgs = append(msgs, m)
		}
		for _, m := range b.Sources {
			msgs = append(msgs, m)
		}
		for _, m := range msgs {
			raw, err := opts.Marshal(m)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%d:", len(raw))
			h.Write(raw)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Batches: %v", err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name           string
		seedA, seedB   uint64
		batchA, batchB int
		sources        bool
		same           bool
	}{
		{"same seed", 42, 42, 500, 500, false, true},
		{"same seed, other batch size", 42, 42, 500, 77, false, true},
		{"same seed, with sources", 42, 42, 300, 300, true, true},
		{"other seed", 42, 43, 500, 500, false, false},
		{"seed zero and one", 0, 1, 500, 500, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := digest(t, tt.seedA, 3000, tt.batchA, tt.sources)
			b := digest(t, tt.seedB, 3000, tt.batchB, tt.sources)
			if (a == b) != tt.same {
				t.Errorf("digests %s and %s: equal = %v, want %v", a, b, a == b, tt.same)
			}
		})
	}
}

func TestBatchesSizes(t *testing.T) {
	tests := []struct {
		events, batch           int
		wantActors, wantPlaces  int
		wantBatches, wantEvents int
	}{
		{0, 10, 40, 24, 7, 0},
		{1, 100, 40, 24, 1, 1},
		{1000, 100, 100, 24, 12, 1000},
		{5000, 1000, 500, 100, 6, 5000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_events", tt.events), func(t *testing.T) {
			g := New(1, tt.events)
			ev, ac, pl := g.Size()
			if ev != tt.events || ac != tt.wantActors || pl != tt.wantPlaces {
				t.Fatalf("Size() = %d, %d, %d; want %d, %d, %d", ev, ac, pl, tt.events, tt.wantActors, tt.wantPlaces)
			}
			batches, events, actors, places := 0, 0, 0, 0
			sawEvents := false
			err := g.Batches(tt.batch, func(b *store.Batch) error {
				batches++
				if n := len(b.Events) + len(b.Actors) + len(b.Places); n > tt.batch || n == 0 {
					t.Errorf("batch %d holds %d records; want 1 to %d", batches, n, tt.batch)
				}
				if sawEvents && (len(b.Actors) > 0 || len(b.Places) > 0) {
					t.Errorf("batch %d holds actors or places after events", batches)
				}
				sawEvents = sawEvents || len(b.Events) > 0
				events += len(b.Events)
				actors += len(b.Actors)
				places += len(b.Places)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if batches != tt.wantBatches || events != tt.events || actors != tt.wantActors || places != tt.wantPlaces {
				t.Errorf("got %d batches, %d events, %d actors, %d places; want %d, %d, %d, %d",
					batches, events, actors, places, tt.wantBatches, tt.events, tt.wantActors, tt.wantPlaces)
			}
		})
	}
}

func TestBatchesErrors(t *testing.T) {
	stop := fmt.Errorf("stop")
	calls := 0
	err := New(1, 100).Batches(10, func(*store.Batch) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("Batches returned %v after %d calls; want the callback's error after 1", err, calls)
	}
	if err := New(1, 100).Batches(0, func(*store.Batch) error { return nil }); err == nil {
		t.Error("Batches(0) succeeded; want an error")
	}
}

func TestNamesUnique(t *testing.T) {
	a := bigArchive(t)
	seen := map[string]bool{}
	check := func(kind resource.Kind, name string, labels []*annalsv1.Label) {
		t.Helper()
		if seen[name] {
			t.Errorf("%s appears twice", name)
		}
		seen[name] = true
		id, err := resource.ParseKind(name, kind)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(labels) == 0 || labels[0].Language != "en" {
			t.Errorf("%s: first label is not English: %v", name, labels)
			return
		}
		if s := resource.Slug(labels[0].Value); s != id {
			t.Errorf("%s: the English label %q slugs to %q", name, labels[0].Value, s)
		}
	}
	for _, e := range a.events {
		check(resource.Events, e.Name, e.Labels)
	}
	for _, ac := range a.actors {
		check(resource.Actors, ac.Name, ac.Labels)
	}
	for _, p := range a.places {
		check(resource.Places, p.Name, p.Labels)
	}
	// Match keys are what ingest reconciles names by; they must be unique too.
	keys := map[string]string{}
	for _, ac := range a.actors {
		k := resource.MatchKey(ac.Labels[0].Value)
		if other, ok := keys[k]; ok {
			t.Errorf("%s and %s share the match key %q", ac.Name, other, k)
		}
		keys[k] = ac.Name
	}
	if len(a.events) != 20000 {
		t.Errorf("%d events; want 20000", len(a.events))
	}
}

// TestPrefixesAreNotCodeWords checks the property name decoding and
// uniqueness rest on: no word before the code words looks like one.
func TestPrefixesAreNotCodeWords(t *testing.T) {
	var prefixes []string
	for _, c := range categories {
		prefixes = append(prefixes, c.prefix)
	}
	for _, ps := range [][]struct{ en, ru, ja string }{statePrefixes, orgPrefixes, groupPrefixes, placeWords, {govPrefix}} {
		for _, p := range ps {
			prefixes = append(prefixes, p.en)
		}
	}
	for _, p := range prefixes {
		for _, w := range strings.Split(resource.Slug(p), "-") {
			if isCodeWord(w) {
				t.Errorf("prefix %q has the consonant-vowel word %q", p, w)
			}
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	tests := []struct {
		k    int
		idxs []uint64
	}{
		{4, []uint64{0, 1, 2, 69, 70, 4899, 999_999, 24_009_999}},
		{6, []uint64{0, 1, 12345, 99_999_999, 117_648_999_999}},
	}
	for _, tt := range tests {
		c := newCodec(tt.k, 12345, [][3]uint8{{2, 2, 2}})
		for _, i := range tt.idxs {
			cd := c.encode(i)
			got, ok := c.decode(cd.syll[:cd.n])
			if !ok || got != i {
				t.Errorf("k=%d: decode(encode(%d)) = %d, %v", tt.k, i, got, ok)
			}
		}
	}
}

func TestDatesValid(t *testing.T) {
	a := bigArchive(t)
	check := func(what string, start, end *annalsv1.HistoricalDate, required bool) {
		t.Helper()
		if start == nil {
			if required {
				t.Errorf("%s: no date", what)
			}
			if end != nil {
				t.Errorf("%s: an end date without a start", what)
			}
			return
		}
		if fe := histdate.Validate(start); fe != nil {
			t.Errorf("%s: date %v: %v", what, start, fe)
			return
		}
		if end == nil {
			return
		}
		if fe := histdate.Validate(end); fe != nil {
			t.Errorf("%s: end date %v: %v", what, end, fe)
			return
		}
		if slo, _ := histdate.Bounds(start); func() bool { elo, _ := histdate.Bounds(end); return elo < slo }() {
			t.Errorf("%s: end %v before start %v", what, end, start)
		}
	}
	minY, maxY := int32(1<<30), int32(-1<<30)
	julian := 0
	for _, e := range a.events {
		check(e.Name, e.Date, e.EndDate, true)
		minY, maxY = min(minY, e.Date.Year), max(maxY, e.Date.Year)
		if e.Date.Calendar == annalsv1.Calendar_CALENDAR_JULIAN {
			julian++
			if e.Date.Year >= reformYear {
				t.Errorf("%s: Julian date %v after the reform", e.Name, e.Date)
			}
		}
	}
	for _, ac := range a.actors {
		check(ac.Name, ac.StartDate, ac.EndDate, false)
	}
	if minY > -2900 || minY < -3001 || maxY > 2020 || maxY < 2000 {
		t.Errorf("event years span %d to %d; want about -3000 to 2020", minY, maxY)
	}
	if julian == 0 {
		t.Error("no Julian dates")
	}
}

// TestDistribution checks the shares the archive is specified with, in
// generous bands.
func TestDistribution(t *testing.T) {
	a := bigArchive(t)
	n := float64(len(a.events))
	prec := map[annalsv1.DatePrecision]float64{}
	var bce, ru, ja, ended, related, sectionsOK float64
	for _, e := range a.events {
		prec[e.Date.Precision]++
		if e.Date.Year < 0 {
			bce++
		}
		for _, l := range e.Labels {
			switch l.Language {
			case "ru":
				ru++
			case "ja":
				ja++
			}
		}
		if e.EndDate != nil {
			ended++
		}
		if len(e.Relations) > 0 {
			related++
		}
		headed := 0
		for _, s := range e.Article {
			if s.Heading != "Key Figures" {
				headed++
			}
		}
		if headed >= 2 && headed <= 5 {
			sectionsOK++
		}
		if np, npart := len(e.Places), len(e.Participants); np < 1 || np > 3 || npart < 1 || npart > 5 {
			t.Errorf("%s: %d places and %d participants; want 1-3 and 1-5", e.Name, np, npart)
		}
	}
	tests := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"day precision", prec[annalsv1.DatePrecision_DATE_PRECISION_DAY] / n, 0.55, 0.65},
		{"month precision", prec[annalsv1.DatePrecision_DATE_PRECISION_MONTH] / n, 0.12, 0.18},
		{"year precision", prec[annalsv1.DatePrecision_DATE_PRECISION_YEAR] / n, 0.12, 0.18},
		{"decade precision", prec[annalsv1.DatePrecision_DATE_PRECISION_DECADE] / n, 0.03, 0.07},
		{"century precision", prec[annalsv1.DatePrecision_DATE_PRECISION_CENTURY] / n, 0.03, 0.07},
		{"BCE", bce / n, 0.1, 0.3},
		{"ru labels", ru / n, 0.5, 0.7},
		{"ja labels", ja / n, 0.35, 0.55},
		{"end dates", ended / n, 0.1, 0.4},
		{"with relations", related / n, 0.35, 0.7},
		{"2-5 sections", sectionsOK / n, 1, 1},
	}
	for _, tt := range tests {
		if tt.got < tt.min || tt.got > tt.max {
			t.Errorf("%s: share %.3f; want %.2f to %.2f", tt.name, tt.got, tt.min, tt.max)
		}
	}
}

func TestDocumentSizes(t *testing.T) {
	a := bigArchive(t)
	lo, hi := 1<<30, 0
	for _, s := range a.sources {
		lo, hi = min(lo, len(s.Text)), max(hi, len(s.Text))
	}
	if lo < 200 || hi > 8000 || hi < 2000 {
		t.Errorf("documents of %d to %d bytes; want a few hundred bytes to a few KB", lo, hi)
	}
}

func TestReferences(t *testing.T) {
	a := bigArchive(t)
	events := map[string]*annalsv1.Event{}
	for _, e := range a.events {
		events[e.Name] = e
	}
	actors := map[string]*annalsv1.Actor{}
	for _, ac := range a.actors {
		actors[ac.Name] = ac
	}
	places := map[string]bool{}
	for _, p := range a.places {
		places[p.Name] = true
		if c := actors[p.Country]; c == nil || c.Kind != annalsv1.ActorKind_ACTOR_KIND_STATE {
			t.Errorf("%s: country %q is not a generated state", p.Name, p.Country)
		}
		if p.Coordinates == nil || p.Coordinates.Latitude < -90 || p.Coordinates.Latitude > 90 ||
			p.Coordinates.Longitude < -180 || p.Coordinates.Longitude >= 180 {
			t.Errorf("%s: coordinates %v", p.Name, p.Coordinates)
		}
	}
	kinds := map[annalsv1.ActorKind]int{}
	for _, ac := range a.actors {
		kinds[ac.Kind]++
		if ac.State != "" {
			if s := actors[ac.State]; s == nil || s.Kind != annalsv1.ActorKind_ACTOR_KIND_STATE {
				t.Errorf("%s: state %q is not a generated state", ac.Name, ac.State)
			}
		}
		if ac.WikidataId != "" {
			t.Errorf("%s: has a Wikidata id", ac.Name)
		}
	}
	if len(kinds) != 5 {
		t.Errorf("actor kinds %v; want all five", kinds)
	}
	inverse := map[annalsv1.RelationType]annalsv1.RelationType{
		annalsv1.RelationType_RELATION_TYPE_FOLLOWS:     annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY,
		annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY: annalsv1.RelationType_RELATION_TYPE_FOLLOWS,
		annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE:   annalsv1.RelationType_RELATION_TYPE_HAS_EFFECT,
		annalsv1.RelationType_RELATION_TYPE_HAS_EFFECT:  annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE,
		annalsv1.RelationType_RELATION_TYPE_PART_OF:     annalsv1.RelationType_RELATION_TYPE_HAS_PART,
		annalsv1.RelationType_RELATION_TYPE_HAS_PART:    annalsv1.RelationType_RELATION_TYPE_PART_OF,
		annalsv1.RelationType_RELATION_TYPE_ENDS:        annalsv1.RelationType_RELATION_TYPE_ENDED_BY,
		annalsv1.RelationType_RELATION_TYPE_ENDED_BY:    annalsv1.RelationType_RELATION_TYPE_ENDS,
	}
	relTypes := map[annalsv1.RelationType]int{}
	sources := map[string]*annalsv1.Source{}
	for _, s := range a.sources {
		sources[s.Name] = s
	}
	for _, e := range a.events {
		if e.WikidataId != "" {
			t.Errorf("%s: has a Wikidata id", e.Name)
		}
		for _, p := range e.Places {
			if !places[p] {
				t.Errorf("%s: place %q not generated", e.Name, p)
			}
		}
		for _, p := range e.Participants {
			if actors[p.Actor] == nil {
				t.Errorf("%s: participant %q not generated", e.Name, p.Actor)
			}
		}
		for _, s := range e.Article {
			for _, it := range s.Items {
				if actors[it.Actor] == nil || actors[it.Actor].Kind != annalsv1.ActorKind_ACTOR_KIND_PERSON {
					t.Errorf("%s: key figure %q is not a generated person", e.Name, it.Actor)
				}
			}
		}
		for _, r := range e.Relations {
			relTypes[r.Type]++
			o := events[r.Event]
			if o == nil || o == e {
				t.Errorf("%s: relation %v to %q, not another generated event", e.Name, r.Type, r.Event)
				continue
			}
			back := false
			for _, q := range o.Relations {
				back = back || q.Event == e.Name && q.Type == inverse[r.Type]
			}
			if !back {
				t.Errorf("%s %v %s, but not the inverse", e.Name, r.Type, o.Name)
			}
			if r.Type == annalsv1.RelationType_RELATION_TYPE_FOLLOWS || r.Type == annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE {
				if elo, _ := histdate.Bounds(e.Date); func() bool { olo, _ := histdate.Bounds(o.Date); return olo > elo+10000*100 }() {
					t.Errorf("%s (%v) %v %s (%v), which is a century later", e.Name, e.Date, r.Type, o.Name, o.Date)
				}
			}
		}
		if len(e.Sources) != 1 || sources[e.Sources[0]] == nil || sources[e.Sources[0]].Event != e.Name {
			t.Errorf("%s: sources %v; want one generated source of this event", e.Name, e.Sources)
		}
	}
	if len(relTypes) != 8 {
		t.Errorf("relation types %v; want all eight", relTypes)
	}
}

// TestResolver checks that every actor and place is found again by name.
func TestResolver(t *testing.T) {
	g := New(3, 5000)
	ev, ac, pl := g.Size()
	_ = ev
	for i := range ac {
		want := g.ActorAt(i)
		got, ok := g.Actor(want.Name)
		if !ok || !proto.Equal(got, want) {
			t.Fatalf("Actor(%q) = %v, %v; want actor %d", want.Name, got, ok, i)
		}
	}
	for i := range pl {
		want := g.PlaceAt(i)
		got, ok := g.Place(want.Name)
		if !ok || !proto.Equal(got, want) {
			t.Fatalf("Place(%q) = %v, %v; want place %d", want.Name, got, ok, i)
		}
	}
	unknown := []string{"", "actors/", "events/treaty-of-kalevo", "actors/kalevo-misuta-x", "actors/the-kalevo",
		"places/" + strings.Repeat("ka", 4), "actors/kingdom-of-zzzz", "actors/government-of-" + strings.Repeat("ba", 4)}
	for _, name := range unknown {
		if _, ok := g.Actor(name); ok {
			t.Errorf("Actor(%q) found an actor", name)
		}
		if _, ok := g.Place(name); ok && name != "places/kakakaka" {
			t.Errorf("Place(%q) found a place", name)
		}
	}
	// A name from a larger archive is not in a smaller one.
	if _, ok := New(3, 10).Actor(New(3, 100000).ActorAt(9000).Name); ok {
		t.Error("a small archive resolved an actor of a larger one")
	}
}

func TestDateLine(t *testing.T) {
	d := func(y, m, day int32, p annalsv1.DatePrecision) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Month: m, Day: day, Precision: p}
	}
	const (
		day   = annalsv1.DatePrecision_DATE_PRECISION_DAY
		month = annalsv1.DatePrecision_DATE_PRECISION_MONTH
		year  = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		dec   = annalsv1.DatePrecision_DATE_PRECISION_DECADE
		cent  = annalsv1.DatePrecision_DATE_PRECISION_CENTURY
		mill  = annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM
	)
	tests := []struct {
		date *annalsv1.HistoricalDate
		want string
	}{
		{d(1941, 4, 13, day), "April 13, 1941"},
		{d(1941, 4, 0, month), "April 1941"},
		{d(1941, 0, 0, year), "1941"},
		{d(-44, 3, 15, day), "March 15, 44 BC"},
		{d(30, 4, 0, month), "April 30 AD"},
		{d(1940, 0, 0, dec), "1940s"},
		{d(1947, 0, 0, dec), "1940s"},
		{d(-440, 0, 0, dec), "440s BC"},
		{d(1901, 0, 0, cent), "20th century"},
		{d(-401, 0, 0, cent), "5th century BC"},
		{d(1001, 0, 0, cent), "11th century"},
		{d(2001, 0, 0, cent), "21st century"},
		{d(1501, 0, 0, mill), "1501"},
	}
	for _, tt := range tests {
		if got := DateLine(tt.date); got != tt.want {
			t.Errorf("DateLine(%v) = %q; want %q", tt.date, got, tt.want)
		}
	}
}

// TestStreaming checks that memory does not grow with the archive: the live
// heap while streaming 10 000 events is about that of 1 000.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 11 000 events")
	}
	peak := func(events int) uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var top uint64
		n := 0
		g := New(5, events)
		g.Sources = true
		err := g.Batches(200, func(b *store.Batch) error {
			if n++; n%4 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > base {
					top = max(top, ms.HeapAlloc-base)
				}
			}
			runtime.KeepAlive(b) // the batch counts: it is what a consumer holds
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return top
	}
	small, large := peak(1000), peak(10000)
	t.Logf("live heap while streaming: %d bytes at 1 000 events, %d at 10 000", small, large)
	if float64(large) > 2*float64(max(small, 256<<10)) {
		t.Errorf("live heap grows with the archive: %d bytes at 1 000 events, %d at 10 000 (ratio %.1f; want at most 2)",
			small, large, float64(large)/float64(small))
	}
}

func TestEventAtMatchesBatches(t *testing.T) {
	a := bigArchive(t)
	for _, i := range []int{0, 1, 5, 6, 999, 19999} {
		want := proto.Clone(a.events[i]).(*annalsv1.Event)
		want.Sources = nil
		if got := a.g.EventAt(i); !proto.Equal(got, want) {
			t.Errorf("EventAt(%d) differs from the batch:\n%s\nwant\n%s", i, prototext.Format(got), prototext.Format(want))
		}
		if got := a.g.EventName(i); got != want.Name {
			t.Errorf("EventName(%d) = %q; want %q", i, got, want.Name)
		}
	}
}
