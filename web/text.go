package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
)

// pageLang is the language of the pages' own words. Labels in other
// languages carry their own lang attribute.
const pageLang = "en"

// reader is who a page is written for: the languages they read, best first
// (from Accept-Language), ending with English, the archive's own.
type reader struct {
	langs []string // lower-case BCP 47 tags
}

// maxLanguages bounds how many Accept-Language entries are considered.
const maxLanguages = 16

func readerOf(r *http.Request) reader {
	var rd reader
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err == nil {
		for _, t := range tags {
			if len(rd.langs) == maxLanguages {
				break
			}
			rd.langs = append(rd.langs, strings.ToLower(t.String()))
		}
	}
	return rd
}

// text is a string in a known language, for the templates: when its
// language is not the page's, it is written with a lang attribute.
type text struct {
	Value string
	Lang  string
}

// Foreign reports whether t needs a lang attribute of its own.
func (t text) Foreign() bool { return t.Lang != "" && base(t.Lang) != pageLang }

// base is the primary language subtag of a tag: "ja" of "ja-Latn".
func base(tag string) string {
	b, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return b
}

// pick chooses the label to show the reader: the first of their languages
// that a label has (exactly, else by primary subtag, preferring the shortest
// tag: "ja" over "ja-Latn"), else English, else the first label.
func (rd reader) pick(labels []*annalsv1.Label) text {
	if len(labels) == 0 {
		return text{}
	}
	for _, want := range append(rd.langs, pageLang) {
		if l := match(labels, want); l != nil {
			return text{Value: l.GetValue(), Lang: l.GetLanguage()}
		}
	}
	return text{Value: labels[0].GetValue(), Lang: labels[0].GetLanguage()}
}

func match(labels []*annalsv1.Label, want string) *annalsv1.Label {
	for _, l := range labels {
		if strings.EqualFold(l.GetLanguage(), want) {
			return l
		}
	}
	var best *annalsv1.Label
	for _, l := range labels {
		if base(l.GetLanguage()) == base(want) && (best == nil || len(l.GetLanguage()) < len(best.GetLanguage())) {
			best = l
		}
	}
	return best
}

// others returns the labels other than the one shown, as texts, sorted by language.
func others(labels []*annalsv1.Label, shown text) []text {
	var out []text
	for _, l := range labels {
		if l.GetValue() == shown.Value && l.GetLanguage() == shown.Lang {
			continue
		}
		out = append(out, text{Value: l.GetValue(), Lang: l.GetLanguage()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Lang < out[j].Lang })
	return out
}

// english is an English text.
func english(s string) text { return text{Value: s, Lang: pageLang} }

// count writes n with the noun in the right number: "1 event", "2 events",
// "12,345 events".
func count(n int64, one, many string) string {
	noun := many
	if n == 1 {
		noun = one
	}
	return grouped(n) + " " + noun
}

// grouped writes n with thousands separators: 12,345.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ordinal writes n as an English ordinal: 1st, 2nd, 3rd, 11th, 21st.
func ordinal(n int64) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.FormatInt(n, 10) + suffix
}

// yearName writes a historical year for people: "1941", "44 BCE".
func yearName(y int64) string {
	if y < 0 {
		return strconv.FormatInt(-y, 10) + " BCE"
	}
	return strconv.FormatInt(y, 10)
}

// dateText is a date written for people, with the machine-readable form
// an HTML <time> element takes when there is one.
type dateText struct {
	Text     string
	Datetime string // "" when HTML has no form for it (BCE, decades, centuries)
	Julian   bool
}

// dateOf writes d for people: "13 April 1941", "April 1941", "44 BCE",
// "the 1940s", "the 20th century", "the 1st millennium BCE"; a Julian
// date is marked "(Julian calendar)" and, known to the day, gets its
// Gregorian equivalent as its datetime.
func dateOf(d *annalsv1.HistoricalDate) dateText {
	if d == nil || d.GetYear() == 0 {
		return dateText{}
	}
	y := int64(d.GetYear())
	months := histdate.MonthNames()
	month := func() string {
		if m := d.GetMonth(); m >= 1 && m <= 12 {
			return months[m-1]
		}
		return "month " + strconv.Itoa(int(d.GetMonth()))
	}
	var dt dateText
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		dt.Text = fmt.Sprintf("%d %s %s", d.GetDay(), month(), yearName(y))
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		dt.Text = month() + " " + yearName(y)
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE:
		dt.Text = "the " + decadeOf(y).name()
	case annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		dt.Text = "the " + centuryOf(y).name()
	case annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM:
		m := (abs(y)-1)/1000 + 1
		dt.Text = "the " + ordinal(m) + " millennium"
		if y < 0 {
			dt.Text += " BCE"
		}
	default:
		dt.Text = yearName(y)
	}
	if d.GetCalendar() == annalsv1.Calendar_CALENDAR_JULIAN {
		dt.Julian = true
		dt.Text += " (Julian calendar)"
	}
	// HTML's <time> takes years 1 to 9999 of the Gregorian calendar.
	if y >= 1 && y <= 9999 {
		switch d.GetPrecision() {
		case annalsv1.DatePrecision_DATE_PRECISION_DAY:
			lex, _ := histdate.XSD(d) // Gregorian, converted from Julian
			if !strings.HasPrefix(lex, "-") {
				dt.Datetime = lex
			}
		case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
			if !dt.Julian {
				dt.Datetime = fmt.Sprintf("%04d-%02d", y, d.GetMonth())
			}
		case annalsv1.DatePrecision_DATE_PRECISION_YEAR:
			dt.Datetime = fmt.Sprintf("%04d", y)
		}
	}
	return dt
}

// spanOf writes an event's date, and its end when it has one.
func spanOf(start, end *annalsv1.HistoricalDate) []dateText {
	out := []dateText{dateOf(start)}
	if end != nil && end.GetYear() != 0 {
		out = append(out, dateOf(end))
	}
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// enumWords writes an enum value for people: PARTICIPANT_ROLE_KEY_FIGURE
// is "key figure" (the prefix is the enum's name).
func enumWords(v fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(v.String(), prefix), "_", " "))
}

// roleWords says what a participant did.
func roleWords(r annalsv1.ParticipantRole) string {
	if r == annalsv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED {
		return "participant"
	}
	return enumWords(r, "PARTICIPANT_ROLE_")
}

// relationWords says how an event relates to another: "follows", "has cause".
func relationWords(t annalsv1.RelationType) string {
	if t == annalsv1.RelationType_RELATION_TYPE_UNSPECIFIED {
		return "related to"
	}
	return enumWords(t, "RELATION_TYPE_")
}

// kindWords names an actor kind: "person", "state".
func kindWords(k annalsv1.ActorKind) string {
	if k == annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED {
		return "actor"
	}
	return enumWords(k, "ACTOR_KIND_")
}
