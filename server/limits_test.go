package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/synth"
)

// The tests in this file fail when a limit of the README's Limits table
// regresses; cmd/annals checks that the table's defaults are these constants.

// TestMaxRecvMsgSize: a request above DefaultMaxRecvMsgBytes is refused by
// gRPC with ResourceExhausted, and the server keeps serving.
func TestMaxRecvMsgSize(t *testing.T) {
	e := newEnv(t, Config{ImportToken: testToken})
	big := strings.Repeat("x", DefaultMaxRecvMsgBytes+1)
	_, err := e.client.ImportDocument(withToken(t.Context(), testToken), &annalsv1.ImportDocumentRequest{Text: big})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("ImportDocument of %d bytes: %v, want ResourceExhausted", len(big), err)
	}
	_, err = e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: big})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("GetEvent with a %d-byte name: %v, want ResourceExhausted", len(big), err)
	}
	// Just under the limit is read, and refused for what it is.
	_, err = e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: big[:DefaultMaxRecvMsgBytes-16]})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("GetEvent with a name just under the limit: %v, want InvalidArgument", err)
	}
	if _, err := e.client.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: pact}); err != nil {
		t.Errorf("GetEvent after: %v", err)
	}
}

// TestDocumentSizeLimit: a document one byte over ingest.MaxDocumentBytes is
// InvalidArgument DOCUMENT_TOO_LARGE, before the importer sees it.
func TestDocumentSizeLimit(t *testing.T) {
	importer := func(context.Context, store.Store, string, []byte, ingest.Options) (*ingest.Report, error) {
		t.Error("the importer was called with a document above the limit")
		return nil, errors.New("called")
	}
	e := newEnv(t, Config{ImportToken: testToken, Import: importer})
	text := strings.Repeat("a", ingest.MaxDocumentBytes+1)
	_, err := e.client.ImportDocument(withToken(t.Context(), testToken), &annalsv1.ImportDocumentRequest{Text: text})
	checkErr(t, err, wantErr{code: codes.InvalidArgument, reason: ReasonDocumentTooLarge, fields: []string{"text"},
		msg: "limit is " + strconv.Itoa(ingest.MaxDocumentBytes)})
}

// rawHTTP2 opens an HTTP/2 connection to lis without gRPC's client and
// reads the server's first SETTINGS frame.
func rawHTTP2(t *testing.T, lis *bufconn.Listener) (*http2.Framer, *http2.SettingsFrame) {
	t.Helper()
	c, err := lis.DialContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's SETTINGS: %v", err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			return fr, sf
		}
	}
}

// dialBufconn is a client connection to lis, closed when the test ends.
func dialBufconn(t *testing.T, lis *bufconn.Listener, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///bufnet", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func serveOnBufconn(t *testing.T, cfg Config) *bufconn.Listener {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = newFakeStore()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	return lis
}

// TestMaxConcurrentStreams: the server advertises its per-connection stream
// limit in its SETTINGS, so clients queue RPCs past it instead of failing.
func TestMaxConcurrentStreams(t *testing.T) {
	for _, tt := range []struct {
		cfg  uint32
		want uint32
	}{{0, DefaultMaxConcurrentStreams}, {8, 8}} {
		lis := serveOnBufconn(t, Config{MaxConcurrentStreams: tt.cfg})
		_, sf := rawHTTP2(t, lis)
		got, ok := sf.Value(http2.SettingMaxConcurrentStreams)
		if !ok || got != tt.want {
			t.Errorf("Config.MaxConcurrentStreams %d: SETTINGS_MAX_CONCURRENT_STREAMS = %d (%v), want %d", tt.cfg, got, ok, tt.want)
		}
	}
}

// TestKeepaliveEnforcement: a client that pings far more often than
// KeepaliveMinPingInterval gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
func TestKeepaliveEnforcement(t *testing.T) {
	lis := serveOnBufconn(t, Config{})
	fr, _ := rawHTTP2(t, lis)
	if err := fr.WriteSettingsAck(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			break // the server may already have closed the connection
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		if ga, ok := f.(*http2.GoAwayFrame); ok {
			if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != "too_many_pings" {
				t.Errorf("GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", ga.ErrCode, ga.DebugData())
			}
			return
		}
	}
}

// deadlineStore records the deadline of the context of the last ListEvents.
type deadlineStore struct {
	*fakeStore
	deadline time.Time
}

func (s *deadlineStore) ListEvents(ctx context.Context, f store.EventFilter, p store.Page) (store.Result[*annalsv1.Event], error) {
	s.deadline, _ = ctx.Deadline()
	return s.fakeStore.ListEvents(ctx, f, p)
}

// TestDefaultTimeoutValue: an RPC without a deadline gets DefaultTimeout.
func TestDefaultTimeoutValue(t *testing.T) {
	st := &deadlineStore{fakeStore: newFakeStore()}
	e := newEnv(t, Config{Store: st})
	before := time.Now()
	if _, err := e.client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if st.deadline.Before(before.Add(DefaultTimeout)) || st.deadline.After(after.Add(DefaultTimeout)) {
		t.Errorf("deadline %v is not DefaultTimeout (%v) after the call (%v … %v)", st.deadline, DefaultTimeout, before, after)
	}
}

// TestMaxPageSize: page_size above MaxPageSize is served as MaxPageSize.
func TestMaxPageSize(t *testing.T) {
	st := newFakeStore()
	for i := range MaxPageSize + 200 {
		ev := proto2Event(i)
		st.events[ev.GetName()] = ev
	}
	e := newEnv(t, Config{Store: st})
	resp, err := e.client.ListEvents(t.Context(), &annalsv1.ListEventsRequest{PageSize: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetEvents()); n != MaxPageSize || resp.GetNextPageToken() == "" {
		t.Errorf("page_size 5000 gave %d events (next %q), want %d and a next page", n, resp.GetNextPageToken(), MaxPageSize)
	}
}

func proto2Event(i int) *annalsv1.Event {
	return &annalsv1.Event{
		Name:   fmt.Sprintf("events/filler-%04d", i),
		Labels: []*annalsv1.Label{en(fmt.Sprintf("Filler %d", i))},
		Date:   day(1900, 1, 1),
	}
}

// TestExportCap: an ExportDataset past the cap gets ResourceExhausted with
// reason TOO_MANY_EXPORTS (the HTTP side's 429 is TestHTTPExportLimit's).
func TestExportCap(t *testing.T) {
	srv, err := New(Config{Store: newFakeStore()})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := exporter.New("http://annals.test")
	es := &exportService{store: newFakeStore(), exporter: x, log: srv.log, limit: make(chan struct{}, DefaultMaxConcurrentExports)}
	annalsv1.RegisterExportServiceServer(srv, es)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	conn := dialBufconn(t, lis)
	client := annalsv1.NewExportServiceClient(conn)
	recvAll := func() error {
		stream, err := client.ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	for range DefaultMaxConcurrentExports {
		es.limit <- struct{}{} // that many exports running
	}
	checkErr(t, recvAll(), wantErr{code: codes.ResourceExhausted, reason: ReasonTooManyExports, msg: "try again later"})
	<-es.limit
	if err := recvAll(); err != nil {
		t.Errorf("export under the cap: %v", err)
	}
}

// TestNewHTTPServer: the http.Server carries the documented limits, and no
// fixed WriteTimeout (which would cut long downloads).
func TestNewHTTPServer(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout != HTTPReadHeaderTimeout || s.ReadTimeout != HTTPReadTimeout || s.IdleTimeout != HTTPIdleTimeout ||
		s.MaxHeaderBytes != HTTPMaxHeaderBytes || s.WriteTimeout != 0 {
		t.Errorf("NewHTTPServer: read-header %v, read %v, idle %v, max header %d, write %v; want %v, %v, %v, %d, 0",
			s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout, s.MaxHeaderBytes, s.WriteTimeout,
			HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPIdleTimeout, HTTPMaxHeaderBytes)
	}
}

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	deadlines []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

// TestNewHTTPServerClearsIdleDeadline: a connection going idle loses the
// write deadline its last response had.
func TestNewHTTPServerClearsIdleDeadline(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	c := &deadlineConn{}
	s.ConnState(c, http.StateActive)
	s.ConnState(c, http.StateIdle)
	if len(c.deadlines) != 1 || !c.deadlines[0].IsZero() {
		t.Errorf("write deadlines set: %v, want one zero", c.deadlines)
	}
}

// TestHTTPHeaderLimit: an oversized URL or header gets 431 from a server
// built by NewHTTPServer; a long Accept under the limit is still answered.
func TestHTTPHeaderLimit(t *testing.T) {
	h := newHTTP(t, true)
	ts := httptest.NewUnstartedServer(h)
	ts.Config = NewHTTPServer(h)
	ts.Start()
	t.Cleanup(ts.Close)
	get := func(path, accept string) int {
		t.Helper()
		req, err := http.NewRequest("GET", ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	huge := strings.Repeat("a", 2*HTTPMaxHeaderBytes)
	if c := get("/events/"+huge, ""); c != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a %d-byte URL: %d, want 431", len(huge), c)
	}
	if c := get("/"+pact, "text/turtle,"+huge); c != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a %d-byte Accept: %d, want 431", len(huge), c)
	}
	long := strings.Repeat("application/x-nothing;q=0.1,", HTTPMaxHeaderBytes/2/28)
	if c := get("/"+pact, long+"text/turtle"); c != http.StatusOK && c != http.StatusNotAcceptable {
		t.Errorf("a %d-byte Accept under the limit: %d, want 200 or 406", len(long), c)
	}
	if c := get("/"+pact, ""); c != http.StatusOK {
		t.Errorf("GET after: %d", c)
	}
}

// deadlineRecorder is a ResponseWriter that records the write deadlines set
// through http.ResponseController and when, relative to body writes.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	deadlines []time.Time
	writesAt  []int // len(deadlines) at each Write
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}

func (d *deadlineRecorder) Write(b []byte) (int, error) {
	d.writesAt = append(d.writesAt, len(d.deadlines))
	return d.ResponseRecorder.Write(b)
}

// TestHTTPWriteDeadlines: every response gets a write deadline of
// HTTPWriteTimeout; a dataset download gets a fresh one when its body starts
// (and, per progressWriter, as it goes).
func TestHTTPWriteDeadlines(t *testing.T) {
	h := newHTTP(t, true)
	for _, path := range []string{"/" + pact, "/healthz", "/no-such-route", "/dataset.nt"} {
		rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
		before := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		after := time.Now()
		if len(rec.deadlines) == 0 {
			t.Errorf("%s: no write deadline set", path)
			continue
		}
		first := rec.deadlines[0]
		if first.Before(before.Add(HTTPWriteTimeout)) || first.After(after.Add(HTTPWriteTimeout)) {
			t.Errorf("%s: write deadline %v, want HTTPWriteTimeout after the request", path, first)
		}
		if path == "/dataset.nt" && (len(rec.deadlines) < 2 || len(rec.writesAt) == 0 || rec.writesAt[0] < 2) {
			t.Errorf("%s: deadlines %v, writes after %v deadlines; want the download to set its own before writing", path, rec.deadlines, rec.writesAt)
		}
	}
}

// TestProgressWriter: a download's deadline moves forward as it is written,
// at most once per extendEvery.
func TestProgressWriter(t *testing.T) {
	rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
	clock := time.Unix(1000, 0)
	p := &progressWriter{w: rec, rc: http.NewResponseController(rec), now: func() time.Time { return clock }}
	p.extend()
	for _, step := range []time.Duration{0, extendEvery / 2, extendEvery / 2, 10 * time.Minute, time.Millisecond} {
		clock = clock.Add(step)
		if _, err := p.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Time{
		time.Unix(1000, 0).Add(HTTPWriteTimeout),
		time.Unix(1000, 0).Add(extendEvery).Add(HTTPWriteTimeout),
		time.Unix(1000, 0).Add(extendEvery + 10*time.Minute).Add(HTTPWriteTimeout),
	}
	if len(rec.deadlines) != len(want) {
		t.Fatalf("deadlines %v, want %v", rec.deadlines, want)
	}
	for i := range want {
		if !rec.deadlines[i].Equal(want[i]) {
			t.Errorf("deadline %d = %v, want %v", i, rec.deadlines[i], want[i])
		}
	}
}

// TestExportStall: an ExportDataset stream whose client reads nothing is cut
// after the stream stall timeout, so that it gives its export slot back; the
// client that reads again gets DeadlineExceeded with reason CLIENT_STALLED.
func TestExportStall(t *testing.T) {

	st, err := sqlite.Open(t.Context(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// An archive whose dump is far larger than the flow-control windows.
	if err := synth.New(1, 800).Batches(800, func(b *store.Batch) error { _, err := st.Put(t.Context(), b); return err }); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := exporter.New("http://annals.test")
	es := &exportService{store: st, exporter: x, log: srv.log, limit: make(chan struct{}, 1), stall: 300 * time.Millisecond}
	annalsv1.RegisterExportServiceServer(srv, es)
	lis := bufconn.Listen(64 << 10)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	client := annalsv1.NewExportServiceClient(dialBufconn(t, lis))

	stream, err := client.ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	// Read nothing more: the slot must come back.
	deadline := time.Now().Add(10 * time.Second)
	for len(es.limit) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a stalled ExportDataset still holds its export slot after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var last error
	for last == nil {
		_, last = stream.Recv()
	}
	checkErr(t, last, wantErr{code: codes.DeadlineExceeded, reason: ReasonStalled, msg: "read nothing"})
	// A client that reads gets the whole dump.
	s2, err := client.ExportDataset(t.Context(), &annalsv1.ExportDatasetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s2.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("a reading client's export: %v", err)
		}
	}
}

// TestListBytesBound: List calls that together ask for more than the list
// budget queue, and past listQueueWait answer ResourceExhausted.
func TestListBytesBound(t *testing.T) {
	e := newEnv(t, Config{MaxListBytes: 2 * 1000 * listRecordBytes})
	ctx := t.Context()
	budget := e.srv.archive.listBudget
	// Two page-1000 calls' worth is held elsewhere: a third must wait, then give up.
	if err := budget.sem.Acquire(ctx, budget.size); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1000})
	checkErr(t, err, wantErr{code: codes.ResourceExhausted, reason: ReasonTooManyLists, msg: "smaller pages"})
	if waited := time.Since(start); waited < listQueueWait/2 {
		t.Errorf("a List past the budget was refused after %v; it should queue for about %v first", waited, listQueueWait)
	}
	// Freed while it waits: it goes through.
	go func() { time.Sleep(100 * time.Millisecond); budget.sem.Release(budget.size) }()
	if _, err := e.client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1000}); err != nil {
		t.Errorf("ListEvents once the budget is free: %v", err)
	}
	// Every call gives its share back.
	if !budget.sem.TryAcquire(budget.size) {
		t.Error("the list budget is not whole again after the calls ended")
	}
}
