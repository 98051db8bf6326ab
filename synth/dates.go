package synth

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
)

// The years of the archive, astronomical: 3000 BCE (-2999) to 2020 CE.
const (
	minAstro = -2999
	maxAstro = 2020
	spanYrs  = maxAstro - minAstro
	// reformYear is the year of the Gregorian reform; dates before it may be Julian.
	reformYear = 1582
	// julianShare is the percentage of pre-reform dates written in the Julian
	// calendar; the rest are proleptic Gregorian, as in parts of Wikidata.
	julianShare = 75
)

// yearAt maps a quantile u in [0, 1] to an astronomical year, skewed toward
// recent centuries: u = 0 is 2020 and u = 1 is 3000 BCE; the median is
// about 1700 CE and about a fifth of the years fall before the common era.
func yearAt(u float64) int64 {
	return maxAstro - int64(math.Round(spanYrs*u*u*u*u))
}

// quantileOf is the inverse of yearAt.
func quantileOf(astro int64) float64 {
	f := float64(maxAstro-astro) / spanYrs
	switch {
	case f <= 0:
		return 0
	case f >= 1:
		return 1
	}
	return math.Sqrt(math.Sqrt(f))
}

// calendarFor picks the calendar of a date in historical year y.
func calendarFor(r *rand.Rand, y int32) annalsv1.Calendar {
	if y < reformYear && r.IntN(100) < julianShare {
		return annalsv1.Calendar_CALENDAR_JULIAN
	}
	return annalsv1.Calendar_CALENDAR_GREGORIAN
}

// pickPrecision draws a precision: about 60% day, 15% month, 15% year, 5%
// decade, 5% century.
func pickPrecision(r *rand.Rand) annalsv1.DatePrecision {
	switch n := r.IntN(100); {
	case n < 60:
		return annalsv1.DatePrecision_DATE_PRECISION_DAY
	case n < 75:
		return annalsv1.DatePrecision_DATE_PRECISION_MONTH
	case n < 90:
		return annalsv1.DatePrecision_DATE_PRECISION_YEAR
	case n < 95:
		return annalsv1.DatePrecision_DATE_PRECISION_DECADE
	}
	return annalsv1.DatePrecision_DATE_PRECISION_CENTURY
}

// makeDate builds a valid date in astronomical year astro at precision p.
// Decade and century dates carry the year the seed format writes for them
// ("1940s" is 1940, "the 5th century BC" is 401 BC), so they survive a round
// trip through a document; a decade that would be year 0 becomes a year.
func makeDate(r *rand.Rand, astro int64, p annalsv1.DatePrecision) *annalsv1.HistoricalDate {
	y := histdate.Historical(astro)
	d := &annalsv1.HistoricalDate{Year: y, Precision: p, Calendar: calendarFor(r, y)}
	switch p {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		d.Month = int32(1 + r.IntN(12))
		d.Day = int32(1 + r.IntN(int(histdate.DaysIn(d.Calendar, y, d.Month))))
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		d.Month = int32(1 + r.IntN(12))
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE:
		dec := y / 10 * 10 // truncates toward zero: 1947 → 1940, -447 → -440
		if dec == 0 {
			d.Precision = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		} else {
			d.Year = dec
		}
	case annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		n := (abs32(y)-1)/100 + 1
		d.Year = sign32(y) * ((n-1)*100 + 1)
	}
	return d
}

// laterDate returns a date after d at the same precision (day, month or
// year only), at most about maxYears later, in the same calendar.
func laterDate(r *rand.Rand, d *annalsv1.HistoricalDate, maxYears int) *annalsv1.HistoricalDate {
	e := &annalsv1.HistoricalDate{Precision: d.Precision, Calendar: d.Calendar}
	a := histdate.Astronomical(d.Year)
	switch d.Precision {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		days := 1 + r.IntN(maxYears*365+1)
		a += int64(days / 365)
		m, dd := d.Month, d.Day+int32(days%365)
		for dd > histdate.DaysIn(e.Calendar, histdate.Historical(a), m) {
			dd -= histdate.DaysIn(e.Calendar, histdate.Historical(a), m)
			if m++; m > 12 {
				m, a = 1, a+1
			}
		}
		e.Year, e.Month, e.Day = histdate.Historical(a), m, dd
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		months := int(d.Month) - 1 + 1 + r.IntN(maxYears*12+1)
		e.Year, e.Month = histdate.Historical(a+int64(months/12)), int32(months%12+1)
	default:
		e.Precision = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		e.Year = histdate.Historical(a + 1 + int64(r.IntN(maxYears+1)))
	}
	return e
}

// dateInYear returns a date in astronomical year astro at the precision and
// in the calendar of like (day, month or year): the end of a campaign.
func dateInYear(r *rand.Rand, astro int64, like *annalsv1.HistoricalDate) *annalsv1.HistoricalDate {
	y := histdate.Historical(astro)
	e := &annalsv1.HistoricalDate{Year: y, Precision: like.Precision, Calendar: like.Calendar}
	switch like.Precision {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		e.Month = int32(1 + r.IntN(12))
		e.Day = int32(1 + r.IntN(int(histdate.DaysIn(e.Calendar, y, e.Month))))
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		e.Month = int32(1 + r.IntN(12))
	default:
		e.Precision = annalsv1.DatePrecision_DATE_PRECISION_YEAR
	}
	return e
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func sign32(v int32) int32 {
	if v < 0 {
		return -1
	}
	return 1
}

// yearText writes a historical year as the seed format does: "1941",
// "44 BC", and "30 AD" for years below 100 (a bare "April 30" would read as
// a day without a year).
func yearText(y int32) string {
	switch {
	case y < 0:
		return strconv.Itoa(int(-y)) + " BC"
	case y < 100:
		return strconv.Itoa(int(y)) + " AD"
	}
	return strconv.Itoa(int(y))
}

// ordinal writes n as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st.
func ordinal(n int32) string {
	suf := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suf = "st"
		case 2:
			suf = "nd"
		case 3:
			suf = "rd"
		}
	}
	return strconv.Itoa(int(n)) + suf
}

// DateLine writes d as the date line of a seed-format document: "April 13,
// 1941", "April 1941", "1941", "March 15, 44 BC", "1940s" or "5th century
// BC". The format has no calendar: a reader takes dates before 15 October
// 1582 as Julian and later ones as Gregorian, so a proleptic Gregorian date
// before the reform comes back Julian. A decade is written from its year
// truncated to a multiple of ten ("1940s" for 1947), which is what it reads
// back as; a century as its ordinal ("20th century"), which reads back as the
// year ending in 01 (1901). A millennium, which the format cannot say, is
// written as its year and reads back as a year.
func DateLine(d *annalsv1.HistoricalDate) string {
	months := histdate.MonthNames()
	y := d.GetYear()
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		return months[d.GetMonth()-1] + " " + strconv.Itoa(int(d.GetDay())) + ", " + yearText(y)
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		return months[d.GetMonth()-1] + " " + yearText(y)
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE:
		if dec := y / 10 * 10; dec != 0 {
			s := yearText(dec)
			if i := strings.IndexByte(s, ' '); i >= 0 {
				return s[:i] + "s" + s[i:]
			}
			return s + "s"
		}
	case annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		s := ordinal((abs32(y)-1)/100+1) + " century"
		if y < 0 {
			s += " BC"
		}
		return s
	}
	return yearText(y)
}

// when writes d for running text: "on April 13, 1941", "in April 1941",
// "in 1941", "in the 1940s", "in the 5th century BC".
func when(d *annalsv1.HistoricalDate) string {
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		return "on " + DateLine(d)
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE, annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		return "in the " + DateLine(d)
	}
	return "in " + DateLine(d)
}
