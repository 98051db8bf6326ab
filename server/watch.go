package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// endHealthWatches returns a stream interceptor that ends health Watch
// streams once draining is closed, first telling the watcher NOT_SERVING.
// A Watch never ends by itself, and clients that health-check with it (as
// grpc-go's client-side health checking does) would otherwise keep
// GracefulStop waiting until the grace period ran out, and then every
// in-flight request would be cut with them.
func endHealthWatches(draining <-chan struct{}) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != healthpb.Health_Watch_FullMethodName {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		go func() {
			select {
			case <-draining:
				cancel()
			case <-ctx.Done():
			}
		}()
		cs := &contextStream{ServerStream: ss, ctx: ctx}
		err := handler(srv, cs)
		select {
		case <-draining:
			if cs.last != healthpb.HealthCheckResponse_NOT_SERVING {
				_ = ss.SendMsg(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_NOT_SERVING})
			}
			return status.Error(codes.Unavailable, "the server is shutting down")
		default:
			return err
		}
	}
}

// contextStream is a health Watch stream with another context; it
// remembers the last status sent.
type contextStream struct {
	grpc.ServerStream
	ctx  context.Context
	last healthpb.HealthCheckResponse_ServingStatus
}

func (s *contextStream) Context() context.Context { return s.ctx }

func (s *contextStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if r, ok := m.(*healthpb.HealthCheckResponse); ok && err == nil {
		s.last = r.GetStatus()
	}
	return err
}
