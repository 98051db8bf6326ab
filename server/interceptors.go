package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// The interceptors run in this order, outermost first:
//
//	logging -> metrics -> errors -> recovery -> auth -> decode check -> default deadline (unary only) -> handler
//
// Logging is outermost so that every request, a recovered panic included,
// gets one log line with its final code and request id; it is a few lines
// that do not panic. The errors interceptor maps whatever the inner ones and
// the handler return through toStatus, so no error leaves unmapped (as
// Unknown); the metrics interceptor, outside it, counts the final codes.
// Recovery turns a panic into Internal and logs its stack. The
// decode check turns a request requestCodec could not decode (codec.go) into
// InvalidArgument; it comes after auth, so that a client without the token
// learns nothing more than Unauthenticated.

// RequestIDHeader is the metadata key of the request id: read from the
// request when the client sets it, generated otherwise, and sent back in the
// response header.
const RequestIDHeader = "x-request-id"

// writeMethods are the RPCs that need the import token.
var writeMethods = map[string]bool{
	annalsv1.ArchiveService_ImportDocument_FullMethodName: true,
}

// infrastructure reports whether method belongs to the health or reflection
// services, which are neither logged nor authenticated.
func infrastructure(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection.")
}

type requestIDKey struct{}

// requestID returns the request id stored in ctx, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// incomingRequestID returns the client's request id if it is usable
// (printable ASCII, at most 128 bytes), or a new random one.
func incomingRequestID(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if vs := md.Get(RequestIDHeader); len(vs) > 0 && usableRequestID(vs[0]) {
			return vs[0]
		}
	}
	return newRequestID()
}

// newRequestID returns a random request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func usableRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// interceptors builds the server's unary and stream interceptor chains.
type interceptors struct {
	log            *slog.Logger
	tokenHash      *[sha256.Size]byte // nil: no import token configured
	defaultTimeout time.Duration      // 0: none
	metrics        *Metrics           // nil: none
}

func (ic *interceptors) unary() []grpc.UnaryServerInterceptor {
	var metrics []grpc.UnaryServerInterceptor
	if ic.metrics != nil {
		metrics = append(metrics, ic.metrics.grpc.UnaryServerInterceptor())
	}
	return slices.Concat([]grpc.UnaryServerInterceptor{ic.logUnary}, metrics, []grpc.UnaryServerInterceptor{
		ic.mapErrorsUnary,
		recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(ic.recovered)),
		ic.authUnary,
		decodeUnary,
		ic.deadlineUnary,
	})
}

func (ic *interceptors) stream() []grpc.StreamServerInterceptor {
	// Streams get no default deadline: an export of the whole archive may
	// rightly take longer than any one read.
	var metrics []grpc.StreamServerInterceptor
	if ic.metrics != nil {
		metrics = append(metrics, ic.metrics.grpc.StreamServerInterceptor())
	}
	return slices.Concat([]grpc.StreamServerInterceptor{ic.logStream}, metrics, []grpc.StreamServerInterceptor{
		ic.mapErrorsStream,
		recovery.StreamServerInterceptor(recovery.WithRecoveryHandlerContext(ic.recovered)),
		ic.authStream,
		decodeStream,
	})
}

// logUnary gives the request an id and logs its method, code and duration
// (never its payload) when it ends.
func (ic *interceptors) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if infrastructure(info.FullMethod) {
		return handler(ctx, req)
	}
	id := incomingRequestID(ctx)
	ctx = context.WithValue(ctx, requestIDKey{}, id)
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
	start := time.Now()
	resp, err := handler(ctx, req)
	ic.logDone(ctx, info.FullMethod, "unary", start, err)
	return resp, err
}

func (ic *interceptors) logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if infrastructure(info.FullMethod) {
		return handler(srv, ss)
	}
	id := incomingRequestID(ss.Context())
	w := middleware.WrapServerStream(ss)
	w.WrappedContext = context.WithValue(ss.Context(), requestIDKey{}, id)
	_ = ss.SetHeader(metadata.Pairs(RequestIDHeader, id))
	start := time.Now()
	err := handler(srv, w)
	ic.logDone(w.WrappedContext, info.FullMethod, "stream", start, err)
	return err
}

func (ic *interceptors) logDone(ctx context.Context, method, kind string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelInfo
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		level = slog.LevelError
	}
	ic.log.LogAttrs(ctx, level, "request",
		slog.String("method", method),
		slog.String("kind", kind),
		slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", requestID(ctx)),
	)
}

// mapErrorsUnary maps every error of the inner interceptors and the handler
// to a status through toStatus.
func (ic *interceptors) mapErrorsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, ic.log, err).Err()
	}
	return resp, nil
}

func (ic *interceptors) mapErrorsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := handler(srv, ss); err != nil {
		return toStatus(ss.Context(), ic.log, err).Err()
	}
	return nil
}

// recovered logs a handler's panic with its stack and returns errPanic,
// which toStatus maps to Internal without any of the detail.
func (ic *interceptors) recovered(ctx context.Context, p any) error {
	ic.log.LogAttrs(ctx, slog.LevelError, "panic in handler", requestAttrs(ctx,
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())),
	)...)
	return errPanic
}

func (ic *interceptors) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := ic.authorize(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (ic *interceptors) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := ic.authorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// authorize lets reads through and checks the bearer token of writes against
// the import token in constant time (both are hashed first, so not even the
// length leaks). The token is never logged.
func (ic *interceptors) authorize(ctx context.Context, method string) error {
	if !writeMethods[method] {
		return nil
	}
	if ic.tokenHash == nil {
		return errImportsDisabled
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vs := md.Get("authorization")
	if len(vs) != 1 {
		return errMissingToken
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(vs[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errMissingToken
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], ic.tokenHash[:]) != 1 {
		return errWrongToken
	}
	return nil
}

// deadlineUnary gives requests that arrive without a deadline the default one.
func (ic *interceptors) deadlineUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if ic.defaultTimeout <= 0 || infrastructure(info.FullMethod) {
		return handler(ctx, req)
	}
	if _, ok := ctx.Deadline(); ok {
		return handler(ctx, req)
	}
	ctx, cancel := context.WithTimeout(ctx, ic.defaultTimeout)
	defer cancel()
	return handler(ctx, req)
}

// decodeUnary refuses a request that requestCodec could not decode.
func decodeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := checkDecoded(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// decodeStream refuses, on the stream, each message requestCodec could not decode.
func decodeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, decodeCheckedStream{ss})
}

type decodeCheckedStream struct{ grpc.ServerStream }

func (s decodeCheckedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return checkDecoded(m)
}
