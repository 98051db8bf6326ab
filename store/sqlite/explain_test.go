package sqlite_test

import (
	"fmt"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"regexp"
	"testing"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/storetest"
)

// scanEvents matches a plan step that reads the whole events table, in any
// order: "SCAN events" or "SCAN events USING [COVERING] INDEX ...".
var scanEvents = regexp.MustCompile(`(?m)\bSCAN events\b(?:\s|$)`)

// TestPlansUseIndexes proves that every filter on its own, and some
// combinations, find their events through an index rather than by reading
// the events table from end to end.
func TestPlansUseIndexes(t *testing.T) {
	s := openTemp(t)
	if _, err := s.Put(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.EventFilter
		next bool           // the plan of a page after the first
		want *regexp.Regexp // a step the plan must have
	}{
		{"month and day", store.EventFilter{Month: 4, Day: 13}, false, regexp.MustCompile(`SEARCH events USING INDEX events_by_month_day \(month=\? AND day=\?\)`)},
		{"month and day, next", store.EventFilter{Month: 4, Day: 13}, true, regexp.MustCompile(`SEARCH events USING INDEX events_by_month_day \(month=\? AND day=\? AND \(date_lo,name\)>`)},
		{"month", store.EventFilter{Month: 4}, true, regexp.MustCompile(`SEARCH events USING INDEX events_by_month_day \(month=\?`)},
		// A range with a start is two walks merged in order: short events
		// through events_by_start, long ones through events_by_start_long.
		{"range", store.EventFilter{From: 19410101, To: 19411231, HasFrom: true, HasTo: true}, false,
			regexp.MustCompile(`(?s)MERGE \(UNION ALL\).*SEARCH events USING INDEX events_by_start \(date_lo>\? AND date_lo<\?\).*SEARCH events USING INDEX events_by_start_long \(date_lo>\? AND date_lo<\?\)`)},
		{"range, next", store.EventFilter{From: 19410101, To: 19411231, HasFrom: true, HasTo: true}, true,
			regexp.MustCompile(`(?s)SEARCH events USING INDEX events_by_start \(\(date_lo,name\)>\(\?,\?\) AND date_lo<\?\).*SEARCH events USING INDEX events_by_start_long \(\(date_lo,name\)>\(\?,\?\) AND date_lo<\?\)`)},
		{"only From", store.EventFilter{From: 19410101, HasFrom: true}, false,
			regexp.MustCompile(`(?s)SEARCH events USING INDEX events_by_start \(date_lo>\?\).*SEARCH events USING INDEX events_by_start_long \(date_lo>\?\)`)},
		{"only From, next", store.EventFilter{From: 19410101, HasFrom: true}, true,
			regexp.MustCompile(`(?s)SEARCH events USING INDEX events_by_start \(\(date_lo,name\)>\(\?,\?\)\).*SEARCH events USING INDEX events_by_start_long \(\(date_lo,name\)>\(\?,\?\)\)`)},
		{"only To", store.EventFilter{To: 19410101, HasTo: true}, false, regexp.MustCompile(`SEARCH events USING INDEX events_by_start \(date_lo<\?\)`)},
		{"actor", store.EventFilter{Actor: "actors/soviet-union"}, true, regexp.MustCompile(`SEARCH event_actor USING PRIMARY KEY \(actor=\?`)},
		{"place", store.EventFilter{Place: "places/moscow"}, true, regexp.MustCompile(`SEARCH event_place USING PRIMARY KEY \(place=\?`)},
		{"wikidata", store.EventFilter{WikidataID: "Q83055"}, true, regexp.MustCompile(`SEARCH events USING INDEX events_by_wikidata_id \(wikidata_id=\?\)`)},
		{"query", store.EventFilter{Query: "pact"}, false, ftsWalk},
		{"query, next", store.EventFilter{Query: "pact"}, true, seekFTS(">")},
		{"query and range", store.EventFilter{Query: "pact", From: 19410101, To: 19411231, HasFrom: true, HasTo: true}, false, seekFTS("><")},
		{"actor and range", store.EventFilter{Actor: "actors/soviet-union", From: 19410101, HasFrom: true}, false, regexp.MustCompile(`SEARCH event_actor USING PRIMARY KEY \(actor=\? AND date_lo>\?\)`)},
		{"actor and range, next", store.EventFilter{Actor: "actors/soviet-union", From: 19410101, HasFrom: true}, true, regexp.MustCompile(`SEARCH event_actor USING PRIMARY KEY \(actor=\? AND \(date_lo,name\)>\(\?,\?\)\)`)},
		{"actor and place", store.EventFilter{Actor: "actors/soviet-union", Place: "places/moscow"}, true, regexp.MustCompile(`SEARCH x EXISTS USING COVERING INDEX event_place_by_event \(event_id=\? AND place=\?\)`)},
		{"no filter", store.EventFilter{}, true, regexp.MustCompile(`SEARCH events USING INDEX events_by_start \(\(date_lo,name\)>\(\?,\?\)\)`)},
		{"query and month", store.EventFilter{Query: "pact", Month: 4}, true, seekFTS(">")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := s.ExplainListEvents(t.Context(), tc.f, tc.next)
			if err != nil {
				t.Fatal(err)
			}
			if scanEvents.MatchString(plan) {
				t.Errorf("plan for %+v reads the whole events table:\n%s", tc.f, plan)
			}
			if tc.f.Query != "" && tempSort.MatchString(plan) {
				t.Errorf("plan for %+v sorts the matches of its query:\n%s", tc.f, plan)
			}
			if !tc.want.MatchString(plan) {
				t.Errorf("plan for %+v lacks %q:\n%s", tc.f, tc.want, plan)
			}
			if testing.Verbose() {
				t.Logf("%+v:\n%s", tc.f, plan)
			}
		})
	}
}

// ftsWalk matches a plan driven by the full-text index in the order of its
// rowids, the events' order keys: the postings of the query, then each
// match's key and row by rowid. seekFTS matches one whose walk starts
// (">") or stops ("<") at a bound on the rowid.
var (
	ftsWalk = regexp.MustCompile(`(?s)SCAN events_fts VIRTUAL TABLE INDEX \d+:M\d[<>]*\n.*SEARCH event_order USING INTEGER PRIMARY KEY \(rowid=\?\)\nSEARCH events USING INTEGER PRIMARY KEY \(rowid=\?\)`)
	seekFTS = func(bounds string) *regexp.Regexp {
		return regexp.MustCompile(`SCAN events_fts VIRTUAL TABLE INDEX \d+:M\d` + bounds + `\n`)
	}
	tempSort = regexp.MustCompile(`TEMP B-TREE`)
)

// TestDenseQueryPlan: a full-text query, alone or with an end date, is a
// walk of the full-text index in the order of its rowids (the events'
// order keys), whatever the number of matches: no sort, and a later page
// seeks its position in the postings. With another filter, a query that
// matches many events is a test of each event the other filter's index
// passes in date order against the set of matches; one that matches few
// is driven by the full-text index.
func TestDenseQueryPlan(t *testing.T) {
	s := openTemp(t)
	b := &store.Batch{}
	for i := range 120 {
		summary := "a rare event"
		if i%2 == 0 {
			summary = "a common event"
		}
		b.Events = append(b.Events, &annalsv1.Event{
			Name: fmt.Sprintf("events/e-%03d", i), Labels: []*annalsv1.Label{{Language: "en", Value: fmt.Sprint("E ", i)}},
			Summary: summary, Date: &annalsv1.HistoricalDate{Year: int32(1000 + i), Month: 4, Day: 13, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY},
			Participants: []*annalsv1.Participant{{Actor: "actors/a"}},
		})
	}
	if _, err := s.Put(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.EventFilter
		next bool
		want []*regexp.Regexp
	}{
		{"common word", store.EventFilter{Query: "common"}, false, []*regexp.Regexp{ftsWalk, seekFTS("")}},
		{"common word, next", store.EventFilter{Query: "common"}, true, []*regexp.Regexp{ftsWalk, seekFTS(">")}},
		{"common word, end date", store.EventFilter{Query: "common", To: 10700101, HasTo: true}, false, []*regexp.Regexp{ftsWalk, seekFTS("<")}},
		{"common word, end date, next", store.EventFilter{Query: "common", To: 10700101, HasTo: true}, true, []*regexp.Regexp{ftsWalk, seekFTS("><")}},
		{"absent word", store.EventFilter{Query: "absent"}, false, []*regexp.Regexp{ftsWalk}},
		{"rare word from a date", store.EventFilter{Query: "7", From: 10500101, HasFrom: true}, true, []*regexp.Regexp{ftsWalk, seekFTS(">")}},
		{"common word from a date", store.EventFilter{Query: "common", From: 10500101, HasFrom: true}, false,
			[]*regexp.Regexp{regexp.MustCompile(`SEARCH events USING INDEX events_by_start\b`), regexp.MustCompile(`LIST SUBQUERY`)}},
		{"common word, on this day", store.EventFilter{Query: "common", Month: 4, Day: 13}, false,
			[]*regexp.Regexp{regexp.MustCompile(`SEARCH events USING INDEX events_by_month_day \(month=\? AND day=\?\)`), regexp.MustCompile(`LIST SUBQUERY`)}},
		{"common word, actor", store.EventFilter{Query: "common", Actor: "actors/a"}, true,
			[]*regexp.Regexp{regexp.MustCompile(`SEARCH event_actor USING PRIMARY KEY \(actor=\?`), regexp.MustCompile(`LIST SUBQUERY`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := s.ExplainListEvents(t.Context(), tc.f, tc.next)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range tc.want {
				if !re.MatchString(plan) {
					t.Errorf("plan for %+v lacks %q:\n%s", tc.f, re, plan)
				}
			}
			if tempSort.MatchString(plan) || scanEvents.MatchString(plan) {
				t.Errorf("plan for %+v sorts or reads the whole events table:\n%s", tc.f, plan)
			}
		})
	}
}
