package web

import (
	"net/http/httptest"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

func TestPeriods(t *testing.T) {
	tests := []struct {
		slug        string
		name        string
		first, last int64
		parent      string // slug; "" for none
	}{
		{"20th-century", "20th century", 1901, 2000, ""},
		{"21st-century", "21st century", 2001, 2100, ""},
		{"1st-century", "1st century", 1, 100, ""},
		{"1st-century-bce", "1st century BCE", -100, -1, ""},
		{"2nd-century-bce", "2nd century BCE", -200, -101, ""},
		{"111th-century", "111th century", 11001, 11100, ""},
		{"1940s", "1940s", 1940, 1949, "20th-century"},
		{"1900s", "1900s", 1900, 1909, "19th-century"},
		{"0s", "years 1–9", 1, 9, "1st-century"},
		{"0s-bce", "years 1–9 BCE", -9, -1, "1st-century-bce"},
		{"40s-bce", "40s BCE", -49, -40, "1st-century-bce"},
		{"1941", "1941", 1941, 1941, "1940s"},
		{"1", "1", 1, 1, "0s"},
		{"44-bce", "44 BCE", -44, -44, "40s-bce"},
		{"1-bce", "1 BCE", -1, -1, "0s-bce"},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			p, err := parsePeriod(tt.slug)
			if err != nil {
				t.Fatal(err)
			}
			if p.slug() != tt.slug || p.name() != tt.name {
				t.Errorf("slug %q name %q, want %q %q", p.slug(), p.name(), tt.slug, tt.name)
			}
			if f, l := p.years(); f != tt.first || l != tt.last {
				t.Errorf("years %d..%d, want %d..%d", f, l, tt.first, tt.last)
			}
			up, ok := p.parent()
			if got := map[bool]string{true: up.slug(), false: ""}[ok]; got != tt.parent {
				t.Errorf("parent %q, want %q", got, tt.parent)
			}
			// Each year of the period lies in it.
			f, l := p.years()
			of := map[periodKind]func(int64) period{century: centuryOf, decade: decadeOf, year: yearOf}[p.kind]
			for _, y := range []int64{f, l} {
				if of(y) != p {
					t.Errorf("year %d lies in %s, not %s", y, of(y).slug(), p.slug())
				}
			}
		})
	}
	for _, bad := range []string{"", "0", "-44", "01941", "1945s", "0th-century", "20st-century", "20th", "century", "20th-century-bce-bce",
		"44-BCE", "yesterday", "1e3", "99999999999999999999", "1000001", "10001st-century", " 1941", "1941 "} {
		if p, err := parsePeriod(bad); err == nil {
			t.Errorf("parsePeriod(%q) = %s, want an error", bad, p.slug())
		}
	}
}

func TestDateOf(t *testing.T) {
	d := func(y, m, day int32, p annalsv1.DatePrecision, c annalsv1.Calendar) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Month: m, Day: day, Precision: p, Calendar: c}
	}
	const (
		dayP, monthP, yearP, decadeP, centuryP, millP = annalsv1.DatePrecision_DATE_PRECISION_DAY, annalsv1.DatePrecision_DATE_PRECISION_MONTH,
			annalsv1.DatePrecision_DATE_PRECISION_YEAR, annalsv1.DatePrecision_DATE_PRECISION_DECADE,
			annalsv1.DatePrecision_DATE_PRECISION_CENTURY, annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM
		greg, julian = annalsv1.Calendar_CALENDAR_GREGORIAN, annalsv1.Calendar_CALENDAR_JULIAN
	)
	tests := []struct {
		date     *annalsv1.HistoricalDate
		text     string
		datetime string
	}{
		{d(1941, 4, 13, dayP, greg), "13 April 1941", "1941-04-13"},
		{d(1941, 4, 0, monthP, 0), "April 1941", "1941-04"},
		{d(1941, 0, 0, yearP, 0), "1941", "1941"},
		{d(1944, 0, 0, decadeP, 0), "the 1940s", ""},
		{d(1950, 0, 0, centuryP, 0), "the 20th century", ""},
		{d(1500, 0, 0, millP, 0), "the 2nd millennium", ""},
		{d(-44, 3, 15, dayP, julian), "15 March 44 BCE (Julian calendar)", ""},
		{d(-44, 0, 0, yearP, 0), "44 BCE", ""},
		{d(-44, 0, 0, decadeP, 0), "the 40s BCE", ""},
		{d(-44, 0, 0, centuryP, 0), "the 1st century BCE", ""},
		{d(-3000, 0, 0, millP, 0), "the 3rd millennium BCE", ""},
		{d(1582, 10, 5, dayP, julian), "5 October 1582 (Julian calendar)", "1582-10-15"},
		{d(1700, 2, 0, monthP, julian), "February 1700 (Julian calendar)", ""},
		{d(12, 1, 2, dayP, 0), "2 January 12", "0012-01-02"},
		{nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := dateOf(tt.date)
			if got.Text != tt.text || got.Datetime != tt.datetime {
				t.Errorf("dateOf = %q <%s>, want %q <%s>", got.Text, got.Datetime, tt.text, tt.datetime)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		y, m, d int32
		ok      bool
	}{
		{"1941", 1941, 0, 0, true},
		{"1941-04", 1941, 4, 0, true},
		{"1941-04-13", 1941, 4, 13, true},
		{"-44", -44, 0, 0, true},
		{"44 BCE", -44, 0, 0, true},
		{"44 bc", -44, 0, 0, true},
		{"44BCE", -44, 0, 0, true},
		{"-44-03-15", -44, 3, 15, true},
		{"0", 0, 0, 0, false},
		{"-44 BCE", 0, 0, 0, false},
		{"1941-04-13-01", 0, 0, 0, false},
		{"abc", 0, 0, 0, false},
		{"1941--04", 0, 0, 0, false},
		{"99999999999999", 0, 0, 0, false},
		{"1941-400", 0, 0, 0, false},
		{"+1941", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseDate(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (got.GetYear() != tt.y || got.GetMonth() != tt.m || got.GetDay() != tt.d || got.GetPrecision() != 0) {
				t.Errorf("parseDate = %v, want %d-%d-%d without precision", got, tt.y, tt.m, tt.d)
			}
		})
	}
}

func TestPick(t *testing.T) {
	labels := []*annalsv1.Label{
		{Language: "en", Value: "Moscow"}, {Language: "ru", Value: "Москва"},
		{Language: "ja-Latn", Value: "Mosukuwa"}, {Language: "ja", Value: "モスクワ"},
	}
	tests := []struct {
		accept string
		want   string
		lang   string
	}{
		{"", "Moscow", "en"},
		{"ru", "Москва", "ru"},
		{"ru-RU,ru;q=0.9", "Москва", "ru"},
		{"ja-JP", "モスクワ", "ja"},
		{"ja-Latn", "Mosukuwa", "ja-Latn"},
		{"fr, de;q=0.8", "Moscow", "en"},
		{"fr, ru;q=0.5", "Москва", "ru"},
		{"ru;q=0.1, ja;q=0.9", "モスクワ", "ja"},
		{"*", "Moscow", "en"},
		{";;;garbage", "Moscow", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Language", tt.accept)
			got := readerOf(r).pick(labels)
			if got.Value != tt.want || got.Lang != tt.lang {
				t.Errorf("pick = %q (%s), want %q (%s)", got.Value, got.Lang, tt.want, tt.lang)
			}
		})
	}
	if got := (reader{}).pick([]*annalsv1.Label{{Language: "ru", Value: "Москва"}}); got.Value != "Москва" || !got.Foreign() {
		t.Errorf("without English: %+v", got)
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 events"}, {1, "1 event"}, {2, "2 events"}, {1000, "1,000 events"}, {1234567, "1,234,567 events"}, {-1, "-1 events"},
	}
	for _, tt := range tests {
		if got := count(tt.n, "event", "events"); got != tt.want {
			t.Errorf("count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	for n, want := range map[int64]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}
