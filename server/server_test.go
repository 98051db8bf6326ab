package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a Server on an in-process bufconn listener and a client connected to it.
type env struct {
	srv    *Server
	conn   *grpc.ClientConn
	client annalsv1.ArchiveServiceClient
	logs   *syncBuffer
	store  *fakeStore
}

const testToken = "s3cret-import-token"

// newEnv starts a server built from cfg; a nil Store becomes a fresh fakeStore.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{logs: &syncBuffer{}}
	if cfg.Store == nil {
		e.store = newFakeStore()
		cfg.Store = e.store
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = srv
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	e.conn = conn
	e.client = annalsv1.NewArchiveServiceClient(conn)
	t.Cleanup(func() {
		conn.Close()
		srv.GRPC().Stop()
	})
	return e
}

// protoEqual fails the test when got and want differ, printing both.
func protoEqual(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", prototext.Format(got), prototext.Format(want))
	}
}

// wantErr describes an expected status.
type wantErr struct {
	code   codes.Code
	reason string   // ErrorInfo reason
	fields []string // BadRequest field violations, in order; nil: no BadRequest
	msg    string   // a substring of the message
}

// details returns the ErrorInfo and BadRequest of st.
func details(st *status.Status) (*errdetails.ErrorInfo, *errdetails.BadRequest) {
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	return info, br
}

func checkErr(t *testing.T, err error, want wantErr) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want.code)
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v is not a status", err)
	}
	if st.Code() != want.code {
		t.Errorf("code = %v (%q), want %v", st.Code(), st.Message(), want.code)
	}
	if !strings.Contains(st.Message(), want.msg) {
		t.Errorf("message %q does not contain %q", st.Message(), want.msg)
	}
	info, br := details(st)
	if info == nil {
		t.Errorf("no ErrorInfo in %v", st.Details())
	} else if info.GetReason() != want.reason || info.GetDomain() != ErrorDomain {
		t.Errorf("ErrorInfo = %s/%s, want %s/%s", info.GetDomain(), info.GetReason(), ErrorDomain, want.reason)
	}
	var fields []string
	for _, v := range br.GetFieldViolations() {
		fields = append(fields, v.GetField())
		if v.GetDescription() == "" {
			t.Errorf("violation of %s has no description", v.GetField())
		}
	}
	if !slices.Equal(fields, want.fields) {
		t.Errorf("field violations = %q, want %q (%v)", fields, want.fields, br)
	}
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no store", Config{}},
		{"receive limit below a document", Config{Store: newFakeStore(), MaxRecvMsgBytes: 1 << 20}},
		{"negative send limit", Config{Store: newFakeStore(), MaxSendMsgBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestReflectionAndHealth(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := t.Context()

	stream, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var services []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	for _, want := range []string{"annals.v1.ArchiveService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(services, want) {
			t.Errorf("reflection lists %q, missing %s", services, want)
		}
	}
	_ = stream.CloseSend()

	health := healthpb.NewHealthClient(e.conn)
	check := func(service string, want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if resp.GetStatus() != want {
			t.Errorf("Check(%q) = %v, want %v", service, resp.GetStatus(), want)
		}
	}
	for _, svc := range []string{"", "annals.v1.ArchiveService"} {
		check(svc, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	e.srv.SetServing(true)
	for _, svc := range []string{"", "annals.v1.ArchiveService"} {
		check(svc, healthpb.HealthCheckResponse_SERVING)
	}
	e.srv.SetServing(false)
	check("", healthpb.HealthCheckResponse_NOT_SERVING)

	// Health and reflection calls are not logged.
	if strings.Contains(e.logs.String(), "grpc.health") || strings.Contains(e.logs.String(), "grpc.reflection") {
		t.Errorf("infrastructure calls were logged:\n%s", e.logs)
	}
}

// exportStub stands for ExportService, to show that more services can be
// added and that streams go through the interceptors.
type exportStub struct {
	annalsv1.UnimplementedExportServiceServer
	panic bool
}

// ExportDataset sends two chunks, or panics after the first one.
func (x exportStub) ExportDataset(_ *annalsv1.ExportDatasetRequest, stream annalsv1.ExportService_ExportDatasetServer) error {
	if err := stream.Send(&annalsv1.ExportDatasetResponse{ContentType: "text/turtle", Data: []byte("a")}); err != nil {
		return err
	}
	if x.panic {
		panic("export broke at /srv/annals/exporter.go:42")
	}
	if requestID(stream.Context()) == "" {
		return errors.New("no request id in the stream's context")
	}
	return stream.Send(&annalsv1.ExportDatasetResponse{Data: []byte("b")})
}

func TestStreams(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panic=%v", panics), func(t *testing.T) {
			logs := &syncBuffer{}
			srv, err := New(Config{Store: newFakeStore(), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			annalsv1.RegisterExportServiceServer(srv, exportStub{panic: panics})
			lis := bufconn.Listen(1 << 20)
			go func() { _ = srv.Serve(lis) }()
			t.Cleanup(srv.GRPC().Stop)
			conn := dialBufconn(t, lis)
			ctx := metadata.AppendToOutgoingContext(t.Context(), RequestIDHeader, "stream-1")
			stream, err := annalsv1.NewExportServiceClient(conn).ExportDataset(ctx, &annalsv1.ExportDatasetRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var data []byte
			for {
				msg, err := stream.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					if !panics {
						t.Fatal(err)
					}
					checkErr(t, err, wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"})
					if m := status.Convert(err).Message(); m != "internal error" {
						t.Errorf("message %q, want exactly \"internal error\"", m)
					}
					break
				}
				data = append(data, msg.GetData()...)
			}
			want := "ab"
			if panics {
				want = "a"
			}
			if string(data) != want {
				t.Errorf("received %q, want %q", data, want)
			}
			l := logs.String()
			for _, w := range []string{`"method":"/annals.v1.ExportService/ExportDataset"`, `"kind":"stream"`, `"request_id":"stream-1"`} {
				if !strings.Contains(l, w) {
					t.Errorf("log lacks %s:\n%s", w, l)
				}
			}
			if panics && !strings.Contains(l, "export broke") {
				t.Errorf("the panic is not logged:\n%s", l)
			}
		})
	}
}

func TestRegisterServiceFollowsHealth(t *testing.T) {
	srv, err := New(Config{Store: newFakeStore()})
	if err != nil {
		t.Fatal(err)
	}
	annalsv1.RegisterExportServiceServer(srv, exportStub{})
	info := srv.GRPC().GetServiceInfo()
	if _, ok := info[annalsv1.ExportService_ServiceDesc.ServiceName]; !ok {
		t.Fatalf("ExportService not registered: %v", info)
	}
	ctx := t.Context()
	name := annalsv1.ExportService_ServiceDesc.ServiceName
	resp, err := srv.health.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("before SetServing: %v, %v", resp, err)
	}
	srv.SetServing(true)
	resp, err = srv.health.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("after SetServing: %v, %v", resp, err)
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetServing(true)
	if _, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: pact}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	resp, err := e.srv.health.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health after Shutdown: %v, %v", resp, err)
	}
	if _, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: pact}); status.Code(err) != codes.Unavailable {
		t.Errorf("GetEvent after Shutdown: %v, want Unavailable", err)
	}
}

func TestShutdownStopsWhenContextEnds(t *testing.T) {
	block := make(chan struct{})
	st := &blockingStore{fakeStore: newFakeStore(), entered: make(chan struct{}), release: block}
	e := newEnv(t, Config{Store: st})
	done := make(chan error, 1)
	go func() {
		_, err := e.client.GetEvent(context.Background(), &annalsv1.GetEventRequest{Name: pact})
		done <- err
	}()
	<-st.entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the grace period is already over
	if err := e.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	close(block)
	if err := <-done; err == nil {
		t.Error("the in-flight call succeeded after a forced stop")
	}
}

// blockingStore blocks GetEvent until release is closed (or the call's context ends).
type blockingStore struct {
	*fakeStore
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) GetEvent(ctx context.Context, name string) (*annalsv1.Event, error) {
	close(b.entered)
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.fakeStore.GetEvent(ctx, name)
}
