package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

const (
	seedEvent  = "events/soviet-japanese-neutrality-pact"
	seedSource = "sources/a2f96e56786ded08"
)

var (
	created   = annalsv1.ChangeKind_CHANGE_KIND_CREATED
	updated   = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
	unchanged = annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED
)

func en(v string) []*annalsv1.Label { return []*annalsv1.Label{{Language: "en", Value: v}} }

// curated returns the fixture records: a few curated entities with their
// Wikidata ids, as the bundled dataset would hold them.
func curated() *store.Batch {
	return &store.Batch{
		Actors: []*annalsv1.Actor{
			{Name: "actors/soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: en("Soviet Union"),
				Aliases: en("USSR"), WikidataId: "Q15180", Description: "a state in Eurasia, 1922–1991"},
			{Name: "actors/empire-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: en("Empire of Japan"),
				Aliases: en("Japan"), WikidataId: "Q188712"},
			{Name: "actors/council-of-peoples-commissars", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT,
				Labels: en("Council of People's Commissars"), Aliases: en("Government of the Soviet Union"),
				WikidataId: "Q4426244", State: "actors/soviet-union"},
			{Name: "actors/vyacheslav-molotov", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: en("Vyacheslav Molotov"),
				WikidataId: "Q132899", Positions: []string{"People's Commissar for Foreign Affairs"},
				Sources: []string{"sources/0000000000000001"}},
		},
		Places: []*annalsv1.Place{
			{Name: "places/moscow", Labels: en("Moscow"), WikidataId: "Q649", Country: "actors/soviet-union",
				Coordinates: &annalsv1.Coordinates{Latitude: 55.7558, Longitude: 37.6173}},
		},
	}
}

// newFixtureStore returns a store holding the curated records and any extra ones.
func newFixtureStore(t *testing.T, extra ...*store.Batch) *memStore {
	t.Helper()
	st := newMemStore()
	for _, b := range append([]*store.Batch{curated()}, extra...) {
		if _, err := st.Put(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func importSeed(t *testing.T, st *memStore, text []byte, opts Options) *Report {
	t.Helper()
	if opts.ImportTime.IsZero() {
		opts.ImportTime = t0
	}
	rep, err := Import(context.Background(), st, "000_18ebd8a16d007420.txt", text, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func changeList(cs []store.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s\n", strings.TrimPrefix(c.Kind.String(), "CHANGE_KIND_"), c.Name)
	}
	return b.String()
}

func TestImportSeedResolvesCuratedRecords(t *testing.T) {
	st := newFixtureStore(t)
	before := st.snapshot()
	rep := importSeed(t, st, readSeed(t), Options{})

	if rep.Event != seedEvent || rep.Source != seedSource {
		t.Errorf("report names %s, %s; want %s, %s", rep.Event, rep.Source, seedEvent, seedSource)
	}
	wantChanges := `UPDATED actors/council-of-peoples-commissars
CREATED actors/government-of-japan
UPDATED actors/soviet-union
UPDATED actors/vyacheslav-molotov
CREATED actors/yoshitsugu-tatekawa
CREATED actors/yosuke-matsuoka
CREATED events/soviet-japanese-neutrality-pact
UPDATED places/moscow
CREATED sources/a2f96e56786ded08
`
	if got := changeList(rep.Changes); got != wantChanges {
		t.Errorf("changes:\n%s\nwant:\n%s", got, wantChanges)
	}

	ev, err := st.GetEvent(context.Background(), seedEvent)
	if err != nil {
		t.Fatal(err)
	}
	const matsuoka = "The Foreign Minister of Japan, who, alongside Ambassador Yoshitsugu Tatekawa, represented Japan in the signing."
	wantParts := []*annalsv1.Participant{
		{Actor: "actors/council-of-peoples-commissars", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY, DisplayName: "Government of Soviet Union"},
		{Actor: "actors/government-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		{Actor: "actors/vyacheslav-molotov", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY,
			Description: "The Soviet Foreign Minister who signed the pact on behalf of the Soviet Union."},
		{Actor: "actors/yosuke-matsuoka", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY, Description: matsuoka},
		// Named inside Matsuoka's description: a participant, without that text.
		{Actor: "actors/yoshitsugu-tatekawa", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE,
			DisplayName: "Ambassador Yoshitsugu Tatekawa"},
	}
	protoEqual(t, "participants", &annalsv1.Event{Participants: ev.Participants}, &annalsv1.Event{Participants: wantParts})
	if len(ev.Places) != 1 || ev.Places[0] != "places/moscow" {
		t.Errorf("places = %v; want [places/moscow]", ev.Places)
	}
	if len(ev.Sources) != 1 || ev.Sources[0] != seedSource {
		t.Errorf("sources = %v; want [%s]", ev.Sources, seedSource)
	}
	var items []string
	for _, s := range ev.Article {
		for _, it := range s.Items {
			items = append(items, it.Actor)
		}
	}
	if got, want := strings.Join(items, " "), "actors/vyacheslav-molotov actors/yosuke-matsuoka"; got != want {
		t.Errorf("key figure items link %q; want %q", got, want)
	}

	// Curated records keep everything and gain the source.
	for _, name := range []string{"actors/soviet-union", "actors/council-of-peoples-commissars", "actors/vyacheslav-molotov", "places/moscow"} {
		want := proto.Clone(before[name])
		switch w := want.(type) {
		case *annalsv1.Actor:
			w.Sources = append([]string{seedSource}, w.Sources...)
		case *annalsv1.Place:
			w.Sources = append([]string{seedSource}, w.Sources...)
		}
		if got := st.snapshot()[name]; !equalContent(got, want) {
			t.Errorf("%s after import:\n got: %v\nwant: %v", name, got, want)
		}
	}
	if got := st.snapshot()["actors/empire-of-japan"]; !proto.Equal(got, before["actors/empire-of-japan"]) {
		t.Errorf("actors/empire-of-japan, which the document does not name, changed: %v", got)
	}

	// Unknown names become unreconciled records.
	for _, name := range []string{"actors/government-of-japan", "actors/yosuke-matsuoka", "actors/yoshitsugu-tatekawa"} {
		a, err := st.GetActor(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Unreconciled || a.WikidataId != "" || len(a.Sources) != 1 || a.Sources[0] != seedSource {
			t.Errorf("%s = %v; want unreconciled, no Wikidata id, sources [%s]", name, a, seedSource)
		}
	}
	wantWarnings := []string{
		`"Government of Japan" matches no known actor; made actors/government-of-japan, unreconciled`,
		`"Yōsuke Matsuoka" matches no known actor; made actors/yosuke-matsuoka, unreconciled`,
		`"Yoshitsugu Tatekawa" matches no known actor; made actors/yoshitsugu-tatekawa, unreconciled`,
	}
	if got, want := strings.Join(rep.Warnings, "\n"), strings.Join(wantWarnings, "\n"); got != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
	}

	src, err := st.GetSource(context.Background(), seedSource)
	if err != nil {
		t.Fatal(err)
	}
	if !src.ImportTime.AsTime().Equal(t0) || src.PreviousRevision != "" || src.Event != seedEvent || src.Title != "Soviet–Japanese Neutrality Pact" {
		t.Errorf("source = %v", src)
	}
}

// TestImportIsIdempotent imports documents twice, into stores with and
// without curated records: the second import, real or dry, changes nothing.
func TestImportIsIdempotent(t *testing.T) {
	seed := string(readSeed(t))
	tests := []struct {
		name  string
		store func(*testing.T) *memStore
		text  string
	}{
		{"seed with curated records", func(t *testing.T) *memStore { return newFixtureStore(t) }, seed},
		{"seed into an empty store", func(*testing.T) *memStore { return newMemStore() }, seed},
		{"seed with an ambiguous name", func(t *testing.T) *memStore { return newFixtureStore(t, twoJapaneseGovernments()) }, seed},
		{"BCE document", func(*testing.T) *memStore { return newMemStore() }, docBCE},
		{"year document", func(*testing.T) *memStore { return newMemStore() }, docYear},
		{"month document", func(*testing.T) *memStore { return newMemStore() }, docMonth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.store(t)
			first := importSeed(t, st, []byte(tt.text), Options{})
			for _, c := range first.Changes {
				if c.Kind == unchanged {
					t.Errorf("first import left %s unchanged", c.Name)
				}
			}
			stored := st.snapshot()
			for _, dry := range []bool{true, false} {
				again := importSeed(t, st, []byte(tt.text), Options{DryRun: dry, ImportTime: t0.Add(time.Hour)})
				for _, c := range again.Changes {
					if c.Kind != unchanged {
						t.Errorf("dry run %v: second import: %s %s; want UNCHANGED", dry, c.Kind, c.Name)
					}
				}
				if len(again.Changes) != len(first.Changes) {
					t.Errorf("dry run %v: %d changes; want %d", dry, len(again.Changes), len(first.Changes))
				}
				for _, m := range batchRecords(again.Batch) {
					name := m.(interface{ GetName() string }).GetName()
					if !equalContent(m, stored[name]) {
						t.Errorf("dry run %v: batch record %s differs from the stored one:\n got: %v\nwant: %v", dry, name, m, stored[name])
					}
				}
			}
			for name, m := range st.snapshot() {
				if !proto.Equal(m, stored[name]) {
					t.Errorf("%s changed in the store on the second import", name)
				}
			}
		})
	}
}

func batchRecords(b *store.Batch) []proto.Message {
	var out []proto.Message
	for _, m := range b.Sources {
		out = append(out, m)
	}
	for _, m := range b.Events {
		out = append(out, m)
	}
	for _, m := range b.Actors {
		out = append(out, m)
	}
	for _, m := range b.Places {
		out = append(out, m)
	}
	return out
}

// TestImportChangedDocument imports three revisions of the seed and then
// the first one again.
func TestImportChangedDocument(t *testing.T) {
	ctx := context.Background()
	st := newFixtureStore(t)
	rev1 := string(readSeed(t))
	rev2 := strings.Replace(rev1, "Historical Impact", "Legacy", 1)
	rev3 := strings.Replace(rev2, "  • Vyacheslav Molotov:", "  • Joseph Stalin: The Soviet leader, who attended the signing.\n  • Vyacheslav Molotov:", 1)

	r1 := importSeed(t, st, []byte(rev1), Options{})
	r2 := importSeed(t, st, []byte(rev2), Options{ImportTime: t0.Add(time.Hour)})
	if r2.Source == r1.Source {
		t.Fatalf("a changed document kept source %s", r1.Source)
	}
	want2 := `UPDATED actors/council-of-peoples-commissars
UPDATED actors/government-of-japan
UPDATED actors/soviet-union
UPDATED actors/vyacheslav-molotov
UPDATED actors/yoshitsugu-tatekawa
UPDATED actors/yosuke-matsuoka
UPDATED events/soviet-japanese-neutrality-pact
UPDATED places/moscow
CREATED ` + r2.Source + "\n"
	if got := changeList(r2.Changes); got != want2 {
		t.Errorf("changes of the second revision:\n%s\nwant:\n%s", got, want2)
	}
	src2, err := st.GetSource(ctx, r2.Source)
	if err != nil {
		t.Fatal(err)
	}
	if src2.PreviousRevision != r1.Source || !src2.ImportTime.AsTime().Equal(t0.Add(time.Hour)) {
		t.Errorf("second source = %v; want previous_revision %s", src2, r1.Source)
	}

	r3 := importSeed(t, st, []byte(rev3), Options{ImportTime: t0.Add(2 * time.Hour)})
	src3, err := st.GetSource(ctx, r3.Source)
	if err != nil {
		t.Fatal(err)
	}
	if src3.PreviousRevision != r2.Source {
		t.Errorf("third source's previous_revision = %s; want %s", src3.PreviousRevision, r2.Source)
	}
	ev, err := st.GetEvent(ctx, seedEvent)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ev.Sources, " "), strings.Join([]string{r3.Source, r2.Source, r1.Source}, " "); got != want {
		t.Errorf("event sources = %s; want %s (newest first)", got, want)
	}
	if ev.Article[len(ev.Article)-1].Heading != "Legacy" {
		t.Errorf("the event kept its old article")
	}

	// The first revision again: its stored source is reused and becomes the newest.
	r4 := importSeed(t, st, []byte(rev1), Options{ImportTime: t0.Add(3 * time.Hour)})
	src1, err := st.GetSource(ctx, r1.Source)
	if err != nil {
		t.Fatal(err)
	}
	if r4.Source != r1.Source || !src1.ImportTime.AsTime().Equal(t0) || src1.PreviousRevision != "" {
		t.Errorf("re-imported first revision: report source %s, stored %v; want the stored source unchanged", r4.Source, src1)
	}
	for _, c := range r4.Changes {
		if c.Name == r1.Source && c.Kind != unchanged {
			t.Errorf("%s %s; want UNCHANGED", c.Kind, c.Name)
		}
	}
	if ev, err = st.GetEvent(ctx, seedEvent); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ev.Sources, " "), strings.Join([]string{r1.Source, r3.Source, r2.Source}, " "); got != want {
		t.Errorf("event sources = %s; want %s", got, want)
	}
}

// TestReconcileMergesStoredEvent checks what an import keeps of a curated event.
func TestReconcileMergesStoredEvent(t *testing.T) {
	stored := &annalsv1.Event{
		Name:    seedEvent,
		Labels:  []*annalsv1.Label{{Language: "en", Value: "Soviet-Japanese neutrality pact"}, {Language: "ja", Value: "日ソ中立条約"}},
		Summary: "An old summary.",
		Date:    &annalsv1.HistoricalDate{Year: 1941, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
		EndDate: &annalsv1.HistoricalDate{Year: 1945, Month: 8, Day: 9, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY},
		Places:  []string{"places/tokyo"},
		Participants: []*annalsv1.Participant{
			{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/vyacheslav-molotov", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_KEY_FIGURE, Description: "old"},
		},
		Relations:    []*annalsv1.EventRelation{{Type: annalsv1.RelationType_RELATION_TYPE_ENDED_BY, Event: "events/soviet-invasion-of-manchuria"}},
		Illustration: &annalsv1.Illustration{Caption: "old"},
		Sources:      []string{"sources/00000000000000c1"},
		WikidataId:   "Q12345",
	}
	st := newFixtureStore(t, &store.Batch{Events: []*annalsv1.Event{stored}})
	doc, err := Parse("seed.txt", readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := reconcile(context.Background(), doc, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	ev := b.Events[0]

	want := proto.Clone(ev).(*annalsv1.Event)
	// What the document owns.
	if ev.Summary != doc.Event.Summary || ev.Labels[0].Value != "Soviet–Japanese Neutrality Pact" ||
		!proto.Equal(ev.Date, doc.Event.Date) || !proto.Equal(ev.Illustration, doc.Event.Illustration) ||
		len(ev.Places) != 1 || ev.Places[0] != "places/moscow" || len(ev.Article) != len(doc.Event.Article) {
		t.Errorf("the document's fields were not taken: %v", ev)
	}
	// What the stored record keeps.
	want.Labels = []*annalsv1.Label{{Language: "en", Value: "Soviet–Japanese Neutrality Pact"}, {Language: "ja", Value: "日ソ中立条約"}}
	want.EndDate, want.Relations, want.WikidataId = stored.EndDate, stored.Relations, stored.WikidataId
	want.Sources = []string{seedSource, "sources/00000000000000c1"}
	protoEqual(t, "merged event", ev, want)

	var parts []string
	for _, p := range ev.Participants {
		parts = append(parts, p.Actor+" "+p.Role.String())
	}
	wantParts := []string{
		"actors/council-of-peoples-commissars PARTICIPANT_ROLE_PARTY",
		"actors/government-of-japan PARTICIPANT_ROLE_PARTY",
		"actors/vyacheslav-molotov PARTICIPANT_ROLE_SIGNATORY", // named by the document: its role wins
		"actors/yosuke-matsuoka PARTICIPANT_ROLE_SIGNATORY",
		"actors/yoshitsugu-tatekawa PARTICIPANT_ROLE_REPRESENTATIVE",
		"actors/soviet-union PARTICIPANT_ROLE_PARTY", // not a participant in the document: kept
		"actors/empire-of-japan PARTICIPANT_ROLE_PARTY",
	}
	if got, want := strings.Join(parts, "\n"), strings.Join(wantParts, "\n"); got != want {
		t.Errorf("participants:\n%s\nwant:\n%s", got, want)
	}
	if src := b.Sources[0]; src.PreviousRevision != "sources/00000000000000c1" || !src.ImportTime.AsTime().Equal(t0) {
		t.Errorf("source = %v; want previous_revision sources/00000000000000c1", src)
	}
	for _, m := range batchRecords(b) {
		if m.(interface{ GetEtag() string }).GetEtag() != "" {
			t.Errorf("batch record %v carries output-only fields", m)
		}
	}
}

// twoJapaneseGovernments returns two curated actors that share the alias "Government of Japan".
func twoJapaneseGovernments() *store.Batch {
	return &store.Batch{Actors: []*annalsv1.Actor{
		{Name: "actors/cabinet-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT, Labels: en("Cabinet of Japan"),
			Aliases: en("Government of Japan"), WikidataId: "Q529012"},
		{Name: "actors/imperial-government", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT, Labels: en("Imperial Government"),
			Aliases: en("Government of Japan")},
	}}
}

func TestReconcileNames(t *testing.T) {
	tests := []struct {
		name    string
		extra   *store.Batch
		doc     string
		actor   string // the record "Government of Japan" is linked to
		created bool   // whether that record is new
		warning string // a warning that must be given
	}{
		{
			name:    "ambiguous name",
			extra:   twoJapaneseGovernments(),
			actor:   "actors/government-of-japan",
			created: true,
			warning: `"Government of Japan" matches 2 records (actors/cabinet-of-japan, actors/imperial-government); made a new unreconciled record rather than choose`,
		},
		{
			name: "name taken by a record with another key",
			extra: &store.Batch{Actors: []*annalsv1.Actor{{Name: "actors/government-of-japan", Labels: en("Cabinet of Japan"),
				WikidataId: "Q529012"}}},
			actor:   "actors/government-of-japan-2",
			created: true,
			warning: `"Government of Japan" matches no known actor; made actors/government-of-japan-2, unreconciled`,
		},
		{
			name: "two names taken",
			extra: &store.Batch{Actors: []*annalsv1.Actor{
				{Name: "actors/government-of-japan", Labels: en("Cabinet of Japan")},
				{Name: "actors/government-of-japan-2", Labels: en("Imperial Cabinet")},
			}},
			actor:   "actors/government-of-japan-3",
			created: true,
		},
		{
			name:  "alias with a different case and article",
			extra: &store.Batch{Actors: []*annalsv1.Actor{{Name: "actors/cabinet-of-japan", Labels: en("Cabinet of Japan"), Aliases: en("the government of JAPAN")}}},
			actor: "actors/cabinet-of-japan",
		},
		{
			name:    "matches a record that is not reconciled yet",
			extra:   &store.Batch{Actors: []*annalsv1.Actor{{Name: "actors/government-of-japan", Labels: en("Government of Japan"), Unreconciled: true}}},
			actor:   "actors/government-of-japan",
			warning: `"Government of Japan" is actors/government-of-japan, which is not reconciled yet`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFixtureStore(t, tt.extra)
			before := st.snapshot()
			doc, err := Parse("seed.txt", readSeed(t))
			if err != nil {
				t.Fatal(err)
			}
			b, warnings, err := Reconcile(context.Background(), doc, st)
			if err != nil {
				t.Fatal(err)
			}
			var got *annalsv1.Participant
			for _, p := range b.Events[0].Participants {
				if p.DisplayName == "Government of Japan" || p.Actor == tt.actor {
					got = p
				}
			}
			if got == nil || got.Actor != tt.actor {
				t.Fatalf("Government of Japan links to %v; want %s", got, tt.actor)
			}
			var rec *annalsv1.Actor
			for _, a := range b.Actors {
				if a.Name == tt.actor {
					rec = a
				}
			}
			if rec == nil {
				t.Fatalf("%s is not in the batch", tt.actor)
			}
			old, existed := before[tt.actor].(*annalsv1.Actor)
			switch {
			case tt.created && (existed || !rec.Unreconciled || rec.WikidataId != ""):
				t.Errorf("%s = %v; want a new unreconciled record", tt.actor, rec)
			case !tt.created && (!existed || rec.Unreconciled != old.Unreconciled || rec.WikidataId != old.WikidataId):
				t.Errorf("%s = %v; want the stored record %v", tt.actor, rec, old)
			}
			for _, a := range b.Actors {
				if !strings.Contains(strings.Join(a.Sources, " "), seedSource) {
					t.Errorf("%s is in the batch without the source", a.Name)
				}
			}
			if tt.warning != "" && !strings.Contains(strings.Join(warnings, "\n"), tt.warning) {
				t.Errorf("warnings:\n%s\nwant one: %s", strings.Join(warnings, "\n"), tt.warning)
			}
		})
	}
}

// TestReconcileOneRecordForTwoNames checks that two names for one record
// (a country and a party that is its alias) give one record in the batch.
func TestReconcileOneRecordForTwoNames(t *testing.T) {
	text := "April 13, 1941\n\nA test summary.\n\nKyoto, Empire of Japan | Japan, USSR\n\nA Test Treaty\n"
	st := newFixtureStore(t)
	rep, err := Import(context.Background(), st, "test.txt", []byte(text), Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, a := range rep.Batch.Actors {
		actors = append(actors, a.Name)
	}
	if got, want := strings.Join(actors, " "), "actors/empire-of-japan actors/soviet-union"; got != want {
		t.Errorf("batch actors %s; want %s", got, want)
	}
	pl := rep.Batch.Places[0]
	if pl.Name != "places/kyoto" || pl.Country != "actors/empire-of-japan" || !pl.Unreconciled {
		t.Errorf("place = %v; want places/kyoto in actors/empire-of-japan, unreconciled", pl)
	}
	var parts []string
	for _, p := range rep.Batch.Events[0].Participants {
		parts = append(parts, p.Actor+" as "+p.DisplayName)
	}
	if got, want := strings.Join(parts, ", "), "actors/empire-of-japan as Japan, actors/soviet-union as USSR"; got != want {
		t.Errorf("participants %s; want %s", got, want)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	dry := newFixtureStore(t)
	before := dry.snapshot()
	puts := dry.puts
	rep := importSeed(t, dry, readSeed(t), Options{DryRun: true})
	if dry.puts != puts || len(dry.snapshot()) != len(before) {
		t.Errorf("a dry run wrote to the store")
	}
	real := importSeed(t, newFixtureStore(t), readSeed(t), Options{})
	if got, want := changeList(rep.Changes), changeList(real.Changes); got != want {
		t.Errorf("dry run changes:\n%s\nreal import:\n%s", got, want)
	}
	if strings.Join(rep.Warnings, "\n") != strings.Join(real.Warnings, "\n") {
		t.Errorf("dry run warnings differ from the real import's")
	}
}

func TestImportErrors(t *testing.T) {
	t.Run("refused document", func(t *testing.T) {
		st := newFixtureStore(t)
		puts := st.puts
		_, err := Import(context.Background(), st, "bad.txt", []byte("February 30, 1941\n"), Options{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 1 || pe.File != "bad.txt" {
			t.Errorf("Import = %v; want a *ParseError for bad.txt line 1", err)
		}
		if st.puts != puts {
			t.Errorf("a refused document was written")
		}
	})
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("store fails, dry run %v", dry), func(t *testing.T) {
			st := newFixtureStore(t)
			st.failGet = errDiskOnFire
			_, err := Import(context.Background(), st, "seed.txt", readSeed(t), Options{DryRun: dry})
			if !errors.Is(err, errDiskOnFire) {
				t.Errorf("Import = %v; want it to wrap the store's error", err)
			}
		})
	}
}
