package data_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/annals-project/annals/data"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

const pact = "events/soviet-japanese-neutrality-pact"

// openBundled opens a fresh SQLite file and loads the bundled dataset into it.
func openBundled(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "annals.db")
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	loaded, err := data.Load(context.Background(), st, ingest.Import, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !loaded {
		t.Fatal("Load on an empty database wrote nothing")
	}
	return st, path
}

// client serves st over bufconn and returns an ArchiveService client.
func client(t *testing.T, st store.Store) annalsv1.ArchiveServiceClient {
	t.Helper()
	srv, err := server.New(server.Config{Store: st, Import: ingest.Import})
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	go srv.Serve(lis)
	t.Cleanup(srv.GRPC().Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return annalsv1.NewArchiveServiceClient(conn)
}

func hasParticipant(e *annalsv1.Event, actor string, role annalsv1.ParticipantRole) bool {
	return slices.ContainsFunc(e.GetParticipants(), func(p *annalsv1.Participant) bool {
		return p.GetActor() == actor && p.GetRole() == role
	})
}

func label(ls []*annalsv1.Label, lang string) string {
	for _, l := range ls {
		if l.GetLanguage() == lang {
			return l.GetValue()
		}
	}
	return ""
}

// TestBundledPact checks the first record as a gRPC client sees it.
func TestBundledPact(t *testing.T) {
	st, _ := openBundled(t)
	c := client(t, st)
	ctx := context.Background()

	resp, err := c.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact})
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	e := resp.GetEvent()
	want := &annalsv1.HistoricalDate{Year: 1941, Month: 4, Day: 13, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_GREGORIAN}
	if !proto.Equal(e.GetDate(), want) {
		t.Errorf("date = %v, want %v", e.GetDate(), want)
	}
	if !slices.Equal(e.GetPlaces(), []string{"places/moscow"}) {
		t.Errorf("places = %v, want [places/moscow]", e.GetPlaces())
	}
	for _, p := range []struct {
		actor string
		role  annalsv1.ParticipantRole
	}{
		{"actors/vyacheslav-molotov", annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY},
		{"actors/yosuke-matsuoka", annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY},
		{"actors/yoshitsugu-tatekawa", annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE},
		{"actors/government-of-the-soviet-union", annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		{"actors/government-of-japan", annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		{"actors/soviet-union", annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		{"actors/empire-of-japan", annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
	} {
		if !hasParticipant(e, p.actor, p.role) {
			t.Errorf("no participant %s as %v", p.actor, p.role)
		}
	}
	if got := label(e.GetLabels(), "ru"); got != "Пакт о нейтралитете между СССР и Японией" {
		t.Errorf("ru label = %q", got)
	}
	if got := label(e.GetLabels(), "ja"); got != "日ソ中立条約" {
		t.Errorf("ja label = %q", got)
	}
	rel := map[string]annalsv1.RelationType{}
	for _, r := range e.GetRelations() {
		rel[r.GetEvent()] = r.GetType()
	}
	if rel["events/battles-of-khalkhin-gol"] != annalsv1.RelationType_RELATION_TYPE_FOLLOWS ||
		rel["events/operation-barbarossa"] != annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY {
		t.Errorf("relations = %v, want follows Khalkhin Gol and followed by Barbarossa", rel)
	}
	if c := e.GetIllustration().GetCaption(); len(c) < 40 || e.GetIllustration().GetYear() != 1941 {
		t.Errorf("illustration = %v", e.GetIllustration())
	}
	if len(e.GetSources()) != 1 {
		t.Fatalf("sources = %v, want the seed document", e.GetSources())
	}
	src, err := c.GetSource(ctx, &annalsv1.GetSourceRequest{Name: e.GetSources()[0]})
	if err != nil {
		t.Fatalf("GetSource: %v", err)
	}
	if src.GetSource().GetFilename() != "000_18ebd8a16d007420.txt" || src.GetSource().GetEvent() != pact || len(src.GetSource().GetSha256()) != 64 {
		t.Errorf("source = %v", src.GetSource())
	}
	headings := 0
	for _, s := range e.GetArticle() {
		if s.GetHeading() != "" {
			headings++
		}
	}
	if headings != 6 {
		t.Errorf("article has %d headed sections, want 6 (and the lead)", headings)
	}

	place, err := c.GetPlace(ctx, &annalsv1.GetPlaceRequest{Name: "places/moscow"})
	if err != nil || place.GetPlace().GetWikidataId() != "Q649" {
		t.Errorf("GetPlace(places/moscow) = %v, %v; want Q649", place.GetPlace().GetWikidataId(), err)
	}
	actor, err := c.GetActor(ctx, &annalsv1.GetActorRequest{Name: "actors/vyacheslav-molotov"})
	if err != nil || actor.GetActor().GetWikidataId() != "Q132899" {
		t.Errorf("GetActor(actors/vyacheslav-molotov) = %v, %v; want Q132899", actor.GetActor().GetWikidataId(), err)
	}
}

func listAll(t *testing.T, c annalsv1.ArchiveServiceClient, req *annalsv1.ListEventsRequest) []string {
	t.Helper()
	var names []string
	for i := 0; ; i++ {
		resp, err := c.ListEvents(context.Background(), req)
		if err != nil {
			t.Fatalf("ListEvents(%v): %v", req, err)
		}
		for _, e := range resp.GetEvents() {
			names = append(names, e.GetName())
		}
		if resp.GetNextPageToken() == "" {
			return names
		}
		if i > 1000 {
			t.Fatal("paging does not end")
		}
		req = proto.CloneOf(req)
		req.PageToken = resp.GetNextPageToken()
	}
}

// TestBundledQueries checks the ListEvents examples on the real data.
func TestBundledQueries(t *testing.T) {
	st, _ := openBundled(t)
	c := client(t, st)
	year := func(y int32) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}
	}
	var all []*annalsv1.Event
	if err := st.WalkEvents(context.Background(), func(e *annalsv1.Event) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(all, func(a, b *annalsv1.Event) int {
		ka, _ := histdate.Bounds(a.GetDate())
		kb, _ := histdate.Bounds(b.GetDate())
		if ka != kb {
			return int(ka - kb)
		}
		if a.GetName() < b.GetName() {
			return -1
		}
		return 1
	})
	var inOrder []string
	for _, e := range all {
		inOrder = append(inOrder, e.GetName())
	}
	if len(inOrder) != 7 {
		t.Fatalf("the bundle has %d events, want 7: %v", len(inOrder), inOrder)
	}

	tests := []struct {
		name string
		req  *annalsv1.ListEventsRequest
		want []string
	}{
		{"on this day", &annalsv1.ListEventsRequest{Month: 4, Day: 13}, []string{pact}},
		{"1939 to 1945 in date order", &annalsv1.ListEventsRequest{StartDate: year(1939), EndDate: year(1945)}, inOrder},
		{"Molotov", &annalsv1.ListEventsRequest{Actor: "actors/vyacheslav-molotov"}, []string{pact, "events/soviet-denunciation-of-the-neutrality-pact"}},
		{"full text", &annalsv1.ListEventsRequest{Query: "neutrality"}, nil},
		{"end 1945 includes 2 September", &annalsv1.ListEventsRequest{StartDate: year(1945), EndDate: year(1945)}, []string{
			"events/soviet-denunciation-of-the-neutrality-pact", "events/soviet-declaration-of-war-on-japan",
			"events/soviet-japanese-war", "events/surrender-of-japan"}},
		{"Wikidata id", &annalsv1.ListEventsRequest{WikidataId: "Q220602"}, []string{"events/soviet-japanese-war"}},
		{"place", &annalsv1.ListEventsRequest{Place: "places/moscow"}, []string{pact, "events/soviet-denunciation-of-the-neutrality-pact"}},
		{"page size 1 walks everything once", &annalsv1.ListEventsRequest{PageSize: 1}, inOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listAll(t, c, tt.req)
			if tt.want == nil {
				if !slices.Contains(got, pact) {
					t.Errorf("got %v, want it to include %s", got, pact)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestBundleIntegrity checks that every name a bundled record refers to
// exists, and that only verified Wikidata ids are used.
func TestBundleIntegrity(t *testing.T) {
	st, _ := openBundled(t)
	ctx := context.Background()
	exists := func(name string) bool {
		k, _, err := resource.Parse(name)
		if err != nil {
			return false
		}
		switch k {
		case resource.Events:
			_, err = st.GetEvent(ctx, name)
		case resource.Actors:
			_, err = st.GetActor(ctx, name)
		case resource.Places:
			_, err = st.GetPlace(ctx, name)
		case resource.Sources:
			_, err = st.GetSource(ctx, name)
		}
		return err == nil
	}
	check := func(from string, names ...string) {
		for _, n := range names {
			if n != "" && !exists(n) {
				t.Errorf("%s refers to %s, which does not exist", from, n)
			}
		}
	}
	// The Wikidata ids wikidata-ids.md lists as VERIFIED or VERIFIED-1 with
	// no "check" caveat, for the entities the bundle holds.
	verified := map[string]bool{"Q15180": true, "Q188712": true, "Q1190574": true, "Q649": true, "Q132899": true,
		"Q855": true, "Q7318": true, "Q220602": true, "Q6540361": true}
	qid := func(from, id string) {
		if id != "" && !verified[id] {
			t.Errorf("%s has Wikidata id %s, which the reference does not verify", from, id)
		}
	}
	if err := st.WalkEvents(ctx, func(e *annalsv1.Event) error {
		check(e.GetName(), e.GetPlaces()...)
		check(e.GetName(), e.GetSources()...)
		for _, p := range e.GetParticipants() {
			check(e.GetName(), p.GetActor())
		}
		for _, r := range e.GetRelations() {
			check(e.GetName(), r.GetEvent())
		}
		qid(e.GetName(), e.GetWikidataId())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.WalkActors(ctx, func(a *annalsv1.Actor) error {
		check(a.GetName(), a.GetState())
		check(a.GetName(), a.GetSources()...)
		qid(a.GetName(), a.GetWikidataId())
		if a.GetUnreconciled() {
			t.Errorf("%s is unreconciled: the seed named someone the curated records lack", a.GetName())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.WalkPlaces(ctx, func(p *annalsv1.Place) error {
		check(p.GetName(), p.GetCountry())
		qid(p.GetName(), p.GetWikidataId())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLoadIsIdempotent checks that opening the same file again neither
// duplicates nor changes anything, and that a newer bundle updates it.
func TestLoadIsIdempotent(t *testing.T) {
	st, path := openBundled(t)
	ctx := context.Background()
	before, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	loaded, err := data.Load(ctx, st2, ingest.Import, slog.New(slog.DiscardHandler))
	if err != nil || loaded {
		t.Fatalf("second Load = %v, %v; want nothing written", loaded, err)
	}
	after, _ := st2.Stats(ctx)
	if after != before {
		t.Errorf("stats after reopening = %+v, before %+v", after, before)
	}

	// A newer bundle (another version) is applied, and applying it again
	// over the same records changes nothing but the version.
	b, err := data.Read(data.FS)
	if err != nil {
		t.Fatal(err)
	}
	b.Version = "newer"
	if loaded, err := b.Load(ctx, st2, ingest.Import, slog.New(slog.DiscardHandler)); err != nil || !loaded {
		t.Fatalf("Load of a newer bundle = %v, %v; want it applied", loaded, err)
	}
	again, _ := st2.Stats(ctx)
	if again != before {
		t.Errorf("re-applying the same records changed the archive: %+v, before %+v", again, before)
	}
	e, err := st2.GetEvent(ctx, pact)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range e.GetLabels() {
		seen[l.GetLanguage()]++
	}
	for lang, n := range seen {
		if n != 1 {
			t.Errorf("after re-applying the bundle the pact has %d %q labels", n, lang)
		}
	}
	if v, err := st2.Meta(ctx, data.VersionKey); err != nil || v != "newer" {
		t.Errorf("version = %q, %v", v, err)
	}
	if _, err := st2.GetEvent(ctx, "events/no-such-event"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEvent of an unknown name: %v", err)
	}
}

// TestReleaseDated: data.Released dates the bundle as it is. A change to a
// bundled file changes Bundle.Version; set Released to the day of the change
// and ReleasedVersion to the new version, so that the dataset's dates move
// with its content.
func TestReleaseDated(t *testing.T) {
	b, err := data.Read(data.FS)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != data.ReleasedVersion {
		t.Errorf("the bundle changed (version %s, Released dates %s): set data.Released to today and data.ReleasedVersion to %q",
			b.Version, data.ReleasedVersion, b.Version)
	}
}

// TestBundledImportTime: the bundled documents are stored with the release
// as their import time, whenever the database was loaded.
func TestBundledImportTime(t *testing.T) {
	st, _ := openBundled(t)
	n := 0
	err := st.WalkSources(context.Background(), func(s *annalsv1.Source) error {
		n++
		if got := s.GetImportTime().AsTime(); !got.Equal(data.Released) {
			t.Errorf("%s import_time = %v, want the release %v", s.GetName(), got, data.Released)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("WalkSources: %d sources, %v", n, err)
	}
}
