package exporter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/knakk/rdf"

	"github.com/annals-project/annals/store"
)

// The independent RDF checkers: rapper (Debian raptor2-utils), Apache Jena's
// riot (Debian libapache-jena-java, run through ../scripts/riot) and
// Oxigraph + N3.js (npm, through ../scripts/rdfcheck.mjs). scripts/install-tools
// installs them. A test that needs a missing tool is skipped on a developer's
// machine and fails in CI (CI set).

func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must have it (scripts/install-tools)", what)
	}
	t.Skipf("%s is not installed (scripts/install-tools); skipped outside CI", what)
}

func needRapper(t *testing.T) {
	_, err := exec.LookPath("rapper")
	requireTool(t, err == nil, "rapper (raptor2-utils)")
}

func needRiot(t *testing.T) {
	_, errJava := exec.LookPath("java")
	_, errJena := os.Stat("/usr/share/java/jena-core.jar")
	requireTool(t, errJava == nil && errJena == nil, "Apache Jena (libapache-jena-java) and java")
}

func needNode(t *testing.T) {
	_, errNode := exec.LookPath("node")
	_, errOx := os.Stat("../node_modules/oxigraph/package.json")
	_, errN3 := os.Stat("../node_modules/n3/package.json")
	requireTool(t, errNode == nil && errOx == nil && errN3 == nil, "node with oxigraph and n3 (npm ci)")
}

func rapperSyntax(f Format) string {
	if f == Turtle {
		return "turtle"
	}
	return "ntriples"
}

var rapperCount = regexp.MustCompile(`^rapper: Parsing returned (\d+) triples?$`)

// rapper parses file strictly and returns the number of triples, failing on
// any error or warning.
func rapper(t *testing.T, file string, f Format) int64 {
	t.Helper()
	cmd := exec.Command("rapper", "-i", rapperSyntax(f), "-c", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rapper -i %s -c %s: %v\n%s", rapperSyntax(f), file, err, stderr.String())
	}
	var n int64 = -1
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		switch {
		case strings.HasPrefix(l, "rapper: Parsing URI "):
		case rapperCount.MatchString(l):
			n, _ = strconv.ParseInt(rapperCount.FindStringSubmatch(l)[1], 10, 64)
		default:
			t.Errorf("rapper %s: %s", file, l)
		}
	}
	if n < 0 {
		t.Fatalf("rapper printed no count:\n%s", stderr.String())
	}
	return n
}

// rapperNTriples returns rapper's own N-Triples rendering of file.
func rapperNTriples(t *testing.T, file string, f Format) []byte {
	t.Helper()
	cmd := exec.Command("rapper", "-q", "-i", rapperSyntax(f), "-o", "ntriples", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("rapper -o ntriples %s: %v\n%s", file, err, stderr.String())
	}
	return out
}

var riotCount = regexp.MustCompile(` : Triples = ([\d,]+)$`)

// riot parses file with Jena and returns the number of triples, failing on
// any error or warning (Jena also checks lexical forms against datatypes).
func riot(t *testing.T, file string) int64 {
	t.Helper()
	args := []string{"--count", file}
	if strings.HasSuffix(file, ".jsonld") {
		// Jena 4.5's JSON-LD 1.1 reader (Titanium) needs a jakarta.json
		// implementation Debian does not install with it; its JSON-LD 1.0
		// reader (jsonld-java) reads Annals' documents, which use nothing
		// of 1.1.
		args = append([]string{"--syntax=jsonld10"}, args...)
	}
	cmd := exec.Command("../scripts/riot", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var n int64 = -1
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()+"\n"+stdout.String()), "\n") {
		switch {
		case l == "":
		case riotCount.MatchString(l):
			n, _ = strconv.ParseInt(strings.ReplaceAll(riotCount.FindStringSubmatch(l)[1], ",", ""), 10, 64)
		default:
			t.Errorf("riot %s: %s", file, l)
		}
	}
	if err != nil || n < 0 {
		t.Fatalf("riot --count %s: %v\n%s%s", file, err, stdout.String(), stderr.String())
	}
	return n
}

// rdfcheckResult is what scripts/rdfcheck.mjs prints.
type rdfcheckResult struct {
	Oxigraph int64 `json:"oxigraph"`
	N3       int64 `json:"n3"`
	Queries  []struct {
		Query   string      `json:"query"`
		Boolean *bool       `json:"boolean"`
		Vars    []string    `json:"vars"`
		Rows    [][]*string `json:"rows"`
	} `json:"queries"`
}

func rdfcheck(t *testing.T, file string, queries ...string) rdfcheckResult {
	t.Helper()
	cmd := exec.Command("node", append([]string{"../scripts/rdfcheck.mjs", file}, queries...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("rdfcheck %s: %v\n%s", file, err, stderr.String())
	}
	var r rdfcheckResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("rdfcheck output %q: %v", out, err)
	}
	return r
}

// writeDumps exports the fixture archive in every format into a temporary
// directory and returns the file names and the triple count.
func writeDumps(t *testing.T) (map[Format]string, int64) {
	t.Helper()
	return writeDumpsOf(t, fixtureStore())
}

// contextFile is the name, beside a JSON-LD dump, of the @context it refers
// to; inlineFile the name of the same dump with the context inline, for
// the parsers that fetch nothing (Jena, Oxigraph).
const (
	contextFile = "context.jsonld"
	inlineFile  = "dataset-inline.jsonld"
)

// writeDumpsOf is writeDumps for the archive in r; beside the JSON-LD dump
// it writes the context (contextFile) and the dump with the context inline
// (inlineFile).
func writeDumpsOf(t *testing.T, r store.Reader) (map[Format]string, int64) {
	t.Helper()
	dir := t.TempDir()
	x := newExporter(t)
	files := map[Format]string{}
	var count int64 = -1
	for _, f := range Formats {
		data, n := exportDataset(t, x, r, f)
		if count >= 0 && n != count {
			t.Fatalf("%v has %d triples, the other format %d", f, n, count)
		}
		count = n
		files[f] = filepath.Join(dir, "dataset"+f.Extension())
		if err := os.WriteFile(files[f], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeContext(t, x, dir)
	return files, count
}

// writeContext writes x's context into dir (contextFile) and, for every
// .jsonld file there, a copy with the context inline (inlineFile for the
// dump, {name}-inline.jsonld for others).
func writeContext(t *testing.T, x *Exporter, dir string) {
	t.Helper()
	var ctx bytes.Buffer
	if err := x.Context(&ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, contextFile), ctx.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(ctx.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	ref, _ := json.Marshal(x.ContextIRI())
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonld"))
	for _, f := range files {
		if strings.HasSuffix(f, "-inline.jsonld") || filepath.Base(f) == contextFile {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inline := bytes.Replace(data, []byte(`"@context": `+string(ref)), []byte(`"@context": `+string(c.Context)), 1)
		if bytes.Equal(inline, data) {
			t.Fatalf("%s does not refer to the context %s", f, x.ContextIRI())
		}
		if err := os.WriteFile(strings.TrimSuffix(f, ".jsonld")+"-inline.jsonld", inline, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonldTriples reads a JSON-LD file with jsonld.js (scripts/jsonldcheck.mjs),
// its context from contextFile beside it, and returns the triples.
func jsonldTriples(t *testing.T, x *Exporter, file string) []rdf.Triple {
	t.Helper()
	ctx := filepath.Join(filepath.Dir(file), contextFile)
	cmd := exec.Command("node", "../scripts/jsonldcheck.mjs", "--context", x.ContextIRI()+"="+ctx, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("jsonld.js %s: %v\n%s", file, err, stderr.String())
	}
	return decode(t, out, NTriples) // N-Quads of the default graph are N-Triples
}

func needJSONLD(t *testing.T) {
	needNode(t)
	_, err := os.Stat("../node_modules/jsonld/package.json")
	requireTool(t, err == nil, "jsonld.js (npm ci)")
}

// TestIndependentParsers: rapper, Jena, Oxigraph, N3.js and jsonld.js read
// the dumps without a warning, and all count the triples Dataset wrote and
// void:triples states.
func TestIndependentParsers(t *testing.T) {
	t.Run("fixture", func(t *testing.T) {
		files, n := writeDumps(t)
		checkParsers(t, files, n)
	})
	t.Run("synth", func(t *testing.T) {
		files, n := writeDumpsOf(t, synthArchive(t, 200))
		checkParsers(t, files, n)
	})
}

// checkParsers runs the independent parsers over dumps of n triples: rapper
// (Turtle, N-Triples), Jena riot (all three), Oxigraph (all three), N3.js
// (Turtle, N-Triples) and jsonld.js (JSON-LD, which must hold exactly the
// triples of the Turtle dump).
func checkParsers(t *testing.T, files map[Format]string, n int64) {
	x := newExporter(t)
	for _, f := range Formats {
		file := files[f]
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if f == JSONLD {
			file = filepath.Join(filepath.Dir(file), inlineFile)
		} else if v := voidTriplesValue(t, decode(t, data, f)); v != n {
			t.Errorf("%v: void:triples %d, Dataset returned %d", f, v, n)
		}
		if f != JSONLD {
			t.Run(f.String()+"/rapper", func(t *testing.T) {
				needRapper(t)
				if got := rapper(t, file, f); got != n {
					t.Errorf("rapper counts %d triples, want %d", got, n)
				}
			})
		}
		t.Run(f.String()+"/jena", func(t *testing.T) {
			needRiot(t)
			if got := riot(t, file); got != n {
				t.Errorf("riot counts %d triples, want %d", got, n)
			}
		})
		t.Run(f.String()+"/oxigraph+n3", func(t *testing.T) {
			needNode(t)
			r := rdfcheck(t, file, "SELECT ?n WHERE { ?d a <http://rdfs.org/ns/void#Dataset> ; <http://rdfs.org/ns/void#triples> ?n }")
			if r.Oxigraph != n || (f != JSONLD && r.N3 != n) {
				t.Errorf("oxigraph counts %d, n3 %d triples, want %d", r.Oxigraph, r.N3, n)
			}
			want := `"` + strconv.FormatInt(n, 10) + `"^^<http://www.w3.org/2001/XMLSchema#integer>`
			if rows := r.Queries[0].Rows; len(rows) != 1 || rows[0][0] == nil || *rows[0][0] != want {
				t.Errorf("SPARQL void:triples = %v, want %s", rows, want)
			}
		})
		if f == JSONLD {
			t.Run("jsonld/jsonld.js", func(t *testing.T) {
				needJSONLD(t)
				ts := jsonldTriples(t, x, files[JSONLD])
				if int64(len(ts)) != n {
					t.Errorf("jsonld.js reads %d triples, want %d", len(ts), n)
				}
				if v := voidTriplesValue(t, ts); v != n {
					t.Errorf("jsonld.js: void:triples %d, want %d", v, n)
				}
				ttl, err := os.ReadFile(files[Turtle])
				if err != nil {
					t.Fatal(err)
				}
				if canonical(t, ts, nil) != canonical(t, decode(t, ttl, Turtle), nil) {
					t.Error("jsonld.js reads other triples from the JSON-LD dump than the Turtle dump holds")
				}
			})
		}
	}
}

// TestSPARQL runs every query in testdata/queries over both dumps loaded in
// Oxigraph and compares the answers with the "# expect:" lines of the query:
// "# expect: true" (or false) for ASK, else one line a row, its terms as in
// N-Triples, separated by tabs, in the query's order.
func TestSPARQL(t *testing.T) {
	needNode(t)
	queries, err := filepath.Glob(filepath.Join("testdata", "queries", "*.rq"))
	if err != nil || len(queries) == 0 {
		t.Fatalf("no queries in testdata/queries: %v", err)
	}
	files, _ := writeDumps(t)
	checkQueries(t, files, queries)
}

// checkQueries runs queries over both dumps in files and compares their
// answers with the queries' "# expect:" lines.
func checkQueries(t *testing.T, files map[Format]string, queries []string) {
	for _, f := range []Format{Turtle, NTriples} {
		r := rdfcheck(t, files[f], queries...)
		for i, q := range queries {
			name := f.String() + "/" + strings.TrimSuffix(filepath.Base(q), ".rq")
			t.Run(name, func(t *testing.T) {
				want := expectations(t, q)
				res := r.Queries[i]
				var got []string
				if res.Boolean != nil {
					got = []string{strconv.FormatBool(*res.Boolean)}
				}
				for _, row := range res.Rows {
					var cells []string
					for _, c := range row {
						if c == nil {
							cells = append(cells, "UNDEF")
						} else {
							cells = append(cells, *c)
						}
					}
					got = append(got, strings.Join(cells, "\t"))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s answers\n%s\nwant\n%s", q, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

func expectations(t *testing.T, file string) []string {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var want []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# expect: "); ok {
			want = append(want, rest)
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no # expect: line", file)
	}
	return want
}

// TestResourceDocumentsParse: every event's own document parses in rapper.
func TestResourceDocumentsParse(t *testing.T) {
	needRapper(t)
	x := newExporter(t)
	r := fixtureStore()
	dir := t.TempDir()
	for _, e := range fixtureBatch().Events {
		for _, f := range []Format{Turtle, NTriples} {
			var buf bytes.Buffer
			if err := x.Resource(context.Background(), r, e.Name, &buf, f); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "r"+f.Extension())
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, want := rapper(t, file, f), int64(len(decode(t, buf.Bytes(), f))); got != want {
				t.Errorf("%s %v: rapper counts %d, knakk/rdf %d", e.Name, f, got, want)
			}
		}
	}
}

// TestUnusualBases: bases with a path, parentheses, a tilde, percent
// escapes, a port or an IPv6 host give dumps rapper reads in full.
func TestUnusualBases(t *testing.T) {
	needRapper(t)
	for _, base := range []string{
		"https://example.org/data/annals",
		"http://example.org/~user/a(b)c%20d",
		"http://[::1]:8080",
		"https://example.org/2026",
	} {
		x, err := New(base)
		if err != nil {
			t.Fatalf("New(%q): %v", base, err)
		}
		for _, f := range []Format{Turtle, NTriples} {
			data, n := exportDataset(t, x, fixtureStore(), f)
			file := filepath.Join(t.TempDir(), "dataset"+f.Extension())
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if got := rapper(t, file, f); got != n {
				t.Errorf("%s %v: rapper counts %d, want %d", base, f, got, n)
			}
		}
	}
}

// TestJSONLDDocumentsMatchTurtle: jsonld.js, expanding each JSON-LD document
// with the served context and converting it to RDF, gets exactly the
// triples of the Turtle document: every record's document, the served
// dataset description and the vocabulary, under the default base and another.
func TestJSONLDDocumentsMatchTurtle(t *testing.T) {
	needJSONLD(t)
	ctx := context.Background()
	for _, base := range []string{DefaultBase, "https://annals.example.org/data"} {
		x, err := New(base, WithSPARQLEndpoint("https://sparql.example.org/annals"))
		if err != nil {
			t.Fatal(err)
		}
		r := fixtureStore()
		dir := t.TempDir()
		turtle := map[string][]byte{}
		write := func(name string, fn func(w io.Writer, f Format) error) {
			for _, f := range []Format{Turtle, JSONLD} {
				var buf bytes.Buffer
				if err := fn(&buf, f); err != nil {
					t.Fatalf("%s %v: %v", name, f, err)
				}
				file := filepath.Join(dir, name+f.Extension())
				if f == Turtle {
					turtle[file] = buf.Bytes()
				} else if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, name := range allNames() {
			write("record-"+strconv.Itoa(i), func(w io.Writer, f Format) error { return x.Resource(ctx, r, name, w, f) })
		}
		s, err := x.Survey(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		write("description", func(w io.Writer, f Format) error { return x.WriteDescription(w, f, s) })
		write("vocab", func(w io.Writer, f Format) error { return x.Vocabulary(w, f) })
		var cbuf bytes.Buffer
		if err := x.Context(&cbuf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, contextFile), cbuf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var files []string
		for f := range turtle {
			files = append(files, strings.TrimSuffix(f, ".ttl")+".jsonld")
		}
		slices.Sort(files)
		cmd := exec.Command("node", append([]string{"../scripts/jsonldcheck.mjs", "--context", x.ContextIRI() + "=" + filepath.Join(dir, contextFile), "--json"}, files...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("jsonld.js: %v\n%s", err, stderr.String())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 64<<20)
		n := 0
		for sc.Scan() {
			var res struct{ File, Nquads string }
			if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			n++
			got := decode(t, []byte(res.Nquads), NTriples)
			want := decode(t, turtle[strings.TrimSuffix(res.File, ".jsonld")+".ttl"], Turtle)
			if len(want) == 0 || canonical(t, got, nil) != canonical(t, want, nil) {
				t.Errorf("%s %s: jsonld.js reads %d triples, the Turtle has %d, or they differ", base, filepath.Base(res.File), len(got), len(want))
			}
		}
		if n != len(files) {
			t.Errorf("jsonld.js answered for %d files of %d", n, len(files))
		}
	}
}
