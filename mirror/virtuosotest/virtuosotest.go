// Package virtuosotest runs a real Virtuoso 7 (Debian's virtuoso-opensource
// package, /usr/bin/virtuoso-t) for tests: a throwaway database in a
// temporary directory, on free loopback ports, started from a small ini
// file of its own, with SPARQL at /sparql and the Graph Store Protocol at
// /sparql-graph-crud-auth (HTTP Digest, dba/dba). Tests can stop, kill and
// restart it on the same files.
//
// Without virtuoso-t a test is skipped, unless CI is set: then it fails
// (scripts/install-tools installs the package).
package virtuosotest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the Virtuoso server Debian installs.
const Binary = "/usr/bin/virtuoso-t"

// User and Password are the credentials of a new Virtuoso database.
const (
	User     = "dba"
	Password = "dba"
)

// Server is one Virtuoso process and its files.
type Server struct {
	Dir      string
	HTTPAddr string // 127.0.0.1:port
	SQLAddr  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// Need skips t when Virtuoso is not installed, or fails it when CI is set.
func Need(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (scripts/install-tools installs virtuoso-opensource): %v", Binary, err)
		}
		t.Skipf("%s is missing; scripts/install-tools installs virtuoso-opensource", Binary)
	}
}

// Start starts a new Virtuoso in a temporary directory and stops it when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Need(t)
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Kill() })
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
	dir  string
}

// Shared returns the Virtuoso shared by every test of the test binary,
// starting it on first use; tests keep apart by using graph IRIs of their
// own (a base IRI each). Call Cleanup from TestMain after m.Run.
func Shared(t testing.TB) *Server {
	t.Helper()
	Need(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "virtuosotest-")
		if shared.err != nil {
			return
		}
		shared.s, shared.err = New(shared.dir)
		if shared.err == nil {
			shared.err = shared.s.Start()
		}
	})
	if shared.err != nil {
		t.Fatalf("shared Virtuoso: %v", shared.err)
	}
	return shared.s
}

// Cleanup stops the shared Virtuoso, if one was started, and removes its files.
func Cleanup() {
	if shared.s != nil {
		shared.s.Kill()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

// New prepares a Virtuoso whose files are in dir, on two free loopback
// ports; Start starts it.
func New(dir string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, SQLAddr: fmt.Sprintf("127.0.0.1:%d", ports[0]), HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[1])}
	return s, os.WriteFile(s.IniFile(), []byte(s.ini()), 0o644)
}

// IniFile is the configuration file.
func (s *Server) IniFile() string { return filepath.Join(s.Dir, "virtuoso.ini") }

// ini is a small configuration: files in Dir, loopback ports, modest
// memory (the machines are shared), result sets large enough to read an
// archive back, and Dir allowed for the bulk loader (ld_dir).
func (s *Server) ini() string {
	return fmt.Sprintf(`[Database]
DatabaseFile = %[1]s/virtuoso.db
ErrorLogFile = %[1]s/virtuoso.log
LockFile = %[1]s/virtuoso.lck
TransactionFile = %[1]s/virtuoso.trx
xa_persistent_file = %[1]s/virtuoso.pxa
[TempDatabase]
DatabaseFile = %[1]s/virtuoso-temp.db
TransactionFile = %[1]s/virtuoso-temp.trx
[Parameters]
ServerPort = %[2]s
DisableUnixSocket = 1
DirsAllowed = ., %[1]s
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
CheckpointInterval = 60
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = %[3]s
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 300
MaxQueryCostEstimationTime = 0
`, s.Dir, s.SQLAddr, s.HTTPAddr)
}

// Start starts the server on its files and waits until SPARQL answers
// (about 5 s for a new database).
func (s *Server) Start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("virtuosotest: already running")
	}
	cmd := exec.Command(Binary, "+foreground", "+configfile", s.IniFile())
	cmd.Dir = s.Dir
	s.log = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// Its own process group (signals reach it whole); killed with the
	// test binary, should that die without cleaning up (a test timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("virtuosotest: start: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Unlock()

	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			return fmt.Errorf("virtuosotest: virtuoso-t exited at start:\n%s\n%s", s.log.String(), s.errorLog())
		default:
		}
		resp, err := http.Get(s.SPARQLURL() + "?query=" + url.QueryEscape("SELECT (1 AS ?one) {}"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("virtuosotest: SPARQL did not answer within 90s:\n%s", s.errorLog())
}

func (s *Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "virtuoso.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops the server with SIGTERM (a clean shutdown, with a checkpoint)
// and waits for it, killing it after 60 s.
func (s *Server) Stop() { s.signal(syscall.SIGTERM, 60*time.Second) }

// Kill kills the server with SIGKILL and waits for it.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, 30*time.Second) }

func (s *Server) signal(sig syscall.Signal, wait time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(wait):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Restart stops the server (SIGTERM) and starts it again on the same files.
func (s *Server) Restart() error {
	s.Stop()
	return s.Start()
}

// URL returns http://HTTPAddr.
func (s *Server) URL() string { return "http://" + s.HTTPAddr }

// SPARQLURL is the SPARQL query endpoint.
func (s *Server) SPARQLURL() string { return s.URL() + "/sparql" }

// GraphStoreURL is the Graph Store Protocol endpoint (Digest auth).
func (s *Server) GraphStoreURL() string { return s.URL() + "/sparql-graph-crud-auth" }

// Term is one RDF term of a SPARQL JSON result.
type Term struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Lang     string `json:"xml:lang"`
	Datatype string `json:"datatype"`
}

// NT writes the term as in N-Triples.
func (t Term) NT() string {
	switch t.Type {
	case "uri":
		return "<" + t.Value + ">"
	case "bnode":
		return "_:" + t.Value
	}
	q := ntQuote(t.Value)
	switch {
	case t.Lang != "":
		return q + "@" + t.Lang
	case t.Datatype != "" && t.Datatype != "http://www.w3.org/2001/XMLSchema#string":
		return q + "^^<" + t.Datatype + ">"
	}
	return q
}

func ntQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Results is a SPARQL SELECT or ASK answer.
type Results struct {
	Vars    []string
	Rows    []map[string]Term
	Boolean *bool
}

// Query runs a SPARQL query and returns its results. Virtuoso answers an
// ASK with a binding __ASK_RETVAL (1 or 0) rather than "boolean": Query
// reads both as Boolean.
func (s *Server) Query(ctx context.Context, query string) (*Results, error) {
	return QueryEndpoint(ctx, s.SPARQLURL(), query)
}

// QueryEndpoint runs a SPARQL query against any SPARQL endpoint.
func QueryEndpoint(ctx context.Context, endpoint, query string) (*Results, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"query": {query}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/sparql-results+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var raw struct {
		Head struct {
			Vars []string `json:"vars"`
		} `json:"head"`
		Boolean *bool `json:"boolean"`
		Results struct {
			Bindings []map[string]Term `json:"bindings"`
		} `json:"results"`
	}
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("SPARQL: HTTP %d: %.500s", resp.StatusCode, body.String())
	}
	if err := json.Unmarshal(body.Bytes(), &raw); err != nil {
		return nil, fmt.Errorf("SPARQL: %v: %.500s", err, body.String())
	}
	r := &Results{Vars: raw.Head.Vars, Rows: raw.Results.Bindings, Boolean: raw.Boolean}
	if len(r.Vars) == 1 && r.Vars[0] == "__ASK_RETVAL" {
		b := len(r.Rows) == 1 && r.Rows[0]["__ASK_RETVAL"].Value == "1"
		r.Boolean, r.Vars, r.Rows = &b, nil, nil
	}
	return r, nil
}

// Lines returns the rows as lines of N-Triples terms separated by tabs, in
// the order of Vars ("UNDEF" for an unbound one), or "true"/"false" for an ASK.
func (r *Results) Lines() []string {
	if r.Boolean != nil {
		return []string{fmt.Sprint(*r.Boolean)}
	}
	var out []string
	for _, row := range r.Rows {
		cells := make([]string, len(r.Vars))
		for i, v := range r.Vars {
			if t, ok := row[v]; ok {
				cells[i] = t.NT()
			} else {
				cells[i] = "UNDEF"
			}
		}
		out = append(out, strings.Join(cells, "\t"))
	}
	return out
}

// Quads returns every triple of the named graphs whose IRI starts with
// prefix, except those named in except, as sorted lines "<graph> <s> <p> o".
func (s *Server) Quads(ctx context.Context, prefix string, except ...string) ([]string, error) {
	filter := fmt.Sprintf("FILTER(STRSTARTS(STR(?g), %s)", ntQuote(prefix))
	for _, e := range except {
		filter += fmt.Sprintf(" && ?g != <%s>", e)
	}
	filter += ")"
	r, err := s.Query(ctx, "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "+filter+" }")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		out = append(out, row["g"].NT()+" "+row["s"].NT()+" "+row["p"].NT()+" "+row["o"].NT())
	}
	sort.Strings(out)
	return out, nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
