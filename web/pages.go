package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// wikidataPage is the human page of a Wikidata item.
func wikidataPage(id string) string {
	if id == "" {
		return ""
	}
	return "https://www.wikidata.org/wiki/" + url.PathEscape(id)
}

// participant is one actor of an event.
type participant struct {
	Link        link
	Role        string
	Description string
}

// relation is one related event.
type relation struct {
	Type  string
	Link  link
	Dates []dateText
}

// section is one titled part of an event's article.
type section struct {
	Heading    string
	Paragraphs []string
	Items      []item
}

type item struct {
	Term  string
	Text  string
	Actor *link // the actor the item names, when known
}

// eventView is an event's page.
type eventView struct {
	layout
	Name         string
	Label        text
	Others       []text
	Summary      string
	Dates        []dateText
	Places       []link
	Participants []participant
	Relations    []relation
	Illustration *annalsv1.Illustration
	Article      []section
	Sources      []link
	Wikidata     string
	WikidataID   string
	Updated      string
}

func (v *eventView) frame() *layout { return &v.layout }

func (p *Pages) eventPage(r *http.Request, rd reader, ev *annalsv1.Event) (*eventView, error) {
	n := p.names(r.Context(), rd)
	v := &eventView{
		Name:         ev.GetName(),
		Label:        rd.pick(ev.GetLabels()),
		Summary:      ev.GetSummary(),
		Dates:        spanOf(ev.GetDate(), ev.GetEndDate()),
		Illustration: ev.GetIllustration(),
		Wikidata:     wikidataPage(ev.GetWikidataId()),
		WikidataID:   ev.GetWikidataId(),
	}
	if v.Label.Value == "" {
		v.Label = text{Value: ev.GetName()}
	}
	v.Others = others(ev.GetLabels(), v.Label)
	for _, pl := range ev.GetPlaces() {
		v.Places = append(v.Places, n.link(pl))
	}
	for _, pa := range ev.GetParticipants() {
		v.Participants = append(v.Participants, participant{Link: n.link(pa.GetActor()), Role: roleWords(pa.GetRole()), Description: pa.GetDescription()})
	}
	for _, rel := range ev.GetRelations() {
		rv := relation{Type: relationWords(rel.GetType()), Link: n.link(rel.GetEvent())}
		if resp, err := p.cfg.Archive.GetEvent(r.Context(), &annalsv1.GetEventRequest{Name: rel.GetEvent()}); err == nil {
			rv.Dates = spanOf(resp.GetEvent().GetDate(), resp.GetEvent().GetEndDate())
		}
		v.Relations = append(v.Relations, rv)
	}
	for _, sec := range ev.GetArticle() {
		s := section{Heading: sec.GetHeading(), Paragraphs: sec.GetParagraphs()}
		for _, it := range sec.GetItems() {
			i := item{Term: it.GetTerm(), Text: it.GetText()}
			if it.GetActor() != "" {
				l := n.link(it.GetActor())
				i.Actor = &l
			}
			s.Items = append(s.Items, i)
		}
		v.Article = append(v.Article, s)
	}
	for _, src := range ev.GetSources() {
		v.Sources = append(v.Sources, n.link(src))
	}
	if t := ev.GetUpdateTime(); t != nil {
		v.Updated = t.AsTime().UTC().Format(time.DateOnly)
	}
	v.Title, v.Nav = v.Label.Value, "events"
	v.Description = ev.GetSummary()
	body := fmt.Sprintf(`{"name": "%s"}`, ev.GetName())
	v.Commands = []command{
		{"This event from the gRPC API:", p.grpcurl(r, "GetEvent", body)},
		{"Or over HTTP (Connect):", p.curl(r, "ArchiveService", "GetEvent", body)},
	}
	return v, nil
}

// eventList is a paged list of events inside a record's page.
type eventList struct {
	Events  []eventItem
	Pager   pager
	Problem string // why the list could not be read (a stale page token, say)
}

// listOf lists the events req selects for the page at path, whose query
// is q; a request the API refuses (a bad page token) is told on the page.
func (p *Pages) listOf(r *http.Request, n *names, path string, req *annalsv1.ListEventsRequest) (eventList, error) {
	q := r.URL.Query()
	req.PageToken = q.Get("page_token")
	resp, err := p.cfg.Archive.ListEvents(r.Context(), req)
	if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
		return eventList{Problem: upperFirst(st.Message()) + ".", Pager: pager{First: path}}, nil
	}
	if err != nil {
		return eventList{}, err
	}
	keep := url.Values{}
	if t := q.Get("page_token"); t != "" {
		keep.Set("page_token", t)
	}
	return eventList{Events: n.eventItems(resp.GetEvents()), Pager: pagerOf(path, keep, resp.GetNextPageToken())}, nil
}

// recordPageSize is how many events an actor's or place's page lists at once.
const recordPageSize = 20

// actorView is an actor's page.
type actorView struct {
	layout
	Name         string
	Label        text
	Others       []text
	Aliases      []text
	Kind         string
	Description  string
	Dates        []dateText
	Positions    []string
	State        *link
	Wikidata     string
	WikidataID   string
	Unreconciled bool
	Events       eventList
}

func (v *actorView) frame() *layout { return &v.layout }

func (p *Pages) actorPage(r *http.Request, rd reader, a *annalsv1.Actor) (*actorView, error) {
	n := p.names(r.Context(), rd)
	v := &actorView{
		Name:         a.GetName(),
		Label:        rd.pick(a.GetLabels()),
		Kind:         kindWords(a.GetKind()),
		Description:  a.GetDescription(),
		Positions:    a.GetPositions(),
		Wikidata:     wikidataPage(a.GetWikidataId()),
		WikidataID:   a.GetWikidataId(),
		Unreconciled: a.GetUnreconciled(),
	}
	if v.Label.Value == "" {
		v.Label = text{Value: a.GetName()}
	}
	v.Others = others(a.GetLabels(), v.Label)
	for _, al := range a.GetAliases() {
		v.Aliases = append(v.Aliases, text{Value: al.GetValue(), Lang: al.GetLanguage()})
	}
	if a.GetStartDate() != nil || a.GetEndDate() != nil {
		v.Dates = []dateText{dateOf(a.GetStartDate()), dateOf(a.GetEndDate())}
	}
	if s := a.GetState(); s != "" {
		l := n.link(s)
		v.State = &l
	}
	var err error
	if v.Events, err = p.listOf(r, n, href(a.GetName()), &annalsv1.ListEventsRequest{Actor: a.GetName(), PageSize: recordPageSize}); err != nil {
		return nil, err
	}
	v.Title, v.Nav = v.Label.Value, "actors"
	v.Description = a.GetDescription()
	v.Commands = []command{
		{"This actor from the gRPC API:", p.grpcurl(r, "GetActor", fmt.Sprintf(`{"name": "%s"}`, a.GetName()))},
		{"Their events:", p.grpcurl(r, "ListEvents", fmt.Sprintf(`{"actor": "%s"}`, a.GetName()))},
	}
	return v, nil
}

// placeView is a place's page.
type placeView struct {
	layout
	Name         string
	Label        text
	Others       []text
	Aliases      []text
	Description  string
	Coordinates  *annalsv1.Coordinates
	Country      *link
	Wikidata     string
	WikidataID   string
	Unreconciled bool
	Events       eventList
}

func (v *placeView) frame() *layout { return &v.layout }

func (p *Pages) placePage(r *http.Request, rd reader, pl *annalsv1.Place) (*placeView, error) {
	n := p.names(r.Context(), rd)
	v := &placeView{
		Name:         pl.GetName(),
		Label:        rd.pick(pl.GetLabels()),
		Description:  pl.GetDescription(),
		Coordinates:  pl.GetCoordinates(),
		Wikidata:     wikidataPage(pl.GetWikidataId()),
		WikidataID:   pl.GetWikidataId(),
		Unreconciled: pl.GetUnreconciled(),
	}
	if v.Label.Value == "" {
		v.Label = text{Value: pl.GetName()}
	}
	v.Others = others(pl.GetLabels(), v.Label)
	for _, al := range pl.GetAliases() {
		v.Aliases = append(v.Aliases, text{Value: al.GetValue(), Lang: al.GetLanguage()})
	}
	if c := pl.GetCountry(); c != "" {
		l := n.link(c)
		v.Country = &l
	}
	var err error
	if v.Events, err = p.listOf(r, n, href(pl.GetName()), &annalsv1.ListEventsRequest{Place: pl.GetName(), PageSize: recordPageSize}); err != nil {
		return nil, err
	}
	v.Title, v.Nav = v.Label.Value, "places"
	v.Description = pl.GetDescription()
	v.Commands = []command{
		{"This place from the gRPC API:", p.grpcurl(r, "GetPlace", fmt.Sprintf(`{"name": "%s"}`, pl.GetName()))},
		{"Its events:", p.grpcurl(r, "ListEvents", fmt.Sprintf(`{"place": "%s"}`, pl.GetName()))},
	}
	return v, nil
}

// sourceView is a source document's page.
type sourceView struct {
	layout
	Name     string
	Heading  string
	Filename string
	Imported string
	SHA256   string
	Event    *link
	Previous *link
	Text     string
}

func (v *sourceView) frame() *layout { return &v.layout }

func (p *Pages) sourcePage(r *http.Request, rd reader, s *annalsv1.Source) (*sourceView, error) {
	n := p.names(r.Context(), rd)
	v := &sourceView{Name: s.GetName(), Heading: s.GetTitle(), Filename: s.GetFilename(), SHA256: s.GetSha256(), Text: s.GetText()}
	if v.Heading == "" {
		v.Heading = s.GetName()
	}
	if t := s.GetImportTime(); t != nil {
		v.Imported = t.AsTime().UTC().Format("2 January 2006, 15:04 UTC")
	}
	if e := s.GetEvent(); e != "" {
		l := n.link(e)
		v.Event = &l
	}
	if pr := s.GetPreviousRevision(); pr != "" {
		l := n.link(pr)
		v.Previous = &l
	}
	v.Title, v.Nav = "Source: "+v.Heading, "events"
	v.Commands = []command{{"This document from the gRPC API:", p.grpcurl(r, "GetSource", fmt.Sprintf(`{"name": "%s"}`, s.GetName()))}}
	return v, nil
}

// periodItem is one period of the timeline with its count.
type periodItem struct {
	Name    string
	Href    string
	Count   int64
	Percent int // of the largest count beside it, for the bar
}

// homeView is the home page.
type homeView struct {
	layout
	Counts    []string // "7 events", "9 actors", …
	Today     string
	OnThisDay []eventItem
	Centuries []periodItem
	Newest    []eventItem
	Span      string // "from 1939 to 1945"
}

func (v *homeView) frame() *layout { return &v.layout }

// homeOnThisDay is how many of today's events the home page lists.
const homeOnThisDay = 10

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := p.cfg.Store.Stats(ctx)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	tl, err := p.timeline.get(ctx)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	today := p.cfg.Now().UTC()
	resp, err := p.cfg.Archive.ListEvents(ctx, &annalsv1.ListEventsRequest{Month: int32(today.Month()), Day: int32(today.Day()), PageSize: homeOnThisDay})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(ctx, readerOf(r))
	v := &homeView{
		Counts: []string{
			count(st.Events, "event", "events"), count(st.Actors, "actor", "actors"),
			count(st.Places, "place", "places"), count(st.Sources, "source document", "source documents"),
		},
		Today:     dayName(int32(today.Month()), int32(today.Day())),
		OnThisDay: n.eventItems(resp.GetEvents()),
		Centuries: periodItems(tl, tl.periods[century]),
		Newest:    n.eventItems(tl.newest),
	}
	if tl.events > 0 {
		v.Span = fmt.Sprintf("from %s to %s", yearName(tl.earliest), yearName(tl.latest))
	}
	v.Title = "Annals"
	v.Description = "Historical events, the actors in them and the places where they happened, linked to Wikidata."
	v.Commands = []command{
		{"Today's events from the gRPC API:", p.grpcurl(r, "ListEvents", fmt.Sprintf(`{"month": %d, "day": %d}`, today.Month(), today.Day()))},
	}
	p.render(w, r, "home.html", v)
}

// periodItems lists periods with their counts and bars.
func periodItems(tl *timelineData, ps []period) []periodItem {
	var top int64
	for _, pr := range ps {
		top = max(top, tl.counts[pr])
	}
	out := make([]periodItem, 0, len(ps))
	for _, pr := range ps {
		c := tl.counts[pr]
		pct := 0
		if top > 0 {
			pct = int(c * 100 / top)
		}
		out = append(out, periodItem{Name: pr.name(), Href: "/timeline/" + pr.slug(), Count: c, Percent: pct})
	}
	return out
}

// timelineView is the timeline, or one period of it.
type timelineView struct {
	layout
	Heading  string
	Crumbs   []periodItem // the enclosing periods, outermost first
	Periods  []periodItem // the periods within, with counts
	Kind     string       // what Periods are: "centuries", "decades", "years"
	Total    int64
	Events   eventList
	AllURL   string // the events of the period as an /events list
	IsYear   bool
	IsPeriod bool // a period's page, not the whole timeline
}

func (v *timelineView) frame() *layout { return &v.layout }

func (p *Pages) timelinePage(w http.ResponseWriter, r *http.Request) {
	tl, err := p.timeline.get(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := &timelineView{Heading: "Timeline", Periods: periodItems(tl, tl.periods[century]), Kind: "centuries", Total: tl.events}
	v.Title, v.Nav = "Timeline", "timeline"
	p.render(w, r, "timeline.html", v)
}

// timelinePeriod serves /timeline/{period}: a century's decades, a
// decade's years, with counts, and the period's events, paged.
func (p *Pages) timelinePeriod(w http.ResponseWriter, r *http.Request) {
	pr, err := parsePeriod(r.PathValue("period"))
	if err != nil || pr.slug() != r.PathValue("period") {
		page := &errorPage{Heading: "Not found", Message: "There is no such period. Periods are written 20th-century, 1st-century-bce, 1940s, 40s-bce, 1941 or 44-bce."}
		page.Status, page.Title = http.StatusNotFound, page.Heading
		p.render(w, r, "error.html", page)
		return
	}
	tl, err := p.timeline.get(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := &timelineView{Heading: pr.name(), Total: tl.counts[pr], IsYear: pr.kind == year, IsPeriod: true}
	for up, ok := pr.parent(); ok; up, ok = up.parent() {
		v.Crumbs = append([]periodItem{{Name: up.name(), Href: "/timeline/" + up.slug()}}, v.Crumbs...)
	}
	if kids := pr.children(); len(kids) > 0 {
		v.Periods = periodItems(tl, kids)
		v.Kind = map[periodKind]string{century: "decades", decade: "years"}[pr.kind]
	}
	first, last := pr.years()
	req := &annalsv1.ListEventsRequest{
		StartDate: &annalsv1.HistoricalDate{Year: int32(first)},
		EndDate:   &annalsv1.HistoricalDate{Year: int32(last)},
		PageSize:  recordPageSize,
	}
	n := p.names(r.Context(), readerOf(r))
	if v.Events, err = p.listOf(r, n, "/timeline/"+pr.slug(), req); err != nil {
		p.fail(w, r, err)
		return
	}
	v.AllURL = withQuery("/events", url.Values{"start_date": {dateFilter(first)}, "end_date": {dateFilter(last)}})
	v.Title, v.Nav = "Timeline: "+pr.name(), "timeline"
	v.Commands = []command{{"The same events from the gRPC API:", p.grpcurl(r, "ListEvents", requestJSON(&annalsv1.ListEventsRequest{StartDate: req.StartDate, EndDate: req.EndDate}))}}
	p.render(w, r, "timeline.html", v)
}
