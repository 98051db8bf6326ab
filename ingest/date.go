package ingest

import (
	"fmt"
	"strconv"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
)

// dateError says why a date line was refused; impossible is true when the
// line reads as a date that does not exist (such as February 30).
type dateError struct {
	msg        string
	impossible bool
}

func (e *dateError) Error() string { return e.msg }

// months maps lower-case month names and abbreviations (without a final dot) to 1-12.
var months = func() map[string]int32 {
	m := map[string]int32{"sept": 9}
	for i, n := range histdate.MonthNames() {
		l := strings.ToLower(n)
		m[l] = int32(i + 1)
		m[l[:3]] = int32(i + 1)
	}
	return m
}()

// parseDate reads a date line: "April 13, 1941", "13 April 1941", "April
// 1941", "1941", "44 BC", "AD 1066", "1940s", "5th century BC", each with an
// optional "c."/"circa" prefix (read and ignored: the model has no
// approximate dates). The era may be BC/BCE or AD/CE, with or without dots.
//
// Dates before the Gregorian reform (15 October 1582) get the Julian
// calendar, as is usual in historical writing and as Wikidata assumes;
// later ones the Gregorian. The result is checked with histdate.Validate.
func parseDate(s string) (*annalsv1.HistoricalDate, error) {
	notDate := &dateError{msg: fmt.Sprintf("expected a date such as \"April 13, 1941\", \"April 1941\", \"1941\" or \"March 15, 44 BC\", found %q", clip(s, 60))}
	toks := strings.Fields(strings.ReplaceAll(s, ",", " "))
	for i, t := range toks {
		toks[i] = strings.ToLower(t)
	}
	if len(toks) > 0 {
		switch toks[0] {
		case "c.", "c", "ca.", "ca", "circa":
			toks = toks[1:]
		}
	}
	if len(toks) > 0 && toks[0] == "the" {
		toks = toks[1:]
	}
	bc, era := false, false
	if n := len(toks); n > 0 {
		switch strings.ReplaceAll(toks[n-1], ".", "") {
		case "bc", "bce":
			bc, era = true, true
			toks = toks[:n-1]
		case "ad", "ce":
			era = true
			toks = toks[:n-1]
		}
	}
	if !era && len(toks) > 0 && strings.ReplaceAll(toks[0], ".", "") == "ad" {
		era = true
		toks = toks[1:]
	}
	if len(toks) > 0 { // a sentence-final dot: "April 13, 1941."
		toks[len(toks)-1] = strings.TrimSuffix(toks[len(toks)-1], ".")
	}

	d := &annalsv1.HistoricalDate{}
	switch len(toks) {
	case 1:
		t := toks[0]
		if dec, ok := decade(t); ok {
			y, ok := number(dec, 7)
			if !ok || y%10 != 0 {
				return nil, notDate
			}
			d.Year, d.Precision = y, annalsv1.DatePrecision_DATE_PRECISION_DECADE
			break
		}
		y, ok := number(t, 7)
		if !ok {
			return nil, notDate
		}
		d.Year, d.Precision = y, annalsv1.DatePrecision_DATE_PRECISION_YEAR
	case 2:
		if toks[1] == "century" || toks[1] == "c" || toks[1] == "c." {
			n, ok := ordinal(toks[0], 5)
			if !ok || n == 0 {
				return nil, notDate
			}
			// A year inside the century, nearest the era boundary: the 20th
			// century is given as 1901, the 5th century BC as 401 BC.
			d.Year, d.Precision = (n-1)*100+1, annalsv1.DatePrecision_DATE_PRECISION_CENTURY
			break
		}
		m, ok := month(toks[0])
		if !ok {
			return nil, notDate
		}
		y, ok := number(toks[1], 7)
		if !ok || y <= 31 && !era {
			// "April 13" is more likely a day without a year than a month of
			// the year 13; a year that small needs its era: "April 13 AD".
			return nil, notDate
		}
		d.Year, d.Month, d.Precision = y, m, annalsv1.DatePrecision_DATE_PRECISION_MONTH
	case 3:
		m, ok := month(toks[0])
		dayTok := toks[1]
		if !ok { // day first: "13 April 1941"
			if m, ok = month(toks[1]); !ok {
				return nil, notDate
			}
			dayTok = toks[0]
		}
		day, ok := ordinal(dayTok, 2)
		if !ok {
			return nil, notDate
		}
		y, ok := number(toks[2], 7)
		if !ok {
			return nil, notDate
		}
		d.Year, d.Month, d.Day, d.Precision = y, m, day, annalsv1.DatePrecision_DATE_PRECISION_DAY
	default:
		return nil, notDate
	}
	if bc {
		d.Year = -d.Year
	}
	d.Calendar = annalsv1.Calendar_CALENDAR_GREGORIAN
	if beforeGregorianReform(d) {
		d.Calendar = annalsv1.Calendar_CALENDAR_JULIAN
	}
	if fe := histdate.Validate(d); fe != nil {
		return nil, &dateError{msg: fmt.Sprintf("impossible date %q: %s", clip(s, 60), fe.Reason), impossible: true}
	}
	return d, nil
}

// beforeGregorianReform reports whether d lies (wholly, at its precision)
// before 15 October 1582.
func beforeGregorianReform(d *annalsv1.HistoricalDate) bool {
	switch {
	case d.Year != 1582:
		return d.Year < 1582
	case d.Precision == annalsv1.DatePrecision_DATE_PRECISION_DAY:
		return d.Month < 10 || d.Month == 10 && d.Day < 15
	case d.Precision == annalsv1.DatePrecision_DATE_PRECISION_MONTH:
		return d.Month < 10
	}
	return false
}

// decade returns the digits of "1940s" or "1940's".
func decade(t string) (string, bool) {
	if s, ok := strings.CutSuffix(t, "'s"); ok {
		return s, true
	}
	return strings.CutSuffix(t, "s")
}

// month reads a month name or abbreviation ("April", "Apr", "Apr.").
func month(t string) (int32, bool) {
	m, ok := months[strings.TrimSuffix(t, ".")]
	return m, ok
}

// number reads 1 to maxDigits ASCII digits.
func number(t string, maxDigits int) (int32, bool) {
	if t == "" || len(t) > maxDigits {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(t, 10, 32)
	return int32(n), err == nil
}

// ordinal reads a number with an optional English ordinal suffix ("13th").
func ordinal(t string, maxDigits int) (int32, bool) {
	t = strings.TrimSuffix(t, ".")
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if s, ok := strings.CutSuffix(t, suf); ok {
			t = s
			break
		}
	}
	return number(t, maxDigits)
}

// clip shortens s to at most n runes for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
