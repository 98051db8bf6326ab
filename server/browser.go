package server

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/vanguard"
	"github.com/rs/cors"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// BrowserServices are the services BrowserHandler serves on the HTTP port;
// health and reflection stay on the gRPC port (HTTP has /healthz and /readyz).
var BrowserServices = []string{
	annalsv1.ArchiveService_ServiceDesc.ServiceName,
	annalsv1.ExportService_ServiceDesc.ServiceName,
}

// BrowserHandler returns ArchiveService and ExportService as an
// http.Handler for the HTTP port, speaking the protocols a browser can: the
// Connect protocol (JSON or protobuf, POST) and gRPC-Web, as well as gRPC
// itself over HTTP/2. It is connectrpc.com/vanguard's transcoder in front of
// the grpc.Server (its ServeHTTP): every call is turned into a gRPC call and
// runs through the same interceptors (logging, metrics, error mapping, panic
// recovery, import-token auth, decode check, default deadline), the same
// validation and the same message-size limits as on the gRPC port, and its
// status, with its details, is turned back into the caller's protocol.
//
// Web apps of any origin may call it (CORS; see browserCORS). Mount it at
// "/annals.v1.ArchiveService/" and "/annals.v1.ExportService/"
// (HTTPConfig.API does). Call it after every service is registered.
func (s *Server) BrowserHandler() (http.Handler, error) {
	info := s.grpc.GetServiceInfo()
	var services []*vanguard.Service
	for _, name := range BrowserServices {
		if _, ok := info[name]; !ok {
			return nil, fmt.Errorf("server: %s is not registered; register it before BrowserHandler", name)
		}
		services = append(services, vanguard.NewService(name, s.grpc))
	}
	limit := int64(max(s.maxRecv, s.maxSend))
	t, err := vanguard.NewTranscoder(services,
		vanguard.WithCodec(newJSONCodec),
		vanguard.WithCompression(vanguard.CompressionGzip,
			func() connect.Compressor { return gzip.NewWriter(io.Discard) },
			func() connect.Decompressor { return &gunzip{limit: limit} }),
		vanguard.WithDefaultServiceOptions(
			// The grpc.Server speaks gRPC with protobuf only (its codec is
			// forced: see codec.go); vanguard turns JSON into protobuf first.
			vanguard.WithTargetProtocols(vanguard.ProtocolGRPC),
			vanguard.WithTargetCodecs(vanguard.CodecProto),
			// Nor does it decompress (grpc-go registers no gzip unless asked):
			// vanguard decompresses a gzip request and compresses the answer.
			vanguard.WithNoTargetCompression(),
			// What vanguard buffers of one message, each way: the larger of the
			// two gRPC limits. The gRPC server then applies its own limits to
			// the protobuf message, as it does on the gRPC port
			// (ResourceExhausted past MaxRecvMsgBytes).
			vanguard.WithMaxMessageBufferBytes(uint32(limit)),
		))
	if err != nil {
		return nil, err
	}
	return browserCORS.Handler(t), nil
}

// browserCORS lets web apps of any origin call the API (CORS): reads are
// open to all, and ImportDocument needs a bearer token the app must send
// itself — the browser adds no cookie or other credential of its own, so
// no origin can act with a visitor's rights. Preflights are cached for two
// hours. The headers are the ones Connect and gRPC-Web use (connectrpc.com/cors),
// with Authorization and X-Request-Id.
var browserCORS = cors.New(cors.Options{
	AllowedOrigins: []string{"*"},
	AllowedMethods: connectcors.AllowedMethods(),
	AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization", RequestIDHTTPHeader),
	ExposedHeaders: append(connectcors.ExposedHeaders(), RequestIDHTTPHeader),
	MaxAge:         int((2 * time.Hour).Seconds()),
})

// api serves an RPC of HTTPConfig.API. The gRPC side logs the call under
// the request's id (the interceptors read it from the x-request-id
// metadata). A server stream (ExportDataset) may run longer than
// HTTPWriteTimeout: its write deadline moves forward as messages go out,
// as a dataset download's does.
func (h *httpHandler) api(w http.ResponseWriter, r *http.Request) {
	r.Header.Set(RequestIDHTTPHeader, requestID(r.Context()))
	if connectUnaryPost(r) && r.Header.Get("Connect-Protocol-Version") == "" {
		// A Connect unary call need not say its protocol version (connect-go
		// servers accept it without), so that
		//   curl -H 'Content-Type: application/json' -d '{…}' …/GetEvent
		// works; vanguard would take it for a REST call, which no route has.
		r.Header.Set("Connect-Protocol-Version", "1")
	}
	if connectUnaryPost(r) && isJSON(r) {
		// An empty body is the empty message in protobuf; vanguard fails
		// it as JSON (Internal). Read it as {} in JSON too.
		r.Body = &emptyAsJSON{r: r.Body}
		if r.ContentLength == 0 {
			r.ContentLength = -1
		}
	}
	h.cfg.API.ServeHTTP(&apiWriter{ResponseWriter: w, progress: newProgressWriter(w)}, r)
}

// apiWriter is a ResponseWriter whose writes move the write deadline
// forward (progressWriter), and which vanguard can flush. The request id
// is sent once, although both the HTTP side and the gRPC side set it.
type apiWriter struct {
	http.ResponseWriter
	progress   *progressWriter
	headerDone bool
}

func (w *apiWriter) WriteHeader(code int) {
	if !w.headerDone && code >= 200 {
		w.headerDone = true
		if ids := w.Header().Values(RequestIDHTTPHeader); len(ids) > 1 {
			w.Header().Set(RequestIDHTTPHeader, ids[0])
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *apiWriter) Write(b []byte) (int, error) {
	if !w.headerDone {
		w.WriteHeader(http.StatusOK)
	}
	return w.progress.Write(b)
}

// Flush sends what is buffered: each message of a stream goes out at once.
func (w *apiWriter) Flush() {
	if !w.headerDone {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.progress.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *apiWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// connectUnaryPost reports whether r has the form of a Connect unary call:
// a POST whose Content-Type is application/json or application/proto (with
// parameters, as "application/json; charset=utf-8").
func connectUnaryPost(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "application/json", "application/proto":
		return true
	}
	return false
}

// jsonCodec is the JSON of the Connect and gRPC-Web protocols: protojson
// as grpcurl prints it (unset fields left out), unknown fields ignored as
// protobuf ignores them, and a request that is not JSON of its message
// refused with InvalidArgument (reason MALFORMED_REQUEST), as undecodable
// protobuf is on the gRPC port, instead of vanguard's Unknown.
type jsonCodec struct{ vanguard.JSONCodec }

func newJSONCodec(res vanguard.TypeResolver) vanguard.Codec {
	return jsonCodec{vanguard.JSONCodec{
		MarshalOptions:   protojson.MarshalOptions{Resolver: res},
		UnmarshalOptions: protojson.UnmarshalOptions{Resolver: res, DiscardUnknown: true},
	}}
}

func (c jsonCodec) Unmarshal(data []byte, msg proto.Message) error {
	err := c.JSONCodec.Unmarshal(data, msg)
	if err == nil {
		return nil
	}
	// protojson's messages start "proto: "; what follows says where and what.
	why := strings.TrimSpace(strings.TrimPrefix(err.Error(), "proto:"))
	ce := connect.NewError(connect.CodeInvalidArgument,
		fmt.Errorf("malformed request: not a valid %s in JSON: %s", msg.ProtoReflect().Descriptor().FullName(), clip(why)))
	if d, derr := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: ReasonMalformedRequest, Domain: ErrorDomain}); derr == nil {
		ce.AddDetail(d)
	}
	return ce
}

// gunzip decompresses a gzip request for vanguard. Unlike vanguard's own, it
// refuses a body that is not gzip with InvalidArgument (not Unknown), and
// stops one that inflates past limit with ResourceExhausted, as a message
// above the gRPC limit is, before it fills memory.
type gunzip struct {
	zr    gzip.Reader
	n     int64
	limit int64
}

func (g *gunzip) Reset(r io.Reader) error {
	g.n = 0
	if err := g.zr.Reset(r); err != nil {
		return badGzip(err)
	}
	return nil
}

func (g *gunzip) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	g.n += int64(n)
	switch {
	case g.n > g.limit:
		return n, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("the request inflates to more than %d bytes", g.limit))
	case err != nil && !errors.Is(err, io.EOF):
		return n, badGzip(err)
	}
	return n, err
}

func (g *gunzip) Close() error { return g.zr.Close() }

func badGzip(err error) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the request body is not valid gzip (Content-Encoding: gzip): %s", clip(err.Error())))
}

// isJSON reports whether the request's Content-Type is application/json.
func isJSON(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/json")
}

// emptyAsJSON reads r, or "{}" when r is empty.
type emptyAsJSON struct {
	r    io.ReadCloser
	some bool            // r gave a byte
	rest *strings.Reader // "{}" once r turned out empty
}

func (e *emptyAsJSON) Read(p []byte) (int, error) {
	if e.rest != nil {
		return e.rest.Read(p)
	}
	n, err := e.r.Read(p)
	if n > 0 {
		e.some = true
	}
	if errors.Is(err, io.EOF) && !e.some {
		e.rest = strings.NewReader("{}")
		return e.rest.Read(p)
	}
	return n, err
}

func (e *emptyAsJSON) Close() error { return e.r.Close() }
