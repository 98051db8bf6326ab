package main

// End-to-end tests of `annals ingest`: they run the real binary (buildBinary)
// on the documents in testdata/ingest, which are invented for these tests and
// describe no real event, except for the bundled seed in data/seeds.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// seedPath is the bundled seed document.
var seedPath = filepath.Join("..", "..", "data", "seeds", "000_18ebd8a16d007420.txt")

// doc is the path of a test document in testdata/ingest.
func doc(name string) string { return filepath.Join("testdata", "ingest", name) }

// runTimeout bounds one run of the binary; it is generous on purpose.
const runTimeout = 2 * time.Minute

// annalsRun is the outcome of one run of the binary.
type annalsRun struct {
	stdout, stderr string
	code           int
}

// runAnnals runs the real binary with args and returns its output and exit status.
func runAnnals(t *testing.T, args ...string) annalsRun {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("build annals: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := annalsRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("annals %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("annals %s did not finish within %s", strings.Join(args, " "), runTimeout)
	}
	return r
}

// mustRun is runAnnals that fails the test unless the exit status is want.
func mustRun(t *testing.T, want int, args ...string) annalsRun {
	t.Helper()
	r := runAnnals(t, args...)
	if r.code != want {
		t.Fatalf("annals %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// dump is a canonical dump of every record in db: its N-Triples export,
// which the exporter writes in a deterministic order.
func dump(t *testing.T, db string) string {
	t.Helper()
	r := mustRun(t, 0, "export", "--db", db, "--format", "ntriples", "--log-level", "warn")
	if !strings.Contains(r.stdout, "alder-bexley-harbour-charter") && !strings.Contains(r.stdout, "soviet-japanese-neutrality-pact") {
		t.Fatalf("export of %s lacks the expected events:\n%.2000s", db, r.stdout)
	}
	return r.stdout
}

// textReport is one document's header line in the text output of annals ingest.
type textReport struct {
	event, source               string
	created, updated, unchanged int
}

var reportLineRE = regexp.MustCompile(`^(?:\(dry run\) )?(.+): (events/\S+) from (sources/\S+) — (\d+) created, (\d+) updated, (\d+) unchanged$`)

// parseTextReports reads the header lines of annals ingest's text output, by file.
func parseTextReports(t *testing.T, stdout string) map[string]textReport {
	t.Helper()
	reps := map[string]textReport{}
	for _, line := range strings.Split(stdout, "\n") {
		m := reportLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		reps[m[1]] = textReport{event: m[2], source: m[3], created: n(4), updated: n(5), unchanged: n(6)}
	}
	return reps
}

// jsonReport is one document's entry in the JSON output of annals ingest.
type jsonReport struct {
	File    string `json:"file"`
	Event   string `json:"event"`
	Source  string `json:"source"`
	Changes []struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"changes"`
	Warnings []string          `json:"warnings"`
	Records  []json.RawMessage `json:"records"`
}

// kinds maps each changed record's name to its kind ("created", …).
func (r jsonReport) kinds() map[string]string {
	m := map[string]string{}
	for _, c := range r.Changes {
		m[c.Name] = c.Kind
	}
	return m
}

// parseJSONReports decodes annals ingest --output json, by file.
func parseJSONReports(t *testing.T, stdout string) map[string]jsonReport {
	t.Helper()
	var list []jsonReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("ingest --output json printed invalid JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("ingest --output json printed more than one JSON value:\n%s", stdout)
	}
	m := map[string]jsonReport{}
	for _, r := range list {
		m[r.File] = r
	}
	return m
}

// records decodes a report's records as protojson (strictly: unknown fields
// fail) into the message type their resource name says.
func (r jsonReport) records(t *testing.T) map[string]proto.Message {
	t.Helper()
	out := map[string]proto.Message{}
	for _, raw := range r.Records {
		var head struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatalf("record is not a JSON object: %v\n%s", err, raw)
		}
		var m proto.Message
		switch col, _, _ := strings.Cut(head.Name, "/"); col {
		case "events":
			m = &annalsv1.Event{}
		case "actors":
			m = &annalsv1.Actor{}
		case "places":
			m = &annalsv1.Place{}
		case "sources":
			m = &annalsv1.Source{}
		default:
			t.Fatalf("record with unexpected name %q:\n%s", head.Name, raw)
		}
		if err := protojson.Unmarshal(raw, m); err != nil {
			t.Fatalf("record %s is not protojson of %T: %v\n%s", head.Name, m, err, raw)
		}
		out[head.Name] = m
	}
	return out
}

// openStore opens db in this process, for checks of what the binary wrote.
func openStore(t *testing.T, db string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatalf("open %s: %v", db, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func skipUnlessLong(t *testing.T) {
	t.Helper()
	if !testing.Short() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI runs the end-to-end tests (the binary, PostgreSQL, Virtuoso, a browser): do not pass -short there")
	}
	t.Skip("builds and runs the binary, and what it talks to; skipped with -short outside CI")
}

// TestIngestTwiceIsUnchanged: the second ingest of the same documents
// reports every record unchanged and leaves the database's records as they were.
func TestIngestTwiceIsUnchanged(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	files := []string{doc("harbour.txt"), doc("bridge.txt")}
	args := append([]string{"ingest", "--db", db, "--log-level", "warn"}, files...)

	first := parseTextReports(t, mustRun(t, 0, args...).stdout)
	for _, f := range files {
		rep, ok := first[f]
		if !ok {
			t.Fatalf("first ingest printed no report for %s", f)
		}
		if rep.created == 0 || rep.updated != 0 || rep.unchanged != 0 {
			t.Errorf("first ingest of %s: %+v, want only created records", f, rep)
		}
	}
	before := dump(t, db)

	second := parseTextReports(t, mustRun(t, 0, args...).stdout)
	for _, f := range files {
		rep := second[f]
		want := textReport{event: first[f].event, source: first[f].source, unchanged: first[f].created}
		if rep != want {
			t.Errorf("second ingest of %s: %+v, want %+v", f, rep, want)
		}
	}
	jsonArgs := append([]string{"ingest", "--db", db, "--log-level", "warn", "--output", "json"}, files...)
	third := parseJSONReports(t, mustRun(t, 0, jsonArgs...).stdout)
	for _, f := range files {
		rep, ok := third[f]
		if !ok || len(rep.Changes) == 0 {
			t.Fatalf("third ingest (json) printed no changes for %s", f)
		}
		for name, kind := range rep.kinds() {
			if kind != "unchanged" {
				t.Errorf("third ingest of %s: %s %s, want unchanged", f, name, kind)
			}
		}
	}
	if after := dump(t, db); after != before {
		t.Errorf("ingesting the same documents again changed the database:\nbefore:\n%.3000s\nafter:\n%.3000s", before, after)
	}
}

// TestIngestBundledSeedIsUnchanged: the bundled seed document, ingested into
// a database holding the bundled dataset, changes nothing, so the archive
// serves exactly what ingesting the seed gives (plus the curated overlay).
func TestIngestBundledSeedIsUnchanged(t *testing.T) {
	skipUnlessLong(t)
	db := filepath.Join(t.TempDir(), "annals.db")
	before := dump(t, db) // creates the database and loads the bundled dataset
	reps := parseJSONReports(t, mustRun(t, 0, "ingest", "--db", db, "--output", "json", "--log-level", "warn", seedPath).stdout)
	rep, ok := reps[seedPath]
	if !ok {
		t.Fatalf("no report for %s: %v", seedPath, reps)
	}
	if rep.Event != "events/soviet-japanese-neutrality-pact" {
		t.Errorf("event = %q, want events/soviet-japanese-neutrality-pact", rep.Event)
	}
	kinds := rep.kinds()
	for _, name := range []string{rep.Event, rep.Source, "places/moscow", "actors/vyacheslav-molotov", "actors/yosuke-matsuoka", "actors/yoshitsugu-tatekawa"} {
		if _, ok := kinds[name]; !ok {
			t.Errorf("the seed's import does not touch %s; changes: %v", name, kinds)
		}
	}
	for name, kind := range kinds {
		if kind != "unchanged" {
			t.Errorf("ingesting the bundled seed: %s %s, want unchanged", name, kind)
		}
	}
	if after := dump(t, db); after != before {
		t.Errorf("ingesting the bundled seed changed the database")
	}
}

// TestIngestChangedDocument: an edited document updates its event, and the
// event keeps the earlier source revision as the new one's previous_revision.
func TestIngestChangedDocument(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")
	orig, err := os.ReadFile(doc("harbour.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "harbour.txt")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	v1 := parseJSONReports(t, mustRun(t, 0, "ingest", "--db", db, "--output", "json", "--log-level", "warn", path).stdout)[path]
	if v1.kinds()[v1.Event] != "created" {
		t.Fatalf("first import: %v, want the event created", v1.kinds())
	}

	const oldPara, newPara = "The harbour grew busy within a few years", "The harbour grew busy within ten years"
	edited := bytes.Replace(orig, []byte(oldPara), []byte(newPara), 1)
	if bytes.Equal(edited, orig) {
		t.Fatal("the paragraph to edit is not in harbour.txt")
	}
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := parseJSONReports(t, mustRun(t, 0, "ingest", "--db", db, "--output", "json", "--log-level", "warn", path).stdout)[path]
	if v2.Event != v1.Event || v2.Source == v1.Source {
		t.Fatalf("edited document: event %s source %s; first import: event %s source %s", v2.Event, v2.Source, v1.Event, v1.Source)
	}
	kinds := v2.kinds()
	if kinds[v2.Event] != "updated" || kinds[v2.Source] != "created" {
		t.Errorf("edited document: %v, want the event updated and a new source created", kinds)
	}
	if _, ok := kinds[v1.Source]; ok {
		t.Errorf("edited document rewrote the earlier source %s", v1.Source)
	}
	recs := v2.records(t)
	// The actors and places it names now list the new revision among their sources.
	for name, m := range recs {
		var sources []string
		switch r := m.(type) {
		case *annalsv1.Actor:
			sources = r.GetSources()
		case *annalsv1.Place:
			sources = r.GetSources()
		default:
			continue
		}
		if !slices.Contains(sources, v2.Source) {
			t.Errorf("%s: sources %v lack the new revision %s", name, sources, v2.Source)
		}
	}
	if src, _ := recs[v2.Source].(*annalsv1.Source); src.GetPreviousRevision() != v1.Source {
		t.Errorf("printed source %s: previous_revision = %q, want %q", v2.Source, src.GetPreviousRevision(), v1.Source)
	}

	// What is stored, read back from the file the binary wrote.
	st := openStore(t, db)
	ctx := t.Context()
	ev, err := st.GetEvent(ctx, v2.Event)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{v2.Source, v1.Source}; !slices.Equal(ev.GetSources(), want) {
		t.Errorf("event sources = %v, want %v (newest first)", ev.GetSources(), want)
	}
	if !strings.Contains(protojson.Format(ev), newPara) {
		t.Errorf("stored event lacks the edited paragraph")
	}
	src, err := st.GetSource(ctx, v2.Source)
	if err != nil {
		t.Fatal(err)
	}
	if src.GetPreviousRevision() != v1.Source || src.GetEvent() != v2.Event {
		t.Errorf("stored source %s: previous_revision %q event %q, want %q and %q", v2.Source, src.GetPreviousRevision(), src.GetEvent(), v1.Source, v2.Event)
	}
	old, err := st.GetSource(ctx, v1.Source)
	if err != nil {
		t.Fatalf("the earlier revision is gone: %v", err)
	}
	if old.GetText() != string(orig) {
		t.Errorf("the earlier revision's text changed")
	}
}

// TestIngestRefusals: bad documents are refused with a message naming the
// file and the line; the good ones in the same run still import; the exit
// status is 1.
func TestIngestRefusals(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")

	good, err := os.ReadFile(doc("harbour.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// A document just over the limit: a good one padded with paragraphs.
	big := filepath.Join(dir, "big.txt")
	pad := bytes.Repeat([]byte("\nA paragraph that pads the document beyond the limit.\n"), ingest.MaxDocumentBytes/50)
	if err := os.WriteFile(big, append(append([]byte{}, good...), pad...)[:ingest.MaxDocumentBytes+1], 0o644); err != nil {
		t.Fatal(err)
	}
	// A 10 MiB file (sparse: zero bytes) is refused without being read whole.
	huge := filepath.Join(dir, "huge.txt")
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else if err := errors.Join(f.Truncate(10<<20), f.Close()); err != nil {
		t.Fatal(err)
	}
	// A document of exactly the limit is accepted.
	limit := filepath.Join(dir, "limit.txt")
	atLimit := bytes.Replace(good, []byte("Alder–Bexley Harbour Charter"), []byte("A Very Long Harbour Charter"), 1)
	atLimit = append(atLimit, pad...)[:ingest.MaxDocumentBytes-1]
	atLimit = append(bytes.TrimRight(atLimit, "\n"), bytes.Repeat([]byte("."), ingest.MaxDocumentBytes-len(bytes.TrimRight(atLimit, "\n")))...)
	if len(atLimit) != ingest.MaxDocumentBytes {
		t.Fatalf("limit.txt has %d bytes", len(atLimit))
	}
	if err := os.WriteFile(limit, atLimit, 0o644); err != nil {
		t.Fatal(err)
	}

	refusals := []struct {
		path string
		want string // what the stderr line must start with
	}{
		{doc("empty.txt"), doc("empty.txt") + ":1: expected a date line"},
		{doc("not_utf8.txt"), doc("not_utf8.txt") + ":9: expected UTF-8 text, found an invalid byte 0xff"},
		{doc("bad_date.txt"), doc("bad_date.txt") + `:1: impossible date "February 30, 1941"`},
		{doc("no_place.txt"), doc("no_place.txt") + `:5: expected the place line`},
		// The size limit concerns the document as a whole, so no line is named.
		{big, big + ": document is larger than 1048576 bytes"},
		{huge, huge + ": document is larger than 1048576 bytes"},
		{filepath.Join(dir, "missing.txt"), filepath.Join(dir, "missing.txt") + ": open "},
	}
	goodFiles := []string{doc("harbour.txt"), doc("bridge.txt"), limit}
	args := []string{"ingest", "--db", db, "--log-level", "warn", goodFiles[0]}
	for _, r := range refusals {
		args = append(args, r.path)
	}
	args = append(args, goodFiles[1:]...)
	r := mustRun(t, 1, args...)

	refusedLines := map[string]string{}
	for _, line := range strings.Split(r.stderr, "\n") {
		if rest, ok := strings.CutPrefix(line, "refused: "); ok {
			for _, ref := range refusals {
				if strings.HasPrefix(rest, ref.path+":") {
					refusedLines[ref.path] = rest
				}
			}
		}
	}
	for _, ref := range refusals {
		t.Run(filepath.Base(ref.path), func(t *testing.T) {
			got, ok := refusedLines[ref.path]
			if !ok {
				t.Fatalf("no refusal of %s on stderr:\n%s", ref.path, r.stderr)
			}
			if !strings.HasPrefix(got, ref.want) {
				t.Errorf("refusal = %q, want it to start with %q", got, ref.want)
			}
			if strings.Contains(r.stdout, ref.path+":") {
				t.Errorf("stdout reports the refused %s as imported:\n%s", ref.path, r.stdout)
			}
		})
	}
	if want := "7 of 10 documents refused"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}

	reps := parseTextReports(t, r.stdout)
	st := openStore(t, db)
	for _, f := range goodFiles {
		rep, ok := reps[f]
		if !ok {
			t.Errorf("the good document %s was not imported:\n%s", f, r.stdout)
			continue
		}
		if _, err := st.GetEvent(t.Context(), rep.event); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, name := range []string{"events/the-impossible-meeting", "events/the-market-fair-of-bexley"} {
		if _, err := st.GetEvent(t.Context(), name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused document's %s: err = %v, want not found", name, err)
		}
	}
}

// TestIngestDryRunJSON: a dry run prints the records as protojson and
// creates no database.
func TestIngestDryRunJSON(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	files := []string{doc("harbour.txt"), doc("bridge.txt"), doc("embassy.txt")}
	r := mustRun(t, 0, append([]string{"ingest", "--dry-run", "--output", "json", "--db", db, "--log-level", "warn"}, files...)...)
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("a dry run wrote to the database's directory: %v %v", entries, err)
	}
	reps := parseJSONReports(t, r.stdout)
	if len(reps) != len(files) {
		t.Fatalf("%d reports for %d files:\n%s", len(reps), len(files), r.stdout)
	}

	t.Run("harbour", func(t *testing.T) {
		rep := reps[doc("harbour.txt")]
		recs := rep.records(t)
		ev, _ := recs["events/alder-bexley-harbour-charter"].(*annalsv1.Event)
		if ev == nil {
			t.Fatalf("no event record in %v", rep.Records)
		}
		d := ev.GetDate()
		if d.GetYear() != 1802 || d.GetMonth() != 6 || d.GetDay() != 2 || d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_DAY {
			t.Errorf("date = %v, want 2 June 1802 to the day", d)
		}
		if ev.GetIllustration().GetYear() != 1802 || ev.GetIllustration().GetStyle() != "ink drawing" {
			t.Errorf("illustration = %v", ev.GetIllustration())
		}
		roles := map[string]annalsv1.ParticipantRole{}
		for _, p := range ev.GetParticipants() {
			roles[p.GetActor()] = p.GetRole()
		}
		wantRoles := map[string]annalsv1.ParticipantRole{
			"actors/town-council-of-alder":  annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY,
			"actors/town-council-of-bexley": annalsv1.ParticipantRole_PARTICIPANT_ROLE_PARTY,
			"actors/mara-quill":             annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY,
			"actors/tobin-reeve":            annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY,
		}
		for a, want := range wantRoles {
			if roles[a] != want {
				t.Errorf("participant %s: role %v, want %v", a, roles[a], want)
			}
		}
		var headings []string
		for _, s := range ev.GetArticle() {
			headings = append(headings, s.GetHeading())
		}
		if want := []string{"Background", "The Charter", "Key Figures", "Aftermath"}; !containsInOrder(headings, want) {
			t.Errorf("section headings = %q, want %q among them", headings, want)
		}
		if a, _ := recs["actors/mara-quill"].(*annalsv1.Actor); !a.GetUnreconciled() || a.GetWikidataId() != "" {
			t.Errorf("a name known nowhere should give an unreconciled actor without a Wikidata id: %v", a)
		}
		if rep.kinds()[rep.Event] != "created" {
			t.Errorf("changes = %v, want the event created", rep.kinds())
		}
	})
	t.Run("bridge: BCE date, CRLF, BOM, no Key Figures", func(t *testing.T) {
		recs := reps[doc("bridge.txt")].records(t)
		ev, _ := recs["events/the-stone-bridge-of-orrin"].(*annalsv1.Event)
		if ev == nil {
			t.Fatalf("no event record")
		}
		d := ev.GetDate()
		if d.GetYear() != -44 || d.GetMonth() != 3 || d.GetDay() != 15 || d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_DAY {
			t.Errorf("date = %v, want 15 March 44 BCE (year -44) to the day", d)
		}
		if got := ev.GetLabels()[0].GetValue(); got != "The Stone Bridge of Orrin" {
			t.Errorf("title = %q (BOM or CR left in?)", got)
		}
		src, _ := recs[reps[doc("bridge.txt")].Source].(*annalsv1.Source)
		if strings.Contains(ev.GetSummary(), "\r") || src == nil {
			t.Errorf("summary %q keeps a CR, or no source record", ev.GetSummary())
		}
		if pl, _ := recs["places/orrin-ford"].(*annalsv1.Place); pl.GetCountry() != "actors/valdria" {
			t.Errorf("place = %v, want country actors/valdria", pl)
		}
	})
	t.Run("embassy: names resolve to curated records", func(t *testing.T) {
		rep := reps[doc("embassy.txt")]
		recs := rep.records(t)
		ev, _ := recs[rep.Event].(*annalsv1.Event)
		if !slices.Contains(ev.GetPlaces(), "places/moscow") {
			t.Errorf("event places = %v, want places/moscow", ev.GetPlaces())
		}
		if pl, _ := recs["places/moscow"].(*annalsv1.Place); pl.GetWikidataId() != "Q649" || pl.GetUnreconciled() {
			t.Errorf("places/moscow = %v, want the curated record (Q649)", pl)
		}
		var japan *annalsv1.Actor
		for _, p := range ev.GetParticipants() {
			if a, _ := recs[p.GetActor()].(*annalsv1.Actor); a != nil && strings.Contains(a.GetName(), "japan") {
				japan = a
			}
		}
		if japan == nil || japan.GetWikidataId() == "" || japan.GetUnreconciled() {
			t.Errorf("Government of Japan resolved to %v, want the curated record with its Wikidata id", japan)
		}
		if pl, _ := recs["places/moscow"].(*annalsv1.Place); !slices.Contains(pl.GetSources(), rep.Source) {
			t.Errorf("places/moscow sources = %v, want the new document %s among them", pl.GetSources(), rep.Source)
		}
	})
}

// containsInOrder reports whether want occurs in got in order, possibly with gaps.
func containsInOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestIngestDryRunSeesTheDatabase checks that a dry run against an existing
// database compares with what is in it, and writes nothing.
func TestIngestDryRunSeesTheDatabase(t *testing.T) {
	skipUnlessLong(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "annals.db")
	doc := filepath.Join("testdata", "ingest", "harbour.txt")
	if out, err := exec.Command(bin, "ingest", "--db", db, doc).CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	before, err := exec.Command(bin, "export", "--db", db, "--format", "ntriples").Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "ingest", "--db", db, "--dry-run", doc).CombinedOutput()
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 created, 0 updated") {
		t.Errorf("dry run of an imported document reports changes:\n%s", out)
	}
	after, err := exec.Command(bin, "export", "--db", db, "--format", "ntriples").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the dry run changed the database")
	}
}

// TestIngestDryRunQuiet: a dry run prints its report and no store chatter
// (the scratch database being created and filled) on stderr, unless
// --log-level or ANNALS_LOG_LEVEL asks for it.
func TestIngestDryRunQuiet(t *testing.T) {
	skipUnlessLong(t)
	doc := filepath.Join("testdata", "ingest", "harbour.txt")
	for _, tc := range []struct {
		name    string
		args    []string
		env     []string
		chatter bool
	}{
		{name: "no database", args: []string{"ingest", "--dry-run", doc}},
		{name: "no database, json", args: []string{"ingest", "--dry-run", "--output", "json", doc}},
		{name: "asked with the flag", args: []string{"ingest", "--dry-run", "--log-level", "info", doc}, chatter: true},
		{name: "asked through the environment", args: []string{"ingest", "--dry-run", doc}, env: []string{"ANNALS_LOG_LEVEL=info"}, chatter: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, err := buildBinary()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			cmd := exec.Command(bin, append(tc.args, "--db", filepath.Join(dir, "none.db"))...)
			cmd.Env = append(os.Environ(), tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), "alder-bexley-harbour-charter") {
				t.Errorf("no report on stdout:\n%s", stdout.String())
			}
			if got := strings.Contains(stderr.String(), "bundled dataset loaded"); got != tc.chatter {
				t.Errorf("store chatter on stderr = %v, want %v:\n%s", got, tc.chatter, stderr.String())
			}
			if strings.Contains(stderr.String(), "schema") {
				t.Errorf("a new scratch database logged a schema upgrade:\n%s", stderr.String())
			}
		})
	}
}
