package synth

import (
	"math/bits"
	"math/rand/v2"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// class is the sort of actor an index of the actor pool stands for.
type class uint8

const (
	classPerson class = iota
	classState
	classGovernment
	classOrganization
	classGroup
)

// Role shorthands.
const (
	roleParty     = annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY
	roleSignatory = annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY
	roleRep       = annalsv1.ParticipantRole_PARTICIPANT_ROLE_REPRESENTATIVE
	roleCommander = annalsv1.ParticipantRole_PARTICIPANT_ROLE_COMMANDER
	roleVictim    = annalsv1.ParticipantRole_PARTICIPANT_ROLE_VICTIM
	roleFigure    = annalsv1.ParticipantRole_PARTICIPANT_ROLE_KEY_FIGURE
)

// category is a kind of event with its own name pattern, wording and cast.
// Templates use placeholders: {E} the event's title, {N} its noun, {P} the
// place, {C} the place's country, {A} and {B} the parties, {K} a person,
// {W} when ("on April 13, 1941"), {Y} the year.
type category struct {
	prefix    string // English name prefix, before the code words; never a consonant-vowel word
	ru, ja    string // label patterns; {} is the code
	noun      string
	summaries []string
	sentences []string
	headings  []string
	parties   []class
	partyRole annalsv1.ParticipantRole
	roles     []annalsv1.ParticipantRole // roles of the people taking part
}

// Category indices used by the structure of the archive.
const (
	catTreaty = iota
	catPeace
	catBattle
	catSiege
	catWar
	catConquest
)

var categories = []category{
	catTreaty: {
		prefix: "Treaty of", ru: "Договор {}", ja: "{}条約", noun: "treaty",
		summaries: []string{
			"{A} and {B} signed the {E} at {P}, settling a long dispute over trade and borders.",
			"Envoys of {A} and {B} concluded the {E} {W}, binding both to neutrality for a generation.",
			"The {E}, agreed at {P} {W}, fixed the frontier between {A} and {B}.",
		},
		sentences: []string{
			"The negotiations at {P} lasted several months and were repeatedly broken off.",
			"Under its terms {A} gave up its claims to the river valleys east of {P}.",
			"The treaty was written in two languages, and the copies were exchanged in a public ceremony.",
			"Contemporaries saw the {N} as a victory for {A}, though {B} gained more in the long run.",
			"Both parties agreed to release prisoners and to reopen the roads to merchants.",
		},
		headings:  []string{"Negotiations", "Terms and Significance", "Ratification", "Relations Preceding the Treaty"},
		parties:   []class{classState, classGovernment},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleSignatory, roleSignatory, roleRep, roleFigure},
	},
	catPeace: {
		prefix: "Peace of", ru: "Мир {}", ja: "{}の和約", noun: "peace",
		summaries: []string{
			"The {E} ended years of fighting between {A} and {B}.",
			"{A} and {B} made the {E} at {P} {W}, exchanging hostages and territory.",
		},
		sentences: []string{
			"Exhausted by war, both sides accepted the mediation of neighbouring rulers.",
			"The peace restored the old boundary at {P} and opened the harbours again.",
			"Many at the court of {A} regarded the settlement as humiliating.",
			"The {N} held for nearly two decades before fighting resumed.",
		},
		headings:  []string{"Terms and Significance", "Negotiations", "Aftermath"},
		parties:   []class{classState, classGovernment},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleSignatory, roleRep, roleFigure},
	},
	catBattle: {
		prefix: "Battle of", ru: "Битва при {}", ja: "{}の戦い", noun: "battle",
		summaries: []string{
			"Forces of {A} defeated {B} near {P} in a battle that decided the campaign.",
			"The {E} was fought at {P} {W} between {A} and {B}.",
			"At the {E}, {A} routed the army of {B} and took control of {P}.",
		},
		sentences: []string{
			"The armies met at dawn on open ground west of {P}.",
			"Cavalry on the left flank broke the line of {B} before noon.",
			"Losses on both sides were heavy, and the wounded were carried to {P}.",
			"Chroniclers disagree on the size of the armies, giving figures from a few thousand to forty thousand.",
			"Rain the night before had turned the field into mud, slowing the advance of {A}.",
		},
		headings:  []string{"Prelude", "Course of the Battle", "Forces and Commanders", "Aftermath"},
		parties:   []class{classState, classOrganization},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleCommander, roleFigure},
	},
	catSiege: {
		prefix: "Siege of", ru: "Осада {}", ja: "{}包囲戦", noun: "siege",
		summaries: []string{
			"{A} besieged {P} for months before its defenders surrendered to the forces of {A}.",
			"The {E} began {W}, when the army of {A} surrounded the walls of {P}.",
		},
		sentences: []string{
			"The defenders had stored grain for a year, but the wells ran dry in summer.",
			"Engineers of {A} dug mines under the eastern gate.",
			"Relief sent by {B} was turned back two days' march from {P}.",
			"When the city fell, much of the lower town burned.",
		},
		headings:  []string{"Background", "The Siege", "Fall of the City", "Aftermath"},
		parties:   []class{classState, classOrganization},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleFigure, roleVictim},
	},
	catWar: {
		prefix: "War of", ru: "Война {}", ja: "{}戦争", noun: "war",
		summaries: []string{
			"The {E} set {A} against {B} in a series of campaigns fought around {P}.",
			"A succession dispute led to the {E} between {A} and {B}, which began {W}.",
		},
		sentences: []string{
			"The war was fought mostly in sieges and raids rather than in pitched battles.",
			"Its cost ruined the treasury of {A} and forced new taxes on the towns.",
			"Foreign mercenaries served on both sides.",
			"The fighting spread from {P} to the coast within two seasons.",
		},
		headings:  []string{"Causes", "Course of the War", "Campaigns", "Consequences", "Legacy"},
		parties:   []class{classState, classState, classGroup},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleFigure},
	},
	catConquest: {
		prefix: "Conquest of", ru: "Завоевание {}", ja: "{}征服", noun: "conquest",
		summaries: []string{
			"{A} conquered {P}, ending the rule of {B} over the region.",
			"The {E} brought {P} under the control of {A} {W}.",
		},
		sentences: []string{
			"Resistance collapsed once the citadel of {P} was taken.",
			"The new rulers confirmed the privileges of the local merchants.",
			"Part of the population fled to the hills and the lands of {B}.",
		},
		headings:  []string{"Background", "The Campaign", "Administration", "Aftermath"},
		parties:   []class{classState, classOrganization},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleFigure},
	},
	{
		prefix: "Council of", ru: "Собор {}", ja: "{}公会議", noun: "council",
		summaries: []string{
			"The {E} met at {P} to settle disputes between {A} and {B}.",
			"Delegates gathered {W} for the {E}, which reformed the laws of {A}.",
		},
		sentences: []string{
			"More than two hundred delegates attended, some after journeys of several weeks.",
			"The council issued twenty-four decrees on the conduct of officials and the keeping of records.",
			"Its decisions were read aloud in the market squares of {C}.",
			"Opponents of the reforms walked out on the third day.",
		},
		headings:  []string{"Convocation", "Proceedings", "Decrees", "Reception"},
		parties:   []class{classOrganization, classGovernment},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleRep, roleFigure, roleSignatory},
	},
	{
		prefix: "Revolt of", ru: "Восстание {}", ja: "{}の反乱", noun: "revolt",
		summaries: []string{
			"{A} rose against {B} at {P} after years of heavy taxation.",
			"The {E} broke out {W} and spread through the countryside around {P}.",
		},
		sentences: []string{
			"The rebels seized the granaries and burned the tax rolls.",
			"The revolt was put down within a year, and its leaders were executed.",
			"News of the rising reached the capital of {C} only weeks later.",
			"Some of the demands of the rebels were granted in the following decade.",
		},
		headings:  []string{"Causes", "The Rising", "Suppression", "Legacy"},
		parties:   []class{classGroup, classState},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleVictim, roleFigure},
	},
	{
		prefix: "Founding of", ru: "Основание {}", ja: "{}の建設", noun: "founding",
		summaries: []string{
			"Settlers sent by {A} founded a new town at {P}.",
			"The {E} {W} gave {A} a harbour on the western sea.",
		},
		sentences: []string{
			"The site was chosen for its spring and its defensible hill.",
			"Within a generation the town had walls, a market and a mint.",
			"The first settlers came from {C} and were granted land free of tax for ten years.",
		},
		headings:  []string{"Origins", "The First Settlement", "Growth", "Legacy"},
		parties:   []class{classState, classOrganization},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleFigure, roleRep},
	},
	{
		prefix: "Coronation of", ru: "Коронация {}", ja: "{}の戴冠", noun: "coronation",
		summaries: []string{
			"A new ruler of {A} was crowned at {P} in a ceremony attended by envoys of {B}.",
			"The {E} took place at {P} {W}.",
		},
		sentences: []string{
			"The ceremony followed a rite first recorded two centuries earlier.",
			"Feasts were held in every town of {C} for three days.",
			"Envoys brought gifts of horses, silver and silk.",
		},
		headings:  []string{"Background", "The Ceremony", "Reign"},
		parties:   []class{classState, classGovernment},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleFigure, roleRep},
	},
	{
		prefix: "Great Fire of", ru: "Великий пожар {}", ja: "{}大火", noun: "fire",
		summaries: []string{
			"A fire destroyed much of {P}, leaving thousands of its people homeless.",
			"The {E} broke out {W} and burned for four days.",
		},
		sentences: []string{
			"The fire started in a bakery near the river and spread with the wind.",
			"Most houses were built of timber and thatch, and few could be saved.",
			"Afterwards the authorities of {C} ordered that new houses be built in stone.",
		},
		headings:  []string{"The Fire", "Damage", "Rebuilding"},
		parties:   []class{classGroup},
		partyRole: roleVictim,
		roles:     []annalsv1.ParticipantRole{roleFigure, roleVictim},
	},
	{
		prefix: "Flood of", ru: "Наводнение {}", ja: "{}洪水", noun: "flood",
		summaries: []string{
			"Floodwaters covered {P} and the surrounding plain after weeks of rain.",
			"The {E} {W} drowned the harvest of the lowlands of {C}.",
		},
		sentences: []string{
			"The river rose higher than anyone living could remember.",
			"Dikes built a century earlier gave way in three places.",
			"Famine followed in the next winter.",
		},
		headings:  []string{"Causes", "The Flood", "Relief", "Consequences"},
		parties:   []class{classGroup},
		partyRole: roleVictim,
		roles:     []annalsv1.ParticipantRole{roleFigure},
	},
	{
		prefix: "Earthquake of", ru: "Землетрясение {}", ja: "{}地震", noun: "earthquake",
		summaries: []string{
			"An earthquake struck {P}, destroying its temples and harbour.",
			"The {E} {W} was felt across {C}.",
		},
		sentences: []string{
			"Aftershocks continued for weeks.",
			"The harbour silted up after the earthquake and was never fully restored.",
			"Survivors camped in the fields outside {P} through the winter.",
		},
		headings:  []string{"The Earthquake", "Damage", "Response"},
		parties:   []class{classGroup},
		partyRole: roleVictim,
		roles:     []annalsv1.ParticipantRole{roleFigure},
	},
	{
		prefix: "Expedition of", ru: "Экспедиция {}", ja: "{}遠征", noun: "expedition",
		summaries: []string{
			"An expedition sent by {A} reached {P} after a long journey.",
			"The {E} set out {W} to find a route to the lands beyond {P}.",
		},
		sentences: []string{
			"The expedition numbered some three hundred men and sixty pack animals.",
			"Its journals describe the rivers, the peoples and the prices of the markets they passed.",
			"Fewer than half of those who set out returned to {C}.",
		},
		headings:  []string{"Preparations", "The Journey", "Results"},
		parties:   []class{classOrganization, classState},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleFigure},
	},
	{
		prefix: "Edict of", ru: "Эдикт {}", ja: "{}勅令", noun: "edict",
		summaries: []string{
			"The {E}, issued at {P}, granted new rights to the towns of {A}.",
			"{A} proclaimed the {E} {W}, reforming the coinage.",
		},
		sentences: []string{
			"The edict was carved on stone and set up in the main squares.",
			"Its provisions on debt were widely ignored.",
			"Later rulers of {C} confirmed the edict several times.",
		},
		headings:  []string{"Background", "Provisions", "Enforcement", "Legacy"},
		parties:   []class{classGovernment, classState},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleSignatory, roleFigure},
	},
	{
		prefix: "Massacre of", ru: "Резня {}", ja: "{}の虐殺", noun: "massacre",
		summaries: []string{
			"Soldiers of {A} killed hundreds of the inhabitants of {P}.",
			"The {E} {W} turned opinion in {C} against {A}.",
		},
		sentences: []string{
			"Accounts of the killings were collected by travellers in the following months.",
			"The dead were buried in a common grave outside the walls.",
			"No one was ever tried for the massacre.",
		},
		headings:  []string{"Background", "Events", "Aftermath", "Remembrance"},
		parties:   []class{classState, classGroup},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleCommander, roleVictim, roleFigure},
	},
	{
		prefix: "Election at", ru: "Выборы в {}", ja: "{}選挙", noun: "election",
		summaries: []string{
			"The assembly of {P} chose a new leader after a contest between {A} and {B}.",
			"The {E} {W} was the first held under the new constitution of {C}.",
		},
		sentences: []string{
			"Only property owners could vote, some four thousand men in all.",
			"The result was contested for months in the courts.",
			"Turnout was higher in the countryside than in the town.",
		},
		headings:  []string{"Background", "Campaign", "Results"},
		parties:   []class{classOrganization, classGroup},
		partyRole: roleParty,
		roles:     []annalsv1.ParticipantRole{roleFigure, roleRep},
	},
}

// independentCats are the categories an unstructured event is drawn from.
var independentCats = func() []int {
	var out []int
	for i := range categories {
		if i != catWar {
			out = append(out, i)
		}
	}
	return out
}()

// genericSentences fit any event.
var genericSentences = []string{
	"The {N} at {P} is known mainly from two later chronicles, which do not always agree.",
	"Historians have long debated its causes.",
	"Its memory was kept alive in songs and local festivals.",
	"The event is mentioned in the letters of merchants trading with {C}.",
	"Modern excavations near {P} have confirmed parts of the traditional account.",
	"For {A}, the {N} marked the beginning of a period of expansion.",
	"The region around {P} had been contested for generations.",
	"Rumours of the {N} spread quickly along the trade roads.",
	"Later writers embellished the story with miracles and omens.",
	"Few documents from the time survive, and most of what is known comes from {C}.",
	"Coins struck in {Y} commemorate the {N}.",
	"The {N} is still taught in the schools of the region as a turning point.",
	"Its consequences were felt for decades in the politics of {C}.",
	"Foreign observers described the {N} in detail in their reports home.",
	"A monument near {P} marks the site today.",
	"Envoys of {B} followed the events closely and reported them to their masters.",
	"The harvest of {Y} had been poor, and bread prices in {P} had doubled.",
	"A court poet wrote a long account in verse, of which only fragments remain.",
	"Tax registers of {C} record a sharp fall in revenue in the following years.",
	"The roads between {P} and the coast were unsafe for months.",
	"{K} later wrote a memoir that gives the fullest surviving account.",
	"Some accounts blame {B}, others the ambitions of {A}.",
	"Archival letters show that the outcome surprised even those closest to it.",
	"The {N} was later painted many times, most often with more drama than accuracy.",
	"Prices of salt, iron and horses rose across {C}.",
	"Pilgrims and traders carried the news as far as the distant islands.",
	"The local bishop ordered prayers of thanksgiving in every church of {P}.",
	"Nineteenth-century historians treated the {N} as the founding moment of the nation.",
	"Recent research has questioned the numbers given in the older accounts.",
	"Refugees from the surrounding villages crowded into {P}.",
	"The weather that year was unusually harsh, according to monastery records.",
	"A treaty clause recorded years later refers back to the {N}.",
	"The leaders of {A} met in secret council to decide their course.",
	"Neighbouring rulers watched the {N} with a mixture of alarm and opportunity.",
	"The archives of {P} were partly destroyed in a later fire, leaving gaps in the record.",
	"Ballads about the {N} were still sung in the villages two centuries later.",
	"The {N} is commemorated each year on its anniversary.",
	"Guilds in {P} closed their workshops for a week of mourning.",
	"Several eyewitnesses left short notes in the margins of account books.",
	"The events strengthened the position of {A} among its neighbours.",
}

// leadSentences open an article.
var leadSentences = []string{
	"{W}, the {E} took place at {P}.",
	"The {E} happened {W} at {P}, in what was then {C}.",
	"{W}, {A} and {B} were drawn into the {E} at {P}.",
}

// genericHeadings can follow any category's own.
var genericHeadings = []string{"Context and Background", "Historical Impact", "Sources", "Historiography", "Consequences", "Commemoration"}

// roleTexts describe a person's part in an event, worded so that a reader of
// the seed format derives the same role where the format can say it:
// signatories "signed", representatives "represented", others neither.
var roleTexts = map[annalsv1.ParticipantRole][]string{
	roleSignatory: {
		"Signed the final act on behalf of {A}.",
		"Chief envoy of {A}, who signed the final text at {P}.",
	},
	roleRep: {
		"Represented {A} during the negotiations at {P}.",
		"Envoy who represented {A} but left before the end.",
	},
	roleCommander: {
		"Commanded the forces of {A} at {P}.",
		"Led the vanguard of {A} and was wounded in the fighting.",
	},
	roleVictim: {
		"Was among those killed at {P}.",
		"Lost house and family in the events at {P}.",
	},
	roleFigure: {
		"Chronicler whose account of the {N} survives in two copies.",
		"Adviser to {A} who urged a cautious course.",
		"Merchant of {P} who lent money to {A}.",
	},
}

// positions are offices a person may hold.
var positions = []string{
	"Ambassador", "General", "Chancellor", "Foreign minister", "Admiral", "Chronicler",
	"Bishop", "Governor", "Treasurer", "Merchant", "Judge", "Poet", "Architect",
}

// Actor name prefixes by class; none is a consonant-vowel word, and the
// state ones are those a seed-format reader recognises as states.
var (
	statePrefixes = []struct{ en, ru, ja string }{
		{"Kingdom of", "Королевство {}", "{}王国"},
		{"Republic of", "Республика {}", "{}共和国"},
		{"Empire of", "Империя {}", "{}帝国"},
		{"Principality of", "Княжество {}", "{}公国"},
		{"Sultanate of", "Султанат {}", "{}・スルタン国"},
		{"Duchy of", "Герцогство {}", "{}公国"},
		{"Khanate of", "Ханство {}", "{}・ハン国"},
	}
	orgPrefixes = []struct{ en, ru, ja string }{
		{"Order of", "Орден {}", "{}騎士団"},
		{"League of", "Лига {}", "{}同盟"},
		{"Company of", "Компания {}", "{}会社"},
		{"Guild of", "Гильдия {}", "{}ギルド"},
		{"Brotherhood of", "Братство {}", "{}兄弟団"},
	}
	groupPrefixes = []struct{ en, ru, ja string }{
		{"Tribes of", "Племена {}", "{}諸部族"},
		{"Citizens of", "Горожане {}", "{}市民"},
		{"Peasants of", "Крестьяне {}", "{}の農民"},
		{"Clans of", "Кланы {}", "{}氏族"},
	}
	govPrefix   = struct{ en, ru, ja string }{"Government of", "Правительство {}", "{}政府"}
	placeKinds  = []string{"town", "city", "river port", "fortress", "harbour", "village", "valley", "mountain pass", "monastery", "plain"}
	placeWords  = []struct{ en, ru, ja string }{{"", "{}", "{}"}, {"", "{}", "{}"}, {"", "{}", "{}"}, {"Port", "Порт {}", "{}港"}, {"Fort", "Форт {}", "{}砦"}, {"Mount", "Гора {}", "{}山"}, {"Upper", "Верхний {}", "上{}"}, {"Lower", "Нижний {}", "下{}"}, {"Saint", "Сан-{}", "サン・{}"}}
	styles      = []string{"Watercolor painting", "Oil painting", "Woodcut print", "Ink wash painting", "Engraving", "Fresco", "Charcoal sketch", "Lithograph", "Mosaic", "Illuminated manuscript"}
	captionTail = []string{"", " at dusk", " in winter", " seen from the hills"}
)

// filler holds what template placeholders stand for, and the text of one
// event: every paragraph is written into one buffer and cut out of it at the
// end (see done), which saves an allocation per paragraph.
type filler struct {
	e, n, p, c, a, b, k, w, y string
	used                      uint64 // sentences used so far, by index in own+generic
	out                       strings.Builder
	spans                     []span
}

// span is a piece of the buffer and the strings it becomes.
type span struct {
	start, end int
	dst, dst2  *string
}

// begin marks the start of a piece of text in the buffer.
func (f *filler) begin() int { return f.out.Len() }

// end records the text written since start, for *dst (and *dst2 if not nil).
func (f *filler) end(start int, dst, dst2 *string) {
	f.spans = append(f.spans, span{start, f.out.Len(), dst, dst2})
}

// done sets every recorded string from the buffer.
func (f *filler) done() {
	s := f.out.String()
	for _, sp := range f.spans {
		*sp.dst = s[sp.start:sp.end]
		if sp.dst2 != nil {
			*sp.dst2 = s[sp.start:sp.end]
		}
	}
}

// fill expands a template into b, upper-casing its first letter.
func (f *filler) fill(b *strings.Builder, tmpl string) {
	first := true
	emit := func(s string) {
		if s == "" {
			return
		}
		if first {
			first = false
			if c := s[0]; c >= 'a' && c <= 'z' {
				b.WriteByte(c - ('a' - 'A'))
				s = s[1:]
			}
		}
		b.WriteString(s)
	}
	lit := 0
	for i := 0; i < len(tmpl); i++ {
		k := strings.IndexByte(tmpl[i:], '{')
		if k < 0 {
			break
		}
		i += k
		if i+2 >= len(tmpl) || tmpl[i+2] != '}' {
			continue
		}
		emit(tmpl[lit:i])
		switch tmpl[i+1] {
		case 'E':
			emit(f.e)
		case 'N':
			emit(f.n)
		case 'P':
			emit(f.p)
		case 'C':
			emit(f.c)
		case 'A':
			emit(f.a)
		case 'B':
			emit(f.b)
		case 'K':
			emit(f.k)
		case 'W':
			emit(f.w)
		case 'Y':
			emit(f.y)
		}
		i += 2
		lit = i + 1
	}
	emit(tmpl[lit:])
}

// text writes a template into the buffer as one piece of text for dst (and dst2).
func (f *filler) text(tmpl string, dst, dst2 *string) {
	start := f.begin()
	f.fill(&f.out, tmpl)
	f.end(start, dst, dst2)
}

// paragraph writes n sentences drawn from own and the generic pool into the
// buffer, as the text of dst. A sentence is not used twice in one article
// until the pools run out.
func (f *filler) paragraph(r *rand.Rand, own []string, n int, dst *string) {
	start := f.begin()
	f.sentences(r, own, n)
	f.end(start, dst, nil)
}

func (f *filler) sentences(r *rand.Rand, own []string, n int) {
	total := len(own) + len(genericSentences)
	for s := 0; s < n; s++ {
		if bits.OnesCount64(f.used) >= total {
			f.used = 0
		}
		idx := r.IntN(total)
		for f.used&(1<<idx) != 0 {
			idx = (idx + 1) % total
		}
		f.used |= 1 << idx
		if s > 0 {
			f.out.WriteByte(' ')
		}
		if idx < len(own) {
			f.fill(&f.out, own[idx])
		} else {
			f.fill(&f.out, genericSentences[idx-len(own)])
		}
	}
}

// pattern expands a label pattern such as "Договор {}".
func pattern(p, code string) string { return strings.Replace(p, "{}", code, 1) }

// prose returns a name as it reads in a sentence: states, governments and
// other bodies named "X of Y" take "the".
func prose(label string, c class) string {
	if c == classPerson {
		return label
	}
	return "the " + label
}
