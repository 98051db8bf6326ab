package exporter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/knakk/rdf"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

// The SHACL shapes (shapes.ttl) are checked by rdf-validate-shacl, through
// ../scripts/shacl.mjs: every dump conforms, and every named shape rejects
// the hand-made counter-examples under testdata/shacl that name it.

// shaclResult is one line of scripts/shacl.mjs's output.
type shaclResult struct {
	File     string `json:"file"`
	Triples  int    `json:"triples"`
	Conforms bool   `json:"conforms"`
	Results  []struct {
		FocusNode   string  `json:"focusNode"`
		Path        *string `json:"path"`
		SourceShape string  `json:"sourceShape"`
		Component   string  `json:"component"`
		Value       *string `json:"value"`
		Message     string  `json:"message"`
	} `json:"results"`
}

func needSHACL(t *testing.T) {
	needNode(t)
	_, err := os.Stat("../node_modules/rdf-validate-shacl/package.json")
	requireTool(t, err == nil, "rdf-validate-shacl (npm ci)")
}

// shacl validates files against shapes.ttl.
func shacl(t *testing.T, files ...string) []shaclResult {
	t.Helper()
	cmd := exec.Command("node", append([]string{"../scripts/shacl.mjs", "shapes.ttl"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("shacl: %v\n%s", err, stderr.String())
	}
	var rs []shaclResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r shaclResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("shacl output %q: %v", sc.Text(), err)
		}
		rs = append(rs, r)
	}
	if len(rs) != len(files) {
		t.Fatalf("shacl reported on %d files of %d", len(rs), len(files))
	}
	return rs
}

// shapeName is the local name of a shape IRI in the shapes namespace.
func shapeName(iri string) string {
	iri = strings.Trim(iri, "<>")
	_, name, _ := strings.Cut(iri, "/shapes#")
	return name
}

// checkConforms validates the N-Triples dump of r.
func checkConforms(t *testing.T, r store.Reader) {
	t.Helper()
	x := newExporter(t)
	data, n := exportDataset(t, x, r, NTriples)
	file := filepath.Join(t.TempDir(), "dataset.nt")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res := shacl(t, file)[0]
	if int64(res.Triples) != n {
		t.Errorf("the validator read %d triples of %d", res.Triples, n)
	}
	if !res.Conforms {
		for i, v := range res.Results {
			if i == 20 {
				t.Errorf("… and %d more", len(res.Results)-i)
				break
			}
			path := ""
			if v.Path != nil {
				path = *v.Path
			}
			t.Errorf("%s %s: %s (%s)", v.FocusNode, path, shapeName(v.SourceShape), v.Message)
		}
	}
}

// TestSHACLBundled: the dump of the archive Annals ships conforms.
func TestSHACLBundled(t *testing.T) {
	needSHACL(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "annals.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	checkConforms(t, st)
}

// TestSHACLGenerated: the dumps of a generated archive (package synth, the
// generator behind `annals gen`: every precision, both calendars, BCE) and
// of the fixture archive (tricky text, spans, points, open ends) conform.
func TestSHACLGenerated(t *testing.T) {
	needSHACL(t)
	t.Run("synth", func(t *testing.T) { checkConforms(t, synthArchive(t, 300)) })
	t.Run("fixture", func(t *testing.T) { checkConforms(t, fixtureStore()) })
}

// TestSHACLCounterExamples: each counter-example breaks the shapes it names
// ("# violates:" line), and every named shape of shapes.ttl is broken by
// at least one: no shape is vacuous.
func TestSHACLCounterExamples(t *testing.T) {
	needSHACL(t)
	files, err := filepath.Glob(filepath.Join("testdata", "shacl", "*.ttl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no counter-examples: %v", err)
	}
	// The named shapes, and the node shape each property shape belongs to.
	src, err := os.ReadFile("shapes.ttl")
	if err != nil {
		t.Fatal(err)
	}
	const sh = "http://www.w3.org/ns/shacl#"
	named := map[string]bool{}
	owner := map[string]string{}
	for _, tr := range decode(t, src, Turtle) {
		s := shapeName(tr.Subj.String())
		if s == "" {
			continue
		}
		switch tr.Pred.String() {
		case sh + "path", rdfType.String():
			named[s] = true
		case sh + "property":
			if o := shapeName(tr.Obj.(rdf.IRI).String()); o != "" {
				owner[o] = s
			}
		}
	}
	hit := map[string]bool{}
	for i, res := range shacl(t, files...) {
		want := violates(t, files[i])
		if res.Conforms {
			t.Errorf("%s conforms", files[i])
		}
		got := map[string]bool{}
		for _, v := range res.Results {
			s := shapeName(v.SourceShape)
			got[s] = true
			hit[s], hit[owner[s]] = true, true
		}
		for _, w := range want {
			if !named[w] {
				t.Errorf("%s names %s, which shapes.ttl does not define", files[i], w)
			}
			if !got[w] {
				t.Errorf("%s does not break %s", files[i], w)
			}
		}
	}
	var missed []string
	for s := range named {
		if !hit[s] {
			missed = append(missed, s)
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Errorf("shapes no counter-example breaks: %v", missed)
	}
	if len(named) < 30 {
		t.Errorf("only %d named shapes found in shapes.ttl", len(named))
	}
}

// violates reads the "# violates:" line of a counter-example.
func violates(t *testing.T, file string) []string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(l, "# violates: "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("%s has no # violates: line", file)
	return nil
}

// TestShapesServed: the shapes as served for another base check that
// base's annals: terms.
func TestShapesServed(t *testing.T) {
	x, err := New("https://annals.example.org")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Shapes(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.Contains(s, "http://localhost:8080/vocab#") || !strings.Contains(s, "<https://annals.example.org/vocab#>") {
		t.Errorf("served shapes keep the default base:\n%s", s[:400])
	}
	decode(t, buf.Bytes(), Turtle)
}
