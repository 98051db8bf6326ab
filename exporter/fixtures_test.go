package exporter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// The fixture archive: the Soviet–Japanese Neutrality Pact with the actors,
// place and source it names, plus events that exercise dates (BCE, Julian,
// month, year and decade precision) and tricky text. Wikidata ids are the
// verified ones of ../shared/reference/wikidata-ids.md; where none is
// verified (the pact itself, Matsuoka) the record stays unlinked.

const pactName = "events/soviet-japanese-neutrality-pact"

// fixtureLastModified is the archive's Stats.LastModified.
var fixtureLastModified = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()

func day(y, m, d int32) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_GREGORIAN}
}

func lbl(lang, v string) *annalsv1.Label { return &annalsv1.Label{Language: lang, Value: v} }

// pactText stands in for the seed document (its first lines).
const pactText = "April 13, 1941\n\nThe Soviet Union and Japan signed the Soviet–Japanese Neutrality Pact.\n\nMoscow, Soviet Union | Government of Soviet Union, Government of Japan\n"

func sourceFor(text, title, event, previous string, imported time.Time) *annalsv1.Source {
	sum := sha256.Sum256([]byte(text))
	h := hex.EncodeToString(sum[:])
	return &annalsv1.Source{
		Name:             "sources/" + h[:16],
		Title:            title,
		Filename:         "000_" + h[:16] + ".txt",
		Text:             text,
		Sha256:           h,
		ImportTime:       timestamppb.New(imported),
		Event:            event,
		PreviousRevision: previous,
	}
}

func fixtureBatch() store.Batch {
	oldPact := sourceFor(pactText[:40], "Soviet–Japanese Neutrality Pact", pactName, "", time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC))
	pactSrc := sourceFor(pactText, "Soviet–Japanese Neutrality Pact", pactName, oldPact.Name, time.Date(2026, 11, 25, 12, 0, 0, 500_000_000, time.UTC))
	caesarSrc := sourceFor("March 15, 44 BC\n\nJulius Caesar was stabbed to death in the Theatre of Pompey.\n", "Assassination of Julius Caesar", "events/assassination-of-julius-caesar", "", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))

	pact := &annalsv1.Event{
		Name: pactName,
		Labels: []*annalsv1.Label{
			lbl("en", "Soviet–Japanese Neutrality Pact"),
			lbl("ru", "Пакт о нейтралитете между СССР и Японией"),
			lbl("ja", "日ソ中立条約"),
		},
		Summary: "The Soviet Union and Japan signed the Soviet–Japanese Neutrality Pact, securing Soviet neutrality in the Pacific.",
		Article: []*annalsv1.ArticleSection{
			{Paragraphs: []string{"On April 13, 1941, the Soviet Union and Japan signed the pact in Moscow."}},
			{Heading: "Terms and Significance", Paragraphs: []string{
				"Neither party would declare war on the other for five years.",
				"Japan could secure its northern boundary.",
			}},
			{Heading: "Key Figures", Items: []*annalsv1.ListItem{
				{Term: "Vyacheslav Molotov", Text: "The Soviet Foreign Minister who signed the pact on behalf of the Soviet Union.", Actor: "actors/vyacheslav-molotov"},
				{Term: "Yōsuke Matsuoka", Text: "The Foreign Minister of Japan, who signed for Japan.", Actor: "actors/yosuke-matsuoka"},
			}},
		},
		Date:   day(1941, 4, 13),
		Places: []string{"places/moscow"},
		Participants: []*annalsv1.Participant{
			{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/government-of-the-soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/government-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/vyacheslav-molotov", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY,
				Description: "The Soviet Foreign Minister who signed the pact on behalf of the Soviet Union.", DisplayName: "Vyacheslav Molotov"},
			{Actor: "actors/yosuke-matsuoka", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY,
				Description: "The Foreign Minister of Japan, who signed for Japan.", DisplayName: "Yōsuke Matsuoka"},
		},
		Relations: []*annalsv1.EventRelation{
			{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWS, Event: "events/battles-of-khalkhin-gol"},
			{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY, Event: "events/operation-barbarossa"},
			{Type: annalsv1.RelationType_RELATION_TYPE_ENDED_BY, Event: "events/soviet-declaration-of-war-on-japan"},
		},
		Illustration: &annalsv1.Illustration{
			Caption: "Watercolor painting based depiction of the signing of the Soviet–Japanese Neutrality Pact. (1941)",
			Style:   "watercolor painting",
			Year:    1941,
		},
		Sources: []string{pactSrc.Name, oldPact.Name},
	}

	caesar := &annalsv1.Event{
		Name:    "events/assassination-of-julius-caesar",
		Labels:  []*annalsv1.Label{lbl("en", "Assassination of Julius Caesar"), lbl("la", "Caedes Gaii Iulii Caesaris")},
		Summary: "Julius Caesar was stabbed to death in the Theatre of Pompey on the Ides of March.",
		Date: &annalsv1.HistoricalDate{Year: -44, Month: 3, Day: 15,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
		Places:       []string{"places/rome"},
		Participants: []*annalsv1.Participant{{Actor: "actors/julius-caesar", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_VICTIM}},
		Sources:      []string{caesarSrc.Name},
	}

	khalkhin := &annalsv1.Event{
		Name:   "events/battles-of-khalkhin-gol",
		Labels: []*annalsv1.Label{lbl("en", "Battles of Khalkhin Gol")},
		Date: &annalsv1.HistoricalDate{Year: 1939, Month: 5,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_MONTH},
		EndDate: &annalsv1.HistoricalDate{Year: 1939, Month: 9,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_MONTH},
		Participants: []*annalsv1.Participant{
			{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		},
		Relations: []*annalsv1.EventRelation{
			{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY, Event: pactName},
			{Type: annalsv1.RelationType_RELATION_TYPE_PART_OF, Event: "events/1930s-soviet-japanese-border-conflicts"},
		},
	}

	conflicts := &annalsv1.Event{
		Name:   "events/1930s-soviet-japanese-border-conflicts",
		Labels: []*annalsv1.Label{lbl("en", "1930s Soviet–Japanese border conflicts")},
		Date: &annalsv1.HistoricalDate{Year: 1930,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_DECADE},
		Relations: []*annalsv1.EventRelation{
			{Type: annalsv1.RelationType_RELATION_TYPE_HAS_PART, Event: "events/battles-of-khalkhin-gol"},
			{Type: annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE, Event: "events/japanese-invasion-of-manchuria"},
			{Type: annalsv1.RelationType_RELATION_TYPE_UNSPECIFIED, Event: pactName},
		},
	}

	rome := &annalsv1.Event{
		Name:    "events/founding-of-rome",
		Labels:  []*annalsv1.Label{lbl("en", "Founding of Rome"), lbl("la", "Ab urbe condita")},
		Summary: "Rome was founded, by the traditional count, in 753 BC.",
		Date: &annalsv1.HistoricalDate{Year: -753,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
		Places: []string{"places/rome"},
		Relations: []*annalsv1.EventRelation{
			{Type: annalsv1.RelationType_RELATION_TYPE_HAS_EFFECT, Event: "events/assassination-of-julius-caesar"},
			{Type: annalsv1.RelationType_RELATION_TYPE_ENDS, Event: "events/1930s-soviet-japanese-border-conflicts"},
		},
	}

	// A year known in the Julian calendar, and a war whose end the record
	// does not know (a span, never a point in time).
	fair := &annalsv1.Event{
		Name:    "events/the-first-green-fair",
		Labels:  []*annalsv1.Label{lbl("en", "The First Green Fair")},
		Summary: "A fair was held on the green for the first time.",
		Date: &annalsv1.HistoricalDate{Year: 1066,
			Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
	}
	war := &annalsv1.Event{
		Name:   "events/soviet-japanese-war",
		Labels: []*annalsv1.Label{lbl("en", "Soviet–Japanese War")},
		Date:   day(1945, 8, 9), EndUnknown: true,
		Participants: []*annalsv1.Participant{
			{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
		},
		WikidataId: "Q220602",
	}

	actors := []*annalsv1.Actor{
		{
			Name: "actors/soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE,
			Labels:      []*annalsv1.Label{lbl("en", "Soviet Union"), lbl("ru", "Союз Советских Социалистических Республик")},
			Aliases:     []*annalsv1.Label{lbl("en", "USSR"), lbl("ru", "СССР")},
			Description: "Socialist state in Eurasia (1922–1991).",
			StartDate:   day(1922, 12, 30), EndDate: day(1991, 12, 26),
			WikidataId: "Q15180",
		},
		{
			Name: "actors/empire-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE,
			Labels:      []*annalsv1.Label{lbl("en", "Empire of Japan"), lbl("ja", "大日本帝国")},
			Description: "Japanese state from 1868 to 1947.",
			StartDate:   day(1868, 1, 3), EndDate: day(1947, 5, 3),
			WikidataId: "Q188712",
		},
		{
			Name: "actors/government-of-the-soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT,
			Labels: []*annalsv1.Label{lbl("en", "Government of the Soviet Union")},
			State:  "actors/soviet-union", Unreconciled: true,
			Sources: []string{pactSrc.Name},
		},
		{
			// Wikidata's item is the present Government of Japan: close, not the same.
			Name: "actors/government-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT,
			Labels: []*annalsv1.Label{lbl("en", "Government of Japan")},
			State:  "actors/empire-of-japan", WikidataId: "Q1190574", WikidataMatch: annalsv1.WikidataMatch_WIKIDATA_MATCH_CLOSE,
		},
		{
			Name: "actors/vyacheslav-molotov", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON,
			Labels:      []*annalsv1.Label{lbl("en", "Vyacheslav Molotov"), lbl("ru", "Вячеслав Михайлович Молотов")},
			Aliases:     []*annalsv1.Label{lbl("en", "Molotov")},
			Description: "Soviet foreign minister (1890–1986).",
			StartDate:   day(1890, 3, 9), EndDate: day(1986, 11, 8),
			Positions:  []string{"People's Commissar for Foreign Affairs"},
			State:      "actors/soviet-union",
			WikidataId: "Q132899",
			Sources:    []string{pactSrc.Name},
		},
		{
			Name: "actors/yosuke-matsuoka", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON,
			Labels:  []*annalsv1.Label{lbl("en", "Yōsuke Matsuoka"), lbl("ja", "松岡洋右"), lbl("ja-Latn", "Matsuoka Yōsuke")},
			State:   "actors/empire-of-japan",
			Sources: []string{pactSrc.Name},
		},
		{
			Name: "actors/julius-caesar", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON,
			Labels:    []*annalsv1.Label{lbl("en", "Julius Caesar"), lbl("la", "Gaius Iulius Caesar")},
			StartDate: &annalsv1.HistoricalDate{Year: -100, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
			EndDate: &annalsv1.HistoricalDate{Year: -44, Month: 3, Day: 15,
				Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_JULIAN},
			Sources: []string{caesarSrc.Name},
		},
	}

	places := []*annalsv1.Place{
		{
			Name:        "places/moscow",
			Labels:      []*annalsv1.Label{lbl("en", "Moscow"), lbl("ru", "Москва"), lbl("ja", "モスクワ")},
			Description: "Capital of the Soviet Union.",
			Coordinates: &annalsv1.Coordinates{Latitude: 55.7558, Longitude: 37.6173},
			Country:     "actors/soviet-union",
			WikidataId:  "Q649",
			Sources:     []string{pactSrc.Name},
		},
		{
			Name:        "places/rome",
			Labels:      []*annalsv1.Label{lbl("en", "Rome"), lbl("la", "Roma")},
			Coordinates: &annalsv1.Coordinates{Latitude: 41.8933, Longitude: 12.4828},
		},
		{
			// Whole and negative numbers: decimals must keep their point.
			Name:        "places/cape-horn",
			Labels:      []*annalsv1.Label{lbl("en", "Cape Horn")},
			Coordinates: &annalsv1.Coordinates{Latitude: -56, Longitude: -67.25},
		},
	}

	return store.Batch{
		Events:  []*annalsv1.Event{pact, caesar, khalkhin, conflicts, rome, fair, war, trickyEvent()},
		Actors:  actors,
		Places:  places,
		Sources: []*annalsv1.Source{pactSrc, oldPact, caesarSrc},
	}
}

// trickyCase is a text and language tag the writers must round-trip, and
// the tag the output must carry ("und" for a tag that is empty or not BCP 47).
type trickyCase struct {
	name, value, tag, wantTag string
	// jenaWarns marks text Jena's riot warns about although it is valid RDF
	// (U+FFFD): kept out of the archive the dump checks require warning-free.
	jenaWarns bool
	// rapperLoses marks text rapper (Raptor 2.0.15) reads without a word but
	// wrongly: it cuts a string at U+0000 or U+FFFE and drops U+FFFF.
	rapperLoses bool
}

var trickyCases = []trickyCase{
	{"quotes", `He said "neutral" and 'pact'`, "en", "en", false, false},
	{"triple quotes", `""" and ''' and "`, "en", "en", false, false},
	{"backslashes", `C:\path\to\file \u0041 \n not an escape \\`, "en", "en", false, false},
	{"newlines", "line one\nline two\r\nline three\r", "en", "en", false, false},
	{"tabs", "col1\tcol2\t\tcol3", "en", "en", false, false},
	{"control chars", "bell\a back\b form\f vt\v esc\x1b del\x7f unit\x1f", "en", "en", false, false},
	{"nul", "before\x00after", "en", "en", false, true},
	{"non-BMP", "emoji 🕊️📜 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, CJK ext B 𠀋", "en", "en", false, false},
	{"russian", "Пакт о нейтралитете между СССР и Японией", "ru", "ru", false, false},
	{"japanese", "日ソ中立条約「ソ連」", "ja", "ja", false, false},
	{"ja-Latn", "Nisso chūritsu jōyaku", "ja-Latn", "ja-latn", false, false},
	{"zh-Hant-TW", "日蘇中立條約", "zh-Hant-TW", "zh-hant-tw", false, false},
	{"lower-case multi-subtag", "Sowjetisch-japanischer Neutralitätspakt", "de-latn-ch", "de-latn-ch", false, false},
	{"upper-case tag", "Soviet–Japanese Neutrality Pact", "EN-GB", "en-gb", false, false},
	{"deprecated tag", "ניטרליות", "iw", "he", false, false},
	{"region digits", "Pacto de neutralidad", "es-419", "es-419", false, false},
	{"variant", "Pakt", "sl-rozaj-biske", "sl-rozaj-biske", false, false},
	{"empty tag", "no language", "", "und", false, false},
	{"invalid tag", "bad tag", "not a tag!", "und", false, false},
	{"leading hyphen tag", "bad tag 2", "-en", "und", false, false},
	{"turtle syntax", `<http://x> ; , . @prefix "a"^^xsd:b # not a comment`, "en", "en", false, false},
	{"trailing backslash", `ends with \`, "en", "en", false, false},
	{"only spaces", "   ", "en", "en", false, false},
	{"bidi and zero-width", "\u202eevil\u202c \u200b\u200d\ufeff", "en", "en", false, false},
	{"BMP noncharacters", "a\ufffeb\uffffc", "en", "en", false, true},
	{"plane 16 noncharacter", "a\U0010fffeb", "en", "en", false, false},
	{"replacement char", "\ufffd", "en", "en", true, false},
}

// trickyEvent carries every tricky case as a label, and some in other text fields.
func trickyEvent() *annalsv1.Event {
	e := &annalsv1.Event{
		Name:    "events/tricky-literals",
		Summary: "A summary with \"quotes\", a \\ backslash,\na newline and a tab\there.",
		Date:    &annalsv1.HistoricalDate{Year: 2026, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
		Article: []*annalsv1.ArticleSection{{
			Heading:    "A \"quoted\" heading\twith tab",
			Paragraphs: []string{"First \"paragraph\"\nwith a line break.", "Second, with emoji 📜 and \\n."},
			Items:      []*annalsv1.ListItem{{Term: "Term: with colon", Text: "Text \"with\" quotes\r\n"}},
		}},
		Illustration: &annalsv1.Illustration{Caption: "Caption \"quoted\"\nsecond line", Style: "ink; wash"},
	}
	for _, c := range trickyCases {
		if !c.jenaWarns {
			e.Labels = append(e.Labels, lbl(c.tag, c.value))
		}
	}
	return e
}

// synthEvent is the i-th event of a generated archive, for benchmarks and
// memory checks: about the size of the pact.
func synthEvent(i int) *annalsv1.Event {
	y := int32(1000 + i%1000)
	return &annalsv1.Event{
		Name:    fmt.Sprintf("events/synthetic-event-%07d", i),
		Labels:  []*annalsv1.Label{lbl("en", fmt.Sprintf("Synthetic event %d", i)), lbl("ru", fmt.Sprintf("Событие %d", i)), lbl("ja", fmt.Sprintf("出来事%d", i))},
		Summary: fmt.Sprintf("Synthetic event number %d, made for benchmarks.", i),
		Article: []*annalsv1.ArticleSection{
			{Paragraphs: []string{"A paragraph of text that stands in for an article's lead, about this long."}},
			{Heading: "Key Figures", Items: []*annalsv1.ListItem{{Term: "Someone", Text: "Did something.", Actor: "actors/vyacheslav-molotov"}}},
		},
		Date:   day(y, int32(1+i%12), int32(1+i%28)),
		Places: []string{"places/moscow"},
		Participants: []*annalsv1.Participant{
			{Actor: "actors/soviet-union", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/empire-of-japan", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY},
			{Actor: "actors/vyacheslav-molotov", Role: annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY, Description: "Signed it."},
		},
		Relations: []*annalsv1.EventRelation{
			{Type: annalsv1.RelationType_RELATION_TYPE_FOLLOWS, Event: fmt.Sprintf("events/synthetic-event-%07d", i+1)},
		},
		WikidataId: fmt.Sprintf("Q%d", 100000+i),
		Sources:    []string{"sources/0123456789abcdef"},
	}
}
