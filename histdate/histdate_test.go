package histdate

import (
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

const (
	day   = annalsv1.DatePrecision_DATE_PRECISION_DAY
	month = annalsv1.DatePrecision_DATE_PRECISION_MONTH
	year  = annalsv1.DatePrecision_DATE_PRECISION_YEAR
)

func date(y, m, d int32, p annalsv1.DatePrecision) *annalsv1.HistoricalDate {
	return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: p}
}

func julian(d *annalsv1.HistoricalDate) *annalsv1.HistoricalDate {
	d.Calendar = annalsv1.Calendar_CALENDAR_JULIAN
	return d
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		d     *annalsv1.HistoricalDate
		field string // "" for valid
	}{
		{"pact", date(1941, 4, 13, day), ""},
		{"ides of March", date(-44, 3, 15, day), ""},
		{"month precision", date(1941, 4, 0, month), ""},
		{"year precision", date(1945, 0, 0, year), ""},
		{"leap day Gregorian 2000", date(2000, 2, 29, day), ""},
		{"no leap day Gregorian 1900", date(1900, 2, 29, day), "day"},
		{"leap day Julian 1900", julian(date(1900, 2, 29, day)), ""},
		{"February 30", date(1941, 2, 30, day), "day"},
		{"April 31", date(1941, 4, 31, day), "day"},
		{"year zero", date(0, 1, 1, day), "year"},
		{"month 13", date(1941, 13, 1, day), "month"},
		{"no precision", date(1941, 4, 13, 0), "precision"},
		{"day with month precision", date(1941, 4, 13, month), "day"},
		{"month with year precision", date(1941, 4, 0, year), "month"},
		{"nil", nil, "year"},
		{"huge year", date(2_000_000, 0, 0, year), "year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.d)
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.field != "" && (err == nil || err.Field != tt.field):
				t.Errorf("Validate = %v, want an error on %q", err, tt.field)
			}
		})
	}
}

func TestXSD(t *testing.T) {
	tests := []struct {
		d        *annalsv1.HistoricalDate
		lex, dt  string
		dateTime string
		lo, hi   Key
	}{
		{date(1941, 4, 13, day), "1941-04-13", "date", "1941-04-13T00:00:00Z", 19410413, 19410413},
		{date(1941, 4, 0, month), "1941-04", "gYearMonth", "1941-04-01T00:00:00Z", 19410401, 19410430},
		{date(1945, 0, 0, year), "1945", "gYear", "1945-01-01T00:00:00Z", 19450101, 19451231},
		{date(-44, 3, 15, day), "-0043-03-15", "date", "-0043-03-15T00:00:00Z", -430000 + 315, -430000 + 315},
		{date(-1, 0, 0, year), "0000", "gYear", "0000-01-01T00:00:00Z", 101, 1231},
		{date(1, 0, 0, year), "0001", "gYear", "0001-01-01T00:00:00Z", 10101, 11231},
		{date(1066, 10, 14, day), "1066-10-14", "date", "1066-10-14T00:00:00Z", 10661014, 10661014},
		// 25 February 1890 Old Style is 9 March 1890 New Style (Molotov's birth).
		{julian(date(1890, 2, 25, day)), "1890-03-09", "date", "1890-03-09T00:00:00Z", 18900309, 18900309},
		{date(1944, 0, 0, annalsv1.DatePrecision_DATE_PRECISION_DECADE), "1944", "gYear", "1944-01-01T00:00:00Z", 19400101, 19491231},
		{date(1950, 0, 0, annalsv1.DatePrecision_DATE_PRECISION_CENTURY), "1950", "gYear", "1950-01-01T00:00:00Z", 19010101, 20001231},
	}
	for _, tt := range tests {
		t.Run(String(tt.d), func(t *testing.T) {
			if err := Validate(tt.d); err != nil {
				t.Fatalf("fixture invalid: %v", err)
			}
			lex, dt := XSD(tt.d)
			if lex != tt.lex || dt != tt.dt {
				t.Errorf("XSD = %q^^xsd:%s, want %q^^xsd:%s", lex, dt, tt.lex, tt.dt)
			}
			if got := DateTime(tt.d); got != tt.dateTime {
				t.Errorf("DateTime = %q, want %q", got, tt.dateTime)
			}
			lo, hi := Bounds(tt.d)
			if lo != tt.lo || hi != tt.hi {
				t.Errorf("Bounds = %d, %d, want %d, %d", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestKeysOrderAcrossEras(t *testing.T) {
	ds := []*annalsv1.HistoricalDate{
		date(-44, 3, 15, day), date(-44, 12, 31, day), date(-1, 12, 31, day),
		date(1, 1, 1, day), date(1941, 4, 13, day), date(1945, 9, 2, day),
	}
	for i := 1; i < len(ds); i++ {
		a, _ := Bounds(ds[i-1])
		b, _ := Bounds(ds[i])
		if a >= b {
			t.Errorf("key(%s) = %d is not before key(%s) = %d", String(ds[i-1]), a, String(ds[i]), b)
		}
	}
}

func TestAstronomicalRoundTrip(t *testing.T) {
	for _, y := range []int32{-1000, -44, -2, -1, 1, 2, 1941} {
		if got := Historical(Astronomical(y)); got != y {
			t.Errorf("Historical(Astronomical(%d)) = %d", y, got)
		}
	}
	if Astronomical(-1) != 0 || Astronomical(-44) != -43 {
		t.Errorf("Astronomical(-1), (-44) = %d, %d; want 0, -43", Astronomical(-1), Astronomical(-44))
	}
}

func TestDateTimeBounds(t *testing.T) {
	for _, tc := range []struct {
		d      *annalsv1.HistoricalDate
		lo, hi string
	}{
		{&annalsv1.HistoricalDate{Year: 1941, Month: 4, Day: 13, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY}, "1941-04-13T00:00:00Z", "1941-04-13T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: 1940, Precision: annalsv1.DatePrecision_DATE_PRECISION_DECADE}, "1940-01-01T00:00:00Z", "1949-12-31T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: 1901, Precision: annalsv1.DatePrecision_DATE_PRECISION_CENTURY}, "1901-01-01T00:00:00Z", "2000-12-31T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: 1939, Month: 2, Precision: annalsv1.DatePrecision_DATE_PRECISION_MONTH}, "1939-02-01T00:00:00Z", "1939-02-28T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: -44, Month: 3, Day: 15, Precision: annalsv1.DatePrecision_DATE_PRECISION_DAY, Calendar: annalsv1.Calendar_CALENDAR_JULIAN}, "-0043-03-13T00:00:00Z", "-0043-03-13T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: -753, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}, "-0752-01-01T00:00:00Z", "-0752-12-31T23:59:59Z"},
		{&annalsv1.HistoricalDate{Year: -1, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR}, "0000-01-01T00:00:00Z", "0000-12-31T23:59:59Z"},
	} {
		lo, hi := DateTimeBounds(tc.d)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("DateTimeBounds(%s) = %s, %s; want %s, %s", String(tc.d), lo, hi, tc.lo, tc.hi)
		}
	}
}
