// Package histdate handles historical dates: partial dates (known to the day,
// month, year, decade, century or millennium), years before the common era,
// and the Julian calendar. It validates them, turns them into sortable day
// keys for range queries, and writes them as XSD 1.1 literals.
//
// Years are in historical numbering, as people write them and as Wikidata's
// JSON does: there is no year zero, -1 is 1 BCE, -44 is 44 BCE. Internally and
// in XSD 1.1 (and Wikidata's RDF) the astronomical numbering is used, where
// 1 BCE is 0 and 44 BCE is -43.
package histdate

import (
	"fmt"
	"strconv"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// MaxAbsYear bounds the years Annals accepts, in either era.
const MaxAbsYear = 1_000_000

// FieldError says which field of a date is wrong and why.
type FieldError struct {
	Field  string // "year", "month", "day", "precision" or "calendar"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate reports the first problem with d, or nil if d is a valid date.
func Validate(d *annalsv1.HistoricalDate) *FieldError {
	if d == nil {
		return &FieldError{"year", "a date is required"}
	}
	switch d.GetCalendar() {
	case annalsv1.Calendar_CALENDAR_UNSPECIFIED, annalsv1.Calendar_CALENDAR_GREGORIAN, annalsv1.Calendar_CALENDAR_JULIAN:
	default:
		return &FieldError{"calendar", fmt.Sprintf("unknown calendar %d", d.GetCalendar())}
	}
	y, m, day := d.GetYear(), d.GetMonth(), d.GetDay()
	if y == 0 {
		return &FieldError{"year", "year 0 does not exist in historical numbering; 1 BCE is -1"}
	}
	if y > MaxAbsYear || y < -MaxAbsYear {
		return &FieldError{"year", fmt.Sprintf("year %d is outside ±%d", y, MaxAbsYear)}
	}
	p := d.GetPrecision()
	switch p {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		if m < 1 || m > 12 {
			return &FieldError{"month", fmt.Sprintf("month %d is not 1-12", m)}
		}
		if n := DaysIn(d.GetCalendar(), y, m); day < 1 || day > n {
			return &FieldError{"day", fmt.Sprintf("day %d does not exist in %s %s", day, monthNames[m-1], yearString(y))}
		}
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		if m < 1 || m > 12 {
			return &FieldError{"month", fmt.Sprintf("month %d is not 1-12", m)}
		}
		if day != 0 {
			return &FieldError{"day", "day must be 0 when the precision is a month"}
		}
	case annalsv1.DatePrecision_DATE_PRECISION_YEAR, annalsv1.DatePrecision_DATE_PRECISION_DECADE,
		annalsv1.DatePrecision_DATE_PRECISION_CENTURY, annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM:
		if m != 0 || day != 0 {
			return &FieldError{"month", "month and day must be 0 when the precision is coarser than a month"}
		}
	case annalsv1.DatePrecision_DATE_PRECISION_UNSPECIFIED:
		return &FieldError{"precision", "precision is required (DATE_PRECISION_DAY, _MONTH, _YEAR, …)"}
	default:
		return &FieldError{"precision", fmt.Sprintf("unknown precision %d", p)}
	}
	return nil
}

// Astronomical returns the astronomical year of a historical year (1 BCE is 0).
func Astronomical(year int32) int64 {
	if year < 0 {
		return int64(year) + 1
	}
	return int64(year)
}

// Historical returns the historical year of an astronomical year (0 is -1, 1 BCE).
func Historical(astro int64) int32 {
	if astro <= 0 {
		return int32(astro - 1)
	}
	return int32(astro)
}

// IsLeap reports whether the astronomical year a is a leap year in calendar c.
func IsLeap(c annalsv1.Calendar, a int64) bool {
	if c == annalsv1.Calendar_CALENDAR_JULIAN {
		return mod(a, 4) == 0
	}
	return mod(a, 4) == 0 && (mod(a, 100) != 0 || mod(a, 400) == 0)
}

// DaysIn returns the number of days of month m (1-12) of historical year y.
func DaysIn(c annalsv1.Calendar, y, m int32) int32 {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if IsLeap(c, Astronomical(y)) {
			return 29
		}
		return 28
	}
	return 31
}

// Key is a day as a sortable integer: astronomical year × 10000 + month × 100 + day,
// in the proleptic Gregorian calendar. Keys order as the days they stand for.
type Key int64

// MakeKey builds a Key from an astronomical year, month and day.
func MakeKey(astro int64, m, d int32) Key { return Key(astro*10000 + int64(m)*100 + int64(d)) }

// Bounds returns the first and last day that d may stand for, as Keys: a date
// known to the year covers all of that year, a decade all ten years, and so on.
// Julian dates known to the day or month are converted to Gregorian first.
// d must be valid (see Validate).
func Bounds(d *annalsv1.HistoricalDate) (lo, hi Key) {
	a := Astronomical(d.GetYear())
	c := d.GetCalendar()
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		k := gregorianKey(c, a, d.GetMonth(), d.GetDay())
		return k, k
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		last := DaysIn(c, d.GetYear(), d.GetMonth())
		return gregorianKey(c, a, d.GetMonth(), 1), gregorianKey(c, a, d.GetMonth(), last)
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE:
		s := floorDiv(a, 10) * 10
		return MakeKey(s, 1, 1), MakeKey(s+9, 12, 31)
	case annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		s := floorDiv(a-1, 100)*100 + 1
		return MakeKey(s, 1, 1), MakeKey(s+99, 12, 31)
	case annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM:
		s := floorDiv(a-1, 1000)*1000 + 1
		return MakeKey(s, 1, 1), MakeKey(s+999, 12, 31)
	}
	return MakeKey(a, 1, 1), MakeKey(a, 12, 31)
}

func gregorianKey(c annalsv1.Calendar, a int64, m, d int32) Key {
	if c == annalsv1.Calendar_CALENDAR_JULIAN {
		a, m, d = JulianToGregorian(a, m, d)
	}
	return MakeKey(a, m, d)
}

// JulianToGregorian converts a Julian calendar date (astronomical year) to the
// proleptic Gregorian calendar, through the Julian day number.
func JulianToGregorian(a int64, m, d int32) (int64, int32, int32) {
	// Julian calendar date to Julian day number (Richards' algorithm).
	y := a + 4800 - int64((14-m)/12)
	mm := int64(m) + 12*int64((14-m)/12) - 3
	jdn := int64(d) + (153*mm+2)/5 + 365*y + floorDiv(y, 4) - 32083
	// Julian day number to Gregorian date.
	f := jdn + 68569
	n := floorDiv(4*f, 146097)
	f -= floorDiv(146097*n+3, 4)
	i := floorDiv(4000*(f+1), 1461001)
	f = f - floorDiv(1461*i, 4) + 31
	j := floorDiv(80*f, 2447)
	day := f - floorDiv(2447*j, 80)
	f = floorDiv(j, 11)
	month := j + 2 - 12*f
	year := 100*(n-49) + i + f
	return year, int32(month), int32(day)
}

// XSD returns d as an XSD 1.1 literal and the local name of its datatype in
// the XSD namespace: "1941-04-13" xsd:date at day precision, "1941-04"
// xsd:gYearMonth at month precision, "1941" xsd:gYear otherwise. Years are
// astronomical (44 BCE is "-0043") with at least four digits. Julian dates
// known to the day are converted to Gregorian, as XSD requires; a Julian
// month is written as it is, since it does not map onto one Gregorian month.
func XSD(d *annalsv1.HistoricalDate) (lexical, datatype string) {
	a, m, day := Astronomical(d.GetYear()), d.GetMonth(), d.GetDay()
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		if d.GetCalendar() == annalsv1.Calendar_CALENDAR_JULIAN {
			a, m, day = JulianToGregorian(a, m, day)
		}
		return fmt.Sprintf("%s-%02d-%02d", xsdYear(a), m, day), "date"
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		return fmt.Sprintf("%s-%02d", xsdYear(a), m), "gYearMonth"
	}
	return xsdYear(a), "gYear"
}

// DateTime returns d as the xsd:dateTime Wikidata uses for simple (truthy)
// values: month and day are padded with 01 when unknown, the time is midnight
// UTC, and years are astronomical, as in "1941-04-13T00:00:00Z".
func DateTime(d *annalsv1.HistoricalDate) string {
	a, m, day := Astronomical(d.GetYear()), d.GetMonth(), d.GetDay()
	if d.GetPrecision() == annalsv1.DatePrecision_DATE_PRECISION_DAY && d.GetCalendar() == annalsv1.Calendar_CALENDAR_JULIAN {
		a, m, day = JulianToGregorian(a, m, day)
	}
	if m == 0 {
		m = 1
	}
	if day == 0 {
		day = 1
	}
	return fmt.Sprintf("%s-%02d-%02dT00:00:00Z", xsdYear(a), m, day)
}

// String writes d for people: "13 April 1941", "April 1941", "44 BCE", "1940s", "20th century".
func String(d *annalsv1.HistoricalDate) string {
	if d == nil {
		return ""
	}
	y := d.GetYear()
	s := ""
	switch d.GetPrecision() {
	case annalsv1.DatePrecision_DATE_PRECISION_DAY:
		s = fmt.Sprintf("%d %s %s", d.GetDay(), monthName(d.GetMonth()), yearString(y))
	case annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		s = fmt.Sprintf("%s %s", monthName(d.GetMonth()), yearString(y))
	case annalsv1.DatePrecision_DATE_PRECISION_DECADE:
		s = yearString(y) + " (decade)"
	case annalsv1.DatePrecision_DATE_PRECISION_CENTURY:
		s = yearString(y) + " (century)"
	case annalsv1.DatePrecision_DATE_PRECISION_MILLENNIUM:
		s = yearString(y) + " (millennium)"
	default:
		s = yearString(y)
	}
	if d.GetCalendar() == annalsv1.Calendar_CALENDAR_JULIAN {
		s += " (Julian)"
	}
	return s
}

func yearString(y int32) string {
	if y < 0 {
		return strconv.Itoa(int(-y)) + " BCE"
	}
	return strconv.Itoa(int(y))
}

func monthName(m int32) string {
	if m < 1 || m > 12 {
		return "month " + strconv.Itoa(int(m))
	}
	return monthNames[m-1]
}

var monthNames = [12]string{"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"}

// MonthNames returns the English month names, January first.
func MonthNames() [12]string { return monthNames }

func xsdYear(a int64) string {
	if a < 0 {
		return fmt.Sprintf("-%04d", -a)
	}
	return fmt.Sprintf("%04d", a)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// Date splits a Key into its astronomical year, month and day.
func (k Key) Date() (astro int64, m, d int32) {
	astro = floorDiv(int64(k), 10000)
	rest := int64(k) - astro*10000
	return astro, int32(rest / 100), int32(rest % 100)
}

// DateTimeBounds returns the first and the last instant d may stand for, as
// XSD 1.1 xsd:dateTime literals in UTC, proleptic Gregorian and astronomical
// years: "1940-01-01T00:00:00Z" and "1949-12-31T23:59:59Z" for the 1940s,
// "-0043-03-13T00:00:00Z" and "-0043-03-13T23:59:59Z" for 15 March 44 BCE
// (Julian). Unlike DateTime, whose padding makes a decade read as its first
// day, the pair says how far the date reaches, and values of any precision
// compare with each other. d must be valid (see Validate).
func DateTimeBounds(d *annalsv1.HistoricalDate) (earliest, latest string) {
	lo, hi := Bounds(d)
	la, lm, ld := lo.Date()
	ha, hm, hd := hi.Date()
	return fmt.Sprintf("%s-%02d-%02dT00:00:00Z", xsdYear(la), lm, ld),
		fmt.Sprintf("%s-%02d-%02dT23:59:59Z", xsdYear(ha), hm, hd)
}
