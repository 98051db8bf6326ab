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
	"localhost:50051 list":                               {"annals.v1.ArchiveService", "annals.v1.ChangeService", "annals.v1.ExportService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"},
	"describe annals.v1.ArchiveService":                  {"GetEvent returns one event", "ListEvents returns events ordered by date"},
	"Health/Check":                                       {"SERVING"},
	`"events/soviet-japanese-neutrality-pact"}`:          {`"year": 1941`, `"places/moscow"`, "日ソ中立条約", "PARTICIPANT_ROLE_SIGNATORY"},
	`"month": 4, "day": 13}`:                             {"events/soviet-japanese-neutrality-pact"},
	`"actor": "actors/vyacheslav-molotov"`:               {"events/soviet-japanese-neutrality-pact"},
	`"query": "neutrality"`:                              {"events/soviet-japanese-neutrality-pact"},
	`GetActor`:                                           {`"Q132899"`},
	`GetPlace`:                                           {`"Q649"`},
	`"filename": "harbour.txt", "text": "June 2, 1802\n`: {`"events/alder-bexley-harbour-charter"`, "CHANGE_KIND_CREATED"},
	`"query": "harbour"`:                                 {"events/alder-bexley-harbour-charter"},
	`"filename": "feb.txt"`:                              {"line 1", "February 30, 1941"},
	`"text": "June 2, 1802"}`:                            {"Bearer"},
	"describe annals.v1.ChangeService":                   {"ListChanges returns one page of the change log", "WatchChanges streams the change log"},
	`"after_sequence": 20, "page_size": 3}`:              {`"sequence": "21"`, `"sequence": "23"`, `"nextSequence": "23"`, "lastSequence", "CHANGE_KIND_CREATED"},
	`-max-time 3 -d '{"after_sequence": 20}'`:            {`"sequence": "21"`, "lastSequence"},
	`"after_sequence": -1}`:                              {"after_sequence", "negative"},
}

// readmeImportToken is the import token the README's examples run with, as
// $ANNALS_IMPORT_TOKEN.
const readmeImportToken = "readme-test-token"

// TestReadmeGrpcurlExamples runs every grpcurl command in README.md, in
// order, against the real binary started with an import token, so the README
// cannot drift from the server.
func TestReadmeGrpcurlExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and grpcurl")
	}
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
