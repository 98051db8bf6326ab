package synth

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
)

// readerCalendar is the calendar a reader of the seed format gives a date:
// Julian before 15 October 1582, Gregorian after.
func readerCalendar(d *annalsv1.HistoricalDate) annalsv1.Calendar {
	before := d.Year < reformYear
	if d.Year == reformYear {
		switch d.Precision {
		case annalsv1.DatePrecision_DATE_PRECISION_DAY:
			before = d.Month < 10 || d.Month == 10 && d.Day < 15
		case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
			before = d.Month < 10
		}
	}
	if before {
		return annalsv1.Calendar_CALENDAR_JULIAN
	}
	return annalsv1.Calendar_CALENDAR_GREGORIAN
}

// readerRole is the role a reader of the seed format gives a participant:
// parties are parties, key figures signatories, representatives or key figures.
func readerRole(p *annalsv1.Participant, figure bool) annalsv1.ParticipantRole {
	switch {
	case !figure:
		return annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY
	case p.Role == roleSignatory || p.Role == roleRep:
		return p.Role
	}
	return annalsv1.ParticipantRole_PARTICIPANT_ROLE_KEY_FIGURE
}

// TestRoundTrip writes events as documents and reads them back with
// ingest.Parse: what the format can hold must come back unchanged.
func TestRoundTrip(t *testing.T) {
	g := New(11, 5000)
	g.Sources = true
	calendarLost := 0
	for i := 0; i < 400; i++ {
		ev, src, err := g.eventWithSource(i)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteDocument(&buf, ev, g); err != nil {
			t.Fatalf("event %d: WriteDocument: %v", i, err)
		}
		if buf.String() != src.Text {
			t.Fatalf("event %d: the document written through the Generator differs from the source's text", i)
		}
		name := DocumentName(i, ev)
		doc, err := ingest.Parse(name, buf.Bytes())
		if err != nil {
			t.Fatalf("event %d: Parse: %v\n%s", i, err, buf.String())
		}
		got := doc.Event
		fail := func(what string, got, want any) {
			t.Helper()
			t.Errorf("event %d (%s): %s read back as %v; want %v\n%s", i, ev.Name, what, got, want, buf.String())
		}
		wantDate := proto.Clone(ev.Date).(*annalsv1.HistoricalDate)
		if wantDate.Calendar != readerCalendar(wantDate) {
			calendarLost++ // a proleptic Gregorian date before the reform
			wantDate.Calendar = readerCalendar(wantDate)
		}
		if !proto.Equal(got.Date, wantDate) {
			fail("date", got.Date, wantDate)
		}
		if got.Name != ev.Name || len(got.Labels) != 1 || !proto.Equal(got.Labels[0], ev.Labels[0]) {
			fail("title", got.Labels, ev.Labels[0])
		}
		if got.Summary != ev.Summary {
			fail("summary", got.Summary, ev.Summary)
		}
		if len(got.Places) != 1 || got.Places[0] != ev.Places[0] {
			fail("place", got.Places, ev.Places[0])
		} else if pl, _ := g.Place(ev.Places[0]); doc.Places[0].Country != pl.Country {
			fail("country", doc.Places[0].Country, pl.Country)
		}
		if len(got.Article) != len(ev.Article) {
			fail("section count", len(got.Article), len(ev.Article))
		} else {
			for k := range ev.Article {
				if !proto.Equal(got.Article[k], ev.Article[k]) {
					fail("section", prototext.Format(got.Article[k]), prototext.Format(ev.Article[k]))
				}
			}
		}
		figures := map[string]bool{}
		for _, s := range ev.Article {
			for _, it := range s.Items {
				figures[it.Actor] = true
			}
		}
		if len(got.Participants) != len(ev.Participants) {
			fail("participants", got.Participants, ev.Participants)
		} else {
			for k, p := range ev.Participants {
				q := got.Participants[k]
				if q.Actor != p.Actor || q.Role != readerRole(p, figures[p.Actor]) || q.Description != p.Description {
					fail("participant", q, p)
				}
			}
		}
		if !proto.Equal(got.Illustration, ev.Illustration) {
			fail("illustration", got.Illustration, ev.Illustration)
		}
		if doc.Source.Name != src.Name || doc.Source.Sha256 != src.Sha256 || doc.Source.Title != src.Title || doc.Source.Filename != src.Filename {
			fail("source", doc.Source, src)
		}
	}
	t.Logf("%d of 400 dates were proleptic Gregorian before 1582 and came back Julian", calendarLost)
}

func TestWriteDocumentErrors(t *testing.T) {
	g := New(1, 100)
	base := g.EventAt(0)
	tests := []struct {
		name   string
		change func(*annalsv1.Event)
	}{
		{"no date", func(e *annalsv1.Event) { e.Date = nil }},
		{"impossible date", func(e *annalsv1.Event) {
			e.Date = &annalsv1.HistoricalDate{Year: 1900, Month: 2, Day: 30, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}
		}},
		{"no title", func(e *annalsv1.Event) { e.Labels = nil }},
		{"title ending in a dot", func(e *annalsv1.Event) { e.Labels[0].Value = "A sentence." }},
		{"unknown place", func(e *annalsv1.Event) { e.Places = []string{"places/nowhere"} }},
		{"unknown participant", func(e *annalsv1.Event) {
			e.Participants = append(e.Participants, &annalsv1.Participant{Actor: "actors/nobody"})
		}},
		{"comma in a party", func(e *annalsv1.Event) {
			e.Participants = append(e.Participants, &annalsv1.Participant{Actor: "actors/x", DisplayName: "A, B"})
		}},
		{"bar in the summary", func(e *annalsv1.Event) { e.Summary = "a | b" }},
		{"colon in a term", func(e *annalsv1.Event) {
			e.Article = append(e.Article, &annalsv1.ArticleSection{Heading: "Key Figures", Items: []*annalsv1.ListItem{{Term: "a:b", Text: "c"}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := proto.Clone(base).(*annalsv1.Event)
			tt.change(ev)
			var buf bytes.Buffer
			if err := WriteDocument(&buf, ev, g); err == nil {
				t.Errorf("WriteDocument succeeded; want an error")
			}
			if buf.Len() != 0 {
				t.Errorf("WriteDocument wrote %d bytes before failing", buf.Len())
			}
		})
	}
}
