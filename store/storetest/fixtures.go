package storetest

import (
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// Shorthands for the fixtures.
var (
	gregorian = annalsv1.Calendar_CALENDAR_GREGORIAN
	julian    = annalsv1.Calendar_CALENDAR_JULIAN
)

func day(y, m, d int32, c annalsv1.Calendar) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: c}
}

func month(y, m int32) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Month: m, Precision: annalsv1.DatePrecision_DATE_PRECISION_MONTH}
}

func year(y int32, p annalsv1.DatePrecision) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Precision: p}
}

func en(v string) []*annalsv1.Label { return []*annalsv1.Label{{Language: "en", Value: v}} }

func labels(kv ...string) []*annalsv1.Label {
	var ls []*annalsv1.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, &annalsv1.Label{Language: kv[i], Value: kv[i+1]})
	}
	return ls
}

func party(actor string, role annalsv1.ParticipantRole) *annalsv1.Participant {
	return &annalsv1.Participant{Actor: actor, Role: role}
}

// Fixture returns a new copy of the suite's archive: fourteen events from
// the 26th century BCE to the 20th century CE, at every precision, in both
// calendars, with the actors, places and source they refer to. Events are
// listed in the order ListEvents returns them.
func Fixture() *store.Batch {
	const (
		partyRole = annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY
		signatory = annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY
		victim    = annalsv1.ParticipantRole_PARTICIPANT_ROLE_VICTIM
		commander = annalsv1.ParticipantRole_PARTICIPANT_ROLE_COMMANDER
	)
	century := annalsv1.DatePrecision_DATE_PRECISION_CENTURY
	yearP := annalsv1.DatePrecision_DATE_PRECISION_YEAR
	b := &store.Batch{
		Sources: []*annalsv1.Source{{
			Name:     "sources/0123456789abcdef",
			Title:    "Soviet–Japanese Neutrality Pact",
			Filename: "pact.txt",
			Text:     "April 13, 1941\nThe Soviet Union and Japan sign a neutrality pact in Moscow.\n",
			Sha256:   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Event:    "events/soviet-japanese-neutrality-pact",
		}},
		Events: []*annalsv1.Event{
			{
				Name:    "events/construction-of-the-great-pyramid",
				Labels:  en("Construction of the Great Pyramid"),
				Summary: "The Great Pyramid of Giza is built for the pharaoh Khufu.",
				Date:    year(-2560, century),
			},
			{
				Name:    "events/founding-of-rome",
				Labels:  en("Founding of Rome"),
				Summary: "Romulus founds the city of Rome, as legend has it.",
				Date:    year(-753, yearP),
				Places:  []string{"places/rome"},
			},
			{
				Name:    "events/assassination-of-julius-caesar",
				Labels:  labels("en", "Assassination of Julius Caesar", "la", "Caedes Caesaris"),
				Summary: "Julius Caesar is stabbed to death by senators in the Curia of Pompey.",
				Date:    day(-44, 3, 15, julian),
				Places:  []string{"places/rome"},
				Participants: []*annalsv1.Participant{
					party("actors/julius-caesar", victim),
					party("actors/marcus-junius-brutus", annalsv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED),
				},
				WikidataId: "Q202466",
			},
			{
				Name:    "events/consulship-of-gaius-caesar",
				Labels:  en("Consulship of Gaius Caesar"),
				Summary: "Gaius Caesar, grandson of Augustus, serves as consul.",
				Date:    year(1, yearP),
				Places:  []string{"places/rome"},
			},
			{
				Name:    "events/death-of-augustus",
				Labels:  en("Death of Augustus"),
				Summary: "The first Roman emperor dies at Nola.",
				Date:    day(14, 8, 19, julian),
			},
			{
				Name:    "events/battle-of-hastings",
				Labels:  en("Battle of Hastings"),
				Summary: "William of Normandy defeats Harold Godwinson.",
				Date:    day(1066, 10, 14, julian),
				Places:  []string{"places/hastings"},
			},
			{
				Name:    "events/first-crusade",
				Labels:  en("First Crusade"),
				Summary: "Crusaders march from Europe to Jerusalem.",
				Date:    year(1096, yearP),
				EndDate: year(1099, yearP),
			},
			{
				Name:    "events/fall-of-constantinople",
				Labels:  en("Fall of Constantinople"),
				Summary: "Ottoman forces under Mehmed II take the city.",
				Date:    day(1453, 5, 29, julian),
				Places:  []string{"places/constantinople"},
			},
			{
				Name:    "events/edict-of-nantes",
				Labels:  labels("en", "Edict of Nantes", "fr", "Édit de Nantes"),
				Summary: "Henry IV of France grants rights to Huguenots.",
				Date:    day(1598, 4, 13, gregorian),
			},
			{
				Name:    "events/october-revolution",
				Labels:  labels("en", "October Revolution", "ru", "Октябрьская революция"),
				Summary: "The Bolsheviks seize power in Petrograd on 25 October (Julian), 7 November (Gregorian).",
				Date:    day(1917, 10, 25, julian),
			},
			{
				Name:    "events/lend-lease-act",
				Labels:  en("Lend-Lease Act"),
				Summary: "The United States agrees to supply its allies.",
				Date:    day(1941, 3, 11, gregorian),
			},
			{
				Name:    "events/april-1941-atlantic-convoys",
				Labels:  en("April 1941 Atlantic convoys"),
				Summary: "Convoys cross the Atlantic under threat of U-boats.",
				Date:    month(1941, 4),
			},
			{
				Name:    "events/soviet-japanese-neutrality-pact",
				Labels:  labels("en", "Soviet–Japanese Neutrality Pact", "ru", "Пакт о нейтралитете между СССР и Японией", "ja", "日ソ中立条約"),
				Summary: "The Soviet Union and Japan sign a five-year neutrality pact in Moscow.",
				Article: []*annalsv1.ArticleSection{
					{Paragraphs: []string{"Signed in the Kremlin, the pact kept the two powers at peace until 1945."}},
					{Heading: "Key Figures", Items: []*annalsv1.ListItem{
						{Term: "Yōsuke Matsuoka", Text: "Foreign Minister of Japan, who signed for Japan.", Actor: "actors/yosuke-matsuoka"},
						{Term: "Vyacheslav Molotov", Text: "People's Commissar for Foreign Affairs.", Actor: "actors/vyacheslav-molotov"},
					}},
				},
				Date:   day(1941, 4, 13, gregorian),
				Places: []string{"places/moscow"},
				Participants: []*annalsv1.Participant{
					party("actors/soviet-union", partyRole),
					party("actors/empire-of-japan", partyRole),
					party("actors/yosuke-matsuoka", signatory),
					party("actors/vyacheslav-molotov", signatory),
				},
				Illustration: &annalsv1.Illustration{Caption: "Matsuoka and Molotov sign the pact, watercolor painting, 1941", Style: "watercolor painting", Year: 1941},
				Sources:      []string{"sources/0123456789abcdef"},
				WikidataId:   "Q83055",
			},
			{
				Name:         "events/great-patriotic-war",
				Labels:       en("Great Patriotic War"),
				Summary:      "The war between the Soviet Union and Germany.",
				Date:         day(1941, 6, 22, gregorian),
				EndDate:      day(1945, 5, 9, gregorian),
				Places:       []string{"places/moscow"},
				Participants: []*annalsv1.Participant{party("actors/soviet-union", partyRole), party("actors/vyacheslav-molotov", commander)},
			},
		},
		Actors: []*annalsv1.Actor{
			{Name: "actors/empire-of-japan", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: labels("en", "Empire of Japan", "ja", "大日本帝国"),
				Aliases: labels("en", "Japan"), Description: "The Japanese state from 1868 to 1947.", WikidataId: "Q188712"},
			{Name: "actors/government-of-the-soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT, Labels: en("Government of the Soviet Union"),
				Description: "The Council of People's Commissars.", State: "actors/soviet-union"},
			{Name: "actors/julius-caesar", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: labels("en", "Julius Caesar", "la", "Gaius Iulius Caesar"),
				Description: "Roman general and dictator.", WikidataId: "Q1048", StartDate: year(-100, yearP), EndDate: day(-44, 3, 15, julian)},
			{Name: "actors/marcus-junius-brutus", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: en("Marcus Junius Brutus"),
				Aliases: labels("en", "Brutus"), Description: "Roman senator.", Unreconciled: true},
			{Name: "actors/soviet-union", Kind: annalsv1.ActorKind_ACTOR_KIND_STATE, Labels: labels("en", "Soviet Union", "ru", "Советский Союз"),
				Aliases: labels("en", "USSR", "en", "Union of Soviet Socialist Republics"), Description: "A socialist state in Eurasia from 1922 to 1991.", WikidataId: "Q15180"},
			{Name: "actors/vyacheslav-molotov", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: labels("en", "Vyacheslav Molotov", "ru", "Вячеслав Молотов"),
				Description: "Soviet People's Commissar for Foreign Affairs.", WikidataId: "Q128734", Positions: []string{"People's Commissar for Foreign Affairs"}},
			{Name: "actors/yosuke-matsuoka", Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON, Labels: labels("en", "Yōsuke Matsuoka", "ja", "松岡洋右"),
				Aliases: labels("ja-Latn", "Matsuoka Yōsuke"), Description: "Japanese diplomat, Minister of Foreign Affairs.", WikidataId: "Q360568"},
		},
		Places: []*annalsv1.Place{
			{Name: "places/constantinople", Labels: en("Constantinople"), Aliases: labels("en", "Byzantium", "tr", "İstanbul"),
				Description: "Capital of the Byzantine Empire.", WikidataId: "Q16869"},
			{Name: "places/hastings", Labels: en("Hastings"), Description: "A town in East Sussex, England.", Unreconciled: true},
			{Name: "places/moscow", Labels: labels("en", "Moscow", "ru", "Москва"), Aliases: labels("en", "Moskva"),
				Description: "Capital of the Soviet Union.", Coordinates: &annalsv1.Coordinates{Latitude: 55.75, Longitude: 37.62},
				Country: "actors/soviet-union", WikidataId: "Q649"},
			{Name: "places/rome", Labels: labels("en", "Rome", "la", "Roma"), Description: "Capital of the Roman Republic and Empire.", WikidataId: "Q220"},
		},
	}
	return b
}

// cloneBatch returns a deep copy of b.
func cloneBatch(b *store.Batch) *store.Batch {
	c := &store.Batch{}
	for _, r := range b.Sources {
		c.Sources = append(c.Sources, proto.Clone(r).(*annalsv1.Source))
	}
	for _, r := range b.Events {
		c.Events = append(c.Events, proto.Clone(r).(*annalsv1.Event))
	}
	for _, r := range b.Actors {
		c.Actors = append(c.Actors, proto.Clone(r).(*annalsv1.Actor))
	}
	for _, r := range b.Places {
		c.Places = append(c.Places, proto.Clone(r).(*annalsv1.Place))
	}
	return c
}
