package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
)

// The browser protocols (Connect, gRPC-Web) reach the same grpc.Server
// through vanguard. These tests call every RPC over each of them and over
// gRPC itself, and check that the answers — codes, messages, details,
// records — are the same.

// browserEnv is a Server on bufconn and, over a loopback socket, the HTTP
// side with the browser API mounted, on one store and one Metrics.
type browserEnv struct {
	*env
	http    *httptest.Server
	metrics *Metrics
}

func newBrowserEnv(t *testing.T, cfg Config) *browserEnv {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeStore()
	st := InstrumentStore(fake, m)
	cfg.Store, cfg.Metrics = st, m
	if cfg.Import == nil {
		cfg.Import = ingest.Import
	}
	e := &env{logs: &syncBuffer{}, store: fake}
	cfg.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	x, err := exporter.New("http://annals.test")
	if err != nil {
		t.Fatal(err)
	}
	RegisterExportService(srv, st, x, 0)
	srv.SetServing(true)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	e.conn = dialBufconn(t, lis, grpc.WithDefaultCallOptions(grpc.ForceCodec(sweepCodec{}), grpc.MaxCallSendMsgSize(math.MaxInt32)))
	e.client = annalsv1.NewArchiveServiceClient(e.conn)
	api, err := e.srv.BrowserHandler()
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTPHandler(HTTPConfig{Store: st, Exporter: x, Metrics: m, API: api,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(h)
	hs.Config = NewHTTPServer(h)
	hs.Start()
	t.Cleanup(hs.Close)
	return &browserEnv{env: e, http: hs, metrics: m}
}

// anyMsg carries a request or response through connect-go's generic client
// whatever its type: a proto.Message, or a rawMsg sent as it is.
type anyMsg struct{ m any }

// anyCodec encodes anyMsg as protobuf or protojson; it decodes responses
// into newResp's messages.
type anyCodec struct {
	json    bool
	newResp func() proto.Message
}

func (c anyCodec) Name() string {
	if c.json {
		return "json"
	}
	return "proto"
}

func (c anyCodec) Marshal(v any) ([]byte, error) {
	if a, ok := v.(*anyMsg); ok {
		v = a.m
	}
	switch m := v.(type) {
	case rawMsg:
		return bytes.Clone(m), nil // connect-go may reuse the buffer it is given
	case proto.Message:
		if c.json {
			return protojson.Marshal(m)
		}
		return proto.Marshal(m)
	default:
		return nil, errors.New("anyCodec: not a message")
	}
}

func (c anyCodec) Unmarshal(b []byte, v any) error {
	// connect-go also decodes the google.rpc.Status of a gRPC-Web error
	// with the client's codec.
	m, ok := v.(proto.Message)
	if a, isAny := v.(*anyMsg); isAny {
		m, ok = c.newResp(), true
		a.m = m
	}
	if !ok {
		return errors.New("anyCodec: not a message")
	}
	if c.json {
		return protojson.Unmarshal(b, m)
	}
	return proto.Unmarshal(b, m)
}

// browserProtocol is one way of calling the HTTP side.
type browserProtocol struct {
	name string
	opts []connect.ClientOption
	json bool
}

var browserProtocols = []browserProtocol{
	{name: "connect+proto"},
	{name: "connect+json", json: true},
	{name: "grpc-web+proto", opts: []connect.ClientOption{connect.WithGRPCWeb()}},
	{name: "grpc-web+json", opts: []connect.ClientOption{connect.WithGRPCWeb()}, json: true},
}

// outcome is what a call got, in a form that compares across protocols.
type outcome struct {
	code    codes.Code
	message string
	details []proto.Message
	resp    []proto.Message // the response, or a stream's messages
}

func (o outcome) String() string {
	var b strings.Builder
	b.WriteString(o.code.String() + " " + o.message)
	for _, d := range o.details {
		b.WriteString("\n  detail " + string(d.ProtoReflect().Descriptor().FullName()) + " " + prototext.Format(d))
	}
	for _, r := range o.resp {
		b.WriteString("\n  resp " + clip(prototext.Format(r)))
	}
	return b.String()
}

func (o outcome) equal(p outcome) bool {
	if o.code != p.code || o.message != p.message || len(o.details) != len(p.details) || len(o.resp) != len(p.resp) {
		return false
	}
	for i := range o.details {
		if !proto.Equal(o.details[i], p.details[i]) {
			return false
		}
	}
	for i := range o.resp {
		if !proto.Equal(o.resp[i], p.resp[i]) {
			return false
		}
	}
	return true
}

func grpcOutcome(err error, resp ...proto.Message) outcome {
	if err != nil {
		st := status.Convert(err)
		o := outcome{code: st.Code(), message: st.Message()}
		for _, d := range st.Details() {
			m, ok := d.(proto.Message)
			if !ok {
				m = &annalsv1.Event{} // an undecodable detail never equals a decoded one
			}
			o.details = append(o.details, m)
		}
		return o
	}
	return outcome{resp: resp}
}

func connectOutcome(err error, resp ...proto.Message) outcome {
	if err == nil {
		return outcome{resp: resp}
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return outcome{code: codes.Unknown, message: err.Error()}
	}
	o := outcome{code: codes.Code(ce.Code()), message: ce.Message()}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			v = &annalsv1.Event{}
		}
		o.details = append(o.details, v)
	}
	return o
}

// rpcCall is one call of a browser test.
type rpcCall struct {
	name   string
	method string // full method name, "/annals.v1.ArchiveService/GetEvent"
	stream bool
	req    any // proto.Message or rawMsg
	resp   func() proto.Message
	token  string // the authorization header, if any
}

// viaGRPC makes c over the gRPC port.
func (e *browserEnv) viaGRPC(ctx context.Context, c rpcCall) outcome {
	if c.token != "" {
		ctx = withAuthorization(ctx, c.token)
	}
	if c.stream {
		var got []proto.Message
		s, err := e.conn.NewStream(ctx, &streamDesc, c.method)
		if err == nil {
			err = s.SendMsg(c.req)
		}
		if err == nil {
			err = s.CloseSend()
		}
		for err == nil {
			m := c.resp()
			if err = s.RecvMsg(m); err == nil {
				got = append(got, m)
			}
		}
		if err == io.EOF {
			err = nil
		}
		return grpcOutcome(err, got...)
	}
	m := c.resp()
	if err := e.conn.Invoke(ctx, c.method, c.req, m); err != nil {
		return grpcOutcome(err)
	}
	return grpcOutcome(nil, m)
}

// viaHTTP makes c over the HTTP port in protocol p.
func (e *browserEnv) viaHTTP(ctx context.Context, p browserProtocol, c rpcCall) outcome {
	return callHTTP(ctx, e.http, p, c)
}

// callHTTP makes c on hs in protocol p.
func callHTTP(ctx context.Context, hs *httptest.Server, p browserProtocol, c rpcCall) outcome {
	codec := anyCodec{json: p.json, newResp: c.resp}
	client := connect.NewClient[anyMsg, anyMsg](hs.Client(), hs.URL+c.method, append([]connect.ClientOption{connect.WithCodec(codec)}, p.opts...)...)
	req := connect.NewRequest(&anyMsg{m: c.req})
	if c.token != "" {
		req.Header().Set("Authorization", c.token)
	}
	if c.stream {
		s, err := client.CallServerStream(ctx, req)
		if err != nil {
			return connectOutcome(err)
		}
		defer s.Close()
		var got []proto.Message
		for s.Receive() {
			got = append(got, s.Msg().m.(proto.Message))
		}
		return connectOutcome(s.Err(), got...)
	}
	resp, err := client.CallUnary(ctx, req)
	if err != nil {
		return connectOutcome(err)
	}
	m, ok := resp.Msg.m.(proto.Message)
	if !ok {
		m = c.resp() // an empty message may arrive without a decode
	}
	return connectOutcome(nil, m)
}

// browserCalls are calls that succeed and calls that fail in every way the
// service fails: validation, paging, not found, auth, documents, exports.
func browserCalls() []rpcCall {
	ev := func() proto.Message { return &annalsv1.GetEventResponse{} }
	list := func() proto.Message { return &annalsv1.ListEventsResponse{} }
	imp := func() proto.Message { return &annalsv1.ImportDocumentResponse{} }
	exp := func() proto.Message { return &annalsv1.ExportResourceResponse{} }
	const harbour = "June 2, 1802\n\nA harbour opened.\n\nPort Alder, Westmark | Town Council of Alder\n\nAlder Harbour Opening\n\nBackground\n\nA long story.\n"
	bearer := "Bearer " + testToken
	return []rpcCall{
		{name: "GetEvent", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: pact}, resp: ev},
		{name: "GetEvent unknown", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: "events/no-such-event"}, resp: ev},
		{name: "GetEvent malformed name", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: "events/../actors/x"}, resp: ev},
		{name: "GetEvent of an actor", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: molotov}, resp: ev},
		{name: "GetEvent broken wire format", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: rawMsg{0x0a, 0x20, 'a'}, resp: ev},
		{name: "GetEvent invalid UTF-8", method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: withRaw(&annalsv1.GetEventRequest{}, "name", "events/\xff"), resp: ev},
		{name: "GetActor", method: annalsv1.ArchiveService_GetActor_FullMethodName, req: &annalsv1.GetActorRequest{Name: molotov}, resp: func() proto.Message { return &annalsv1.GetActorResponse{} }},
		{name: "GetPlace", method: annalsv1.ArchiveService_GetPlace_FullMethodName, req: &annalsv1.GetPlaceRequest{Name: moscow}, resp: func() proto.Message { return &annalsv1.GetPlaceResponse{} }},
		{name: "GetSource", method: annalsv1.ArchiveService_GetSource_FullMethodName, req: &annalsv1.GetSourceRequest{Name: pactSource}, resp: func() proto.Message { return &annalsv1.GetSourceResponse{} }},
		{name: "ListEvents on this day", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{Month: 4, Day: 13}, resp: list},
		{name: "ListEvents 1939 to 1945, precision inferred", method: annalsv1.ArchiveService_ListEvents_FullMethodName,
			req: &annalsv1.ListEventsRequest{StartDate: &annalsv1.HistoricalDate{Year: 1939}, EndDate: &annalsv1.HistoricalDate{Year: 1945}}, resp: list},
		{name: "ListEvents first page", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{PageSize: 2}, resp: list},
		{name: "ListEvents bad fields", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{Month: 13, Day: 40, PageSize: -1, WikidataId: "x"}, resp: list},
		{name: "ListEvents garbage token", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{PageToken: "abc"}, resp: list},
		{name: "ListEvents query of no words", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{Query: `"*"`}, resp: list},
		{name: "ListEvents query too long", method: annalsv1.ArchiveService_ListEvents_FullMethodName, req: &annalsv1.ListEventsRequest{Query: strings.Repeat("a", MaxQueryBytes+1)}, resp: list},
		{name: "ListActors", method: annalsv1.ArchiveService_ListActors_FullMethodName, req: &annalsv1.ListActorsRequest{Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON}, resp: func() proto.Message { return &annalsv1.ListActorsResponse{} }},
		{name: "ListActors unknown kind", method: annalsv1.ArchiveService_ListActors_FullMethodName, req: &annalsv1.ListActorsRequest{Kind: 99}, resp: func() proto.Message { return &annalsv1.ListActorsResponse{} }},
		{name: "ListPlaces", method: annalsv1.ArchiveService_ListPlaces_FullMethodName, req: &annalsv1.ListPlacesRequest{}, resp: func() proto.Message { return &annalsv1.ListPlacesResponse{} }},
		{name: "ImportDocument without a token", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: harbour, ValidateOnly: true}, resp: imp},
		{name: "ImportDocument with a wrong token", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: harbour, ValidateOnly: true}, token: "Bearer nope", resp: imp},
		{name: "ImportDocument with Basic auth", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: harbour, ValidateOnly: true}, token: "Basic " + testToken, resp: imp},
		{name: "ImportDocument validate only", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: harbour, Filename: "harbour.txt", ValidateOnly: true}, token: bearer, resp: imp},
		{name: "ImportDocument impossible date", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: "February 30, 1941\n\nA meeting.\n", Filename: "feb.txt"}, token: bearer, resp: imp},
		{name: "ImportDocument too large", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: strings.Repeat("a", ingest.MaxDocumentBytes+1)}, token: bearer, resp: imp},
		{name: "ImportDocument bad filename", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: harbour, Filename: "a\nb"}, token: bearer, resp: imp},
		{name: "request above the gRPC limit", method: annalsv1.ArchiveService_ImportDocument_FullMethodName, req: &annalsv1.ImportDocumentRequest{Text: strings.Repeat("a", DefaultMaxRecvMsgBytes+1)}, token: bearer, resp: imp},
		{name: "ExportResource", method: annalsv1.ExportService_ExportResource_FullMethodName, req: &annalsv1.ExportResourceRequest{Name: moscow, Format: annalsv1.RdfFormat_RDF_FORMAT_TURTLE}, resp: exp},
		{name: "ExportResource bad format", method: annalsv1.ExportService_ExportResource_FullMethodName, req: &annalsv1.ExportResourceRequest{Name: moscow, Format: 99}, resp: exp},
		{name: "ExportDataset", method: annalsv1.ExportService_ExportDataset_FullMethodName, stream: true, req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES}, resp: func() proto.Message { return &annalsv1.ExportDatasetResponse{} }},
		{name: "ExportDataset bad format", method: annalsv1.ExportService_ExportDataset_FullMethodName, stream: true, req: &annalsv1.ExportDatasetRequest{Format: 99}, resp: func() proto.Message { return &annalsv1.ExportDatasetResponse{} }},
	}
}

// TestBrowserProtocolsMatchGRPC makes each call over gRPC and over Connect
// and gRPC-Web (protobuf and JSON): every protocol gets the same code,
// message, details and records.
func TestBrowserProtocolsMatchGRPC(t *testing.T) {
	e := newBrowserEnv(t, Config{ImportToken: testToken})
	for _, c := range browserCalls() {
		t.Run(c.name, func(t *testing.T) {
			want := e.viaGRPC(t.Context(), c)
			for _, p := range browserProtocols {
				if _, raw := c.req.(rawMsg); raw && p.json {
					continue // bytes that are not protobuf have no JSON form
				}
				if got := e.viaHTTP(t.Context(), p, c); !got.equal(want) {
					t.Errorf("%s:\n%s\nwant (as over gRPC):\n%s", p.name, got, want)
				}
			}
		})
	}
}

// TestBrowserImportsDisabled: a server without an import token refuses
// imports with PermissionDenied over every protocol, token or not.
func TestBrowserImportsDisabled(t *testing.T) {
	e := newBrowserEnv(t, Config{})
	for _, token := range []string{"", "Bearer " + testToken} {
		c := rpcCall{method: annalsv1.ArchiveService_ImportDocument_FullMethodName, token: token,
			req: &annalsv1.ImportDocumentRequest{Text: "1941\n", ValidateOnly: true}, resp: func() proto.Message { return &annalsv1.ImportDocumentResponse{} }}
		want := e.viaGRPC(t.Context(), c)
		if want.code != codes.PermissionDenied {
			t.Fatalf("over gRPC with token %q: %v, want PermissionDenied", token, want)
		}
		for _, p := range browserProtocols {
			if got := e.viaHTTP(t.Context(), p, c); !got.equal(want) {
				t.Errorf("%s with token %q:\n%s\nwant:\n%s", p.name, token, got, want)
			}
		}
	}
}

// TestBrowserImportStores: an import over Connect with the token stores the
// event, which gRPC then reads.
func TestBrowserImportStores(t *testing.T) {
	e := newBrowserEnv(t, Config{ImportToken: testToken})
	doc := "June 2, 1802\n\nA harbour opened.\n\nPort Alder, Westmark | Town Council of Alder\n\nAlder Harbour Opening\n\nBackground\n\nA long story.\n"
	c := rpcCall{method: annalsv1.ArchiveService_ImportDocument_FullMethodName, token: "Bearer " + testToken,
		req: &annalsv1.ImportDocumentRequest{Text: doc, Filename: "harbour.txt"}, resp: func() proto.Message { return &annalsv1.ImportDocumentResponse{} }}
	got := e.viaHTTP(t.Context(), browserProtocols[1], c)
	if got.code != codes.OK || got.resp[0].(*annalsv1.ImportDocumentResponse).GetEvent() != "events/alder-harbour-opening" {
		t.Fatalf("ImportDocument over Connect: %v", got)
	}
	if _, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: "events/alder-harbour-opening"}); err != nil {
		t.Errorf("GetEvent of the imported event over gRPC: %v", err)
	}
}

// TestBrowserMetricsAndLogs: calls over the HTTP side are counted by the
// gRPC metrics (method and code) and the HTTP metrics (route), and logged
// on both sides under one request id.
func TestBrowserMetricsAndLogs(t *testing.T) {
	e := newBrowserEnv(t, Config{})
	c := rpcCall{method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: "events/no-such-event"},
		resp: func() proto.Message { return &annalsv1.GetEventResponse{} }}
	for _, p := range browserProtocols {
		e.viaHTTP(t.Context(), p, c)
	}
	resp, err := e.http.Client().Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetEvent",grpc_service="annals.v1.ArchiveService",grpc_type="unary"} 4`,
		`annals_http_requests_total{code="200",method="POST",route="/annals.v1.ArchiveService/"} 2`, // gRPC-Web answers 200 with the status in trailers
		`annals_http_requests_total{code="404",method="POST",route="/annals.v1.ArchiveService/"} 2`, // Connect unary maps the code to HTTP
		`annals_store_operation_duration_seconds_count{operation="GetEvent",outcome="not_found"} 4`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// One request id on the HTTP line and the gRPC line of each call.
	req, _ := http.NewRequest("POST", e.http.URL+c.method, strings.NewReader(`{"name": "events/no-such-event"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(RequestIDHTTPHeader, "browser-call-1")
	r, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if got := r.Header.Values(RequestIDHTTPHeader); len(got) != 1 || got[0] != "browser-call-1" {
		t.Errorf("X-Request-Id in the response = %q, want one browser-call-1", got)
	}
	logs := e.logs.String()
	for _, re := range []string{
		`"msg":"http request".*"route":"/annals.v1.ArchiveService/".*"request_id":"browser-call-1"`,
		`"msg":"request".*"method":"/annals.v1.ArchiveService/GetEvent".*"code":"NotFound".*"request_id":"browser-call-1"`,
	} {
		if !regexp.MustCompile(re).MatchString(logs) {
			t.Errorf("no log line matches %s:\n%s", re, logs)
		}
	}
}

// TestBrowserHandlerNeedsServices: BrowserHandler refuses a server without
// ExportService, rather than serving half the API.
func TestBrowserHandlerNeedsServices(t *testing.T) {
	srv, err := New(Config{Store: store.Store(newFakeStore())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.BrowserHandler(); err == nil {
		t.Error("BrowserHandler without ExportService succeeded")
	}
}

var streamDesc = grpc.StreamDesc{ServerStreams: true}

// withAuthorization sets the authorization metadata to v as it is.
func withAuthorization(ctx context.Context, v string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", v)
}

// TestBadInputSweepBrowser sends the hostile requests of TestBadInputSweepRPC
// over Connect and gRPC-Web: each gets the code it gets over gRPC, with a
// message a person can act on.
func TestBadInputSweepBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the bundled archive into SQLite")
	}
	e := newSweepEnv(t)
	rpcs := e.sweepRPCs(t)
	for _, p := range []browserProtocol{browserProtocols[0], browserProtocols[2]} {
		for _, r := range rpcs {
			short := r.method[strings.LastIndex(r.method, "/")+1:]
			for _, c := range r.cases {
				t.Run(p.name+"/"+short+"/"+c.name, func(t *testing.T) {
					got := callHTTP(t.Context(), e.http, p, rpcCall{method: r.method, stream: r.stream, req: c.req, resp: r.resp, token: c.token})
					var err error
					if got.code != codes.OK {
						err = status.Error(got.code, got.message)
					}
					checkSweep(t, err, c.want, c.msg)
				})
			}
		}
	}
	if l := e.logs.String(); strings.Contains(l, testToken) {
		t.Error("the import token appears in the logs")
	}
}

// TestBrowserGzip: a gzip-compressed Connect request is served; a body that
// is not gzip is InvalidArgument, and one that inflates past the message
// limit is ResourceExhausted before it is inflated whole.
func TestBrowserGzip(t *testing.T) {
	e := newBrowserEnv(t, Config{})
	c := rpcCall{method: annalsv1.ArchiveService_GetEvent_FullMethodName, req: &annalsv1.GetEventRequest{Name: pact},
		resp: func() proto.Message { return &annalsv1.GetEventResponse{} }}
	p := browserProtocol{name: "connect+proto, gzip", opts: []connect.ClientOption{connect.WithSendGzip()}}
	if got, want := e.viaHTTP(t.Context(), p, c), e.viaGRPC(t.Context(), c); !got.equal(want) {
		t.Errorf("gzip request:\n%s\nwant:\n%s", got, want)
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write([]byte(`{"name": "`))
	zw.Write(bytes.Repeat([]byte("a"), 2*DefaultMaxSendMsgBytes))
	zw.Write([]byte(`"}`))
	zw.Close()
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"not gzip", []byte(`{"name": "events/x"}`), http.StatusBadRequest},
		{"inflates past the limit", bomb.Bytes(), http.StatusTooManyRequests},
	} {
		req, _ := http.NewRequest("POST", e.http.URL+c.method, bytes.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.want)
		}
	}
}

// apiPatterns are the routes HTTPConfig.API is mounted on.
func apiPatterns() []string {
	var ps []string
	for _, name := range BrowserServices {
		ps = append(ps, "/"+name+"/")
	}
	return ps
}

// TestBadInputSweepBrowserHTTP sends the API's routes odd HTTP requests:
// other methods, paths, content types, bodies and headers. None gets a 5xx
// but gRPC over HTTP/1.1 (505), and each gets a message.
func TestBadInputSweepBrowserHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the bundled archive into SQLite")
	}
	e := newSweepEnv(t)
	type apiCase struct {
		name   string
		method string
		path   string // after the service's prefix
		ctype  string
		body   string
		header []string
		want   int
	}
	const (
		ok       = http.StatusOK
		bad      = http.StatusBadRequest
		notFound = http.StatusNotFound
	)
	cases := map[string][]apiCase{}
	for _, svc := range BrowserServices {
		good, body := "GetEvent", `{"name": "`+validEvent+`"}`
		if svc == annalsv1.ExportService_ServiceDesc.ServiceName {
			good, body = "ExportResource", `{"name": "places/moscow", "format": "RDF_FORMAT_TURTLE"}`
		}
		cases[svc] = []apiCase{
			{"good", "POST", good, "application/json", body, nil, ok},
			{"good with charset", "POST", good, "application/json; charset=utf-8", body, nil, ok},
			{"good with protocol version", "POST", good, "application/json", body, []string{"Connect-Protocol-Version", "1"}, ok},
			{"GET without a message", "GET", good, "", "", nil, notFound},
			{"GET as Connect", "GET", good + "?connect=v1&encoding=json&message=%7B%7D", "", "", nil, http.StatusMethodNotAllowed},
			{"HEAD", "HEAD", good, "", "", nil, notFound},
			{"PUT", "PUT", good, "application/json", body, nil, notFound},
			{"DELETE", "DELETE", good, "application/json", body, nil, notFound},
			{"OPTIONS", "OPTIONS", good, "", "", nil, notFound},
			{"made-up method", "BREW", good, "application/json", body, nil, notFound},
			{"unknown RPC", "POST", "Nope", "application/json", "{}", nil, notFound},
			{"no RPC", "POST", "", "application/json", "{}", nil, notFound},
			{"RPC with a suffix", "POST", good + "/x", "application/json", "{}", nil, notFound},
			{"RPC upper case", "POST", strings.ToUpper(good), "application/json", "{}", nil, notFound},
			{"truncated JSON", "POST", good, "application/json", "{", nil, bad},
			{"JSON of the wrong type", "POST", good, "application/json", `{"name": 5}`, nil, bad},
			{"JSON array", "POST", good, "application/json", `[]`, nil, bad},
			{"JSON with invalid UTF-8", "POST", good, "application/json", "{\"name\": \"events/\xff\"}", nil, bad},
			{"JSON with a lone surrogate", "POST", good, "application/json", `{"name": "\udcff"}`, nil, bad},
			{"JSON nested 10000 deep", "POST", good, "application/json", strings.Repeat(`{"a":`, tenThousand), nil, bad},
			{"JSON of 10000 unknown fields", "POST", good, "application/json", "{" + strings.Repeat(`"x":1,`, tenThousand) + `"y":1}`, nil, bad}, // and no name
			{"JSON of 10000 unknown fields and a name", "POST", good, "application/json", "{" + strings.Repeat(`"x":1,`, tenThousand) + body[1:], nil, ok},
			{"empty body: the empty message", "POST", good, "application/json", "", nil, bad}, // no name
			{"chunked empty body", "POST", good, "application/json", "chunked", nil, bad},     // no name
			{"broken protobuf", "POST", good, "application/proto", "\x0a\x20a", nil, bad},
			{"text/plain", "POST", good, "text/plain", body, nil, notFound},
			{"unknown application type", "POST", good, "application/xml", body, nil, notFound},
			{"two content types", "POST", good, "", body, []string{"Content-Type", "application/json", "Content-Type", "application/proto"}, http.StatusUnsupportedMediaType},
			{"Connect stream type for a unary RPC", "POST", good, "application/connect+json", body, nil, http.StatusUnsupportedMediaType},
			{"gRPC-Web with a broken envelope", "POST", good, "application/grpc-web+proto", "\x00\x00\x00\x00\x09abc", nil, ok}, // the status is in the trailers
			{"gRPC over HTTP/1.1", "POST", good, "application/grpc", "\x00\x00\x00\x00\x00", nil, http.StatusHTTPVersionNotSupported},
			{"bad Connect-Timeout-Ms", "POST", good, "application/json", body, []string{"Connect-Timeout-Ms", "soon"}, bad},
			{"unknown protocol version", "POST", good, "application/json", body, []string{"Connect-Protocol-Version", "2"}, notFound},
			{"gzip that is not", "POST", good, "application/json", body, []string{"Content-Encoding", "gzip"}, bad},
			{"unknown encoding", "POST", good, "application/json", body, []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType},
			{"body above the gRPC limit", "POST", good, "application/json", `{"name": "` + strings.Repeat("a", DefaultMaxRecvMsgBytes) + `"}`, nil, http.StatusTooManyRequests},
		}
	}
	cases[annalsv1.ArchiveService_ServiceDesc.ServiceName] = append(cases[annalsv1.ArchiveService_ServiceDesc.ServiceName],
		apiCase{"import without a token", "POST", "ImportDocument", "application/json", `{"text": "1941"}`, nil, http.StatusUnauthorized},
		apiCase{"import with a cookie, no token", "POST", "ImportDocument", "application/json", `{"text": "1941"}`, []string{"Cookie", "authorization=Bearer " + testToken}, http.StatusUnauthorized},
		apiCase{"import with the token in the query", "POST", "ImportDocument?authorization=Bearer+" + testToken, "application/json", `{"text": "1941"}`, nil, http.StatusUnauthorized},
	)
	cases[annalsv1.ExportService_ServiceDesc.ServiceName] = append(cases[annalsv1.ExportService_ServiceDesc.ServiceName],
		apiCase{"server stream over Connect unary", "POST", "ExportDataset", "application/json", `{}`, nil, http.StatusUnsupportedMediaType},
	)
	grpcClient := annalsv1.NewArchiveServiceClient(e.conn)
	for _, svc := range BrowserServices {
		hostile := 0
		for _, c := range cases[svc] {
			if c.want >= 400 {
				hostile++
			}
		}
		if hostile < 10 {
			t.Errorf("route /%s/ has %d hostile cases, want at least 10", svc, hostile)
		}
		for _, c := range cases[svc] {
			t.Run(svc+"/"+c.name, func(t *testing.T) {
				var rd io.Reader = strings.NewReader(c.body)
				if c.body == "chunked" {
					rd = io.MultiReader() // no length: sent chunked, and empty
				}
				req, err := http.NewRequestWithContext(t.Context(), c.method, e.http.URL+"/"+svc+"/"+c.path, rd)
				if err != nil {
					t.Fatal(err)
				}
				if c.ctype != "" {
					req.Header.Set("Content-Type", c.ctype)
				}
				for i := 0; i+1 < len(c.header); i += 2 {
					req.Header.Add(c.header[i], c.header[i+1])
				}
				resp, err := e.http.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body := string(b)
				if resp.StatusCode >= 500 && c.want < 500 {
					t.Fatalf("%d %q: never for bad input", resp.StatusCode, clip(body))
				}
				if resp.StatusCode != c.want {
					t.Errorf("%d %q, want %d", resp.StatusCode, clip(body), c.want)
				}
				if resp.StatusCode >= 400 && c.method != "HEAD" && len(strings.TrimSpace(body)) < 5 {
					t.Errorf("%d with body %q; want a message", resp.StatusCode, body)
				}
				for _, w := range []string{"goroutine", "sqlite", "panic", ".go:", `"unknown"`, `"internal"`} {
					if strings.Contains(body, w) && resp.StatusCode >= 400 {
						t.Errorf("%d: the body mentions %q: %q", resp.StatusCode, w, clip(body))
					}
				}
				if _, err := grpcClient.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: validEvent}); err != nil {
					t.Fatalf("GetEvent after the case: %v", err)
				}
			})
		}
	}
}

// TestBrowserCORS: a web app of another origin may call the API — the
// preflight allows the methods and headers Connect, gRPC-Web and imports
// use, and answers expose the gRPC status and request id — and no
// credentials are allowed. (Browsers send the preflight's header list sorted.)
func TestBrowserCORS(t *testing.T) {
	e := newBrowserEnv(t, Config{ImportToken: testToken})
	do := func(method string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, e.http.URL+annalsv1.ArchiveService_GetEvent_FullMethodName, strings.NewReader(`{"name": "`+pact+`"}`))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pre := do("OPTIONS", "Origin", "https://app.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,connect-protocol-version,connect-timeout-ms,content-type,x-grpc-web,x-user-agent")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d, Allow-Origin %q", pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
	}
	allowed := strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"content-type", "connect-protocol-version", "authorization", "x-grpc-web"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow %s: %q", h, allowed)
		}
	}
	if pre.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed")
	}
	got := do("POST", "Origin", "https://app.example", "Content-Type", "application/json")
	if got.StatusCode != http.StatusOK || got.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("call: %d, Allow-Origin %q", got.StatusCode, got.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(got.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"grpc-status", "grpc-message", "x-request-id"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s is not exposed: %q", h, exposed)
		}
	}
}
