package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// ErrNoGraph is returned (wrapped) by GraphStore.Get for a graph the store does not have.
var ErrNoGraph = errors.New("no such graph")

// StoreError is a failure of the SPARQL store: an answer other than success,
// or no answer. Kind names it for metrics and logs; Permanent says whether
// trying again can help.
type StoreError struct {
	Op     string // "PUT", "DELETE", "GET"
	Graph  string
	Status int // the HTTP status; 0 when the store did not answer
	Kind   string
	Detail string
	Err    error // the transport's error, when Status is 0
}

func (e *StoreError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %s: %v", e.Op, e.Graph, e.Kind, e.Err)
	}
	return fmt.Sprintf("%s %s: %s: HTTP %d %s", e.Op, e.Graph, e.Kind, e.Status, e.Detail)
}

func (e *StoreError) Unwrap() error { return e.Err }

// Permanent reports whether the same request cannot succeed later: the
// store refused the credentials, the data, or the address.
func (e *StoreError) Permanent() bool {
	switch e.Kind {
	case KindAuth, KindRejected:
		return true
	}
	return false
}

// Error kinds, the values of the kind label of annals_mirror_errors_total.
const (
	// KindUnreachable: the SPARQL store did not answer (connection refused, reset, timeout).
	KindUnreachable = "unreachable"
	// KindServer: the store answered 5xx (or 408/429): overloaded, starting, failing.
	KindServer = "server"
	// KindAuth: the store refused the credentials (401, 403).
	KindAuth = "auth"
	// KindRejected: the store refused the request (another 4xx): a wrong
	// endpoint, or data it cannot read.
	KindRejected = "rejected"
	// KindArchive: reading the archive failed.
	KindArchive = "archive"
	// KindRender: a record could not be mapped to RDF.
	KindRender = "render"
)

// GraphStore is a client of a SPARQL 1.1 Graph Store HTTP Protocol
// endpoint (indirect graph identification: ?graph=IRI), such as Virtuoso's
// /sparql-graph-crud-auth or Fuseki's /{dataset}/data. It answers HTTP Basic
// or Digest authentication, as the store asks. It is safe for concurrent use.
type GraphStore struct {
	endpoint *url.URL
	client   *http.Client
}

// NewGraphStore returns a client of the Graph Store endpoint, an absolute
// http or https URL. With a user, requests carry its credentials, Basic or
// Digest as the store's challenge asks. client may be nil.
func NewGraphStore(endpoint, user, password string, client *http.Client) (*GraphStore, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("graph store %q: want an absolute http or https URL", endpoint)
	}
	if u.Query().Has("graph") || u.Query().Has("graph-uri") || u.Query().Has("default") {
		return nil, fmt.Errorf("graph store %q: give the endpoint without ?graph=, the mirror adds it", endpoint)
	}
	c := &http.Client{Timeout: 5 * time.Minute}
	if client != nil {
		cc := *client
		c = &cc
	}
	if user != "" {
		c.Transport = &authTransport{user: user, password: password, next: c.Transport}
	}
	return &GraphStore{endpoint: u, client: c}, nil
}

// Endpoint returns the endpoint's URL.
func (g *GraphStore) Endpoint() string { return g.endpoint.String() }

func (g *GraphStore) url(graph string) string {
	u := *g.endpoint
	q := u.Query()
	q.Set("graph", graph)
	u.RawQuery = q.Encode()
	return u.String()
}

// Put replaces the named graph with the N-Triples in body (creating it).
func (g *GraphStore) Put(ctx context.Context, graph string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, g.url(graph), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/n-triples")
	_, err = g.do(req, graph)
	return err
}

// Delete removes the named graph; a graph the store does not have is no error.
func (g *GraphStore) Delete(ctx context.Context, graph string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, g.url(graph), nil)
	if err != nil {
		return err
	}
	_, err = g.do(req, graph)
	if errors.Is(err, ErrNoGraph) {
		return nil
	}
	return err
}

// Get returns the named graph as N-Triples, or an error wrapping ErrNoGraph.
func (g *GraphStore) Get(ctx context.Context, graph string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url(graph), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/n-triples")
	return g.do(req, graph)
}

// maxErrorBody is how much of an error answer is kept for the message.
const maxErrorBody = 512

func (g *GraphStore) do(req *http.Request, graph string) ([]byte, error) {
	resp, err := g.client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &StoreError{Op: req.Method, Graph: graph, Kind: KindUnreachable, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		if req.Method != http.MethodGet {
			_, _ = io.Copy(io.Discard, resp.Body)
			return nil, nil
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, &StoreError{Op: req.Method, Graph: graph, Kind: KindUnreachable, Err: err}
		}
		return b, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusNotFound && req.Method != http.MethodPut {
		return nil, fmt.Errorf("%s %s: %w", req.Method, graph, ErrNoGraph)
	}
	e := &StoreError{Op: req.Method, Graph: graph, Status: resp.StatusCode, Detail: strings.TrimSpace(string(b))}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Kind = KindAuth
		e.Detail = "the store refused the credentials (ANNALS_MIRROR_USER, ANNALS_MIRROR_PASSWORD)"
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = KindServer
	default:
		e.Kind = KindRejected
	}
	return nil, e
}

// authTransport answers the store's authentication challenge: Digest
// through github.com/icholy/digest (which caches the challenge, so later
// requests are sent with credentials at once), Basic by itself. It
// remembers that a host asked for Basic and then sends it with every request.
type authTransport struct {
	user, password string
	next           http.RoundTripper

	once   sync.Once
	digest *digest.Transport
	mu     sync.Mutex
	basic  map[string]bool // hosts that asked for Basic
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(func() {
		t.digest = &digest.Transport{Username: t.user, Password: t.password, Transport: t.next}
		t.basic = map[string]bool{}
	})
	t.mu.Lock()
	basic := t.basic[req.URL.Host]
	t.mu.Unlock()
	if basic {
		return t.withBasic(req)
	}
	// The digest transport sends the request, and again with credentials
	// when the answer is a Digest challenge.
	resp, err := t.digest.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !asksBasic(resp.Header) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.mu.Lock()
	t.basic[req.URL.Host] = true
	t.mu.Unlock()
	return t.withBasic(req)
}

func (t *authTransport) withBasic(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("mirror: a request body that cannot be sent twice")
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	r.SetBasicAuth(t.user, t.password)
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// asksBasic reports whether a 401's challenges include Basic and no Digest.
func asksBasic(h http.Header) bool {
	basic := false
	for _, c := range h.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(c), " ")
		switch strings.ToLower(scheme) {
		case "digest":
			return false
		case "basic":
			basic = true
		}
	}
	return basic
}
