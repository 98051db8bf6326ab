package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// buildGrpcurl builds the grpcurl pinned in tools/go.mod.
var buildGrpcurl = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "annals-grpcurl-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "grpcurl")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/fullstorydev/grpcurl/cmd/grpcurl")
	cmd.Dir = filepath.Join("..", "..", "tools")
	cmd.Stderr = os.Stderr
	return bin, cmd.Run()
})

// readmeCommand is one grpcurl command from README.md and, when the line
// after it says "# ERROR: Code: X", the code it must fail with.
type readmeCommand struct {
	line     string
	wantCode string
}

func readmeGrpcurlCommands(t *testing.T) []readmeCommand {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCommand
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock
		case inBlock && strings.HasPrefix(line, "grpcurl "):
			cmds = append(cmds, readmeCommand{line: line})
		case inBlock && strings.HasPrefix(line, "# ERROR: Code: ") && len(cmds) > 0:
			code, _, _ := strings.Cut(strings.TrimPrefix(line, "# ERROR: Code: "), " ")
			cmds[len(cmds)-1].wantCode = code
		}
	}
	return cmds
}

// shellWords splits a README command line the way sh would for the simple
// quoting the README uses: single-quoted JSON (no escapes) and double-quoted
// text in which $NAME is replaced by env(NAME), as it is unquoted; an unset
// variable is an error.
func shellWords(line string, env func(string) (string, bool)) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote rune // the open quote, or 0
	started := false
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == 0 && (r == '\'' || r == '"'), quote == r:
			if quote == 0 {
				quote = r
			} else {
				quote = 0
			}
			started = true
		case r == '$' && quote != '\'':
			j := i + 1
			for j < len(rs) && (rs[j] == '_' || unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			name := string(rs[i+1 : j])
			v, ok := env(name)
			if name == "" || !ok {
				return nil, fmt.Errorf("variable $%s is not set", name)
			}
			cur.WriteString(v)
			started = true
			i = j - 1
		case r == ' ' && quote == 0:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if started {
		words = append(words, cur.String())
	}
	return words, nil
}

// readmeExpect lists, for README commands containing a key, what their
// output must contain.
var readmeExpect = map[string][]string{
	"localhost:50051 list":                      {"annals.v1.ArchiveService", "annals.v1.ChangeService", "annals.v1.ExportService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"},
	"describe annals.v1.ArchiveService":         {"GetEvent returns one event", "ListEvents returns events ordered by date"},
	"Health/Check":                              {"SERVING"},
	`"events/soviet-japanese-neutrality-pact"}`: {`"year": 1941`, `"places/moscow"`, "日ソ中立条約", "PARTICIPANT_ROLE_SIGNATORY"},
	`"month": 4, "day": 13}`:                    {"events/soviet-japanese-neutrality-pact"},
	`"actor": "actors/vyacheslav-molotov"`:      {"events/soviet-japanese-neutrality-pact"},
	`"query": "neutrality"`:                     {"events/soviet-japanese-neutrality-pact"},
	`"end_date": {"year": 1945}}`: {"events/battles-of-khalkhin-gol", "events/soviet-japanese-neutrality-pact", "events/operation-barbarossa",
		"events/soviet-denunciation-of-the-neutrality-pact", "events/soviet-declaration-of-war-on-japan", "events/soviet-japanese-war", "events/surrender-of-japan"},
	`"month": 4}, "page_size": 3}`: {"events/soviet-japanese-neutrality-pact", "nextPageToken"},
	`GetActor`:                     {`"Q132899"`},
	`GetPlace`:                     {`"Q649"`},
	`"filename": "harbour.txt", "text": "June 2, 1802\n`: {`"events/alder-bexley-harbour-charter"`, "CHANGE_KIND_CREATED"},
	`"query": "harbour"`:                      {"events/alder-bexley-harbour-charter"},
	`"filename": "feb.txt"`:                   {"line 1", "February 30, 1941"},
	`"text": "June 2, 1802"}`:                 {"Bearer"},
	"describe annals.v1.ChangeService":        {"ListChanges returns one page of the change log", "WatchChanges streams the change log"},
	`"after_sequence": 20, "page_size": 3}`:   {`"sequence": "21"`, `"sequence": "23"`, `"nextSequence": "23"`, "lastSequence", "CHANGE_KIND_CREATED"},
	`-max-time 3 -d '{"after_sequence": 20}'`: {`"sequence": "21"`, "lastSequence"},
	`"after_sequence": -1}`:                   {"after_sequence", "negative"},
}

// readmeImportToken is the import token the README's examples run with, as
// $ANNALS_IMPORT_TOKEN.
const readmeImportToken = "readme-test-token"

// TestReadmeGrpcurlExamples runs every grpcurl command in README.md, in
// order, against the real binary started with an import token, so the README
// cannot drift from the server.
// readmeCmd is a command of a README section and the comment line after
// it ("# what it prints"), if any.
type readmeCmd struct{ line, expect string }

// readmeSection returns the commands of the sh code blocks of the README
// section headed heading ("## …"), in order.
func readmeSection(t *testing.T, heading string) []readmeCmd {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCmd
	in, block := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == heading
		case !in:
		case strings.HasPrefix(line, "```"):
			block = !block && line == "```sh"
		case !block || line == "":
		case strings.HasPrefix(line, "# ") && len(cmds) > 0:
			cmds[len(cmds)-1].expect = strings.TrimPrefix(line, "# ")
		default:
			cmds = append(cmds, readmeCmd{line: line})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatalf("README.md has no sh block under %q", heading)
	}
	return cmds
}

func TestReadmeGrpcurlExamples(t *testing.T) {
	skipUnlessLong(t)
	cmds := readmeGrpcurlCommands(t)
	if len(cmds) < 8 {
		t.Fatalf("found %d grpcurl commands in README.md, want the documented examples", len(cmds))
	}
	for key := range readmeExpect {
		if !slices.ContainsFunc(cmds, func(c readmeCommand) bool { return strings.Contains(c.line, key) }) {
			t.Errorf("readmeExpect key %q matches no grpcurl command in README.md", key)
		}
	}
	grpcurl, err := buildGrpcurl()
	if err != nil {
		t.Fatalf("build grpcurl: %v", err)
	}
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+readmeImportToken)
	env := func(name string) (string, bool) {
		if name == "ANNALS_IMPORT_TOKEN" {
			return readmeImportToken, true
		}
		return "", false
	}
	waitServing(t, dial(t, d.grpcAddr))
	codes := map[string]int{"InvalidArgument": 67, "DeadlineExceeded": 68, "NotFound": 69, "Unauthenticated": 80, "PermissionDenied": 71}
	for _, c := range cmds {
		t.Run(c.line, func(t *testing.T) {
			words, err := shellWords(c.line, env)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range words {
				if w == "localhost:50051" {
					words[i] = d.grpcAddr
				}
			}
			out, err := exec.Command(grpcurl, words[1:]...).CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			want := 0
			if c.wantCode != "" {
				want = codes[c.wantCode]
			}
			if code != want {
				t.Errorf("exit status %d, want %d; output:\n%s", code, want, out)
			}
			for substr, wants := range readmeExpect {
				if !strings.Contains(c.line, substr) {
					continue
				}
				for _, w := range wants {
					if !strings.Contains(string(out), w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
			}
		})
	}
}

// readmeWeb are the examples of the README's "In the browser" and "From a
// web app" sections: the curl lines, each with the HTTP status a following
// "# HTTP NNN" line gives (200 otherwise), and the JavaScript block.
type readmeWeb struct {
	curls []readmeCurl
	js    string
}

type readmeCurl struct {
	line   string
	status string
}

func readmeWebExamples(t *testing.T) readmeWeb {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var ex readmeWeb
	section, block := "", ""
	var js strings.Builder
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, "## "):
			section = line
		case strings.HasPrefix(line, "```"):
			if block == "" {
				block = strings.TrimPrefix(line, "```")
				if block == "" {
					block = "text"
				}
			} else {
				block = ""
			}
		case section != "## In the browser" && section != "## From a web app":
		case block == "sh" && strings.HasPrefix(line, "curl "):
			ex.curls = append(ex.curls, readmeCurl{line: line, status: "200"})
		case block == "sh" && strings.HasPrefix(line, "# HTTP ") && len(ex.curls) > 0:
			ex.curls[len(ex.curls)-1].status, _, _ = strings.Cut(strings.TrimPrefix(line, "# HTTP "), " ")
		case block == "js":
			js.WriteString(raw + "\n")
		}
	}
	ex.js = js.String()
	return ex
}

// readmeWebExpect lists, for README curl lines containing a key, what
// their output must contain.
var readmeWebExpect = map[string][]string{
	"/search?query=%E6%97%A5":                         {`href="/events/soviet-japanese-neutrality-pact.html"`},
	"Accept-Language: ru":                             {`<h1><span lang="ru">Пакт о нейтралитете между СССР и Японией</span></h1>`},
	"/events?start_date=1939&end_date=1945":           {"Battles of Khalkhin Gol", "Surrender of Japan"},
	"/timeline/1941":                                  {"Soviet–Japanese Neutrality Pact", `href="/timeline/1940s"`},
	`"events/soviet-japanese-neutrality-pact"}' http`: {"日ソ中立条約", `"precision":"DATE_PRECISION_DAY"`},
	`"end_date": {"year": 1945}}' http`:               {"events/battles-of-khalkhin-gol", "events/surrender-of-japan"},
	`"events/no-such-event"`:                          {`"code":"not_found"`, "google.rpc.ResourceInfo"},
	`ImportDocument`:                                  {`"code":"unauthenticated"`},
}

// TestReadmeWebExamples runs the README's curl lines and its JavaScript
// example against the real binary, so that the sections cannot drift from
// the server.
func TestReadmeWebExamples(t *testing.T) {
	skipUnlessLong(t)
	ex := readmeWebExamples(t)
	if len(ex.curls) < 6 || ex.js == "" {
		t.Fatalf("found %d curl lines and %d bytes of JavaScript in README.md, want the documented examples", len(ex.curls), len(ex.js))
	}
	for key := range readmeWebExpect {
		if !slices.ContainsFunc(ex.curls, func(c readmeCurl) bool { return strings.Contains(c.line, key) }) {
			t.Errorf("readmeWebExpect key %q matches no curl line in README.md", key)
		}
	}
	curl, err := exec.LookPath("curl")
	requireTool(t, err == nil, "curl")
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+readmeImportToken)
	waitServing(t, dial(t, d.grpcAddr))
	const readmeBase = "http://localhost:8080"
	for _, c := range ex.curls {
		t.Run(c.line, func(t *testing.T) {
			words, err := shellWords(c.line, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range words {
				words[i] = strings.Replace(w, readmeBase, "http://"+d.httpAddr, 1)
			}
			// The status goes on a line of its own after the body.
			args := append(words[1:], "--silent", "--show-error", "--write-out", "\n%{http_code}")
			out, err := exec.Command(curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			body, status := string(out), ""
			if i := strings.LastIndex(body, "\n"); i >= 0 {
				body, status = body[:i], body[i+1:]
			}
			if status != c.status {
				t.Errorf("HTTP %s, want %s:\n%s", status, c.status, body)
			}
			for key, wants := range readmeWebExpect {
				if !strings.Contains(c.line, key) {
					continue
				}
				for _, w := range wants {
					if !strings.Contains(body, w) {
						t.Errorf("output lacks %q:\n%.3000s", w, body)
					}
				}
			}
		})
	}
	t.Run("JavaScript", func(t *testing.T) {
		node, err := exec.LookPath("node")
		requireTool(t, err == nil, "node")
		_, err = os.Stat(filepath.Join(repoRoot, "node_modules", "@connectrpc", "connect-web", "package.json"))
		requireTool(t, err == nil, "npm package @connectrpc/connect-web")
		cmd := exec.Command(node, "--input-type=module", "-e", strings.ReplaceAll(ex.js, readmeBase, "http://"+d.httpAddr))
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, w := range []string{"ja: 日ソ中立条約", "events/battles-of-khalkhin-gol", "events/surrender-of-japan"} {
			if !strings.Contains(string(out), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		if n := strings.Count(string(out), "events/"); n != 7 {
			t.Errorf("the example lists %d events, want the seven of 1939-1945:\n%s", n, out)
		}
	})
}
