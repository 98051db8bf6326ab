package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/synth"
)

// perFilter is how many values pick chooses for each filter; ghz sends them
// in turn.
const perFilter = 8

// Filter is one ListEvents filter as pick chose it.
type Filter struct {
	Name     string   `json:"name"`  // file-name key: filter-NAME.json
	Label    string   `json:"label"` // for the report
	Values   []string `json:"values"`
	Requests int      `json:"requests"`
	// Mean events in the first page (page_size 50) over the values.
	SmallResults float64 `json:"small_results"`
	LargeResults float64 `json:"large_results"`
	Note         string  `json:"note,omitempty"`
}

// Pick is what pick writes to DIR/pick.json.
type Pick struct {
	Seed              uint64   `json:"seed"`
	SmallEvents       int      `json:"small_events"`
	LargeEvents       int      `json:"large_events"`
	GetEventNames     int      `json:"getevent_names"`
	GetEventMeanBytes float64  `json:"getevent_mean_bytes"`
	ListMix           []string `json:"list_mix"` // filters whose values list-mix.json rotates over
	ListMixRequests   int      `json:"list_mix_requests"`
	ListMixMeanBytes  float64  `json:"list_mix_mean_bytes"`
	ListMixResults    float64  `json:"list_mix_results"`
	Filters           []Filter `json:"filters"`
}

// pick chooses the requests the ghz runs send. GetEvent: 1000 event names
// spread evenly over the large archive (synth names them without making
// them). ListEvents: for each filter up to perFilter values taken from
// events of the small archive (synth, same seed), kept only when the first
// page is non-empty in both archives, so that both sizes answer the same
// requests with data. Exceptions: wikidata_id (synthetic records carry no
// Wikidata ids, so those values match nothing anywhere: what is measured is
// the index lookup) and no filter.
func pick(ctx context.Context, args []string) error {
	fs := newFlags("pick")
	small := fs.String("small", "", "gRPC address of annals serve on the small archive")
	large := fs.String("large", "", "gRPC address of annals serve on the large archive")
	smallEvents := fs.Int("small-events", 0, "events in the small archive")
	largeEvents := fs.Int("large-events", 0, "events in the large archive")
	seed := fs.Uint64("seed", 1, "synth seed of both archives")
	out := fs.String("out", "", "directory for the request files and pick.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "small", "large", "small-events", "large-events", "out"); err != nil {
		return err
	}
	dial := func(addr string) (annalsv1.ArchiveServiceClient, func(), error) {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, err
		}
		return annalsv1.NewArchiveServiceClient(c), func() { c.Close() }, nil
	}
	sc, sclose, err := dial(*small)
	if err != nil {
		return err
	}
	defer sclose()
	lc, lclose, err := dial(*large)
	if err != nil {
		return err
	}
	defer lclose()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	res := Pick{Seed: *seed, SmallEvents: *smallEvents, LargeEvents: *largeEvents}

	// GetEvent: names spread over the large archive.
	gl := synth.New(*seed, *largeEvents)
	var gets []proto.Message
	var getBytes int
	n := min(1000, *largeEvents)
	for j := range n {
		name := gl.EventName(j * (*largeEvents / n))
		resp, err := lc.GetEvent(ctx, &annalsv1.GetEventRequest{Name: name})
		if err != nil {
			return fmt.Errorf("GetEvent %s on the large archive: %w", name, err)
		}
		getBytes += proto.Size(resp)
		gets = append(gets, &annalsv1.GetEventRequest{Name: name})
	}
	res.GetEventNames = len(gets)
	res.GetEventMeanBytes = float64(getBytes) / float64(len(gets))
	if err := writeRequests(filepath.Join(*out, "getevent.json"), gets); err != nil {
		return err
	}

	// ListEvents: candidate values from events of the small archive.
	type cand struct {
		value string
		req   *annalsv1.ListEventsRequest
	}
	gs := synth.New(*seed, *smallEvents)
	cands := map[string][]cand{}
	seen := map[string]bool{}
	addCand := func(filter, value string, req *annalsv1.ListEventsRequest) {
		if seen[filter+"\x00"+value] {
			return
		}
		seen[filter+"\x00"+value] = true
		req.PageSize = 50
		cands[filter] = append(cands[filter], cand{value, req})
	}
	const nCand = 400
	for j := range nCand {
		ev := gs.EventAt(j * (*smallEvents / nCand))
		d := ev.GetDate()
		if d.GetPrecision() == annalsv1.DatePrecision_DATE_PRECISION_DAY {
			addCand("on_this_day", fmt.Sprintf("%02d-%02d", d.GetMonth(), d.GetDay()),
				&annalsv1.ListEventsRequest{Month: d.GetMonth(), Day: d.GetDay()})
		}
		if y := d.GetYear(); d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_YEAR {
			y2 := y + 9
			if y < 0 && y2 >= 0 {
				y2++ // there is no year 0
			}
			addCand("date_range", fmt.Sprintf("%d..%d", y, y2), &annalsv1.ListEventsRequest{
				StartDate: &annalsv1.HistoricalDate{Year: y, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
				EndDate:   &annalsv1.HistoricalDate{Year: y2, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
			})
		}
		for _, p := range ev.GetParticipants() {
			addCand("actor", p.GetActor(), &annalsv1.ListEventsRequest{Actor: p.GetActor()})
		}
		for _, p := range ev.GetPlaces() {
			addCand("place", p, &annalsv1.ListEventsRequest{Place: p})
		}
		if ls := ev.GetLabels(); len(ls) > 0 {
			// The title's name part ("Kalevo Misuta" of "Treaty of Kalevo
			// Misuta"): words few events share.
			words := strings.Fields(ls[0].GetValue())
			var rare []string
			for _, w := range words {
				if w != "of" && w != "at" && strings.ToLower(w) != w && !isCategoryWord(w) {
					rare = append(rare, w)
				}
			}
			if len(rare) > 0 {
				q := strings.Join(rare, " ")
				addCand("full_text_rare", q, &annalsv1.ListEventsRequest{Query: q})
			}
		}
	}
	for _, w := range []string{"treaty", "battle", "siege", "war", "council", "revolt", "founding", "coronation"} {
		addCand("full_text_common", w, &annalsv1.ListEventsRequest{Query: w})
	}
	for k := range perFilter {
		q := fmt.Sprintf("Q99999990%d", k+1)
		addCand("wikidata_id", q, &annalsv1.ListEventsRequest{WikidataId: q})
	}
	addCand("none", "(none)", &annalsv1.ListEventsRequest{})

	filters := []Filter{
		{Name: "on_this_day", Label: "on this day (month+day)"},
		{Name: "date_range", Label: "date range (10 years)"},
		{Name: "actor", Label: "actor"},
		{Name: "place", Label: "place"},
		{Name: "wikidata_id", Label: "wikidata_id",
			Note: "synthetic records carry no Wikidata ids: these Q-numbers match nothing at either size; the index lookup is what is measured"},
		{Name: "full_text_rare", Label: "full text, rare words (an event title's name)"},
		{Name: "full_text_common", Label: "full text, common word (treaty, battle, …)"},
		{Name: "none", Label: "no filter"},
	}
	reqsOf := map[string][]*annalsv1.ListEventsRequest{}
	for i := range filters {
		f := &filters[i]
		var reqs []proto.Message
		var sres, lres int
		matchAnywhere := f.Name == "wikidata_id"
		for _, c := range cands[f.Name] {
			if len(reqs) == perFilter {
				break
			}
			sr, err := sc.ListEvents(ctx, c.req)
			if err != nil {
				return fmt.Errorf("ListEvents %s=%s on the small archive: %w", f.Name, c.value, err)
			}
			lr, err := lc.ListEvents(ctx, c.req)
			if err != nil {
				return fmt.Errorf("ListEvents %s=%s on the large archive: %w", f.Name, c.value, err)
			}
			if !matchAnywhere && (len(sr.GetEvents()) == 0 || len(lr.GetEvents()) == 0) {
				continue
			}
			reqs = append(reqs, c.req)
			reqsOf[f.Name] = append(reqsOf[f.Name], c.req)
			f.Values = append(f.Values, c.value)
			sres += len(sr.GetEvents())
			lres += len(lr.GetEvents())
		}
		if len(reqs) == 0 {
			return fmt.Errorf("no value of filter %s matches both archives", f.Name)
		}
		f.Requests = len(reqs)
		f.SmallResults = float64(sres) / float64(len(reqs))
		f.LargeResults = float64(lres) / float64(len(reqs))
		fmt.Fprintf(os.Stderr, "pick: %s: %d values, %.1f / %.1f events per page (small / large): %s\n",
			f.Name, len(reqs), f.SmallResults, f.LargeResults, strings.Join(f.Values, ", "))
		if err := writeRequests(filepath.Join(*out, "filter-"+f.Name+".json"), reqs); err != nil {
			return err
		}
	}
	res.Filters = filters

	// The ListEvents throughput mix: on this day, actor and place in turn.
	res.ListMix = []string{"on_this_day", "actor", "place"}
	var mix []proto.Message
	var mixBytes, mixResults int
	for _, name := range res.ListMix {
		for _, r := range reqsOf[name] {
			lr, err := lc.ListEvents(ctx, r)
			if err != nil {
				return err
			}
			mixBytes += proto.Size(lr)
			mixResults += len(lr.GetEvents())
			mix = append(mix, r)
		}
	}
	res.ListMixRequests = len(mix)
	res.ListMixMeanBytes = float64(mixBytes) / float64(len(mix))
	res.ListMixResults = float64(mixResults) / float64(len(mix))
	if err := writeRequests(filepath.Join(*out, "list-mix.json"), mix); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pick: GetEvent: %d names, %.0f bytes per response; ListEvents mix: %d requests, %.0f bytes and %.1f events per response\n",
		res.GetEventNames, res.GetEventMeanBytes, len(mix), res.ListMixMeanBytes, res.ListMixResults)
	return writeJSON(filepath.Join(*out, "pick.json"), res)
}

var categoryWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("Treaty Peace Battle Siege War Conquest Council Revolt Founding Coronation Great Fire Flood Earthquake Expedition Edict Massacre Election") {
		categoryWords[w] = true
	}
}

func isCategoryWord(w string) bool { return categoryWords[w] }

// writeRequests writes messages as a JSON array, the form ghz sends in turn
// (round robin) for unary calls.
func writeRequests(path string, ms []proto.Message) error {
	var b strings.Builder
	b.WriteString("[\n")
	for i, m := range ms {
		j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(j)
	}
	b.WriteString("\n]\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
