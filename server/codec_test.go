package server

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// TestUndecodableRequests: what grpc-go would answer Internal (a request it
// cannot decode) is InvalidArgument MALFORMED_REQUEST, naming the field when
// a string is not UTF-8; health and the stream of ExportDataset included.
func TestUndecodableRequests(t *testing.T) {
	srv, err := New(Config{Store: newFakeStore(), ImportToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	annalsv1.RegisterExportServiceServer(srv, exportStub{})
	srv.SetServing(true)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	conn := dialBufconn(t, lis, grpc.WithDefaultCallOptions(grpc.ForceCodec(sweepCodec{})))
	ctx := t.Context()
	malformed := func(fields ...string) wantErr {
		return wantErr{code: codes.InvalidArgument, reason: ReasonMalformedRequest, fields: fields, msg: "malformed request"}
	}

	err = conn.Invoke(ctx, annalsv1.ArchiveService_GetEvent_FullMethodName, withRaw(&annalsv1.GetEventRequest{}, "name", "events/\xff"), &annalsv1.GetEventResponse{})
	checkErr(t, err, malformed("name"))
	err = conn.Invoke(ctx, annalsv1.ArchiveService_ListEvents_FullMethodName, rawMsg{0x0a, 0x40}, &annalsv1.ListEventsResponse{})
	checkErr(t, err, malformed())
	err = conn.Invoke(ctx, "/grpc.health.v1.Health/Check", rawMsg{0xff}, &healthpb.HealthCheckResponse{})
	checkErr(t, err, malformed())
	// Writes are refused for the missing token first.
	err = conn.Invoke(ctx, annalsv1.ArchiveService_ImportDocument_FullMethodName, rawMsg{0xff}, &annalsv1.ImportDocumentResponse{})
	checkErr(t, err, wantErr{code: codes.Unauthenticated, reason: ReasonUnauthenticated, msg: "Bearer"})
	// A stream's request.
	e := &sweepEnv{conn: conn}
	err = e.callStream(ctx, annalsv1.ExportService_ExportDataset_FullMethodName, rawMsg{0x08}, func() proto.Message { return &annalsv1.ExportDatasetResponse{} })
	checkErr(t, err, malformed())

	// Good requests decode as ever, unknown fields and all.
	if err := conn.Invoke(ctx, annalsv1.ArchiveService_GetEvent_FullMethodName,
		append(withRaw(&annalsv1.GetEventRequest{Name: pact}, "name", pact), 0xaa, 0x06, 0x01, 'x'), &annalsv1.GetEventResponse{}); err != nil {
		t.Errorf("GetEvent with an unknown field: %v", err)
	}
	resp := &healthpb.HealthCheckResponse{}
	if err := conn.Invoke(ctx, "/grpc.health.v1.Health/Check", &healthpb.HealthCheckRequest{}, resp); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("Health: %v %v", resp.GetStatus(), err)
	}
}
