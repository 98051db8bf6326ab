// Package storetest is the conformance suite of the store: every backend
// must pass Run. The suite builds its own small archive (see Fixture) and
// checks the contract of store.Store that callers rely on: not-found errors,
// what Put reports and stamps, all-or-nothing batches, atomic
// read-modify-write under concurrency (Update, and whole document imports
// through package ingest), the change log, deletions, verbatim copies, every
// filter, paging, full-text search against hostile input and in every
// script, name matching, walks and stats.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call and close it when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, func(*testing.T) store.Store)
	}{
		{"Get", testGet},
		{"PutChanges", testPutChanges},
		{"PutAtomic", testPutAtomic},
		{"ListEventsFilters", testListEventsFilters},
		{"ListEventsPaging", testListEventsPaging},
		{"DateRanges", testDateRanges},
		{"InvalidCursor", testInvalidCursor},
		{"FullText", testFullText},
		{"FullTextModel", testFullTextModel},
		{"ListActors", testListActors},
		{"ListPlaces", testListPlaces},
		{"MatchNames", testMatchNames},
		{"Walk", testWalk},
		{"Stats", testStats},
		{"Meta", testMeta},
		{"Update", testUpdate},
		{"ChangeLog", testChangeLog},
		{"ChangeLogOrder", testChangeLogOrder},
		{"Delete", testDelete},
		{"Verbatim", testVerbatim},
		{"ConcurrentImports", testConcurrentImports},
		{"Scripts", testScripts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// loaded opens a store and writes the fixture into it. It returns the
// records as written (Put has set their output-only fields).
func loaded(t *testing.T, open func(*testing.T) store.Store) (store.Store, *store.Batch) {
	t.Helper()
	s := open(t)
	b := Fixture()
	if _, err := s.Put(t.Context(), b); err != nil {
		t.Fatalf("Put(fixture): %v", err)
	}
	return s, b
}

func eventNames(es []*annalsv1.Event) []string {
	n := make([]string, len(es))
	for i, e := range es {
		n[i] = e.GetName()
	}
	return n
}

func namesOf[T interface{ GetName() string }](rs []T) []string {
	n := make([]string, len(rs))
	for i, r := range rs {
		n[i] = r.GetName()
	}
	return n
}

func testGet(t *testing.T, open func(*testing.T) store.Store) {
	s, b := loaded(t, open)
	ctx := t.Context()
	type getter func(ctx context.Context, name string) (proto.Message, error)
	ge := func(ctx context.Context, n string) (proto.Message, error) { return s.GetEvent(ctx, n) }
	ga := func(ctx context.Context, n string) (proto.Message, error) { return s.GetActor(ctx, n) }
	gp := func(ctx context.Context, n string) (proto.Message, error) { return s.GetPlace(ctx, n) }
	gs := func(ctx context.Context, n string) (proto.Message, error) { return s.GetSource(ctx, n) }
	found := []struct {
		name string
		get  getter
		want proto.Message
	}{
		{"event", ge, b.Events[12]},
		{"BCE event", ge, b.Events[2]},
		{"actor", ga, b.Actors[6]},
		{"place", gp, b.Places[2]},
		{"source", gs, b.Sources[0]},
	}
	for _, tc := range found {
		t.Run("found/"+tc.name, func(t *testing.T) {
			got, err := tc.get(ctx, tc.want.(interface{ GetName() string }).GetName())
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("get returned\n%v\nwant (as written by Put)\n%v", got, tc.want)
			}
		})
	}
	notFound := []struct {
		name string
		get  getter
		arg  string
	}{
		{"event", ge, "events/no-such-event"},
		{"actor", ga, "actors/no-such-actor"},
		{"place", gp, "places/no-such-place"},
		{"source", gs, "sources/ffffffffffffffff"},
		{"event in other collection", ge, "actors/soviet-union"},
		{"actor in other collection", ga, "events/soviet-japanese-neutrality-pact"},
		{"malformed", ge, "not a name"},
		{"empty", gp, ""},
	}
	for _, tc := range notFound {
		t.Run("not found/"+tc.name, func(t *testing.T) {
			got, err := tc.get(ctx, tc.arg)
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("get(%q) = %v, %v; want an error wrapping store.ErrNotFound", tc.arg, got, err)
			}
		})
	}
}

var etagRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func testPutChanges(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	const (
		created   = annalsv1.ChangeKind_CHANGE_KIND_CREATED
		updated   = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
		unchanged = annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED
	)
	fx := Fixture()
	pact := fx.Events[12]
	moscow := fx.Places[2]
	ussr := fx.Actors[4]

	// Create: changes sorted by name across collections.
	b := &store.Batch{Events: []*annalsv1.Event{proto.Clone(pact).(*annalsv1.Event)},
		Actors: []*annalsv1.Actor{proto.Clone(ussr).(*annalsv1.Actor)},
		Places: []*annalsv1.Place{proto.Clone(moscow).(*annalsv1.Place)},
	}
	before := cloneBatch(b)
	ch, err := s.Put(ctx, b)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	wantCh := []store.Change{{Name: ussr.Name, Kind: created}, {Name: pact.Name, Kind: created}, {Name: moscow.Name, Kind: created}}
	if !slices.Equal(ch, wantCh) {
		t.Fatalf("Put changes = %v, want %v", ch, wantCh)
	}
	e1 := b.Events[0]
	t.Run("created", func(t *testing.T) {
		if e1.GetCreateTime() == nil || e1.GetUpdateTime() == nil {
			t.Fatalf("Put did not set create_time and update_time on the caller's record: %v", e1)
		}
		if !proto.Equal(e1.GetCreateTime(), e1.GetUpdateTime()) {
			t.Errorf("new record: create_time %v != update_time %v", e1.GetCreateTime(), e1.GetUpdateTime())
		}
		if !etagRE.MatchString(e1.GetEtag()) {
			t.Errorf("etag %q is not 16 lower-case hex digits", e1.GetEtag())
		}
		if b.Actors[0].GetEtag() == "" || b.Places[0].GetEtag() == "" {
			t.Errorf("Put did not set the etag of every record")
		}
		// Nothing but the output-only fields changed on the caller's records.
		got := proto.Clone(e1).(*annalsv1.Event)
		got.CreateTime, got.UpdateTime, got.Etag = nil, nil, ""
		if !proto.Equal(got, before.Events[0]) {
			t.Errorf("Put changed the content of the caller's record")
		}
		stored, err := s.GetEvent(ctx, pact.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(stored, e1) {
			t.Errorf("stored record differs from the caller's after Put:\n%v\n%v", stored, e1)
		}
	})

	t.Run("unchanged", func(t *testing.T) {
		// The same content with other output-only fields is unchanged.
		again := proto.Clone(pact).(*annalsv1.Event)
		again.Etag = "bogus"
		again.CreateTime = timestamppb.New(time.Unix(1, 0))
		ch, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{again}})
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Change{{Name: pact.Name, Kind: unchanged}}; !slices.Equal(ch, want) {
			t.Fatalf("changes = %v, want %v", ch, want)
		}
		if again.GetEtag() != e1.GetEtag() || !proto.Equal(again.GetCreateTime(), e1.GetCreateTime()) || !proto.Equal(again.GetUpdateTime(), e1.GetUpdateTime()) {
			t.Errorf("unchanged record: caller's copy got %v %v %q, want the stored %v %v %q",
				again.GetCreateTime(), again.GetUpdateTime(), again.GetEtag(), e1.GetCreateTime(), e1.GetUpdateTime(), e1.GetEtag())
		}
		stored, err := s.GetEvent(ctx, pact.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(stored, e1) {
			t.Errorf("unchanged Put rewrote the stored record")
		}
	})

	t.Run("updated", func(t *testing.T) {
		st0, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		changed := proto.Clone(pact).(*annalsv1.Event)
		changed.Summary += " It was denounced in 1945."
		ch, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{changed}})
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Change{{Name: pact.Name, Kind: updated}}; !slices.Equal(ch, want) {
			t.Fatalf("changes = %v, want %v", ch, want)
		}
		stored, err := s.GetEvent(ctx, pact.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(stored.GetCreateTime(), e1.GetCreateTime()) {
			t.Errorf("update changed create_time from %v to %v", e1.GetCreateTime(), stored.GetCreateTime())
		}
		if stored.GetUpdateTime().AsTime().Before(e1.GetUpdateTime().AsTime()) {
			t.Errorf("update_time went back from %v to %v", e1.GetUpdateTime().AsTime(), stored.GetUpdateTime().AsTime())
		}
		if stored.GetEtag() == e1.GetEtag() || !etagRE.MatchString(stored.GetEtag()) {
			t.Errorf("etag after update = %q (before %q); want a new 16-hex etag", stored.GetEtag(), e1.GetEtag())
		}
		if stored.GetSummary() != changed.GetSummary() {
			t.Errorf("summary not updated")
		}
		if !proto.Equal(stored, changed) {
			t.Errorf("caller's record after update differs from the stored one")
		}
		st1, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st1.LastModified < st0.LastModified || st1.LastModified != stored.GetUpdateTime().AsTime().UnixNano() {
			t.Errorf("Stats.LastModified = %d (before %d), want the update_time %d", st1.LastModified, st0.LastModified, stored.GetUpdateTime().AsTime().UnixNano())
		}
		// Updating back to the first content is an update too, with a new etag equal to the first.
		back := proto.Clone(pact).(*annalsv1.Event)
		if ch, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{back}}); err != nil || ch[0].Kind != updated {
			t.Fatalf("Put back = %v, %v; want updated", ch, err)
		}
		if back.GetEtag() != e1.GetEtag() {
			t.Errorf("etag of the same content = %q, want %q: the etag must be a function of the content", back.GetEtag(), e1.GetEtag())
		}
	})

	t.Run("index follows update", func(t *testing.T) {
		moved := proto.Clone(pact).(*annalsv1.Event)
		moved.Places = []string{"places/rome"}
		moved.Participants = moved.Participants[:1]
		moved.Date = day(1941, 4, 14, gregorian)
		moved.Summary = "Zanzibarian rewrite."
		if _, err := s.Put(ctx, &store.Batch{Events: []*annalsv1.Event{moved}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f    store.EventFilter
			want int
		}{
			{store.EventFilter{Place: "places/moscow"}, 0},
			{store.EventFilter{Place: "places/rome"}, 1},
			{store.EventFilter{Actor: "actors/yosuke-matsuoka"}, 0},
			{store.EventFilter{Actor: "actors/soviet-union"}, 1},
			{store.EventFilter{Month: 4, Day: 13}, 0},
			{store.EventFilter{Month: 4, Day: 14}, 1},
			{store.EventFilter{Query: "neutrality"}, 1},
			{store.EventFilter{Query: "five-year"}, 0},
			{store.EventFilter{Query: "zanzibarian"}, 1},
		} {
			got := listAll(t, s, tc.f, 0)
			if len(got) != tc.want {
				t.Errorf("ListEvents(%+v) after update = %v, want %d events", tc.f, got, tc.want)
			}
		}
		// Match keys follow an update of an actor's names.
		renamed := proto.Clone(ussr).(*annalsv1.Actor)
		renamed.Aliases = labels("en", "Soyuz")
		if _, err := s.Put(ctx, &store.Batch{Actors: []*annalsv1.Actor{renamed}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MatchNames(ctx, resource.Actors, resource.MatchKey("USSR")); len(got) != 0 {
			t.Errorf("MatchNames(USSR) after removing the alias = %v", got)
		}
		if got, _ := s.MatchNames(ctx, resource.Actors, resource.MatchKey("Soyuz")); !slices.Equal(got, []string{ussr.Name}) {
			t.Errorf("MatchNames(Soyuz) after adding the alias = %v", got)
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		ch, err := s.Put(ctx, &store.Batch{})
		if err != nil || len(ch) != 0 {
			t.Errorf("Put(empty) = %v, %v; want no changes", ch, err)
		}
	})
}

func testPutAtomic(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	good := func() *annalsv1.Event {
		return &annalsv1.Event{Name: "events/good-event", Labels: en("Good event"), Date: day(1900, 1, 1, gregorian)}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		batch func() *store.Batch
	}{
		{"invalid date after a good record", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good(),
				{Name: "events/bad-date", Labels: en("Bad date"), Date: &annalsv1.HistoricalDate{Year: 0, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}}}}
		}},
		{"day 30 February", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good(),
				{Name: "events/bad-date", Labels: en("Bad date"), Date: day(1900, 2, 30, gregorian)}}}
		}},
		{"missing date", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good(), {Name: "events/no-date", Labels: en("No date")}}}
		}},
		{"malformed name in a later collection", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good()}, Places: []*annalsv1.Place{{Name: "places/Not A Slug"}}}
		}},
		{"name in the wrong collection", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good()}, Actors: []*annalsv1.Actor{{Name: "places/moscow"}}}
		}},
		{"same name twice", ctx, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good(), good()}}
		}},
		{"cancelled context", cancelled, func() *store.Batch {
			return &store.Batch{Events: []*annalsv1.Event{good()}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			b := tc.batch()
			before := cloneBatch(b)
			if ch, err := s.Put(tc.ctx, b); err == nil {
				t.Fatalf("Put = %v, nil; want an error", ch)
			}
			if _, err := s.GetEvent(ctx, "events/good-event"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after a failed batch, GetEvent(good-event) = %v; want not found: the batch must be all or nothing", err)
			}
			st, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st != (store.Stats{}) {
				t.Errorf("Stats after a failed batch = %+v, want zero", st)
			}
			if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
				t.Errorf("LastSeq after a failed batch = %d, %v; want 0: no entry without its write", seq, err)
			}
			for i := range b.Events {
				if !proto.Equal(b.Events[i], before.Events[i]) {
					t.Errorf("a failed Put changed the caller's record %s", b.Events[i].GetName())
				}
			}
		})
	}
}

// listAll pages through ListEvents with page size limit (0: the backend's
// default), checking the paging contract, and returns the names in order.
func listAll(t *testing.T, s store.Reader, f store.EventFilter, limit int) []string {
	t.Helper()
	var names []string
	p := store.Page{Limit: limit}
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatalf("ListEvents(%+v): more than 1000 pages", f)
		}
		res, err := s.ListEvents(t.Context(), f, p)
		if err != nil {
			t.Fatalf("ListEvents(%+v, %+v): %v", f, p, err)
		}
		if limit > 0 && len(res.Items) > limit {
			t.Fatalf("ListEvents returned %d items for limit %d", len(res.Items), limit)
		}
		if res.Next != "" && len(res.Items) == 0 {
			t.Fatalf("ListEvents returned an empty page with a next cursor")
		}
		names = append(names, eventNames(res.Items)...)
		if res.Next == "" {
			break
		}
		p.After = res.Next
	}
	return names
}

// eventCase is one ListEvents filter and the events it selects, in order.
type eventCase struct {
	name string
	f    store.EventFilter
	want []string
}

func key(y int32, m, d int32) int64 { return int64(histdate.MakeKey(histdate.Astronomical(y), m, d)) }

func eventCases() []eventCase {
	all := eventNames(Fixture().Events)
	ev := func(ids ...string) []string {
		var n []string
		for _, id := range ids {
			n = append(n, "events/"+id)
		}
		return n
	}
	return []eventCase{
		{"no filter: by start, BCE first", store.EventFilter{}, all},
		// On this day.
		{"month and day", store.EventFilter{Month: 4, Day: 13}, ev("edict-of-nantes", "soviet-japanese-neutrality-pact")},
		{"month: day and month precision, not year", store.EventFilter{Month: 4}, ev("edict-of-nantes", "april-1941-atlantic-convoys", "soviet-japanese-neutrality-pact")},
		{"month of a Julian date as written", store.EventFilter{Month: 10, Day: 25}, ev("october-revolution")},
		{"Julian date not by its Gregorian day", store.EventFilter{Month: 11, Day: 7}, nil},
		{"BCE Julian day", store.EventFilter{Month: 3, Day: 15}, ev("assassination-of-julius-caesar")},
		{"month precision does not match a day", store.EventFilter{Month: 4, Day: 1}, nil},
		{"no such day", store.EventFilter{Month: 2, Day: 30}, nil},
		// Ranges over the day keys of spans.
		{"range one day", store.EventFilter{From: key(1941, 4, 13), To: key(1941, 4, 13), HasFrom: true, HasTo: true},
			ev("april-1941-atlantic-convoys", "soviet-japanese-neutrality-pact")},
		{"range: last day of a month-precision event", store.EventFilter{From: key(1941, 4, 30), To: key(1941, 4, 30), HasFrom: true, HasTo: true},
			ev("april-1941-atlantic-convoys")},
		{"range: day after a month-precision event", store.EventFilter{From: key(1941, 5, 1), To: key(1941, 5, 1), HasFrom: true, HasTo: true}, nil},
		{"range inside a multi-year span", store.EventFilter{From: key(1943, 1, 1), To: key(1943, 12, 31), HasFrom: true, HasTo: true}, ev("great-patriotic-war")},
		{"range inside year-precision years", store.EventFilter{From: key(1097, 6, 1), To: key(1097, 6, 1), HasFrom: true, HasTo: true}, ev("first-crusade")},
		{"range: last day of an end year", store.EventFilter{From: key(1099, 12, 31), To: key(1200, 1, 1), HasFrom: true, HasTo: true}, ev("first-crusade")},
		{"range in a BCE year", store.EventFilter{From: key(-44, 1, 1), To: key(-44, 12, 31), HasFrom: true, HasTo: true}, ev("assassination-of-julius-caesar")},
		{"range across the era", store.EventFilter{From: key(-44, 1, 1), To: key(1, 12, 31), HasFrom: true, HasTo: true},
			ev("assassination-of-julius-caesar", "consulship-of-gaius-caesar")},
		{"range inside a century", store.EventFilter{From: key(-2550, 1, 1), To: key(-2550, 1, 1), HasFrom: true, HasTo: true}, ev("construction-of-the-great-pyramid")},
		{"only To", store.EventFilter{To: key(-1, 12, 31), HasTo: true},
			ev("construction-of-the-great-pyramid", "founding-of-rome", "assassination-of-julius-caesar")},
		{"only From", store.EventFilter{From: key(1944, 1, 1), HasFrom: true}, ev("great-patriotic-war")},
		{"From zero is set", store.EventFilter{From: 0, HasFrom: true, To: key(1, 1, 1), HasTo: true}, ev("consulship-of-gaius-caesar")},
		{"empty range", store.EventFilter{From: key(1950, 1, 1), To: key(1940, 1, 1), HasFrom: true, HasTo: true}, nil},
		// Links.
		{"actor", store.EventFilter{Actor: "actors/soviet-union"}, ev("soviet-japanese-neutrality-pact", "great-patriotic-war")},
		{"actor of one event", store.EventFilter{Actor: "actors/julius-caesar"}, ev("assassination-of-julius-caesar")},
		{"unknown actor", store.EventFilter{Actor: "actors/nobody"}, nil},
		{"place", store.EventFilter{Place: "places/rome"}, ev("founding-of-rome", "assassination-of-julius-caesar", "consulship-of-gaius-caesar")},
		{"wikidata", store.EventFilter{WikidataID: "Q83055"}, ev("soviet-japanese-neutrality-pact")},
		{"unknown wikidata", store.EventFilter{WikidataID: "Q1"}, nil},
		{"query", store.EventFilter{Query: "neutrality"}, ev("soviet-japanese-neutrality-pact")},
		// Combined.
		{"actor and place", store.EventFilter{Actor: "actors/vyacheslav-molotov", Place: "places/moscow"}, ev("soviet-japanese-neutrality-pact", "great-patriotic-war")},
		{"actor and day", store.EventFilter{Actor: "actors/soviet-union", Month: 6, Day: 22}, ev("great-patriotic-war")},
		{"place and range", store.EventFilter{Place: "places/rome", To: key(-1, 12, 31), HasTo: true}, ev("founding-of-rome", "assassination-of-julius-caesar")},
		{"place and From", store.EventFilter{Place: "places/rome", From: key(-100, 1, 1), HasFrom: true}, ev("assassination-of-julius-caesar", "consulship-of-gaius-caesar")},
		{"query and month", store.EventFilter{Query: "soviet", Month: 6}, ev("great-patriotic-war")},
		{"query and actor", store.EventFilter{Query: "caesar", Actor: "actors/marcus-junius-brutus"}, ev("assassination-of-julius-caesar")},
		{"query and range", store.EventFilter{Query: "caesar", From: key(1, 1, 1), HasFrom: true}, ev("consulship-of-gaius-caesar")},
		{"wikidata and place", store.EventFilter{WikidataID: "Q202466", Place: "places/rome"}, ev("assassination-of-julius-caesar")},
		{"wikidata and other place", store.EventFilter{WikidataID: "Q202466", Place: "places/moscow"}, nil},
		{"everything", store.EventFilter{Month: 4, Day: 13, From: key(1941, 1, 1), To: key(1941, 12, 31), HasFrom: true, HasTo: true,
			Actor: "actors/empire-of-japan", Place: "places/moscow", WikidataID: "Q83055", Query: "pact"}, ev("soviet-japanese-neutrality-pact")},
	}
}

func testListEventsFilters(t *testing.T, open func(*testing.T) store.Store) {
	s, b := loaded(t, open)
	for _, tc := range eventCases() {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.ListEvents(t.Context(), tc.f, store.Page{Limit: 100})
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			if got := eventNames(res.Items); !slices.Equal(got, tc.want) {
				t.Errorf("ListEvents(%+v) =\n%v\nwant\n%v", tc.f, got, tc.want)
			}
			if res.Next != "" {
				t.Errorf("Next = %q at the end", res.Next)
			}
		})
	}
	t.Run("items are complete records", func(t *testing.T) {
		res, err := s.ListEvents(t.Context(), store.EventFilter{WikidataID: "Q83055"}, store.Page{})
		if err != nil || len(res.Items) != 1 {
			t.Fatalf("ListEvents = %v, %v", res, err)
		}
		if !proto.Equal(res.Items[0], b.Events[12]) {
			t.Errorf("listed record differs from the stored one")
		}
	})
}

func testListEventsPaging(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	for _, tc := range eventCases() {
		for _, limit := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				got := listAll(t, s, tc.f, limit)
				if !slices.Equal(got, tc.want) {
					t.Errorf("paging with limit %d gave\n%v\nwant\n%v", limit, got, tc.want)
				}
			})
		}
	}
	t.Run("next is empty only at the end", func(t *testing.T) {
		n := len(Fixture().Events)
		res, err := s.ListEvents(t.Context(), store.EventFilter{}, store.Page{Limit: n})
		if err != nil || len(res.Items) != n || res.Next != "" {
			t.Errorf("a page exactly as long as the list: %d items, next %q, %v; want %d, \"\"", len(res.Items), res.Next, err, n)
		}
		res, err = s.ListEvents(t.Context(), store.EventFilter{}, store.Page{Limit: n - 1})
		if err != nil || len(res.Items) != n-1 || res.Next == "" {
			t.Errorf("a page one shorter than the list: %d items, next %q, %v", len(res.Items), res.Next, err)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		res, err := s.ListEvents(t.Context(), store.EventFilter{}, store.Page{})
		if err != nil || len(res.Items) != len(Fixture().Events) {
			t.Errorf("ListEvents with Limit 0 = %d items, %v", len(res.Items), err)
		}
	})
	t.Run("writes between pages", func(t *testing.T) {
		// A record written before the cursor is not seen; the rest still are, once.
		res, err := s.ListEvents(t.Context(), store.EventFilter{}, store.Page{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		early := &annalsv1.Event{Name: "events/aaa-early", Labels: en("Aaa early"), Date: year(-3000, annalsv1.DatePrecision_DATE_PRECISION_YEAR)}
		if _, err := s.Put(t.Context(), &store.Batch{Events: []*annalsv1.Event{early}}); err != nil {
			t.Fatal(err)
		}
		var rest []string
		p := store.Page{Limit: 3, After: res.Next}
		for p.After != "" {
			r, err := s.ListEvents(t.Context(), store.EventFilter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			rest = append(rest, eventNames(r.Items)...)
			p.After = r.Next
		}
		if want := eventNames(Fixture().Events)[3:]; !slices.Equal(rest, want) {
			t.Errorf("pages after a write = %v, want %v", rest, want)
		}
	})
}

func testInvalidCursor(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	ctx := t.Context()
	first, err := s.ListEvents(ctx, store.EventFilter{}, store.Page{Limit: 2})
	if err != nil || first.Next == "" {
		t.Fatalf("ListEvents = %v, %v", first, err)
	}
	actors, err := s.ListActors(ctx, store.ActorFilter{}, store.Page{Limit: 2})
	if err != nil || actors.Next == "" {
		t.Fatalf("ListActors = %v, %v", actors, err)
	}
	tok := first.Next
	flip := []byte(tok)
	flip[len(flip)/2] ^= 1
	bad := []struct {
		name   string
		cursor string
		f      store.EventFilter
	}{
		{"garbage", "garbage!", store.EventFilter{}},
		{"not base64", "%%%%", store.EventFilter{}},
		{"base64 of nothing useful", "AAAA", store.EventFilter{}},
		{"truncated", tok[:len(tok)/2], store.EventFilter{}},
		{"extended", tok + "A", store.EventFilter{}},
		{"one character changed", string(flip), store.EventFilter{}},
		{"other filter", tok, store.EventFilter{Month: 4}},
		{"other query", tok, store.EventFilter{Query: "pact"}},
		{"from an actor list", actors.Next, store.EventFilter{}},
		{"NUL", "\x00", store.EventFilter{}},
		{"invalid UTF-8", "\xff\xfe", store.EventFilter{}},
		{"very long", strings.Repeat("A", 100000), store.EventFilter{}},
	}
	for _, tc := range bad {
		t.Run("events/"+tc.name, func(t *testing.T) {
			res, err := s.ListEvents(ctx, tc.f, store.Page{Limit: 2, After: tc.cursor})
			if !errors.Is(err, store.ErrInvalidCursor) {
				// A changed character may by chance still decode to a valid
				// position; then the page must still be well-formed.
				if tc.name == "one character changed" && err == nil {
					return
				}
				t.Errorf("ListEvents(After %.40q) = %d items, %v; want store.ErrInvalidCursor", tc.cursor, len(res.Items), err)
			}
		})
	}
	t.Run("actors/from an event list", func(t *testing.T) {
		if _, err := s.ListActors(ctx, store.ActorFilter{}, store.Page{After: tok}); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("ListActors(event cursor) = %v; want store.ErrInvalidCursor", err)
		}
	})
	t.Run("actors/other filter", func(t *testing.T) {
		if _, err := s.ListActors(ctx, store.ActorFilter{Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON}, store.Page{After: actors.Next}); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("ListActors(other filter's cursor) = %v; want store.ErrInvalidCursor", err)
		}
	})
	t.Run("places/garbage", func(t *testing.T) {
		if _, err := s.ListPlaces(ctx, store.PlaceFilter{}, store.Page{After: "garbage"}); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("ListPlaces(garbage) = %v; want store.ErrInvalidCursor", err)
		}
	})
}

func testFullText(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	ctx := t.Context()
	pact := []string{"events/soviet-japanese-neutrality-pact"}
	tests := []struct {
		q    string
		want []string
	}{
		{"Yosuke", pact},
		{"yōsuke", pact},
		{"YŌSUKE matsuoka", pact},
		{"Yo\u0304suke", pact}, // decomposed
		{"matsu*", pact},
		{"neutr* pact", pact},
		{"Soviet–Japanese", pact},
		{"kremlin", pact},                                      // article paragraph
		{"key figures", pact},                                  // article heading
		{"commissar", pact},                                    // list item text
		{"нейтралитете", pact},                                 // Russian label
		{"НЕЙТРАЛИТЕТЕ", pact},                                 // case-folded Cyrillic
		{"日ソ中立条約", pact},                                       // Japanese label as one token
		{"edit de nantes", []string{"events/edict-of-nantes"}}, // French label without accents
		{"caesar", []string{"events/assassination-of-julius-caesar", "events/consulship-of-gaius-caesar"}},
		{"pact zanzibar", nil},
		{"zanzibar", nil},
		{"matsu", nil}, // no prefix without *
		{"pact*", pact},
		{"NOT pact", nil},             // NOT is a word, not an operator
		{"\"neutrality pact\"", pact}, // quotes are ignored
		{"neutrality, pact!", pact},
		{"(neutrality) OR", nil}, // OR is a word, and not in the text
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			res, err := s.ListEvents(ctx, store.EventFilter{Query: tc.q}, store.Page{Limit: 100})
			if err != nil {
				t.Fatalf("ListEvents(query %q): %v", tc.q, err)
			}
			if got := eventNames(res.Items); !slices.Equal(got, tc.want) {
				t.Errorf("query %q = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	hostile := []string{
		`"`, `""`, `"""`, `AND`, `OR OR`, `*`, `**`, `a**`, `NEAR(`, `NEAR(a b, 2)`, `a NEAR/2 b`, `(`, `)`, `^pact`, `-pact`, `+pact`,
		`labels:pact`, `{labels summary}: pact`, `pact:`, `'`, `';DROP TABLE events;--`, "\x00", "pact\x00pact", "\xff\xfe", "\xc3",
		"\u200b", "\u0301", "🙂", `\`, `%`, `_`, `$`, strings.Repeat("a", 10000), strings.Repeat("a ", 5000), strings.Repeat(`"`, 10000),
		strings.Repeat("NEAR(", 2000), strings.Repeat("pact* ", 100), "p*", "a*b*c", "x*y", `column:"x"`,
	}
	for _, q := range hostile {
		name := q
		if len(name) > 30 {
			name = name[:30] + "…"
		}
		t.Run(fmt.Sprintf("hostile %q", name), func(t *testing.T) {
			for _, run := range []func() error{
				func() error { _, err := s.ListEvents(ctx, store.EventFilter{Query: q}, store.Page{}); return err },
				func() error { _, err := s.ListActors(ctx, store.ActorFilter{Query: q}, store.Page{}); return err },
				func() error { _, err := s.ListPlaces(ctx, store.PlaceFilter{Query: q}, store.Page{}); return err },
			} {
				if err := run(); err != nil && !errors.Is(err, store.ErrInvalidQuery) {
					t.Errorf("query %.40q: %v; want results or store.ErrInvalidQuery", q, err)
				}
			}
		})
	}
	for _, q := range []string{`"`, `*`, "\x00", "\xff", "  ", "!?", "—"} {
		t.Run(fmt.Sprintf("no words %q", q), func(t *testing.T) {
			if _, err := s.ListEvents(ctx, store.EventFilter{Query: q}, store.Page{}); !errors.Is(err, store.ErrInvalidQuery) {
				t.Errorf("query %q: %v; want store.ErrInvalidQuery", q, err)
			}
		})
	}
}

func testListActors(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	tests := []struct {
		name string
		f    store.ActorFilter
		want []string
	}{
		{"all", store.ActorFilter{}, namesOf(Fixture().Actors)},
		{"kind", store.ActorFilter{Kind: annalsv1.ActorKind_ACTOR_KIND_STATE}, []string{"actors/empire-of-japan", "actors/soviet-union"}},
		{"kind with none", store.ActorFilter{Kind: annalsv1.ActorKind_ACTOR_KIND_GROUP}, nil},
		{"wikidata", store.ActorFilter{WikidataID: "Q360568"}, []string{"actors/yosuke-matsuoka"}},
		{"query label", store.ActorFilter{Query: "yosuke"}, []string{"actors/yosuke-matsuoka"}},
		{"query alias", store.ActorFilter{Query: "USSR"}, []string{"actors/soviet-union"}},
		{"query description", store.ActorFilter{Query: "roman"}, []string{"actors/julius-caesar", "actors/marcus-junius-brutus"}},
		{"query prefix", store.ActorFilter{Query: "sov*"}, []string{"actors/government-of-the-soviet-union", "actors/soviet-union", "actors/vyacheslav-molotov"}},
		{"query and kind", store.ActorFilter{Query: "soviet", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE}, []string{"actors/soviet-union"}},
		{"kind and wikidata", store.ActorFilter{Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, WikidataID: "Q15180"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 3, 100} {
				var got []string
				p := store.Page{Limit: limit}
				for {
					res, err := s.ListActors(t.Context(), tc.f, p)
					if err != nil {
						t.Fatalf("ListActors(%+v): %v", tc.f, err)
					}
					if len(res.Items) > limit || (res.Next != "" && len(res.Items) == 0) {
						t.Fatalf("bad page: %d items, next %q", len(res.Items), res.Next)
					}
					got = append(got, namesOf(res.Items)...)
					if res.Next == "" {
						break
					}
					p.After = res.Next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("ListActors(%+v) limit %d = %v, want %v", tc.f, limit, got, tc.want)
				}
			}
		})
	}
}

func testListPlaces(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	tests := []struct {
		name string
		f    store.PlaceFilter
		want []string
	}{
		{"all", store.PlaceFilter{}, namesOf(Fixture().Places)},
		{"wikidata", store.PlaceFilter{WikidataID: "Q649"}, []string{"places/moscow"}},
		{"query label", store.PlaceFilter{Query: "москва"}, []string{"places/moscow"}},
		{"query alias with diacritics", store.PlaceFilter{Query: "istanbul"}, []string{"places/constantinople"}},
		{"query description", store.PlaceFilter{Query: "capital"}, []string{"places/constantinople", "places/moscow", "places/rome"}},
		{"query and wikidata", store.PlaceFilter{Query: "capital", WikidataID: "Q220"}, []string{"places/rome"}},
		{"nothing", store.PlaceFilter{Query: "atlantis"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 100} {
				var got []string
				p := store.Page{Limit: limit}
				for {
					res, err := s.ListPlaces(t.Context(), tc.f, p)
					if err != nil {
						t.Fatalf("ListPlaces(%+v): %v", tc.f, err)
					}
					got = append(got, namesOf(res.Items)...)
					if res.Next == "" {
						break
					}
					p.After = res.Next
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("ListPlaces(%+v) limit %d = %v, want %v", tc.f, limit, got, tc.want)
				}
			}
		})
	}
}

func testMatchNames(t *testing.T, open func(*testing.T) store.Store) {
	s, _ := loaded(t, open)
	// A second actor sharing an alias: matches come back sorted.
	extra := &annalsv1.Actor{Name: "actors/japan", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: en("Japan")}
	if _, err := s.Put(t.Context(), &store.Batch{Actors: []*annalsv1.Actor{extra}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		k    resource.Kind
		text string
		want []string
	}{
		{resource.Actors, "Government of the Soviet Union", []string{"actors/government-of-the-soviet-union"}},
		{resource.Actors, "government of Soviet union", []string{"actors/government-of-the-soviet-union"}},
		{resource.Actors, "USSR", []string{"actors/soviet-union"}},
		{resource.Actors, "Yosuke Matsuoka", []string{"actors/yosuke-matsuoka"}},
		{resource.Actors, "Matsuoka Yōsuke", []string{"actors/yosuke-matsuoka"}},
		{resource.Actors, "Japan", []string{"actors/empire-of-japan", "actors/japan"}},
		{resource.Actors, "Moscow", nil},
		{resource.Places, "Moscow", []string{"places/moscow"}},
		{resource.Places, "moskva", []string{"places/moscow"}},
		{resource.Places, "Istanbul", []string{"places/constantinople"}},
		{resource.Places, "Soviet Union", nil},
		{resource.Places, "", nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.k)+"/"+tc.text, func(t *testing.T) {
			got, err := s.MatchNames(t.Context(), tc.k, resource.MatchKey(tc.text))
			if err != nil {
				t.Fatalf("MatchNames: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("MatchNames(%s, %q) = %v, want %v", tc.k, resource.MatchKey(tc.text), got, tc.want)
			}
		})
	}
}

func testWalk(t *testing.T, open func(*testing.T) store.Store) {
	s, b := loaded(t, open)
	ctx := t.Context()
	sorted := func(n []string) []string { n = slices.Clone(n); slices.Sort(n); return n }
	collect := func(walk func(fn func(string) error) error) ([]string, error) {
		var got []string
		err := walk(func(n string) error { got = append(got, n); return nil })
		return got, err
	}
	walks := []struct {
		name string
		want []string
		walk func(fn func(string) error) error
	}{
		{"events", sorted(namesOf(b.Events)), func(fn func(string) error) error {
			return s.WalkEvents(ctx, func(e *annalsv1.Event) error { return fn(e.GetName()) })
		}},
		{"actors", sorted(namesOf(b.Actors)), func(fn func(string) error) error {
			return s.WalkActors(ctx, func(e *annalsv1.Actor) error { return fn(e.GetName()) })
		}},
		{"places", sorted(namesOf(b.Places)), func(fn func(string) error) error {
			return s.WalkPlaces(ctx, func(e *annalsv1.Place) error { return fn(e.GetName()) })
		}},
		{"sources", sorted(namesOf(b.Sources)), func(fn func(string) error) error {
			return s.WalkSources(ctx, func(e *annalsv1.Source) error { return fn(e.GetName()) })
		}},
	}
	for _, w := range walks {
		t.Run(w.name, func(t *testing.T) {
			got, err := collect(w.walk)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, w.want) {
				t.Errorf("walk = %v, want %v", got, w.want)
			}
			stop := errors.New("stop")
			n := 0
			err = w.walk(func(string) error {
				n++
				if n == 2 {
					return stop
				}
				return nil
			})
			if len(w.want) >= 2 && (!errors.Is(err, stop) || n != 2) {
				t.Errorf("walk after fn failed: %v after %d calls; want the error of fn after 2", err, n)
			}
		})
	}
	t.Run("complete records", func(t *testing.T) {
		i := 0
		err := s.WalkEvents(ctx, func(e *annalsv1.Event) error {
			for _, want := range b.Events {
				if want.GetName() == e.GetName() && !proto.Equal(want, e) {
					t.Errorf("walked %s differs from the stored record", e.GetName())
				}
			}
			i++
			return nil
		})
		if err != nil || i != len(b.Events) {
			t.Errorf("WalkEvents: %d records, %v", i, err)
		}
	})
	t.Run("writes from fn", func(t *testing.T) {
		// fn may use the store: a walk holds nothing that blocks a write.
		err := s.WalkPlaces(ctx, func(p *annalsv1.Place) error {
			p = proto.Clone(p).(*annalsv1.Place)
			p.Description += " (walked)"
			_, err := s.Put(ctx, &store.Batch{Places: []*annalsv1.Place{p}})
			return err
		})
		if err != nil {
			t.Fatalf("Put inside WalkPlaces: %v", err)
		}
	})
}

func testStats(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	st, err := s.Stats(ctx)
	if err != nil || st != (store.Stats{}) {
		t.Fatalf("Stats of an empty store = %+v, %v", st, err)
	}
	b := Fixture()
	if _, err := s.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	st, err = s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var latest int64
	for _, ts := range []interface{ GetUpdateTime() *timestamppb.Timestamp }{b.Events[0], b.Actors[0], b.Places[0], b.Sources[0]} {
		latest = max(latest, ts.GetUpdateTime().AsTime().UnixNano())
	}
	want := store.Stats{Events: int64(len(b.Events)), Actors: int64(len(b.Actors)), Places: int64(len(b.Places)), Sources: int64(len(b.Sources)), LastModified: latest}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	// An unchanged write does not move LastModified.
	if _, err := s.Put(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	if st2, err := s.Stats(ctx); err != nil || st2 != st {
		t.Errorf("Stats after an unchanged Put = %+v, %v; want %+v", st2, err, st)
	}
}

func testMeta(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	if v, err := s.Meta(ctx, "dataset_version"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Meta(missing) = %q, %v; want store.ErrNotFound", v, err)
	}
	for _, v := range []string{"1", "2", ""} {
		if err := s.SetMeta(ctx, "dataset_version", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Meta(ctx, "dataset_version"); err != nil || got != v {
			t.Errorf("Meta after SetMeta(%q) = %q, %v", v, got, err)
		}
	}
	if st, _ := s.Stats(ctx); st != (store.Stats{}) {
		t.Errorf("SetMeta changed Stats: %+v", st)
	}
}
