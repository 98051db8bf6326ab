package exporter

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knakk/rdf"

	"github.com/annals-project/annals/data"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

// Regression tests of statements the exporter once made wrongly (issue 11):
// each maps a record and looks for what must, and must not, be said.

// about returns the objects of s p in ts, as N-Triples terms.
func about(ts []rdf.Triple, s string, p rdf.IRI) []string {
	var out []string
	for _, t := range ts {
		if t.Subj.String() == s && t.Pred == p {
			out = append(out, ntTerm(t.Obj))
		}
	}
	return out
}

func ntTerm(o rdf.Object) string { return o.Serialize(rdf.NTriples) }

func eventTriples(t *testing.T, e *annalsv1.Event) []rdf.Triple {
	t.Helper()
	ts, err := newExporter(t).EventTriples(e)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

const xsdNS = "http://www.w3.org/2001/XMLSchema#"

// TestPointEventHasNoEnd: a point event gets wdt:P585 and no end at all (it
// once got sem:hasEndTimeStamp equal to its start).
func TestPointEventHasNoEnd(t *testing.T) {
	e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1941, 4, 13)}
	ts := eventTriples(t, e)
	s := newExporter(t).IRI(e.Name)
	if got := about(ts, s, wdtPointInTime); len(got) != 1 {
		t.Errorf("wdt:P585 = %v, want one", got)
	}
	for _, p := range []rdf.IRI{semHasEndTimeStamp, schemaEndDate, wdtEndTime, wdtStartTime, semEarliestEnd, semLatestEnd, annalsEndDateValue, annalsEndUnknown} {
		if got := about(ts, s, p); len(got) > 0 {
			t.Errorf("a point event has %s %v", p, got)
		}
	}
}

// TestUnknownEndIsASpan: an event with a start and an unknown end (the
// Soviet–Japanese War) is a span with a start time, never a point in time,
// and no end is stated.
func TestUnknownEndIsASpan(t *testing.T) {
	x := newExporter(t)
	e := &annalsv1.Event{Name: "events/soviet-japanese-war", Labels: []*annalsv1.Label{lbl("en", "Soviet–Japanese War")}, Date: day(1945, 8, 9), EndUnknown: true}
	ts := eventTriples(t, e)
	s := x.IRI(e.Name)
	if got := about(ts, s, wdtStartTime); len(got) != 1 || got[0] != `"1945-08-09T00:00:00Z"^^<`+xsdNS+`dateTime>` {
		t.Errorf("wdt:P580 = %v", got)
	}
	if got := about(ts, s, x.vocab(annalsEndUnknown)); len(got) != 1 || got[0] != `"true"^^<`+xsdNS+`boolean>` {
		t.Errorf("annals:endUnknown = %v", got)
	}
	for _, p := range []rdf.IRI{wdtPointInTime, wdtEndTime, semHasEndTimeStamp, schemaEndDate, semEarliestEnd, semLatestEnd, x.vocab(annalsEndDateValue)} {
		if got := about(ts, s, p); len(got) > 0 {
			t.Errorf("an event with an unknown end has %s %v", p, got)
		}
	}
}

// TestSpanHasStartAndEnd: an event with an end date is a span: wdt:P580 and
// wdt:P582, bounds of both ends, no point in time.
func TestSpanHasStartAndEnd(t *testing.T) {
	e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1939, 5, 11), EndDate: day(1939, 9, 16)}
	ts := eventTriples(t, e)
	s := newExporter(t).IRI(e.Name)
	for p, want := range map[rdf.IRI]string{
		wdtStartTime:   "1939-05-11T00:00:00Z",
		wdtEndTime:     "1939-09-16T00:00:00Z",
		semEarliestEnd: "1939-09-16T00:00:00Z",
		semLatestEnd:   "1939-09-16T23:59:59Z",
	} {
		if got := about(ts, s, p); len(got) != 1 || got[0] != `"`+want+`"^^<`+xsdNS+`dateTime>` {
			t.Errorf("%s = %v, want %s", p, got, want)
		}
	}
	if got := about(ts, s, wdtPointInTime); len(got) > 0 {
		t.Errorf("a span has wdt:P585 %v", got)
	}
}

// TestCoarseDatesAreBounds: the 1940s are not the year 1940 nor 1 January
// 1940: no XSD year, no truthy date, but bounds from 1940 to the end of
// 1949 and the value node with precision 8; a century likewise. Every event
// gets xsd:dateTime bounds, BCE ones included.
func TestCoarseDatesAreBounds(t *testing.T) {
	for _, tc := range []struct {
		d          *annalsv1.HistoricalDate
		early, lat string
		fine       bool
	}{
		{&annalsv1.HistoricalDate{Year: 1940, Precision: annalsv1.DatePrecision_DATE_PRECISION_DECADE}, "1940-01-01T00:00:00Z", "1949-12-31T23:59:59Z", false},
		{&annalsv1.HistoricalDate{Year: 1850, Precision: annalsv1.DatePrecision_DATE_PRECISION_CENTURY}, "1801-01-01T00:00:00Z", "1900-12-31T23:59:59Z", false},
		{&annalsv1.HistoricalDate{Year: 1066, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR, Calendar: annalsv1.Calendar_CALENDAR_JULIAN}, "1066-01-01T00:00:00Z", "1066-12-31T23:59:59Z", true},
		{&annalsv1.HistoricalDate{Year: -44, Month: 3, Day: 15, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_JULIAN}, "-0043-03-13T00:00:00Z", "-0043-03-13T23:59:59Z", true},
	} {
		x := newExporter(t)
		e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: tc.d}
		ts := eventTriples(t, e)
		s := x.IRI(e.Name)
		if got := about(ts, s, semEarliestBegin); len(got) != 1 || got[0] != `"`+tc.early+`"^^<`+xsdNS+`dateTime>` {
			t.Errorf("%v: earliest begin %v, want %s", tc.d, got, tc.early)
		}
		if got := about(ts, s, semLatestBegin); len(got) != 1 || got[0] != `"`+tc.lat+`"^^<`+xsdNS+`dateTime>` {
			t.Errorf("%v: latest begin %v, want %s", tc.d, got, tc.lat)
		}
		for _, p := range []rdf.IRI{schemaStartDate, semHasBeginTimeStamp, wdtPointInTime} {
			if got := about(ts, s, p); (len(got) > 0) != tc.fine {
				t.Errorf("%v: %s = %v", tc.d, p, got)
			}
		}
		if got := about(ts, s+"#start-date", wikibasePrecision); len(got) != 1 || !strings.Contains(got[0], `"`+strconv.Itoa(int(tc.d.Precision))+`"`) {
			t.Errorf("%v: precision %v", tc.d, got)
		}
	}
}

// TestNoPrefixTriples: prefixes are @prefix lines (Turtle) and the
// @context (JSON-LD), never triples: no vann:preferredNamespacePrefix in any
// format of the dump or of a document.
func TestNoPrefixTriples(t *testing.T) {
	x := newExporter(t)
	for _, f := range Formats {
		data, _ := exportDataset(t, x, fixtureStore(), f)
		if bytes.Contains(data, []byte("preferredNamespacePrefix")) {
			t.Errorf("%v dump holds a prefix triple", f)
		}
		var buf bytes.Buffer
		if err := x.Resource(context.Background(), fixtureStore(), pactName, &buf, f); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte("preferredNamespacePrefix")) {
			t.Errorf("%v document holds a prefix triple", f)
		}
		if f == Turtle && !bytes.HasPrefix(buf.Bytes(), []byte("@prefix ")) {
			t.Errorf("the Turtle document does not start with its @prefix lines")
		}
	}
}

// naturalLanguage are the properties whose values are text in a language.
var naturalLanguage = []rdf.IRI{rdfsLabel, schemaName, foafName, skosAltLabel, schemaDescription, dctermsDescription,
	dctermsTitle, schemaText, schemaHeadline, schemaCaption, schemaJobTitle, annalsNameAsWritten, annalsStyle}

// TestTextIsTagged: every natural-language literal of the fixture dump
// carries a language tag: summaries, sections, headings, captions, titles,
// names as written, role descriptions, the dataset's title.
func TestTextIsTagged(t *testing.T) {
	x := newExporter(t)
	data, _ := exportDataset(t, x, fixtureStore(), NTriples)
	nl := map[rdf.IRI]bool{}
	for _, p := range naturalLanguage {
		nl[x.vocab(p)] = true
	}
	counts := map[rdf.IRI]int{}
	for _, tr := range decode(t, data, NTriples) {
		if !nl[tr.Pred.(rdf.IRI)] {
			continue
		}
		counts[tr.Pred.(rdf.IRI)]++
		if l, ok := tr.Obj.(rdf.Literal); !ok || l.DataType != rdfLangString {
			t.Errorf("untagged text: %s", ntriples(t, []rdf.Triple{tr}))
		}
	}
	for _, p := range []rdf.IRI{schemaDescription, dctermsTitle, schemaText, schemaHeadline, schemaCaption, x.vocab(annalsNameAsWritten), x.vocab(annalsStyle), schemaJobTitle} {
		if counts[p] == 0 {
			t.Errorf("no %s in the fixture dump: the test checks nothing", p)
		}
	}
}

// TestRoleDescriptions: a role carries its own participant's description
// only; a participant without one (Tatekawa, named inside Matsuoka's)
// has none.
func TestRoleDescriptions(t *testing.T) {
	const matsuoka = "The Foreign Minister of Japan, who, alongside Ambassador Yoshitsugu Tatekawa, represented Japan in the signing."
	e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1941, 4, 13),
		Participants: []*annalsv1.Participant{
			{Actor: "actors/yosuke-matsuoka", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY, Description: matsuoka},
			{Actor: "actors/yoshitsugu-tatekawa", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE, DisplayName: "Ambassador Yoshitsugu Tatekawa"},
		}}
	ts := eventTriples(t, e)
	s := newExporter(t).IRI(e.Name)
	if got := about(ts, s+"#role-representative-yoshitsugu-tatekawa", schemaDescription); len(got) > 0 {
		t.Errorf("Tatekawa's role is described as %v", got)
	}
	if got := about(ts, s+"#role-signatory-yosuke-matsuoka", schemaDescription); len(got) != 1 || !strings.Contains(got[0], "Foreign Minister") {
		t.Errorf("Matsuoka's role: %v", got)
	}
}

// TestSignatoriesOnTheDocument: wdt:P1891 is on the document the signing
// produced, never on the event; an event without signatories produces no
// document.
func TestSignatoriesOnTheDocument(t *testing.T) {
	x := newExporter(t)
	ev, _ := fixtureStore().GetEvent(context.Background(), pactName)
	ts := eventTriples(t, ev)
	s := x.IRI(pactName)
	if got := about(ts, s, wdtSignatory); len(got) > 0 {
		t.Errorf("the event has signatories %v", got)
	}
	if got := about(ts, s, provGenerated); len(got) != 1 || got[0] != "<"+s+"#document>" {
		t.Errorf("prov:generated = %v", got)
	}
	if got := about(ts, s+"#document", wdtSignatory); len(got) != 2 {
		t.Errorf("the document's signatories: %v", got)
	}
	if got := about(ts, s+"#document", rdfType); !strings.Contains(strings.Join(got, " "), "vocab#SignedDocument") {
		t.Errorf("the document's types: %v", got)
	}
	e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1941, 4, 13),
		Participants: []*annalsv1.Participant{{Actor: "actors/y", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY}}}
	if got := about(eventTriples(t, e), x.IRI("events/x"), provGenerated); len(got) > 0 {
		t.Errorf("an event without signatories produced %v", got)
	}
}

// TestTimeBoundFactsNotTruthy: the country of a place and the state of an
// actor at the time are not Wikidata's truthy wdt:P17; a close match is
// skos:closeMatch, not owl:sameAs.
func TestTimeBoundFactsNotTruthy(t *testing.T) {
	x := newExporter(t)
	ctx := context.Background()
	r := fixtureStore()
	moscow, _ := r.GetPlace(ctx, "places/moscow")
	ts, err := x.PlaceTriples(moscow)
	if err != nil {
		t.Fatal(err)
	}
	if got := about(ts, x.IRI("places/moscow"), wdtCountry); len(got) > 0 {
		t.Errorf("Moscow wdt:P17 %v", got)
	}
	if got := about(ts, x.IRI("places/moscow"), x.vocab(annalsCountry)); len(got) != 1 {
		t.Errorf("Moscow annals:country %v", got)
	}
	gov, _ := r.GetActor(ctx, "actors/government-of-japan")
	ts, err = x.ActorTriples(gov)
	if err != nil {
		t.Fatal(err)
	}
	s := x.IRI("actors/government-of-japan")
	if got := about(ts, s, wdtCountry); len(got) > 0 {
		t.Errorf("Government of Japan wdt:P17 %v", got)
	}
	if got := about(ts, s, owlSameAs); len(got) > 0 {
		t.Errorf("Government of Japan owl:sameAs %v", got)
	}
	if got := about(ts, s, skosCloseMatch); len(got) != 1 || got[0] != "<http://www.wikidata.org/entity/Q1190574>" {
		t.Errorf("Government of Japan skos:closeMatch %v", got)
	}
}

// TestIllustrationFile: an illustration has a contentUrl only when the
// record gives the image's URL; a malformed one fails the record.
func TestIllustrationFile(t *testing.T) {
	x := newExporter(t)
	e := &annalsv1.Event{Name: "events/x", Labels: []*annalsv1.Label{lbl("en", "X")}, Date: day(1941, 4, 13),
		Illustration: &annalsv1.Illustration{Caption: "A drawing (1941)", Year: 1941}}
	img := x.IRI("events/x") + "#illustration"
	if got := about(eventTriples(t, e), img, schemaContentURL); len(got) > 0 {
		t.Errorf("an invented contentUrl: %v", got)
	}
	e.Illustration.ContentUrl = "https://example.org/images/pact.jpg"
	if got := about(eventTriples(t, e), img, schemaContentURL); len(got) != 1 || got[0] != "<https://example.org/images/pact.jpg>" {
		t.Errorf("contentUrl = %v", got)
	}
	e.Illustration.ContentUrl = "pact.jpg"
	if _, err := x.EventTriples(e); err == nil {
		t.Error("a relative contentUrl was accepted")
	}
}

// TestTwoInstallsSameBytes: two fresh SQLite databases loaded from the
// bundled dataset at different times (their records' create and update
// times differ) give byte-identical dumps in every format, and the same
// served description: nothing in them comes from the clock.
func TestTwoInstallsSameBytes(t *testing.T) {
	ctx := context.Background()
	x := newExporter(t)
	var dumps [2]map[Format][]byte
	var modified [2]int64
	for i := range dumps {
		if i == 1 {
			time.Sleep(20 * time.Millisecond)
		}
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "annals.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		stats, err := st.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		modified[i] = stats.LastModified
		dumps[i] = map[Format][]byte{}
		for _, f := range Formats {
			dumps[i][f], _ = exportDataset(t, x, st, f)
		}
		var desc bytes.Buffer
		if err := x.Description(ctx, st, &desc, Turtle); err != nil {
			t.Fatal(err)
		}
		dumps[i][0] = desc.Bytes() // 0: the served description
	}
	if modified[0] == modified[1] {
		t.Fatal("both databases have the same update times: the test proves nothing")
	}
	for f, a := range dumps[0] {
		if !bytes.Equal(a, dumps[1][f]) {
			t.Errorf("%v: the two installs differ:\n%s", f, lineDiff(string(a), string(dumps[1][f])))
		}
	}
}

// TestFollowYourNose: a record's document carries the labels of the
// records it links to, and an actor's or a place's document the events that
// link to it with their labels; none of that is in the record's own
// triples (the dump), which depend on the record alone.
func TestFollowYourNose(t *testing.T) {
	x := newExporter(t)
	ctx := context.Background()
	r := fixtureStore()
	has := func(ts []rdf.Triple, s string, p rdf.IRI, o string) bool {
		for _, tr := range ts {
			if tr.Subj.String() == s && tr.Pred == p && ntTerm(tr.Obj) == o {
				return true
			}
		}
		return false
	}
	pact, moscow, molotov := x.IRI(pactName), x.IRI("places/moscow"), x.IRI("actors/vyacheslav-molotov")
	for _, tc := range []struct {
		name    string
		s       string
		p       rdf.IRI
		o       string
		inOwn   bool // also among the record's own triples
		inOther string
	}{
		{pactName, moscow, rdfsLabel, `"Москва"@ru`, false, ""},
		{pactName, molotov, rdfsLabel, `"Vyacheslav Molotov"@en`, false, ""},
		{pactName, x.IRI("events/battles-of-khalkhin-gol"), rdfsLabel, `"Battles of Khalkhin Gol"@en`, false, ""},
		{"places/moscow", pact, wdtLocation, "<" + moscow + ">", false, pactName},
		{"places/moscow", pact, rdfsLabel, `"日ソ中立条約"@ja`, false, ""},
		{"actors/vyacheslav-molotov", pact, wdtParticipant, "<" + molotov + ">", false, pactName},
		{"actors/vyacheslav-molotov", pact + "#document", wdtSignatory, "<" + molotov + ">", false, pactName},
		{"actors/vyacheslav-molotov", pact, rdfsLabel, `"Soviet–Japanese Neutrality Pact"@en`, false, ""},
	} {
		doc, err := x.Document(ctx, r, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if !has(doc, tc.s, tc.p, tc.o) {
			t.Errorf("the document of %s lacks <%s> %s %s", tc.name, tc.s, tc.p, tc.o)
		}
		rec, _ := store.Get(ctx, r, tc.name)
		own, err := x.Triples(rec)
		if err != nil {
			t.Fatal(err)
		}
		if has(own, tc.s, tc.p, tc.o) != tc.inOwn {
			t.Errorf("%s's own triples: <%s> %s %s present = %v", tc.name, tc.s, tc.p, tc.o, !tc.inOwn)
		}
		if tc.inOther != "" {
			other, _ := store.Get(ctx, r, tc.inOther)
			ots, _ := x.Triples(other)
			if !has(ots, tc.s, tc.p, tc.o) {
				t.Errorf("the inverse link <%s> %s %s is not %s's own triple", tc.s, tc.p, tc.o, tc.inOther)
			}
		}
	}
}

// TestSchemaOrg: the schema.org JSON-LD of a page names the thing, its
// dates, places and participants, and sameAs the Wikidata entity only when
// the record is the same thing.
func TestSchemaOrg(t *testing.T) {
	x := newExporter(t)
	ctx := context.Background()
	r := fixtureStore()
	for name, want := range map[string][]string{
		pactName: {`"@context":"https://schema.org"`, `"@type":"Event"`, `"name":"Soviet–Japanese Neutrality Pact"`, `"startDate":"1941-04-13"`,
			`"location":[{"@type":"Place","@id":"http://localhost:8080/places/moscow","name":"Moscow","sameAs":["http://www.wikidata.org/entity/Q649"]}]`,
			`"url":"http://localhost:8080/events/soviet-japanese-neutrality-pact.html"`},
		"places/moscow":                                 {`"@type":"Place"`, `"geo":{"@type":"GeoCoordinates","latitude":55.7558,"longitude":37.6173}`, `"sameAs":["http://www.wikidata.org/entity/Q649"]`},
		"actors/vyacheslav-molotov":                     {`"@type":"Person"`, `"birthDate":"1890-03-09"`, `"sameAs":["http://www.wikidata.org/entity/Q132899"]`},
		"events/1930s-soviet-japanese-border-conflicts": {`"@type":"Event"`},
	} {
		js, err := x.SchemaOrg(ctx, r, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(js), w) {
				t.Errorf("%s: the schema.org JSON-LD lacks %s:\n%s", name, w, js)
			}
		}
		if bytes.ContainsAny(js, "<>") {
			t.Errorf("%s: < or > unescaped, unsafe in a <script> element", name)
		}
	}
	js, _ := x.SchemaOrg(ctx, r, "events/1930s-soviet-japanese-border-conflicts")
	if strings.Contains(string(js), "startDate") {
		t.Errorf("a decade written as a schema.org date: %s", js)
	}
	gov, err := x.SchemaOrg(ctx, r, "actors/government-of-japan")
	if err != nil || strings.Contains(string(gov), "sameAs") {
		t.Errorf("a close match is sameAs: %s %v", gov, err)
	}
	if len(x.Alternates(pactName)) != 3 {
		t.Errorf("Alternates: %v", x.Alternates(pactName))
	}
}
