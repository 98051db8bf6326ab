package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
)

// eventItem is one event in a list.
type eventItem struct {
	Link    link
	Dates   []dateText
	Summary string
}

// eventItems turns a page of events into list items, labelled for rd.
func (n *names) eventItems(evs []*annalsv1.Event) []eventItem {
	out := make([]eventItem, 0, len(evs))
	for _, ev := range evs {
		t := n.rd.pick(ev.GetLabels())
		if t.Value == "" {
			t = text{Value: ev.GetName()}
		}
		n.m[ev.GetName()] = t
		out = append(out, eventItem{
			Link:    link{Href: href(ev.GetName()), Label: t, Name: ev.GetName()},
			Dates:   spanOf(ev.GetDate(), ev.GetEndDate()),
			Summary: ev.GetSummary(),
		})
	}
	return out
}

// recordItem is one actor or place in a list.
type recordItem struct {
	Link        link
	Description string
	Kind        string
}

// pager is the paging of a list: the URLs of its next and first pages.
type pager struct {
	Next  string // "" on the last page
	First string // "" on the first page
}

// pagerOf builds the links of a list at path whose query is q and whose
// page ended with next.
func pagerOf(path string, q url.Values, next string) pager {
	var pg pager
	if q.Get("page_token") != "" {
		first := cloneValues(q)
		first.Del("page_token")
		pg.First = withQuery(path, first)
	}
	if next != "" {
		nq := cloneValues(q)
		nq.Set("page_token", next)
		pg.Next = withQuery(path, nq)
	}
	return pg
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// requestJSON writes a request as grpcurl takes it: protojson with the
// proto field names, compact (protojson's own spacing varies by design),
// made safe inside single quotes.
func requestJSON(m proto.Message) string {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return "{}"
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return "{}"
	}
	return shellSingle(out.String())
}

// shellSingle makes s safe inside single quotes.
func shellSingle(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// eventFilters reads ListEvents' filters and paging from a query string.
// The names are the request's fields; dates are written 1941, 1941-04,
// 1941-04-13 or 44 BCE (the API infers the precision). What cannot be read
// is returned as violations, by field.
func eventFilters(q url.Values) (*annalsv1.ListEventsRequest, []violation) {
	var vs []violation
	req := &annalsv1.ListEventsRequest{
		Query:      q.Get("query"),
		Actor:      q.Get("actor"),
		Place:      q.Get("place"),
		WikidataId: q.Get("wikidata_id"),
		PageToken:  q.Get("page_token"),
	}
	vs = wholeNumber(q, "month", &req.Month, vs)
	vs = wholeNumber(q, "day", &req.Day, vs)
	vs = wholeNumber(q, "page_size", &req.PageSize, vs)
	date := func(field string) *annalsv1.HistoricalDate {
		s := strings.TrimSpace(q.Get(field))
		if s == "" {
			return nil
		}
		d, ok := parseDate(s)
		if !ok {
			vs = append(vs, violation{field, fmt.Sprintf("%q is not a date; write 1941, 1941-04, 1941-04-13 or 44 BCE", clip(s))})
		}
		return d
	}
	req.StartDate = date("start_date")
	req.EndDate = date("end_date")
	return req, vs
}

// parseDate reads "1941", "1941-04", "1941-04-13", "-44", "44 BCE" or
// "44 BC" as a date without precision (the API gives it that of its most
// specific field).
func parseDate(s string) (*annalsv1.HistoricalDate, bool) {
	bce := false
	low := strings.ToLower(s)
	for _, suffix := range []string{"bce", "bc"} {
		if strings.HasSuffix(low, suffix) {
			s, bce = strings.TrimSpace(s[:len(s)-len(suffix)]), true
			break
		}
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		if bce {
			return nil, false
		}
		s = s[1:]
	}
	parts := strings.Split(s, "-")
	if len(parts) > 3 {
		return nil, false
	}
	var nums [3]int64
	for i, part := range parts {
		if part == "" || len(part) > 9 || strings.Trim(part, "0123456789") != "" {
			return nil, false
		}
		nums[i], _ = strconv.ParseInt(part, 10, 64)
	}
	y := nums[0]
	if y == 0 || y > histdate.MaxAbsYear || nums[1] > 99 || nums[2] > 99 {
		return nil, false
	}
	if neg || bce {
		y = -y
	}
	return &annalsv1.HistoricalDate{Year: int32(y), Month: int32(nums[1]), Day: int32(nums[2])}, true
}

// dateParam writes a date filter back into a URL parameter.
func dateParam(d *annalsv1.HistoricalDate) string {
	if d == nil {
		return ""
	}
	s := yearName(int64(d.GetYear()))
	if d.GetMonth() != 0 {
		s = fmt.Sprintf("%d-%02d", d.GetYear(), d.GetMonth())
		if d.GetDay() != 0 {
			s += fmt.Sprintf("-%02d", d.GetDay())
		}
	}
	return s
}

// eventsPage is a list of events with the form of its filters.
type eventsPage struct {
	layout
	Heading string
	Intro   string
	Form    url.Values // the filters as given, to fill the form
	Events  []eventItem
	Pager   pager
	Empty   string // what to say when there are none
	// Actors and Places are the other matches of a search.
	Actors []recordItem
	Places []recordItem
	Search bool
}

func (e *eventsPage) frame() *layout { return &e.layout }

// events serves /events: ListEvents with the filters of the query string.
func (p *Pages) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, vs := eventFilters(q)
	if len(vs) > 0 {
		p.badRequest(w, r, vs)
		return
	}
	resp, err := p.cfg.Archive.ListEvents(r.Context(), req)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(r.Context(), readerOf(r))
	page := &eventsPage{
		Heading: "Events",
		Intro:   describeFilters(n, req),
		Form:    q,
		Events:  n.eventItems(resp.GetEvents()),
		Pager:   pagerOf("/events", q, resp.GetNextPageToken()),
		Empty:   "No event matches these filters.",
	}
	page.Title, page.Nav = "Events", "events"
	page.Query = req.GetQuery()
	page.Commands = []command{
		{"The same list from the gRPC API:", p.grpcurl(r, "ListEvents", requestJSON(req))},
		{"Or over HTTP (Connect):", p.curl(r, "ArchiveService", "ListEvents", requestJSON(req))},
	}
	p.render(w, r, "events.html", page)
}

// describeFilters says in words what a ListEvents request selects.
func describeFilters(n *names, req *annalsv1.ListEventsRequest) string {
	var parts []string
	if q := req.GetQuery(); q != "" {
		parts = append(parts, fmt.Sprintf("matching “%s”", q))
	}
	if a := req.GetActor(); a != "" {
		parts = append(parts, "with "+n.label(a).Value)
	}
	if pl := req.GetPlace(); pl != "" {
		parts = append(parts, "at "+n.label(pl).Value)
	}
	if m := req.GetMonth(); m >= 1 && m <= 12 {
		day := ""
		if req.GetDay() > 0 {
			day = fmt.Sprint(req.GetDay()) + " "
		}
		parts = append(parts, "on "+day+histdate.MonthNames()[m-1])
	}
	if d := req.GetStartDate(); d != nil {
		parts = append(parts, "from "+dateParam(d))
	}
	if d := req.GetEndDate(); d != nil {
		parts = append(parts, "until "+dateParam(d))
	}
	if id := req.GetWikidataId(); id != "" {
		parts = append(parts, "linked to Wikidata "+id)
	}
	if len(parts) == 0 {
		return "Every event in the archive, earliest first."
	}
	return "Events " + strings.Join(parts, ", ") + ", earliest first."
}

// searchMatches is how many actors and places a search lists.
const searchMatches = 10

// search serves /search?query=: the events, actors and places matching a
// full-text query.
func (p *Pages) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("query"))
	page := &eventsPage{Heading: "Search", Form: q, Search: true}
	page.Title, page.Nav, page.Query = "Search", "search", query
	if query == "" {
		page.Intro = "Search the labels, summaries and articles of the archive, in any of its languages."
		p.render(w, r, "events.html", page)
		return
	}
	req := &annalsv1.ListEventsRequest{Query: query, PageToken: q.Get("page_token"), PageSize: recordPageSize}
	if vs := wholeNumber(q, "page_size", &req.PageSize, nil); len(vs) > 0 {
		p.badRequest(w, r, vs)
		return
	}
	resp, err := p.cfg.Archive.ListEvents(r.Context(), req)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(r.Context(), readerOf(r))
	page.Title = "Search: " + query
	page.Events = n.eventItems(resp.GetEvents())
	page.Pager = pagerOf("/search", q, resp.GetNextPageToken())
	page.Empty = fmt.Sprintf("No event matches “%s”.", query)
	if req.GetPageToken() == "" {
		acts, err := p.cfg.Archive.ListActors(r.Context(), &annalsv1.ListActorsRequest{Query: query, PageSize: searchMatches})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		page.Actors = n.actorItems(acts.GetActors())
		pls, err := p.cfg.Archive.ListPlaces(r.Context(), &annalsv1.ListPlacesRequest{Query: query, PageSize: searchMatches})
		if err != nil {
			p.fail(w, r, err)
			return
		}
		page.Places = n.placeItems(pls.GetPlaces())
	}
	page.Commands = []command{
		{"The same search from the gRPC API:", p.grpcurl(r, "ListEvents", requestJSON(&annalsv1.ListEventsRequest{Query: query}))},
	}
	p.render(w, r, "events.html", page)
}

func (n *names) actorItems(as []*annalsv1.Actor) []recordItem {
	out := make([]recordItem, 0, len(as))
	for _, a := range as {
		t := n.rd.pick(a.GetLabels())
		if t.Value == "" {
			t = text{Value: a.GetName()}
		}
		out = append(out, recordItem{Link: link{Href: href(a.GetName()), Label: t, Name: a.GetName()}, Description: a.GetDescription(), Kind: kindWords(a.GetKind())})
	}
	return out
}

func (n *names) placeItems(ps []*annalsv1.Place) []recordItem {
	out := make([]recordItem, 0, len(ps))
	for _, pl := range ps {
		t := n.rd.pick(pl.GetLabels())
		if t.Value == "" {
			t = text{Value: pl.GetName()}
		}
		out = append(out, recordItem{Link: link{Href: href(pl.GetName()), Label: t, Name: pl.GetName()}, Description: pl.GetDescription()})
	}
	return out
}

// recordsPage is a list of actors or places.
type recordsPage struct {
	layout
	Heading string
	Form    url.Values
	Kinds   []option // actors: the kinds to filter by
	Items   []recordItem
	Pager   pager
	Action  string
}

type option struct {
	Value, Label string
	Selected     bool
}

func (e *recordsPage) frame() *layout { return &e.layout }

// actors serves /actors: ListActors with kind, query and paging.
func (p *Pages) actors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := &annalsv1.ListActorsRequest{Query: q.Get("query"), WikidataId: q.Get("wikidata_id"), PageToken: q.Get("page_token")}
	var vs []violation
	if k := q.Get("kind"); k != "" {
		v, ok := annalsv1.ActorKind_value["ACTOR_KIND_"+strings.ToUpper(k)]
		if !ok || v == 0 {
			vs = append(vs, violation{"kind", fmt.Sprintf("%q is not a kind of actor; use person, state, government, organization or group", clip(k))})
		}
		req.Kind = annalsv1.ActorKind(v)
	}
	vs = wholeNumber(q, "page_size", &req.PageSize, vs)
	if len(vs) > 0 {
		p.badRequest(w, r, vs)
		return
	}
	resp, err := p.cfg.Archive.ListActors(r.Context(), req)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(r.Context(), readerOf(r))
	page := &recordsPage{Heading: "Actors", Form: q, Items: n.actorItems(resp.GetActors()), Pager: pagerOf("/actors", q, resp.GetNextPageToken()), Action: "/actors"}
	for _, k := range []annalsv1.ActorKind{1, 2, 3, 4, 5} {
		w := kindWords(k)
		page.Kinds = append(page.Kinds, option{Value: w, Label: w, Selected: q.Get("kind") == w})
	}
	page.Title, page.Nav = "Actors", "actors"
	page.Commands = []command{{"The same list from the gRPC API:", p.grpcurl(r, "ListActors", requestJSON(req))}}
	p.render(w, r, "records.html", page)
}

// places serves /places: ListPlaces with query and paging.
func (p *Pages) places(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := &annalsv1.ListPlacesRequest{Query: q.Get("query"), WikidataId: q.Get("wikidata_id"), PageToken: q.Get("page_token")}
	if vs := wholeNumber(q, "page_size", &req.PageSize, nil); len(vs) > 0 {
		p.badRequest(w, r, vs)
		return
	}
	resp, err := p.cfg.Archive.ListPlaces(r.Context(), req)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(r.Context(), readerOf(r))
	page := &recordsPage{Heading: "Places", Form: q, Items: n.placeItems(resp.GetPlaces()), Pager: pagerOf("/places", q, resp.GetNextPageToken()), Action: "/places"}
	page.Title, page.Nav = "Places", "places"
	page.Commands = []command{{"The same list from the gRPC API:", p.grpcurl(r, "ListPlaces", requestJSON(req))}}
	p.render(w, r, "records.html", page)
}

// dayPage is "on this day".
type dayPage struct {
	layout
	Heading    string
	Month, Day int32
	Events     []eventItem
	Pager      pager
	Prev, Next string
	Today      bool
}

func (d *dayPage) frame() *layout { return &d.layout }

// onThisDay serves /on-this-day: the events of today's date (UTC), or of
// ?month=&day=, in every year.
func (p *Pages) onThisDay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	today := p.cfg.Now().UTC()
	req := &annalsv1.ListEventsRequest{Month: int32(today.Month()), Day: int32(today.Day()), PageToken: q.Get("page_token")}
	given := q.Get("month") != "" || q.Get("day") != ""
	if given {
		f, vs := eventFilters(url.Values{"month": {q.Get("month")}, "day": {q.Get("day")}})
		if len(vs) > 0 {
			p.badRequest(w, r, vs)
			return
		}
		req.Month, req.Day = f.GetMonth(), f.GetDay()
	}
	resp, err := p.cfg.Archive.ListEvents(r.Context(), req)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	n := p.names(r.Context(), readerOf(r))
	page := &dayPage{Month: req.GetMonth(), Day: req.GetDay(), Events: n.eventItems(resp.GetEvents()), Today: !given}
	page.Heading = dayName(req.GetMonth(), req.GetDay())
	page.Pager = pagerOf("/on-this-day", q, resp.GetNextPageToken())
	// A leap year, so that 29 February has neighbours.
	d := time.Date(2000, time.Month(req.GetMonth()), int(req.GetDay()), 0, 0, 0, 0, time.UTC)
	for i, dd := range []time.Time{d.AddDate(0, 0, -1), d.AddDate(0, 0, 1)} {
		u := fmt.Sprintf("/on-this-day?month=%d&day=%d", dd.Month(), dd.Day())
		if i == 0 {
			page.Prev = u
		} else {
			page.Next = u
		}
	}
	page.Title, page.Nav = "On this day: "+page.Heading, "on-this-day"
	page.Commands = []command{{"The same list from the gRPC API:", p.grpcurl(r, "ListEvents", requestJSON(&annalsv1.ListEventsRequest{Month: req.GetMonth(), Day: req.GetDay()}))}}
	p.render(w, r, "day.html", page)
}

// dayName writes a day of the year: "13 April".
func dayName(m, d int32) string {
	if m < 1 || m > 12 {
		return ""
	}
	return fmt.Sprintf("%d %s", d, histdate.MonthNames()[m-1])
}

// clip shortens user input quoted in messages.
// wholeNumber sets *dst to the query parameter field, if given, or appends
// to vs the violation of a value that is not a whole number.
func wholeNumber(q url.Values, field string, dst *int32, vs []violation) []violation {
	s := strings.TrimSpace(q.Get(field))
	if s == "" {
		return vs
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return append(vs, violation{field, fmt.Sprintf("%q is not a whole number", clip(s))})
	}
	*dst = int32(n)
	return vs
}

func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
