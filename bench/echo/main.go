// Command echo is the practical limit scripts/bench measures Annals against:
// a bare grpc-go unary server, built from the same grpc-go version as
// annals (this module's go.mod), with nothing but the generic interop
// TestService (EmptyCall, and UnaryCall answering response_size bytes of
// payload), annals' ArchiveService answering GetEvent and ListEvents from
// events held in memory (archive.go: the same messages as annals, so that
// the client does the same work), the standard health service and server
// reflection (so that ghz needs no .proto file). No interceptors, no
// logging, no storage.
//
//	go run ./bench/echo --addr 127.0.0.1:0
//
// It prints one line, "echo listening ADDR", on stdout once it accepts
// connections, and stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// maxPayload bounds UnaryCall's response_size.
const maxPayload = 4 << 20

type echoServer struct {
	testpb.UnimplementedTestServiceServer
}

func (echoServer) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// UnaryCall answers a payload of response_size zero bytes, like the interop
// test server (compressable payload type).
func (echoServer) UnaryCall(_ context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	n := in.GetResponseSize()
	if n < 0 || n > maxPayload {
		return nil, status.Errorf(codes.InvalidArgument, "response_size %d: want 0 to %d", n, maxPayload)
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{
		Type: testpb.PayloadType_COMPRESSABLE,
		Body: make([]byte, n),
	}}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback; port 0 picks a free one)")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	s := grpc.NewServer()
	testpb.RegisterTestServiceServer(s, echoServer{})
	annalsv1.RegisterArchiveServiceServer(s, newArchiveEcho(1000))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.GracefulStop()
	}()
	fmt.Printf("echo listening %s\n", lis.Addr())
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}
