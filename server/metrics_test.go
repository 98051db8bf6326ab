package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
)

// metricsEnv is a gRPC server and an HTTP handler sharing one Metrics and
// one instrumented fake store.
type metricsEnv struct {
	*env
	http http.Handler
}

func newMetricsEnv(t *testing.T) *metricsEnv {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeStore()
	st := InstrumentStore(fake, m)
	importer := func(_ context.Context, _ store.Store, _ string, text []byte, opts ingest.Options) (*ingest.Report, error) {
		if string(text) == "bad" {
			return nil, &ingest.ParseError{Line: 1, Msg: "not a date"}
		}
		kind := annalsv1.ChangeKind_CHANGE_KIND_CREATED
		if string(text) == "same" {
			kind = annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED
		}
		return &ingest.Report{Event: pact, Changes: []store.Change{{Name: pact, Kind: kind}}}, nil
	}
	e := newEnv(t, Config{Store: st, Metrics: m, Import: importer, ImportToken: testToken})
	e.store = fake
	x, _ := exporter.New("http://annals.test")
	h, err := NewHTTPHandler(HTTPConfig{Store: st, Exporter: x, Metrics: m, Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return &metricsEnv{env: e, http: h}
}

func (e *metricsEnv) get(t *testing.T, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.http.ServeHTTP(rec, req)
	return rec
}

// TestMetrics makes gRPC calls, HTTP requests and imports, then scrapes
// /metrics: each series exists with its labels and count, and no label
// holds a raw path, a made-up method or a resource name.
func TestMetrics(t *testing.T) {
	e := newMetricsEnv(t)
	ctx := t.Context()
	auth := withToken(ctx, testToken)
	_, _ = e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: pact})
	_, _ = e.client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/no-such-event"})
	_, _ = e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: -1})
	_, _ = e.client.ImportDocument(auth, &annalsv1.ImportDocumentRequest{Text: "new"})
	_, _ = e.client.ImportDocument(auth, &annalsv1.ImportDocumentRequest{Text: "same"})
	_, _ = e.client.ImportDocument(auth, &annalsv1.ImportDocumentRequest{Text: "bad"})
	_, _ = e.client.ImportDocument(auth, &annalsv1.ImportDocumentRequest{Text: "new", ValidateOnly: true})
	_, _ = e.client.ImportDocument(auth, &annalsv1.ImportDocumentRequest{})
	_, _ = e.client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: "new"}) // no token: not an import
	e.get(t, "GET", "/"+pact)
	e.get(t, "GET", "/events/no-such-event")
	e.get(t, "GET", "/no/such/route/at-all")
	e.get(t, "BREW", "/"+pact)
	e.get(t, "GET", "/healthz")

	rec := e.get(t, "GET", "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="ListEvents",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="ImportDocument",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`grpc_server_started_total{grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 2`,
		`grpc_server_handling_seconds_count{grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 2`,
		`annals_http_requests_total{code="303",method="GET",route="/events/{id}"} 1`,
		`annals_http_requests_total{code="404",method="GET",route="/events/{id}"} 1`,
		`annals_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`annals_http_requests_total{code="405",method="other",route="unmatched"} 1`,
		`annals_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`annals_http_request_duration_seconds_count{method="GET",route="/events/{id}"} 2`,
		// One for the gRPC GetEvent, one for the HTTP request of the event
		// (which answers 303 See Other to its document once it knows it exists).
		`annals_store_operation_duration_seconds_count{operation="GetEvent",outcome="ok"} 2`,
		`annals_store_operation_duration_seconds_count{operation="GetEvent",outcome="not_found"} 2`,
		`annals_imports_total{outcome="imported"} 1`,
		`annals_imports_total{outcome="unchanged"} 1`,
		`annals_imports_total{outcome="validated"} 1`,
		`annals_imports_total{outcome="refused"} 2`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, bad := range []string{"no-such-event", "no/such/route", "BREW", "soviet-japanese", testToken} {
		if strings.Contains(body, bad) {
			t.Errorf("/metrics mentions %q", bad)
		}
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Error("the logs hold the import token")
	}
}

// TestMetricsRegistriesIndependent: each Metrics has its own registry, so
// two servers in one process (or two tests) do not collide.
func TestMetricsRegistriesIndependent(t *testing.T) {
	for range 2 {
		if _, err := NewMetrics(prometheus.NewRegistry()); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}

// TestInstrumentStoreOutcomes: store errors are labelled by kind.
func TestInstrumentStoreOutcomes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	st := InstrumentStore(&brokenStore{fakeStore: newFakeStore(), err: errors.New("disk on fire")}, m)
	_, _ = st.ListEvents(t.Context(), store.EventFilter{}, store.Page{Limit: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _ = InstrumentStore(&brokenStore{fakeStore: newFakeStore(), err: context.Canceled}, m).ListEvents(ctx, store.EventFilter{}, store.Page{Limit: 1})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`annals_store_operation_duration_seconds_count{operation="ListEvents",outcome="error"} 1`,
		`annals_store_operation_duration_seconds_count{operation="ListEvents",outcome="canceled"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if InstrumentStore(newFakeStore(), nil) == nil {
		t.Error("InstrumentStore with nil Metrics returned nil")
	}
}

// TestHTTPRequestID: the HTTP side takes a usable X-Request-Id or makes
// one, sends it back, and logs it with the request; the log holds no
// header, query or token.
func TestHTTPRequestID(t *testing.T) {
	e := newMetricsEnv(t)
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tt := range []struct {
		name, sent string
		keep       bool
	}{
		{"client's", "req-42.abc", true},
		{"none", "", false},
		{"too long", strings.Repeat("x", 129), false},
		{"with a space", "a b", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Authorization", "Bearer " + testToken, "Cookie", "session=" + testToken}
			if tt.sent != "" {
				hdr = append(hdr, RequestIDHTTPHeader, tt.sent)
			}
			rec := e.get(t, "GET", "/"+pact+"?token="+testToken, hdr...)
			got := rec.Header().Get(RequestIDHTTPHeader)
			if tt.keep && got != tt.sent || !tt.keep && !hexID.MatchString(got) {
				t.Fatalf("X-Request-Id %q for %q (keep %v)", got, tt.sent, tt.keep)
			}
			var found bool
			for _, line := range strings.Split(e.logs.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "http request" || m["request_id"] != got {
					continue
				}
				found = true
				if m["route"] != "GET /events/{id}" || m["path"] != "/"+pact || m["status"] != float64(http.StatusSeeOther) || m["method"] != "GET" {
					t.Errorf("access log %s", line)
				}
			}
			if !found {
				t.Errorf("no access log line with request_id %q:\n%s", got, e.logs.String())
			}
			if strings.Contains(e.logs.String(), testToken) {
				t.Errorf("the logs hold the token:\n%s", e.logs.String())
			}
		})
	}
}

// TestGRPCRequestIDLogged: a gRPC call's x-request-id is logged and sent back.
func TestGRPCRequestIDLogged(t *testing.T) {
	e := newMetricsEnv(t)
	var hdr metadata.MD
	ctx := metadata.AppendToOutgoingContext(withToken(t.Context(), testToken), RequestIDHeader, "grpc-req-7")
	if _, err := e.client.ImportDocument(ctx, &annalsv1.ImportDocumentRequest{Text: "new"}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if got := hdr.Get(RequestIDHeader); len(got) != 1 || got[0] != "grpc-req-7" {
		t.Errorf("response x-request-id %v", got)
	}
	l := e.logs.String()
	if !strings.Contains(l, `"request_id":"grpc-req-7"`) || strings.Contains(l, testToken) || strings.Contains(l, `"text"`) {
		t.Errorf("logs:\n%s", l)
	}
}
