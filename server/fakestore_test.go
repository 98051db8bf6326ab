package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// fakeStore is a map-backed store.Store for the server's tests. Its filters
// follow the store.Store contract closely enough for the server's tests; the
// real backends are held to the contract by store/storetest.
type fakeStore struct {
	mu      sync.Mutex
	events  map[string]*annalsv1.Event
	actors  map[string]*annalsv1.Actor
	places  map[string]*annalsv1.Place
	sources map[string]*annalsv1.Source

	// What the last List call received, for assertions.
	lastPage        store.Page
	lastEventFilter store.EventFilter
	lastHadDeadline bool
	listCalls       int
}

func newFakeStore() *fakeStore {
	s := &fakeStore{
		events:  map[string]*annalsv1.Event{},
		actors:  map[string]*annalsv1.Actor{},
		places:  map[string]*annalsv1.Place{},
		sources: map[string]*annalsv1.Source{},
	}
	for _, e := range fixtureEvents() {
		s.events[e.GetName()] = e
	}
	for _, a := range fixtureActors() {
		s.actors[a.GetName()] = a
	}
	for _, p := range fixturePlaces() {
		s.places[p.GetName()] = p
	}
	for _, src := range fixtureSources() {
		s.sources[src.GetName()] = src
	}
	return s
}

func day(y, m, d int32) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}
}

func en(s string) *annalsv1.Label { return &annalsv1.Label{Language: "en", Value: s} }

const (
	pact        = "events/soviet-japanese-neutrality-pact"
	khalkhinGol = "events/battles-of-khalkhin-gol"
	barbarossa  = "events/operation-barbarossa"
	surrender   = "events/surrender-of-japan"
	caesar      = "events/assassination-of-julius-caesar"
	molotov     = "actors/vyacheslav-molotov"
	matsuoka    = "actors/yosuke-matsuoka"
	moscow      = "places/moscow"
	pactSource  = "sources/18ebd8a16d007420"
)

func fixtureEvents() []*annalsv1.Event {
	return []*annalsv1.Event{
		{
			Name: pact,
			Labels: []*annalsv1.Label{
				en("Soviet–Japanese Neutrality Pact"),
				{Language: "ru", Value: "Пакт о нейтралитете между СССР и Японией"},
				{Language: "ja", Value: "日ソ中立条約"},
			},
			Summary: "The Soviet Union and Japan sign a neutrality pact in Moscow.",
			Article: []*annalsv1.ArticleSection{
				{Heading: "Key Figures", Items: []*annalsv1.ListItem{
					{Term: "Vyacheslav Molotov", Text: "Soviet foreign minister", Actor: molotov},
				}},
			},
			Date:   day(1941, 4, 13),
			Places: []string{moscow},
			Participants: []*annalsv1.Participant{
				{Actor: molotov, Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY},
				{Actor: matsuoka, Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY},
				{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
				{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			},
			Relations: []*annalsv1.EventRelation{
				{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWS, Event: khalkhinGol},
				{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY, Event: barbarossa},
			},
			Illustration: &annalsv1.Illustration{Caption: "Molotov signs the pact, watercolor painting, 1941", Style: "watercolor painting", Year: 1941},
			Sources:      []string{pactSource},
			WikidataId:   "Q220602",
		},
		{
			Name:    khalkhinGol,
			Labels:  []*annalsv1.Label{en("Battles of Khalkhin Gol")},
			Summary: "Soviet and Mongolian forces defeat the Japanese Kwantung Army.",
			Date:    day(1939, 5, 11),
			EndDate: day(1939, 9, 16),
		},
		{
			Name:    barbarossa,
			Labels:  []*annalsv1.Label{en("Operation Barbarossa")},
			Summary: "Germany invades the Soviet Union.",
			Date:    day(1941, 6, 22),
		},
		{
			Name:    surrender,
			Labels:  []*annalsv1.Label{en("Surrender of Japan")},
			Summary: "Japan signs the instrument of surrender.",
			Date:    day(1945, 9, 2),
		},
		{
			Name:    caesar,
			Labels:  []*annalsv1.Label{en("Assassination of Julius Caesar")},
			Summary: "Caesar is killed in the Senate.",
			Date: &annalsv1.HistoricalDate{Year: -44, Month: 3, Day: 15,
				Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
		},
	}
}

func fixtureActors() []*annalsv1.Actor {
	return []*annalsv1.Actor{
		{Name: molotov, Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: []*annalsv1.Label{en("Vyacheslav Molotov")},
			Description: "Soviet foreign minister", WikidataId: "Q132899"},
		{Name: matsuoka, Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: []*annalsv1.Label{en("Yōsuke Matsuoka")},
			Description: "Japanese foreign minister"},
		{Name: "actors/soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: []*annalsv1.Label{en("Soviet Union")}},
		{Name: "actors/empire-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: []*annalsv1.Label{en("Empire of Japan")}},
	}
}

func fixturePlaces() []*annalsv1.Place {
	return []*annalsv1.Place{
		{Name: moscow, Labels: []*annalsv1.Label{en("Moscow")}, WikidataId: "Q649",
			Coordinates: &annalsv1.Coordinates{Latitude: 55.75, Longitude: 37.62}},
		{Name: "places/rome", Labels: []*annalsv1.Label{en("Rome")}},
	}
}

func fixtureSources() []*annalsv1.Source {
	return []*annalsv1.Source{{Name: pactSource, Title: "Soviet–Japanese Neutrality Pact", Event: pact,
		Filename: "000_18ebd8a16d007420.txt", Text: "April 13, 1941\n…"}}
}

func get[T proto.Message](s *fakeStore, m map[string]T, name string) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := m[name]
	if !ok {
		var zero T
		return zero, fmt.Errorf("fake: get %s: %w", name, store.ErrNotFound)
	}
	return proto.Clone(v).(T), nil
}

func (s *fakeStore) GetEvent(_ context.Context, name string) (*annalsv1.Event, error) {
	return get(s, s.events, name)
}
func (s *fakeStore) GetActor(_ context.Context, name string) (*annalsv1.Actor, error) {
	return get(s, s.actors, name)
}
func (s *fakeStore) GetPlace(_ context.Context, name string) (*annalsv1.Place, error) {
	return get(s, s.places, name)
}
func (s *fakeStore) GetSource(_ context.Context, name string) (*annalsv1.Source, error) {
	return get(s, s.sources, name)
}

// page cuts the sorted, filtered items after the cursor, whose form is "fake:<name>".
func page[T interface {
	proto.Message
	GetName() string
}](items []T, p store.Page) (store.Result[T], error) {
	start := 0
	if p.After != "" {
		name, ok := strings.CutPrefix(p.After, "fake:")
		i := slices.IndexFunc(items, func(t T) bool { return t.GetName() == name })
		if !ok || i < 0 {
			return store.Result[T]{}, fmt.Errorf("fake: cursor %q: %w", p.After, store.ErrInvalidCursor)
		}
		start = i + 1
	}
	end := min(start+p.Limit, len(items))
	var res store.Result[T]
	for _, it := range items[start:end] {
		res.Items = append(res.Items, proto.Clone(it).(T))
	}
	if end < len(items) && end > start {
		res.Next = "fake:" + items[end-1].GetName()
	}
	return res, nil
}

func (s *fakeStore) record(ctx context.Context, p store.Page) {
	_, ok := ctx.Deadline()
	s.lastPage, s.lastHadDeadline = p, ok
	s.listCalls++
}

// queryWords splits a full-text query; it fails like a backend when there is nothing to search for.
func queryWords(q string) ([]string, error) {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		w = strings.TrimRight(w, "*")
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("fake: query %q: %w", q, store.ErrInvalidQuery)
	}
	return words, nil
}

func matchesAll(text string, words []string) bool {
	text = strings.ToLower(text)
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func labelText(ls []*annalsv1.Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.GetValue() + " ")
	}
	return b.String()
}

func span(e *annalsv1.Event) (int64, int64) {
	lo, hi := histdate.Bounds(e.GetDate())
	if e.GetEndDate() != nil {
		_, hi = histdate.Bounds(e.GetEndDate())
	}
	return int64(lo), int64(hi)
}

func (s *fakeStore) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(ctx, p)
	s.lastEventFilter = f
	var words []string
	if f.Query != "" {
		var err error
		if words, err = queryWords(f.Query); err != nil {
			return store.Result[*annalsv1.Event]{}, err
		}
	}
	var out []*annalsv1.Event
	for _, e := range s.events {
		d := e.GetDate()
		lo, hi := span(e)
		switch {
		case f.Month != 0 && (d.GetMonth() != f.Month || d.GetPrecision() < annalsv1.DatePrecision_DATE_PRECISION_MONTH):
		case f.Day != 0 && (d.GetDay() != f.Day || d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_DAY):
		case f.HasFrom && hi < f.From, f.HasTo && lo > f.To:
		case f.Actor != "" && !slices.ContainsFunc(e.GetParticipants(), func(p *annalsv1.Participant) bool { return p.GetActor() == f.Actor }):
		case f.Place != "" && !slices.Contains(e.GetPlaces(), f.Place):
		case f.WikidataID != "" && e.GetWikidataId() != f.WikidataID:
		case words != nil && !matchesAll(labelText(e.GetLabels())+e.GetSummary()+fmt.Sprint(e.GetArticle()), words):
		default:
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *annalsv1.Event) int {
		la, _ := span(a)
		lb, _ := span(b)
		if la != lb {
			return int(la - lb)
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	return page(out, p)
}

func sortedByName[T interface{ GetName() string }](xs []T) []T {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(a.GetName(), b.GetName()) })
	return xs
}

func (s *fakeStore) ListActors(ctx context.Context, f store.ActorFilter, p store.Page) (store.Result[*annalsv1.Actor], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(ctx, p)
	var words []string
	if f.Query != "" {
		var err error
		if words, err = queryWords(f.Query); err != nil {
			return store.Result[*annalsv1.Actor]{}, err
		}
	}
	var out []*annalsv1.Actor
	for _, a := range s.actors {
		switch {
		case f.Kind != annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED && a.GetKind() != f.Kind:
		case f.WikidataID != "" && a.GetWikidataId() != f.WikidataID:
		case words != nil && !matchesAll(labelText(a.GetLabels())+labelText(a.GetAliases())+a.GetDescription(), words):
		default:
			out = append(out, a)
		}
	}
	return page(sortedByName(out), p)
}

func (s *fakeStore) ListPlaces(ctx context.Context, f store.PlaceFilter, p store.Page) (store.Result[*annalsv1.Place], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(ctx, p)
	var words []string
	if f.Query != "" {
		var err error
		if words, err = queryWords(f.Query); err != nil {
			return store.Result[*annalsv1.Place]{}, err
		}
	}
	var out []*annalsv1.Place
	for _, pl := range s.places {
		switch {
		case f.WikidataID != "" && pl.GetWikidataId() != f.WikidataID:
		case words != nil && !matchesAll(labelText(pl.GetLabels())+labelText(pl.GetAliases())+pl.GetDescription(), words):
		default:
			out = append(out, pl)
		}
	}
	return page(sortedByName(out), p)
}

func (s *fakeStore) MatchNames(context.Context, resource.Kind, string) ([]string, error) {
	return nil, nil
}

func walk[T proto.Message](s *fakeStore, m map[string]T, fn func(T) error) error {
	s.mu.Lock()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	s.mu.Unlock()
	for _, n := range names {
		s.mu.Lock()
		v := proto.Clone(m[n]).(T)
		s.mu.Unlock()
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeStore) WalkEvents(_ context.Context, fn func(*annalsv1.Event) error) error {
	return walk(s, s.events, fn)
}
func (s *fakeStore) WalkActors(_ context.Context, fn func(*annalsv1.Actor) error) error {
	return walk(s, s.actors, fn)
}
func (s *fakeStore) WalkPlaces(_ context.Context, fn func(*annalsv1.Place) error) error {
	return walk(s, s.places, fn)
}
func (s *fakeStore) WalkSources(_ context.Context, fn func(*annalsv1.Source) error) error {
	return walk(s, s.sources, fn)
}

func (s *fakeStore) Stats(context.Context) (store.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.Stats{Events: int64(len(s.events)), Actors: int64(len(s.actors)),
		Places: int64(len(s.places)), Sources: int64(len(s.sources))}, nil
}

func (s *fakeStore) Changes(context.Context, int64, int) ([]store.LogEntry, error) { return nil, nil }
func (s *fakeStore) LastSeq(context.Context) (int64, error)                        { return 0, nil }

func (s *fakeStore) Update(ctx context.Context, fn store.UpdateFunc) ([]store.Change, error) {
	b, err := fn(ctx, s)
	if err != nil {
		return nil, err
	}
	return s.Put(ctx, b)
}

func (s *fakeStore) Put(_ context.Context, b *store.Batch) ([]store.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var changes []store.Change
	for _, e := range b.Events {
		s.events[e.GetName()] = proto.Clone(e).(*annalsv1.Event)
		changes = append(changes, store.Change{Name: e.GetName(), Kind: annalsv1.ChangeKind_CHANGE_KIND_CREATED})
	}
	return changes, nil
}

func (s *fakeStore) Meta(context.Context, string) (string, error)  { return "", nil }
func (s *fakeStore) SetMeta(context.Context, string, string) error { return nil }
func (s *fakeStore) Close() error                                  { return nil }

var _ store.Store = (*fakeStore)(nil)

// brokenStore fails or panics in chosen ways, for the error-path tests.
type brokenStore struct {
	*fakeStore
	err   error // returned by GetEvent and ListEvents when set
	panic bool  // GetEvent panics when set
}

func (b *brokenStore) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	if b.panic {
		var m map[string]int
		m["boom"]++ // a real runtime panic: assignment to entry in nil map
	}
	if b.err != nil {
		return nil, fmt.Errorf("sqlite: SELECT body FROM events WHERE name = %q in /var/lib/annals/annals.db: %w", name, b.err)
	}
	return b.fakeStore.GetEvent(ctx, name)
}

func (b *brokenStore) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	if b.err != nil {
		return store.Result[*annalsv1.Event]{}, fmt.Errorf("sqlite: query events: %w", b.err)
	}
	return b.fakeStore.ListEvents(ctx, f, p)
}
