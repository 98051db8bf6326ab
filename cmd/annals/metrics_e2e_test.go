package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// TestServeMetricsAndRequestIDs checks the observability wiring of the real
// binary: /metrics has the gRPC, HTTP, store and runtime series after some
// calls, and request ids travel over both sides into the logs.
func TestServeMetricsAndRequestIDs(t *testing.T) {
	skipUnlessLong(t)
	const token = "metrics-test-token"
	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+token)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := annalsv1.NewArchiveServiceClient(conn)
	var hdr metadata.MD
	rctx := metadata.AppendToOutgoingContext(ctx, "x-request-id", "e2e-grpc-1", "authorization", "Bearer "+token)
	if _, err := client.GetEvent(rctx, &annalsv1.GetEventRequest{Name: "events/soviet-japanese-neutrality-pact"}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	if got := hdr.Get("x-request-id"); len(got) != 1 || got[0] != "e2e-grpc-1" {
		t.Errorf("gRPC x-request-id sent back: %v", got)
	}
	_, _ = client.ImportDocument(rctx, &annalsv1.ImportDocumentRequest{Text: "February 30, 1941\n\nA meeting.\n"})
	resp, _ := httpGet(t, "http://"+d.httpAddr+"/places/moscow", "X-Request-Id", "e2e-http-1", "Authorization", "Bearer "+token)
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "e2e-http-1" {
		t.Errorf("GET /places/moscow: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	resp, body := httpGet(t, "http://"+d.httpAddr+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="ImportDocument",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 1`,
		`annals_http_requests_total{code="200",method="GET",route="/places/{id}"} 1`,
		`annals_store_operation_duration_seconds_count{operation="GetEvent",outcome="ok"}`,
		`annals_store_operation_duration_seconds_count{operation="Update",outcome="ok"}`, // the bundled dataset's load
		`annals_imports_total{outcome="refused"} 1`,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	logs := d.Logs()
	for _, want := range []string{`"request_id":"e2e-grpc-1"`, `"request_id":"e2e-http-1"`, `"route":"GET /places/{id}"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(logs, token) {
		t.Error("the logs hold the import token")
	}
}
