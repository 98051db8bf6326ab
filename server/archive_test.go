package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
)

func TestGet(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testGet(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func TestListEvents(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testListEvents(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func TestListActorsAndPlaces(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testListActorsAndPlaces(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func TestPagingWalksEverythingOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testPagingWalksEverythingOnce(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func TestLargePagesAreCut(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testLargePagesAreCut(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func TestInvalidRequests(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testInvalidRequests(t, newEnv(t, Config{Store: openBackend(t, b)})) })
	}
}

func fixture[T interface {
	proto.Message
	GetName() string
}](xs []T, name string) T {
	for _, x := range xs {
		if x.GetName() == name {
			return x
		}
	}
	panic("no fixture " + name)
}

func testGet(t *testing.T, e *env) {
	ctx := t.Context()
	tests := []struct {
		name string
		call func() (proto.Message, error)
		want proto.Message
	}{
		{"GetEvent pact", func() (proto.Message, error) {
			return e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact})
		}, &annalsv1.GetEventResponse{Event: fixture(fixtureEvents(), pact)}},
		{"GetEvent 44 BC", func() (proto.Message, error) {
			return e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: caesar})
		}, &annalsv1.GetEventResponse{Event: fixture(fixtureEvents(), caesar)}},
		{"GetActor molotov", func() (proto.Message, error) {
			return e.client.GetActor(ctx, &annalsv1.GetActorRequest{Name: molotov})
		}, &annalsv1.GetActorResponse{Actor: fixture(fixtureActors(), molotov)}},
		{"GetPlace moscow", func() (proto.Message, error) {
			return e.client.GetPlace(ctx, &annalsv1.GetPlaceRequest{Name: moscow})
		}, &annalsv1.GetPlaceResponse{Place: fixture(fixturePlaces(), moscow)}},
		{"GetSource pact document", func() (proto.Message, error) {
			return e.client.GetSource(ctx, &annalsv1.GetSourceRequest{Name: pactSource})
		}, &annalsv1.GetSourceResponse{Source: fixture(fixtureSources(), pactSource)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			protoEqual(t, withoutOutputOnly(got), tt.want)
		})
	}

	// The pact as issue 2 describes it.
	got, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact})
	if err != nil {
		t.Fatal(err)
	}
	ev := got.GetEvent()
	if d := ev.GetDate(); d.GetYear() != 1941 || d.GetMonth() != 4 || d.GetDay() != 13 ||
		d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_DAY {
		t.Errorf("pact date = %v", d)
	}
	if !slices.Contains(ev.GetPlaces(), moscow) {
		t.Errorf("pact places = %v", ev.GetPlaces())
	}
	pl, err := e.client.GetPlace(ctx, &annalsv1.GetPlaceRequest{Name: moscow})
	if err != nil || pl.GetPlace().GetWikidataId() != "Q649" {
		t.Errorf("GetPlace(moscow) = %v, %v; want Q649", pl, err)
	}
	ac, err := e.client.GetActor(ctx, &annalsv1.GetActorRequest{Name: molotov})
	if err != nil || ac.GetActor().GetWikidataId() != "Q132899" {
		t.Errorf("GetActor(molotov) = %v, %v; want Q132899", ac, err)
	}
}

func eventNames(evs []*annalsv1.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.GetName())
	}
	return out
}

func year(y int32) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}
}

func testListEvents(t *testing.T, e *env) {
	tests := []struct {
		name string
		req  *annalsv1.ListEventsRequest
		want []string
	}{
		{"all, by date, 44 BC first", &annalsv1.ListEventsRequest{},
			[]string{caesar, khalkhinGol, pact, barbarossa, surrender}},
		{"on this day 13 April", &annalsv1.ListEventsRequest{Month: 4, Day: 13}, []string{pact}},
		{"month of April", &annalsv1.ListEventsRequest{Month: 4}, []string{pact}},
		{"29 February exists", &annalsv1.ListEventsRequest{Month: 2, Day: 29}, nil},
		{"1939 to 1945", &annalsv1.ListEventsRequest{StartDate: year(1939), EndDate: year(1945)},
			[]string{khalkhinGol, pact, barbarossa, surrender}},
		{"end 1945 includes 2 September 1945", &annalsv1.ListEventsRequest{StartDate: year(1945), EndDate: year(1945)},
			[]string{surrender}},
		{"start inside Khalkhin Gol overlaps it", &annalsv1.ListEventsRequest{StartDate: day(1939, 9, 1), EndDate: day(1939, 9, 30)},
			[]string{khalkhinGol}},
		{"44 BC", &annalsv1.ListEventsRequest{EndDate: year(-44)}, []string{caesar}},
		{"actor molotov", &annalsv1.ListEventsRequest{Actor: molotov}, []string{pact}},
		{"place moscow", &annalsv1.ListEventsRequest{Place: moscow}, []string{pact}},
		{"wikidata id", &annalsv1.ListEventsRequest{WikidataId: "Q220602"}, []string{pact}},
		{"query neutrality", &annalsv1.ListEventsRequest{Query: "neutrality"}, []string{pact}},
		{"filters combine with AND", &annalsv1.ListEventsRequest{Actor: molotov, StartDate: year(1942)}, nil},
		{"page size above the maximum is coerced", &annalsv1.ListEventsRequest{PageSize: 5000, Month: 4}, []string{pact}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.client.ListEvents(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := eventNames(resp.GetEvents()); !slices.Equal(got, tt.want) {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
			if resp.GetNextPageToken() != "" {
				t.Errorf("next_page_token = %q on the only page", resp.GetNextPageToken())
			}
		})
	}
}

func TestListEventsStoreFilter(t *testing.T) {
	e := newEnv(t, Config{})
	req := &annalsv1.ListEventsRequest{
		Month: 9, Day: 2, StartDate: &annalsv1.HistoricalDate{Year: 1945, Month: 4, Precision: annalsv1.DatePrecision_DATE_PRECISION_MONTH},
		EndDate: year(1945), Actor: molotov, Place: moscow, WikidataId: "Q1", Query: "japan",
	}
	if _, err := e.client.ListEvents(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	e.store.mu.Lock()
	got, page := e.store.lastEventFilter, e.store.lastPage
	e.store.mu.Unlock()
	want := store.EventFilter{Month: 9, Day: 2, From: 19450401, To: 19451231, HasFrom: true, HasTo: true,
		Actor: molotov, Place: moscow, WikidataID: "Q1", Query: "japan"}
	if got != want {
		t.Errorf("store filter = %+v, want %+v", got, want)
	}
	if page.Limit != DefaultPageSize {
		t.Errorf("page size 0 asked the store for %d, want %d", page.Limit, DefaultPageSize)
	}
	if _, err := e.client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{PageSize: 5000}); err != nil {
		t.Fatal(err)
	}
	e.store.mu.Lock()
	page = e.store.lastPage
	e.store.mu.Unlock()
	if page.Limit != MaxPageSize {
		t.Errorf("page size 5000 asked the store for %d, want %d", page.Limit, MaxPageSize)
	}
}

// TestListEventsInferredPrecision: a date bound without precision takes
// the precision of its most specific field (year, month, day), in either
// era and calendar; one with a precision keeps it.
func TestListEventsInferredPrecision(t *testing.T) {
	e := newEnv(t, Config{})
	hd := func(y, m, d int32) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d}
	}
	tests := []struct {
		name     string
		start    *annalsv1.HistoricalDate
		end      *annalsv1.HistoricalDate
		from, to int64
	}{
		{"year", hd(1939, 0, 0), hd(1945, 0, 0), 19390101, 19451231},
		{"year and month", hd(1941, 4, 0), hd(1941, 4, 0), 19410401, 19410430},
		{"February of a leap year", hd(1940, 2, 0), hd(1940, 2, 0), 19400201, 19400229},
		{"day", hd(1941, 4, 13), hd(1941, 4, 13), 19410413, 19410413},
		{"BCE year (44 BCE is astronomical -43)", hd(-44, 0, 0), hd(-44, 0, 0), -430000 + 101, -430000 + 1231},
		{"BCE day", hd(-44, 3, 15), hd(-44, 3, 15), -430000 + 315, -430000 + 315},
		{"1 BCE to 1 CE", hd(-1, 0, 0), hd(1, 0, 0), 101, 11231},
		{"Julian day, converted", &annalsv1.HistoricalDate{Year: 1582, Month: 10, Day: 5, Calendar: annalsv1.Calendar_CALENDAR_JULIAN}, nil, 15821015, 0},
		{"explicit precision kept", &annalsv1.HistoricalDate{Year: 1941, Precision: annalsv1.DatePrecision_DATE_PRECISION_DECADE}, nil, 19400101, 0},
		{"only an end", nil, hd(1945, 0, 0), 0, 19451231},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{StartDate: tt.start, EndDate: tt.end}); err != nil {
				t.Fatal(err)
			}
			e.store.mu.Lock()
			got := e.store.lastEventFilter
			e.store.mu.Unlock()
			want := store.EventFilter{From: tt.from, HasFrom: tt.start != nil, To: tt.to, HasTo: tt.end != nil}
			if got != want {
				t.Errorf("store filter = %+v, want %+v", got, want)
			}
		})
	}
}

func testListActorsAndPlaces(t *testing.T, e *env) {
	ctx := t.Context()
	actorTests := []struct {
		name string
		req  *annalsv1.ListActorsRequest
		want []string
	}{
		{"all by name", &annalsv1.ListActorsRequest{}, []string{"actors/empire-of-japan", "actors/soviet-union", molotov, matsuoka}},
		{"persons", &annalsv1.ListActorsRequest{Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON}, []string{molotov, matsuoka}},
		{"wikidata id", &annalsv1.ListActorsRequest{WikidataId: "Q132899"}, []string{molotov}},
		{"query", &annalsv1.ListActorsRequest{Query: "japanese"}, []string{matsuoka}},
	}
	for _, tt := range actorTests {
		t.Run("actors/"+tt.name, func(t *testing.T) {
			resp, err := e.client.ListActors(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range resp.GetActors() {
				got = append(got, a.GetName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("actors = %q, want %q", got, tt.want)
			}
		})
	}
	placeTests := []struct {
		name string
		req  *annalsv1.ListPlacesRequest
		want []string
	}{
		{"all by name", &annalsv1.ListPlacesRequest{}, []string{moscow, "places/rome"}},
		{"wikidata id", &annalsv1.ListPlacesRequest{WikidataId: "Q649"}, []string{moscow}},
		{"query", &annalsv1.ListPlacesRequest{Query: "rome"}, []string{"places/rome"}},
	}
	for _, tt := range placeTests {
		t.Run("places/"+tt.name, func(t *testing.T) {
			resp, err := e.client.ListPlaces(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range resp.GetPlaces() {
				got = append(got, p.GetName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("places = %q, want %q", got, tt.want)
			}
		})
	}
}

// walk pages through a List RPC with page_size 1 and returns the names in order.
func walkPages(t *testing.T, list func(token string) ([]string, string, error)) []string {
	t.Helper()
	var names []string
	token := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("paging does not end")
		}
		got, next, err := list(token)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if len(got) != 1 {
			t.Fatalf("page %d has %d items, want 1", i, len(got))
		}
		names = append(names, got...)
		if next == "" {
			return names
		}
		token = next
	}
}

func testPagingWalksEverythingOnce(t *testing.T, e *env) {
	ctx := t.Context()
	t.Run("events", func(t *testing.T) {
		got := walkPages(t, func(token string) ([]string, string, error) {
			resp, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1, PageToken: token})
			return eventNames(resp.GetEvents()), resp.GetNextPageToken(), err
		})
		want := []string{caesar, khalkhinGol, pact, barbarossa, surrender}
		if !slices.Equal(got, want) {
			t.Errorf("walked %q, want %q", got, want)
		}
	})
	t.Run("events filtered", func(t *testing.T) {
		got := walkPages(t, func(token string) ([]string, string, error) {
			resp, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1, PageToken: token, StartDate: year(1941)})
			return eventNames(resp.GetEvents()), resp.GetNextPageToken(), err
		})
		if want := []string{pact, barbarossa, surrender}; !slices.Equal(got, want) {
			t.Errorf("walked %q, want %q", got, want)
		}
	})
	t.Run("actors", func(t *testing.T) {
		got := walkPages(t, func(token string) ([]string, string, error) {
			resp, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{PageSize: 1, PageToken: token})
			var names []string
			for _, a := range resp.GetActors() {
				names = append(names, a.GetName())
			}
			return names, resp.GetNextPageToken(), err
		})
		if len(got) != len(fixtureActors()) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
			t.Errorf("walked %q", got)
		}
	})
	t.Run("places", func(t *testing.T) {
		got := walkPages(t, func(token string) ([]string, string, error) {
			resp, err := e.client.ListPlaces(ctx, &annalsv1.ListPlacesRequest{PageSize: 1, PageToken: token})
			var names []string
			for _, p := range resp.GetPlaces() {
				names = append(names, p.GetName())
			}
			return names, resp.GetNextPageToken(), err
		})
		if want := []string{moscow, "places/rome"}; !slices.Equal(got, want) {
			t.Errorf("walked %q, want %q", got, want)
		}
	})
	t.Run("page size may change between pages", func(t *testing.T) {
		first, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		rest, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 10, PageToken: first.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(rest.GetEvents()); got != 4 || rest.GetNextPageToken() != "" {
			t.Errorf("second page has %d events and token %q", got, rest.GetNextPageToken())
		}
	})
}

func testLargePagesAreCut(t *testing.T, e *env) {
	// The pact, the largest event, just fits in a response on its own.
	e.srv.archive.maxPageBytes = proto.Size(fixture(fixtureEvents(), pact)) + 16
	ctx := t.Context()
	var all []string
	token := ""
	for i := 0; i < 10; i++ {
		resp, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(resp.GetEvents()); n == 0 || n >= 5 {
			t.Fatalf("page %d has %d events; want a page cut short but not empty", i, n)
		}
		all = append(all, eventNames(resp.GetEvents())...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if want := []string{caesar, khalkhinGol, pact, barbarossa, surrender}; !slices.Equal(all, want) {
		t.Errorf("walked %q, want %q", all, want)
	}
}

func testInvalidRequests(t *testing.T, e *env) {
	ctx := t.Context()

	page1, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1})
	if err != nil || page1.GetNextPageToken() == "" {
		t.Fatalf("ListEvents page 1: %v, %v", page1, err)
	}
	token := page1.GetNextPageToken()
	tampered := []byte(token)
	if tampered[5] == 'A' {
		tampered[5] = 'B'
	} else {
		tampered[5] = 'A'
	}
	actorsPage, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{PageSize: 1})
	if err != nil || actorsPage.GetNextPageToken() == "" {
		t.Fatalf("ListActors page 1: %v, %v", actorsPage, err)
	}
	// A token this server made, with a cursor the store does not know.
	forged := encodePageToken("fake:events/no-such-event", queryFingerprint(&annalsv1.ListEventsRequest{}))

	invalid := func(msg string, fields ...string) wantErr {
		return wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: fields, msg: msg}
	}
	badToken := func(msg string) wantErr {
		return wantErr{code: codes.InvalidArgument, reason: ReasonInvalidPageToken, fields: []string{"page_token"}, msg: msg}
	}
	notFound := func(msg string) wantErr {
		return wantErr{code: codes.NotFound, reason: ReasonNotFound, msg: msg}
	}
	tests := []struct {
		name string
		call func() error
		want wantErr
	}{
		{"unknown event", func() error {
			_, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/x"})
			return err
		}, notFound(`event "events/x" not found`)},
		{"unknown actor", func() error {
			_, err := e.client.GetActor(ctx, &annalsv1.GetActorRequest{Name: "actors/nobody"})
			return err
		}, notFound(`actor "actors/nobody" not found`)},
		{"unknown place", func() error {
			_, err := e.client.GetPlace(ctx, &annalsv1.GetPlaceRequest{Name: "places/atlantis"})
			return err
		}, notFound(`place "places/atlantis" not found`)},
		{"unknown source", func() error {
			_, err := e.client.GetSource(ctx, &annalsv1.GetSourceRequest{Name: "sources/0000000000000000"})
			return err
		}, notFound(`source "sources/0000000000000000" not found`)},
		{"empty name", func() error {
			_, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{})
			return err
		}, invalid("required", "name")},
		{"malformed event name", func() error {
			_, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "Soviet–Japanese Neutrality Pact"})
			return err
		}, invalid("malformed resource name", "name")},
		{"event name in another collection", func() error {
			_, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: molotov})
			return err
		}, invalid("want", "name")},
		{"malformed actor name", func() error {
			_, err := e.client.GetActor(ctx, &annalsv1.GetActorRequest{Name: "actors/Vyacheslav Molotov"})
			return err
		}, invalid("malformed", "name")},
		{"malformed place name", func() error {
			_, err := e.client.GetPlace(ctx, &annalsv1.GetPlaceRequest{Name: "places/"})
			return err
		}, invalid("malformed", "name")},
		{"malformed source name", func() error {
			_, err := e.client.GetSource(ctx, &annalsv1.GetSourceRequest{Name: "sources/--"})
			return err
		}, invalid("malformed", "name")},
		{"negative page size", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: -1})
			return err
		}, invalid("negative", "page_size")},
		{"negative page size of actors", func() error {
			_, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{PageSize: -5})
			return err
		}, invalid("negative", "page_size")},
		{"negative page size of places", func() error {
			_, err := e.client.ListPlaces(ctx, &annalsv1.ListPlacesRequest{PageSize: -5})
			return err
		}, invalid("negative", "page_size")},
		{"month 13", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: 13})
			return err
		}, invalid("month 13", "month")},
		{"day 31 of April", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: 4, Day: 31})
			return err
		}, invalid("April", "day")},
		{"day 30 of February", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: 2, Day: 30})
			return err
		}, invalid("February", "day")},
		{"day without month", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Day: 13})
			return err
		}, invalid("needs month", "day")},
		{"day 32", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: 1, Day: 32})
			return err
		}, invalid("1-31", "day")},
		{"start month 13", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{StartDate: &annalsv1.HistoricalDate{
				Year: 1941, Month: 13, Day: 1, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}})
			return err
		}, invalid("month 13", "start_date.month")},
		{"end date year 0", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{EndDate: &annalsv1.HistoricalDate{
				Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}})
			return err
		}, invalid("year 0", "end_date.year")},
		{"end date without precision: a day without a month", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{EndDate: &annalsv1.HistoricalDate{Year: 1945, Day: 3}})
			return err
		}, invalid("month 0", "end_date.month")},
		{"start after end", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{StartDate: year(1945), EndDate: year(1939)})
			return err
		}, invalid("before start_date", "end_date")},
		{"malformed actor filter", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Actor: "Molotov"})
			return err
		}, invalid("malformed", "actor")},
		{"place filter naming an actor", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Place: molotov})
			return err
		}, invalid("places", "place")},
		{"bad wikidata id", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{WikidataId: "Q0649"})
			return err
		}, invalid("Wikidata", "wikidata_id")},
		{"bad wikidata id of actors", func() error {
			_, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{WikidataId: "132899"})
			return err
		}, invalid("Wikidata", "wikidata_id")},
		{"bad wikidata id of places", func() error {
			_, err := e.client.ListPlaces(ctx, &annalsv1.ListPlacesRequest{WikidataId: "q649"})
			return err
		}, invalid("Wikidata", "wikidata_id")},
		{"unknown actor kind", func() error {
			_, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{Kind: 99})
			return err
		}, invalid("kind", "kind")},
		{"query too long", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Query: strings.Repeat("pact ", 101)})
			return err
		}, invalid("limit", "query")},
		{"query with nothing to search for", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Query: "*"})
			return err
		}, wantErr{code: codes.InvalidArgument, reason: ReasonInvalidQuery, fields: []string{"query"}, msg: "query"}},
		{"every violation at once", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{
				PageSize: -1, Month: 13, Day: 40, Actor: "x", Place: "y", WikidataId: "Z1",
				StartDate: &annalsv1.HistoricalDate{Year: 1941, Month: 2, Day: 30, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY},
				EndDate:   &annalsv1.HistoricalDate{Year: 0, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
			})
			return err
		}, invalid("month", "page_size", "month", "day", "start_date.day", "end_date.year", "actor", "place", "wikidata_id")},
		{"garbage page token", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageToken: "not a token!"})
			return err
		}, badToken("not a token this server issued")},
		{"base64 garbage page token", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageToken: "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
			return err
		}, badToken("not a token this server issued")},
		{"tampered page token", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1, PageToken: string(tampered)})
			return err
		}, badToken("not a token this server issued")},
		{"truncated page token", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1, PageToken: token[:len(token)-2]})
			return err
		}, badToken("not a token this server issued")},
		{"token reused with other filters", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1, PageToken: token, Month: 4})
			return err
		}, badToken("page_token was made for a different query")},
		{"events token used for actors", func() error {
			_, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{PageSize: 1, PageToken: token})
			return err
		}, badToken("page_token was made for a different query")},
		{"actors token reused with another kind", func() error {
			_, err := e.client.ListActors(ctx, &annalsv1.ListActorsRequest{PageToken: actorsPage.GetNextPageToken(),
				Kind: annalsv1.ActorKind_ACTOR_KIND_STATE})
			return err
		}, badToken("page_token was made for a different query")},
		{"token with a cursor the store refuses", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageToken: forged})
			return err
		}, badToken("page_token is no longer valid")},
		{"bad filter and bad token: the filter is reported", func() error {
			_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: 13, PageToken: "garbage"})
			return err
		}, invalid("month", "month")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.call(), tt.want)
		})
	}

	// The NotFound names the resource in a ResourceInfo too.
	_, err = e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/x"})
	var found bool
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(interface{ GetResourceName() string }); ok && ri.GetResourceName() == "events/x" {
			found = true
		}
	}
	if !found {
		t.Errorf("NotFound has no ResourceInfo for events/x: %v", status.Convert(err).Details())
	}
}

func TestStoreFailures(t *testing.T) {
	tests := []struct {
		name  string
		store *brokenStore
		want  wantErr
	}{
		{"panic", &brokenStore{fakeStore: newFakeStore(), panic: true},
			wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"}},
		{"unknown error", &brokenStore{fakeStore: newFakeStore(), err: errors.New("disk I/O error")},
			wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"}},
		{"canceled", &brokenStore{fakeStore: newFakeStore(), err: context.Canceled},
			wantErr{code: codes.Canceled, reason: ReasonCanceled, msg: "canceled"}},
		{"deadline", &brokenStore{fakeStore: newFakeStore(), err: context.DeadlineExceeded},
			wantErr{code: codes.DeadlineExceeded, reason: ReasonDeadlineExceeded, msg: "time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Store: tt.store})
			ctx := metadata.AppendToOutgoingContext(t.Context(), RequestIDHeader, "req-"+strings.ReplaceAll(tt.name, " ", "-"))
			_, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact})
			checkErr(t, err, tt.want)
			msg := status.Convert(err).Message()
			if tt.want.code == codes.Internal {
				if msg != "internal error" {
					t.Errorf("message %q, want exactly \"internal error\"", msg)
				}
				logs := e.logs.String()
				if !strings.Contains(logs, "req-"+strings.ReplaceAll(tt.name, " ", "-")) {
					t.Errorf("the log does not carry the request id:\n%s", logs)
				}
				if tt.store.panic && (!strings.Contains(logs, "goroutine") || !strings.Contains(logs, "fakestore_test.go")) {
					t.Errorf("the panic's stack is not in the log:\n%s", logs)
				}
				if tt.store.err != nil && !strings.Contains(logs, "disk I/O error") {
					t.Errorf("the error's detail is not in the log:\n%s", logs)
				}
				var id string
				for _, d := range status.Convert(err).Details() {
					if ri, ok := d.(*errdetails.RequestInfo); ok {
						id = ri.GetRequestId()
					}
				}
				if want := "req-" + strings.ReplaceAll(tt.name, " ", "-"); id != want {
					t.Errorf("RequestInfo.request_id = %q, want %q", id, want)
				}
			}
			for _, leak := range []string{"goroutine", ".go:", "sqlite", "SELECT", "/var/lib", "nil map"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q leaks %q", msg, leak)
				}
			}
		})
	}

	t.Run("list error", func(t *testing.T) {
		e := newEnv(t, Config{Store: &brokenStore{fakeStore: newFakeStore(), err: errors.New("SQL logic error near \"MATCH\"")}})
		_, err := e.client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{})
		checkErr(t, err, wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"})
		if strings.Contains(status.Convert(err).Message(), "SQL") {
			t.Errorf("message leaks SQL: %v", err)
		}
	})

	t.Run("the server keeps serving after a panic", func(t *testing.T) {
		st := &brokenStore{fakeStore: newFakeStore(), panic: true}
		e := newEnv(t, Config{Store: st})
		_, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: pact})
		checkErr(t, err, wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"})
		if _, err := e.client.GetActor(t.Context(), &annalsv1.GetActorRequest{Name: molotov}); err != nil {
			t.Errorf("GetActor after a panic: %v", err)
		}
	})
}

func TestRequestLogging(t *testing.T) {
	e := newEnv(t, Config{})
	var header metadata.MD
	ctx := metadata.AppendToOutgoingContext(t.Context(), RequestIDHeader, "trace-123")
	if _, err := e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get(RequestIDHeader); !slices.Equal(got, []string{"trace-123"}) {
		t.Errorf("response x-request-id = %q, want the client's", got)
	}
	_, _ = e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: "events/x"}, grpc.Header(&header))
	if got := header.Get(RequestIDHeader); len(got) != 1 || len(got[0]) != 32 {
		t.Errorf("generated x-request-id = %q, want 32 hex digits", got)
	}
	logs := e.logs.String()
	for _, want := range []string{
		`"method":"/annals.v1.ArchiveService/GetEvent"`, `"code":"OK"`, `"code":"NotFound"`,
		`"request_id":"trace-123"`, `"duration_ms":`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "Soviet") {
		t.Errorf("log contains a payload:\n%s", logs)
	}
}

func TestDefaultDeadline(t *testing.T) {
	tests := []struct {
		name    string
		timeout int64 // Config.DefaultTimeout in ns: 0 default, <0 none
		client  bool  // the client sets a deadline
		want    bool
	}{
		{"default applies", 0, false, true},
		{"none configured", -1, false, false},
		{"client deadline kept", -1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{DefaultTimeout: time.Duration(tt.timeout)})
			ctx := t.Context()
			if tt.client {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 1<<40)
				defer cancel()
			}
			if _, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{}); err != nil {
				t.Fatal(err)
			}
			e.store.mu.Lock()
			got := e.store.lastHadDeadline
			e.store.mu.Unlock()
			if got != tt.want {
				t.Errorf("store saw a deadline: %v, want %v", got, tt.want)
			}
		})
	}
}

// importCall records what the fake importer received.
type importCall struct {
	filename string
	text     string
	opts     ingest.Options
}

func TestImportDocument(t *testing.T) {
	report := &ingest.Report{
		Event:  pact,
		Source: pactSource,
		Changes: []store.Change{
			{Name: pact, Kind: annalsv1.ChangeKind_CHANGE_KIND_CREATED},
			{Name: moscow, Kind: annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED},
		},
		Warnings: []string{`"Tatekawa" matched no known actor`},
	}
	var (
		mu        sync.Mutex // guards calls and importErr, shared with the server's goroutines
		calls     []importCall
		importErr error
	)
	importer := func(ctx context.Context, st store.Store, filename string, text []byte, opts ingest.Options) (*ingest.Report, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, importCall{filename, string(text), opts})
		if importErr != nil {
			return nil, importErr
		}
		return report, nil
	}
	lastCalls := func() []importCall {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
	setImport := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		calls, importErr = nil, err
	}
	e := newEnv(t, Config{Import: importer, ImportToken: testToken})
	ctx := t.Context()
	doc := &annalsv1.ImportDocumentRequest{Text: "April 13, 1941\nThe pact.\n", Filename: "000.txt"}

	resp, err := e.client.ImportDocument(withToken(ctx, testToken), doc)
	if err != nil {
		t.Fatal(err)
	}
	protoEqual(t, resp, &annalsv1.ImportDocumentResponse{
		Event:  pact,
		Source: pactSource,
		Changes: []*annalsv1.Change{
			{Name: pact, Kind: annalsv1.ChangeKind_CHANGE_KIND_CREATED},
			{Name: moscow, Kind: annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED},
		},
		Warnings: report.Warnings,
	})
	if got := lastCalls(); len(got) != 1 || got[0].filename != "000.txt" || got[0].text != doc.Text || got[0].opts.DryRun || got[0].opts.Amend != nil || !got[0].opts.ImportTime.IsZero() {
		t.Errorf("importer calls = %+v, want one of 000.txt with default options", got)
	}

	setImport(nil)
	if _, err := e.client.ImportDocument(withToken(ctx, testToken), &annalsv1.ImportDocumentRequest{Text: doc.Text, ValidateOnly: true}); err != nil {
		t.Fatal(err)
	}
	if calls := lastCalls(); len(calls) != 1 || !calls[0].opts.DryRun {
		t.Errorf("validate_only: importer calls = %+v, want one dry run", calls)
	}

	unauth := wantErr{code: codes.Unauthenticated, reason: ReasonUnauthenticated, msg: "Bearer"}
	tests := []struct {
		name      string
		ctx       context.Context
		req       *annalsv1.ImportDocumentRequest
		importErr error
		want      wantErr
	}{
		{"no token", ctx, doc, nil, unauth},
		{"wrong token", withToken(ctx, "guess"), doc, nil, wantErr{code: codes.Unauthenticated, reason: ReasonUnauthenticated, msg: "not the import token"}},
		{"token prefix", withToken(ctx, testToken[:5]), doc, nil, wantErr{code: codes.Unauthenticated, reason: ReasonUnauthenticated, msg: "not the import token"}},
		{"basic auth", metadata.AppendToOutgoingContext(ctx, "authorization", "Basic "+testToken), doc, nil, unauth},
		{"two tokens", metadata.AppendToOutgoingContext(withToken(ctx, testToken), "authorization", "Bearer "+testToken), doc, nil, unauth},
		{"empty text", withToken(ctx, testToken), &annalsv1.ImportDocumentRequest{}, nil,
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"text"}, msg: "required"}},
		{"text too large", withToken(ctx, testToken), &annalsv1.ImportDocumentRequest{Text: strings.Repeat("x", ingest.MaxDocumentBytes+1)}, nil,
			wantErr{code: codes.InvalidArgument, reason: ReasonDocumentTooLarge, fields: []string{"text"}, msg: "limit"}},
		{"control characters in filename", withToken(ctx, testToken), &annalsv1.ImportDocumentRequest{Text: "x", Filename: "a\nb"}, nil,
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"filename"}, msg: "control"}},
		{"parse error", withToken(ctx, testToken), doc,
			&ingest.ParseError{File: "000.txt", Line: 3, Msg: `want "Place, Country | Actor, Actor"`},
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidDocument, fields: []string{"text"}, msg: `line 3: want "Place, Country | Actor, Actor"`}},
		{"too large for the parser", withToken(ctx, testToken), doc,
			&ingest.ParseError{File: "000.txt", Msg: "document is larger than 1 MiB", Err: ingest.ErrTooLarge},
			wantErr{code: codes.InvalidArgument, reason: ReasonDocumentTooLarge, fields: []string{"text"}, msg: "larger"}},
		{"read-only archive", withToken(ctx, testToken), doc, fmt.Errorf("sqlite: commit: %w", store.ErrReadOnly),
			wantErr{code: codes.Unavailable, reason: ReasonReadOnly, msg: "read-only"}},
		{"importer fails", withToken(ctx, testToken), doc, errors.New("sqlite: UNIQUE constraint failed: events.name"),
			wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setImport(tt.importErr)
			_, err := e.client.ImportDocument(tt.ctx, tt.req)
			checkErr(t, err, tt.want)
			if tt.want.code == codes.Unauthenticated && len(lastCalls()) != 0 {
				t.Errorf("the importer ran for an unauthenticated call")
			}
			if strings.Contains(status.Convert(err).Message(), "UNIQUE") {
				t.Errorf("message leaks the backend: %v", err)
			}
		})
	}
	if strings.Contains(e.logs.String(), testToken[:8]) {
		t.Errorf("the token is in the log:\n%s", e.logs)
	}

	t.Run("parse error names the line in the field violation", func(t *testing.T) {
		setImport(&ingest.ParseError{Line: 7, Msg: "want a date line"})
		_, err := e.client.ImportDocument(withToken(ctx, testToken), doc)
		_, br := details(status.Convert(err))
		if v := br.GetFieldViolations(); len(v) != 1 || v[0].GetDescription() != "line 7: want a date line" {
			t.Errorf("violations = %v", v)
		}
	})
}

func TestImportsDisabled(t *testing.T) {
	var called atomic.Bool
	importer := func(context.Context, store.Store, string, []byte, ingest.Options) (*ingest.Report, error) {
		called.Store(true)
		return &ingest.Report{}, nil
	}
	t.Run("no token configured", func(t *testing.T) {
		e := newEnv(t, Config{Import: importer})
		_, err := e.client.ImportDocument(withToken(t.Context(), "anything"), &annalsv1.ImportDocumentRequest{Text: "x"})
		checkErr(t, err, wantErr{code: codes.PermissionDenied, reason: ReasonImportsDisabled, msg: "ANNALS_IMPORT_TOKEN"})
		if called.Load() {
			t.Error("the importer ran")
		}
	})
	t.Run("no importer", func(t *testing.T) {
		e := newEnv(t, Config{ImportToken: testToken})
		_, err := e.client.ImportDocument(withToken(t.Context(), testToken), &annalsv1.ImportDocumentRequest{Text: "x"})
		checkErr(t, err, wantErr{code: codes.Unimplemented, reason: ReasonImportsUnavailable, msg: "not available"})
	})
	t.Run("reads need no token", func(t *testing.T) {
		e := newEnv(t, Config{Import: importer})
		if _, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: pact}); err != nil {
			t.Error(err)
		}
	})
}

func TestImportOfLargestDocument(t *testing.T) {
	var got atomic.Int64
	importer := func(_ context.Context, _ store.Store, _ string, text []byte, _ ingest.Options) (*ingest.Report, error) {
		got.Store(int64(len(text)))
		return &ingest.Report{Event: pact}, nil
	}
	e := newEnv(t, Config{Import: importer, ImportToken: testToken})
	text := strings.Repeat("é", ingest.MaxDocumentBytes/2)
	if _, err := e.client.ImportDocument(withToken(t.Context(), testToken), &annalsv1.ImportDocumentRequest{Text: text}); err != nil {
		t.Fatal(err)
	}
	if got.Load() != ingest.MaxDocumentBytes {
		t.Errorf("the importer got %d bytes, want %d", got.Load(), ingest.MaxDocumentBytes)
	}
}
