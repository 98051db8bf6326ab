package exporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/store"
)

// schema.org JSON-LD for HTML pages: what search engines and browser tools
// read from a page about a record (<script type="application/ld+json">),
// with sameAs to the Wikidata item when it is the same thing. It is a
// summary for the web, not the data: the RDF documents (Resource) carry the
// full description.

// Alternate is one machine-readable representation of a record's page, for
// a <link rel="alternate"> element or a Link header.
type Alternate struct {
	// Href is the absolute IRI of the document ({iri}.ttl …).
	Href string
	// Type is its media type ("text/turtle" …).
	Type string
	// Title names the format for people ("Turtle" …).
	Title string
}

// Alternates returns the RDF documents of the named record: Turtle,
// N-Triples and JSON-LD.
func (x *Exporter) Alternates(name string) []Alternate {
	iri := x.IRI(name)
	return []Alternate{
		{iri + ".ttl", "text/turtle", "Turtle"},
		{iri + ".nt", "application/n-triples", "N-Triples"},
		{iri + ".jsonld", "application/ld+json", "JSON-LD"},
	}
}

// soThing is a schema.org node; fields are written in this order, empty ones not at all.
type soThing struct {
	Context          string     `json:"@context,omitempty"`
	Type             string     `json:"@type"`
	ID               string     `json:"@id,omitempty"`
	Name             string     `json:"name,omitempty"`
	AlternateName    []string   `json:"alternateName,omitempty"`
	Description      string     `json:"description,omitempty"`
	URL              string     `json:"url,omitempty"`
	MainEntityOfPage string     `json:"mainEntityOfPage,omitempty"`
	StartDate        string     `json:"startDate,omitempty"`
	EndDate          string     `json:"endDate,omitempty"`
	BirthDate        string     `json:"birthDate,omitempty"`
	DeathDate        string     `json:"deathDate,omitempty"`
	FoundingDate     string     `json:"foundingDate,omitempty"`
	DissolutionDate  string     `json:"dissolutionDate,omitempty"`
	JobTitle         []string   `json:"jobTitle,omitempty"`
	Location         []*soThing `json:"location,omitempty"`
	Attendee         []*soThing `json:"attendee,omitempty"`
	SuperEvent       []*soThing `json:"superEvent,omitempty"`
	SubEvent         []*soThing `json:"subEvent,omitempty"`
	About            *soThing   `json:"about,omitempty"`
	Image            *soImage   `json:"image,omitempty"`
	Geo              *soGeo     `json:"geo,omitempty"`
	InLanguage       string     `json:"inLanguage,omitempty"`
	License          string     `json:"license,omitempty"`
	SameAs           []string   `json:"sameAs,omitempty"`
}

type soImage struct {
	Type       string `json:"@type"`
	ContentURL string `json:"contentUrl,omitempty"`
	Caption    string `json:"caption,omitempty"`
}

type soGeo struct {
	Type      string  `json:"@type"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// SchemaOrg returns the schema.org JSON-LD of the named record, for its
// HTML page: an Event, Person, Organization, Place or CreativeWork (a
// source) with its name, description, dates (those known to the year or
// better, as ISO 8601 dates), the places and participants of an event with
// their names, and sameAs the Wikidata entity when the record is linked to
// it as the same thing. The JSON escapes <, > and &, so it can stand inside
// a <script type="application/ld+json"> element as it is.
func (x *Exporter) SchemaOrg(ctx context.Context, r store.Reader, name string) ([]byte, error) {
	rec, err := store.Get(ctx, r, name)
	if err != nil {
		return nil, fmt.Errorf("exporter: %s: %w", name, err)
	}
	t := x.schemaThing(rec)
	t.Context = "https://schema.org"
	t.URL = x.IRI(name) + ".html"
	t.MainEntityOfPage = t.URL
	t.License = licenseCCBYSA4.String()
	ref := func(n string) (*soThing, error) {
		m, err := store.Get(ctx, r, n)
		if errors.Is(err, store.ErrNotFound) {
			return &soThing{Type: "Thing", ID: x.IRI(n)}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("exporter: %s: %w", n, err)
		}
		l := x.schemaThing(m)
		return &soThing{Type: l.Type, ID: l.ID, Name: l.Name, SameAs: l.SameAs}, nil
	}
	switch rec := rec.(type) {
	case *annalsv1.Event:
		for _, p := range rec.GetPlaces() {
			s, err := ref(p)
			if err != nil {
				return nil, err
			}
			t.Location = append(t.Location, s)
		}
		seen := map[string]bool{}
		for _, p := range rec.GetParticipants() {
			if seen[p.GetActor()] {
				continue
			}
			seen[p.GetActor()] = true
			s, err := ref(p.GetActor())
			if err != nil {
				return nil, err
			}
			t.Attendee = append(t.Attendee, s)
		}
		for _, rel := range rec.GetRelations() {
			var dst *[]*soThing
			switch rel.GetType() {
			case annalsv1.RelationType_RELATION_TYPE_PART_OF:
				dst = &t.SuperEvent
			case annalsv1.RelationType_RELATION_TYPE_HAS_PART:
				dst = &t.SubEvent
			default:
				continue
			}
			s, err := ref(rel.GetEvent())
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, s)
		}
	case *annalsv1.Source:
		if ev := rec.GetEvent(); ev != "" {
			s, err := ref(ev)
			if err != nil {
				return nil, err
			}
			t.About = s
		}
	}
	return json.Marshal(t)
}

// schemaThing is the schema.org node of one record, without the nodes it links to.
func (x *Exporter) schemaThing(rec proto.Message) *soThing {
	var t soThing
	names := func(ls []*annalsv1.Label) {
		for _, l := range ls {
			if t.Name == "" && l.GetLanguage() == "en" {
				t.Name = l.GetValue()
			}
		}
		for _, l := range ls {
			switch {
			case t.Name == "":
				t.Name = l.GetValue()
			case l.GetValue() != t.Name:
				t.AlternateName = append(t.AlternateName, l.GetValue())
			}
		}
	}
	same := func(id string, m annalsv1.WikidataMatch) {
		if validQID(id) && m != annalsv1.WikidataMatch_WIKIDATA_MATCH_CLOSE {
			t.SameAs = []string{wikidataEntity(id).String()}
		}
	}
	switch rec := rec.(type) {
	case *annalsv1.Event:
		t.Type, t.ID = "Event", x.IRI(rec.GetName())
		names(rec.GetLabels())
		t.Description = rec.GetSummary()
		t.StartDate = isoDate(rec.GetDate())
		t.EndDate = isoDate(rec.GetEndDate())
		if il := rec.GetIllustration(); il != nil && (il.GetCaption() != "" || il.GetContentUrl() != "") {
			t.Image = &soImage{Type: "ImageObject", Caption: il.GetCaption()}
			if _, err := absoluteIRI(il.GetContentUrl()); err == nil {
				t.Image.ContentURL = il.GetContentUrl()
			}
		}
		same(rec.GetWikidataId(), rec.GetWikidataMatch())
	case *annalsv1.Actor:
		t.Type, t.ID = "Organization", x.IRI(rec.GetName())
		names(rec.GetLabels())
		t.Description = rec.GetDescription()
		switch rec.GetKind() {
		case annalsv1.ActorKind_ACTOR_KIND_PERSON:
			t.Type = "Person"
			t.BirthDate, t.DeathDate = isoDate(rec.GetStartDate()), isoDate(rec.GetEndDate())
			t.JobTitle = rec.GetPositions()
		case annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED:
			t.Type = "Thing"
		default:
			t.FoundingDate, t.DissolutionDate = isoDate(rec.GetStartDate()), isoDate(rec.GetEndDate())
		}
		same(rec.GetWikidataId(), rec.GetWikidataMatch())
	case *annalsv1.Place:
		t.Type, t.ID = "Place", x.IRI(rec.GetName())
		names(rec.GetLabels())
		t.Description = rec.GetDescription()
		if c := rec.GetCoordinates(); c != nil {
			t.Geo = &soGeo{Type: "GeoCoordinates", Latitude: c.GetLatitude(), Longitude: c.GetLongitude()}
		}
		same(rec.GetWikidataId(), rec.GetWikidataMatch())
	case *annalsv1.Source:
		t.Type, t.ID = "CreativeWork", x.IRI(rec.GetName())
		t.Name = rec.GetTitle()
		if rec.GetText() != "" {
			t.InLanguage = docLang
		}
	}
	return &t
}

// isoDate writes a date known to the year or better as ISO 8601 (XSD 1.1
// years, Gregorian), "" otherwise: a coarser date has no such form that
// does not read as its first year.
func isoDate(d *annalsv1.HistoricalDate) string {
	if d == nil || histdate.Validate(d) != nil || !fine(d) {
		return ""
	}
	lex, _ := histdate.XSD(d)
	return lex
}
