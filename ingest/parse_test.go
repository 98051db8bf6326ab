package ingest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
)

// protoEqual fails the test when got and want differ, showing both.
func protoEqual(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\n got: %s\nwant: %s", what, protojson.Format(got), protojson.Format(want))
	}
}

func readSeed(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseDate(t *testing.T) {
	const (
		day     = annalsv1.DatePrecision_DATE_PRECISION_DAY
		month   = annalsv1.DatePrecision_DATE_PRECISION_MONTH
		year    = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		decade  = annalsv1.DatePrecision_DATE_PRECISION_DECADE
		century = annalsv1.DatePrecision_DATE_PRECISION_CENTURY
		greg    = annalsv1.Calendar_CALENDAR_GREGORIAN
		jul     = annalsv1.Calendar_CALENDAR_JULIAN
	)
	date := func(y, m, d int32, p annalsv1.DatePrecision, c annalsv1.Calendar) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: p, Calendar: c}
	}
	tests := []struct {
		in   string
		want *annalsv1.HistoricalDate
		err  string // a part of the error message, when the line is refused
	}{
		{in: "April 13, 1941", want: date(1941, 4, 13, day, greg)},
		{in: "13 April 1941", want: date(1941, 4, 13, day, greg)},
		{in: "Apr. 13, 1941", want: date(1941, 4, 13, day, greg)},
		{in: "13th Sept 1941", want: date(1941, 9, 13, day, greg)},
		{in: "april 13 1941.", want: date(1941, 4, 13, day, greg)},
		{in: "c. April 1941", want: date(1941, 4, 0, month, greg)},
		{in: "April 1941", want: date(1941, 4, 0, month, greg)},
		{in: "1941", want: date(1941, 0, 0, year, greg)},
		{in: "circa 1066", want: date(1066, 0, 0, year, jul)},
		{in: "AD 1066", want: date(1066, 0, 0, year, jul)},
		{in: "1066 CE", want: date(1066, 0, 0, year, jul)},
		{in: "March 15, 44 BC", want: date(-44, 3, 15, day, jul)},
		{in: "15 March 44 B.C.E.", want: date(-44, 3, 15, day, jul)},
		{in: "44 BCE", want: date(-44, 0, 0, year, jul)},
		{in: "October 4, 1582", want: date(1582, 10, 4, day, jul)},
		{in: "October 15, 1582", want: date(1582, 10, 15, day, greg)},
		{in: "February 29, 1500", want: date(1500, 2, 29, day, jul)}, // a Julian leap year
		{in: "April 13 AD", want: date(13, 4, 0, month, jul)},
		{in: "1940s", want: date(1940, 0, 0, decade, greg)},
		{in: "1940's", want: date(1940, 0, 0, decade, greg)},
		{in: "20th century", want: date(1901, 0, 0, century, greg)},
		{in: "5th century BC", want: date(-401, 0, 0, century, jul)},
		{in: "the 1st century", want: date(1, 0, 0, century, jul)},
		{in: "February 30, 1941", err: "impossible date"},
		{in: "February 29, 1900", err: "impossible date"},
		{in: "0", err: "impossible date"},
		{in: "0 BC", err: "impossible date"},
		{in: "April 31, 1941", err: "impossible date"},
		{in: "1945s", err: "expected a date"},
		{in: "Smarch 13, 1941", err: "expected a date"},
		{in: "April 13", err: "expected a date"},
		{in: "The pact was signed", err: "expected a date"},
		{in: "99999999", err: "expected a date"},
		{in: "", err: "expected a date"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDate(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseDate(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDate(%q): %v", tt.in, err)
			}
			protoEqual(t, "date", got, tt.want)
			if fe := histdate.Validate(got); fe != nil {
				t.Errorf("Validate: %v", fe)
			}
		})
	}
}

// summary describes the parts of a parsed document that the table test checks.
type summary struct {
	event        string
	date         string // histdate.String
	summary      string
	places       []string // "name country"
	participants []string // "actor ROLE display"
	actors       []string // "name KIND"
	headings     []string // "heading (paragraphs/items)"
	items        []string // "term|text|actor"
	illustration string   // "style|year"
}

func summarise(d *Document) summary {
	s := summary{event: d.Event.Name, date: histdate.String(d.Event.Date), summary: d.Event.Summary}
	for _, p := range d.Places {
		s.places = append(s.places, strings.TrimSpace(p.Name+" "+p.Country))
	}
	for _, p := range d.Event.Participants {
		s.participants = append(s.participants, fmt.Sprintf("%s %s %s", p.Actor, strings.TrimPrefix(p.Role.String(), "PARTICIPANT_ROLE_"), p.DisplayName))
	}
	for _, a := range d.Actors {
		s.actors = append(s.actors, a.Name+" "+strings.TrimPrefix(a.Kind.String(), "ACTOR_KIND_"))
	}
	for _, sec := range d.Event.Article {
		s.headings = append(s.headings, fmt.Sprintf("%s (%d/%d)", sec.Heading, len(sec.Paragraphs), len(sec.Items)))
		for _, it := range sec.Items {
			s.items = append(s.items, it.Term+"|"+it.Text+"|"+it.Actor)
		}
	}
	if il := d.Event.Illustration; il != nil {
		s.illustration = il.Style + "|" + strconv.Itoa(int(il.Year))
	}
	return s
}

func TestParseDocuments(t *testing.T) {
	tests := []struct {
		name string
		text string
		want summary
	}{
		{
			name: "bce.txt",
			text: docBCE,
			want: summary{
				event:   "events/the-harbour-toll-accord",
				date:    "15 March 44 BCE (Julian)",
				summary: "A council of elders in the river city agreed on the sharing of the harbour tolls.",
				places:  []string{"places/harbour-hall actors/republic-of-tessa"},
				participants: []string{
					"actors/republic-of-tessa PARTY Republic of Tessa",
					"actors/guild-of-boatmen PARTY Guild of Boatmen",
					"actors/marcus-verus SIGNATORY Marcus Verus",
					"actors/titus-albus REPRESENTATIVE General Titus Albus",
					"actors/livia-orra KEY_FIGURE Livia Orra",
				},
				actors: []string{
					"actors/republic-of-tessa STATE",
					"actors/guild-of-boatmen UNSPECIFIED",
					"actors/marcus-verus PERSON",
					"actors/titus-albus PERSON",
					"actors/livia-orra PERSON",
				},
				headings: []string{" (1/0)", "The Quarrel (1/0)", "Key People (0/3)"},
				items: []string{
					"Marcus Verus|The elder who signed the accord for the city.|actors/marcus-verus",
					"General Titus Albus|Commander of the harbour watch, who represented the guild at the meeting.|actors/titus-albus",
					"Livia Orra|A merchant whose letters record the debate.|actors/livia-orra",
				},
				illustration: "oil painting|-44",
			},
		},
		{
			name: "year.txt",
			text: docYear,
			want: summary{
				event:        "events/the-first-green-fair",
				date:         "1066 (Julian)",
				summary:      "A fair was held on the green for the first time.",
				places:       []string{"places/ashford-green actors/kingdom-of-wessel"},
				participants: []string{"actors/kingdom-of-wessel PARTY Kingdom of Wessel"},
				actors:       []string{"actors/kingdom-of-wessel STATE"},
				headings:     []string{" (1/0)", "Stalls and Trades (1/0)", "Later Fairs (2/0)"},
			},
		},
		{
			name: "month.txt",
			text: docMonth,
			want: summary{
				event:   "events/the-lowbridge-agreement",
				date:    "June 1815",
				summary: "Two valley towns agreed to share a bridge.",
				places:  []string{"places/lowbridge"},
				participants: []string{
					"actors/town-of-upton PARTY Town of Upton",
					"actors/town-of-downing PARTY Town of Downing",
					"actors/anne-pell REPRESENTATIVE Mayor Anne Pell",
					"actors/tom-reed KEY_FIGURE Tom Reed",
				},
				actors: []string{
					"actors/town-of-upton UNSPECIFIED",
					"actors/town-of-downing UNSPECIFIED",
					"actors/anne-pell PERSON",
					"actors/tom-reed PERSON",
				},
				headings: []string{"Terms (1/2)", "Key figures (0/2)"},
				items: []string{
					"Upkeep|paid in equal halves.|",
					"Tolls|none.|",
					"Mayor Anne Pell|Represented Upton at the meeting.|actors/anne-pell",
					"Tom Reed|Carried the letters between the towns.|actors/tom-reed",
				},
				illustration: "|1815",
			},
		},
		{
			name: "dayfirst.txt",
			text: docDayFirst,
			want: summary{
				event:        "events/test-event-with-day-first-date",
				date:         "13 April 1941",
				places:       []string{"places/moscow actors/soviet-union"},
				participants: []string{"actors/government-of-soviet-union PARTY Government of Soviet Union"},
				actors:       []string{"actors/soviet-union STATE", "actors/government-of-soviet-union GOVERNMENT"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.name, []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			got := summarise(d)
			if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", tt.want); g != w {
				t.Errorf("parsed document:\n got: %s\nwant: %s", g, w)
			}
			checkDocument(t, d)
		})
	}
}

// checkDocument checks what every parsed document must satisfy.
func checkDocument(t *testing.T, d *Document) {
	t.Helper()
	if _, err := resource.ParseKind(d.Event.Name, resource.Events); err != nil {
		t.Errorf("event name: %v", err)
	}
	if _, err := resource.ParseKind(d.Source.Name, resource.Sources); err != nil {
		t.Errorf("source name: %v", err)
	}
	if fe := histdate.Validate(d.Event.Date); fe != nil {
		t.Errorf("date: %v", fe)
	}
	if !norm.NFC.IsNormalString(d.Source.Text) || !utf8.ValidString(d.Source.Text) {
		t.Errorf("source text is not NFC UTF-8")
	}
	if d.Source.Event != d.Event.Name || len(d.Event.Sources) != 1 || d.Event.Sources[0] != d.Source.Name {
		t.Errorf("source %s / event %s do not point at each other", d.Source.Name, d.Event.Name)
	}
	actors := map[string]bool{}
	for _, a := range d.Actors {
		if _, err := resource.ParseKind(a.Name, resource.Actors); err != nil {
			t.Errorf("actor name: %v", err)
		}
		actors[a.Name] = true
	}
	for _, p := range d.Places {
		if _, err := resource.ParseKind(p.Name, resource.Places); err != nil {
			t.Errorf("place name: %v", err)
		}
		if p.Country != "" && !actors[p.Country] {
			t.Errorf("place %s: country %s is not among the document's actors", p.Name, p.Country)
		}
	}
	for _, p := range d.Event.Participants {
		if !actors[p.Actor] {
			t.Errorf("participant %s is not among the document's actors", p.Actor)
		}
	}
}

// TestParseNormalisesInput checks that a byte-order mark, CRLF line ends,
// trailing spaces, extra blank lines and decomposed letters give the same
// event as the plain document.
func TestParseNormalisesInput(t *testing.T) {
	plain, err := Parse("plain.txt", readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]func(string) string{
		"crlf": func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
		"bom":  func(s string) string { return "\ufeff" + s },
		"trailing spaces": func(s string) string {
			return strings.ReplaceAll(s, "\n", " \t \n") + "  "
		},
		"extra blank lines": func(s string) string {
			return "\n\n" + strings.ReplaceAll(s, "\n\n", "\n\n  \n\n") + "\n\n\n"
		},
		"all together": func(s string) string {
			return "\ufeff" + strings.ReplaceAll(strings.ReplaceAll(s, "\n", "  \n"), "\n", "\r\n")
		},
		"decomposed (NFD)": norm.NFD.String,
	}
	for name, f := range variants {
		t.Run(name, func(t *testing.T) {
			d, err := Parse("variant.txt", []byte(f(string(readSeed(t)))))
			if err != nil {
				t.Fatal(err)
			}
			protoEqual(t, "event", withoutSources(d.Event), withoutSources(plain.Event))
			if len(d.Actors) != len(plain.Actors) {
				t.Fatalf("%d actors, want %d", len(d.Actors), len(plain.Actors))
			}
			for i := range d.Actors {
				protoEqual(t, "actor", d.Actors[i], plain.Actors[i])
			}
			checkDocument(t, d)
		})
	}
}

func withoutSources(e *annalsv1.Event) *annalsv1.Event {
	e = proto.Clone(e).(*annalsv1.Event)
	e.Sources = nil
	return e
}

func TestParseRefusals(t *testing.T) {
	const place = "Moscow, Soviet Union | Government of Japan"
	tests := []struct {
		name string
		text string
		line int
		msg  string // a part of the message
	}{
		{"empty", "", 1, "found an empty document"},
		{"only blank lines", "\r\n  \n\t\n", 1, "found an empty document"},
		{"only a byte-order mark", "\ufeff", 1, "found an empty document"},
		{"not UTF-8", "April 13, 1941\n\nA summary \xff here.\n", 3, "expected UTF-8"},
		{"NUL", "April 13, 1941\n\nA summary\x00 here.\n", 3, "control character or noncharacter U+0000"},
		{"escape", "April 13, 1941\n\n" + place + "\n\nTitle\x1b[31m\n", 5, "U+001B"},
		{"noncharacter", "April 13, 1941\n\nA summary \uffff.\n", 3, "U+FFFF"},
		{"no date", "A summary.\n\n" + place + "\n\nTitle\n", 1, "expected a date"},
		{"date after blank lines", "\n\nthirteen April\n\n" + place + "\n\nTitle\n", 3, "expected a date"},
		{"impossible date", "February 30, 1941\n\nA summary.\n\n" + place + "\n\nTitle\n", 1, "impossible date \"February 30, 1941\": day 30 does not exist in February 1941"},
		{"year zero", "0 BC\n\nA summary.\n\n" + place + "\n\nTitle\n", 1, "impossible date"},
		{"date run into the summary", "April 13, 1941\nA summary.\n\n" + place + "\n\nTitle\n", 2, "expected a blank line after the date line"},
		{"only a date", "April 13, 1941\n", 1, "expected the place line"},
		{"no place line", "April 13, 1941\n\nA summary.\n\nTitle\n\nA lead paragraph.\n", 5, "expected the place line \"Place, Country | Party, Party\" after the summary, found \"Title\""},
		{"no place line at the end", "April 13, 1941\n\nA summary.\n", 3, "found the end of the document"},
		{"no title", "April 13, 1941\n\nA summary.\n\n" + place + "\n", 5, "expected the title"},
		{"no title after the caption", "April 13, 1941\n\nA summary.\n\n" + place + "\n\nA painting of it (1941)\n", 7, "expected the title"},
		{"a paragraph for a title", "April 13, 1941\n\nA summary.\n\n" + place + "\n\nThe lead paragraph comes where the title should be.\n", 7, "expected the title"},
		{"a title without letters", "April 13, 1941\n\nA summary.\n\n" + place + "\n\n— ? —\n", 7, "expected the title"},
		{"a two-line title", "April 13, 1941\n\nA summary.\n\n" + place + "\n\nTitle\nMore title\n", 7, "expected the title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("doc.txt", []byte(tt.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", d, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse error = line %d %q; want line %d containing %q", pe.Line, pe.Msg, tt.line, tt.msg)
			}
			if want := fmt.Sprintf("doc.txt:%d: ", tt.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q; want it to start with %q", err.Error(), want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	big := make([]byte, MaxDocumentBytes+1)
	_, err := Parse("big.txt", big)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse of %d bytes = %v; want a *ParseError wrapping ErrTooLarge", len(big), err)
	}
}

// countingReader yields n bytes of text and counts how many were read.
type countingReader struct {
	n, read int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(len(p), r.n-r.read)
	for i := range p[:k] {
		p[i] = 'a'
	}
	r.read += k
	return k, nil
}

// TestParseReaderTooLarge checks that a 10 MB document is refused after
// reading no more than MaxDocumentBytes+1 bytes of it.
func TestParseReaderTooLarge(t *testing.T) {
	r := &countingReader{n: 10 << 20}
	_, err := ParseReader("big.txt", r)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ParseReader = %v; want ErrTooLarge", err)
	}
	if r.read > MaxDocumentBytes+1 {
		t.Errorf("ParseReader read %d bytes of a %d-byte document; want at most %d", r.read, r.n, MaxDocumentBytes+1)
	}
}

func TestParseReader(t *testing.T) {
	d, err := ParseReader("seed.txt", strings.NewReader(string(readSeed(t))))
	if err != nil {
		t.Fatal(err)
	}
	if d.Event.Name != "events/soviet-japanese-neutrality-pact" {
		t.Errorf("event %s", d.Event.Name)
	}
	_, err = ParseReader("broken.txt", io.MultiReader(strings.NewReader("April"), iotest{}))
	if err == nil || errors.As(err, new(*ParseError)) {
		t.Errorf("ParseReader of a failing reader = %v; want a read error that is not a *ParseError", err)
	}
}

// iotest is a reader that fails.
type iotest struct{}

func (iotest) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func FuzzParse(f *testing.F) {
	f.Add(readSeed(f))
	for _, d := range testDocs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz.txt", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line < 0 || pe.Msg == "" {
				t.Fatalf("Parse error %#v has no line or message", pe)
			}
			return
		}
		checkDocument(t, d)
	})
}

// TestWriteFuzzCorpus keeps testdata/fuzz/FuzzParse in step with the test
// documents: -update rewrites it, otherwise it checks that the files exist.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	docs := map[string]string{"seed": string(readSeed(t))}
	for name, d := range testDocs {
		docs[strings.TrimSuffix(name, ".txt")] = d
	}
	docs["crlf-bom"] = "\ufeff" + strings.ReplaceAll(docBCE, "\n", "  \r\n")
	docs["impossible-date"] = strings.Replace(docYear, "1066", "February 30, 1066", 1)
	for name, d := range docs {
		path := filepath.Join(dir, name)
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(d) + ")\n"
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (run go test ./ingest -update)", path)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data := readSeed(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("seed.txt", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkReadOnly is BenchmarkParse's baseline, run beside it: the work
// every reader of the document does anyway (UTF-8 check, NFC, splitting into
// lines), without parsing.
func BenchmarkReadOnly(b *testing.B) {
	data := readSeed(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if !utf8.Valid(data) {
			b.Fatal("invalid")
		}
		_ = strings.Split(norm.NFC.String(string(data)), "\n")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// TestKeyFigureDescriptionsStayWithTheirFigure: a person named inside another
// key figure's description ("…, alongside Ambassador Yoshitsugu Tatekawa,
// represented Japan…") becomes a participant without that description, which
// describes the figure it is written under (Matsuoka), not Tatekawa.
func TestKeyFigureDescriptionsStayWithTheirFigure(t *testing.T) {
	d, err := Parse("000_18ebd8a16d007420.txt", readSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	desc := map[string]string{}
	for _, p := range d.Event.Participants {
		desc[p.DisplayName] = p.Description
	}
	const matsuoka = "The Foreign Minister of Japan, who, alongside Ambassador Yoshitsugu Tatekawa, represented Japan in the signing."
	if got := desc["Yōsuke Matsuoka"]; got != matsuoka {
		t.Errorf("Matsuoka's description = %q, want %q", got, matsuoka)
	}
	got, ok := desc["Ambassador Yoshitsugu Tatekawa"]
	if !ok {
		t.Fatalf("Tatekawa is not a participant: %v", desc)
	}
	if got != "" {
		t.Errorf("Tatekawa carries the description %q; it is Matsuoka's", got)
	}
}
