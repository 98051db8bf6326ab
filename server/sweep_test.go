package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store/sqlite"
)

// The bad-input sweep sends every RPC and every HTTP route hostile requests
// against the real SQLite store holding the bundled archive. Each must get
// the right code or status with a message a person can act on — never
// Internal, Unknown or a 5xx — and the server must still answer a normal
// GetEvent afterwards.

// rawMsg is a request already encoded, sent as is: it can hold what Go's
// proto.Marshal refuses to produce, such as invalid UTF-8 in a string field
// or broken wire format.
type rawMsg []byte

// sweepCodec marshals rawMsg as is and everything else as protobuf. It is
// named "proto", so the server decodes with its usual codec.
type sweepCodec struct{}

func (sweepCodec) Name() string { return "proto" }

func (sweepCodec) Marshal(v any) ([]byte, error) {
	if r, ok := v.(rawMsg); ok {
		return r, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (sweepCodec) Unmarshal(b []byte, v any) error { return proto.Unmarshal(b, v.(proto.Message)) }

// withRaw encodes m and appends field (a string field of m, by name) with
// the raw bytes val; the last value of a scalar field wins when decoding.
func withRaw(m proto.Message, field, val string) rawMsg {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(field))
	if fd == nil {
		panic("no field " + field)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
	return protowire.AppendString(b, val)
}

// sweepEnv is the server under the sweep: gRPC over bufconn and HTTP over a
// loopback socket, both on one SQLite store loaded with the bundled archive.
type sweepEnv struct {
	conn   *grpc.ClientConn
	http   *httptest.Server
	logs   *syncBuffer
	tokens map[string]string // page tokens this server issued, by what they continue
}

func newSweepEnv(t *testing.T) *sweepEnv {
	t.Helper()
	ctx := t.Context()
	e := &sweepEnv{logs: &syncBuffer{}, tokens: map[string]string{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sweep.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := data.Load(ctx, st, ingest.Import, log); err != nil {
		t.Fatalf("load the bundled archive: %v", err)
	}
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ist := InstrumentStore(st, metrics)
	srv, err := New(Config{Logger: log, Store: ist, Import: ingest.Import, ImportToken: testToken, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	x, err := exporter.New("http://annals.test")
	if err != nil {
		t.Fatal(err)
	}
	RegisterExportService(srv, ist, x, 0)
	srv.SetServing(true)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.GRPC().Stop)
	e.conn = dialBufconn(t, lis, grpc.WithDefaultCallOptions(grpc.ForceCodec(sweepCodec{}), grpc.MaxCallSendMsgSize(math.MaxInt32)))

	api, err := srv.BrowserHandler()
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTPHandler(HTTPConfig{Logger: log, Store: ist, Exporter: x, Metrics: metrics, API: api, Pages: testPages(t, ist)})
	if err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewUnstartedServer(h)
	e.http.Config = NewHTTPServer(h)
	e.http.Start()
	t.Cleanup(e.http.Close)

	// One more document, so that every collection has more than one page.
	client := annalsv1.NewArchiveServiceClient(e.conn)
	if _, err := client.ImportDocument(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken),
		&annalsv1.ImportDocumentRequest{Filename: "harbour.txt", Text: sweepDoc}); err != nil {
		t.Fatalf("ImportDocument: %v", err)
	}
	// Page tokens of each List, for sending them where they do not belong.
	evs, err := client.ListEvents(ctx, &annalsv1.ListEventsRequest{PageSize: 1})
	if err != nil || evs.GetNextPageToken() == "" {
		t.Fatalf("ListEvents: %v (token %q)", err, evs.GetNextPageToken())
	}
	e.tokens["events"] = evs.GetNextPageToken()
	acs, err := client.ListActors(ctx, &annalsv1.ListActorsRequest{PageSize: 1})
	if err != nil || acs.GetNextPageToken() == "" {
		t.Fatalf("ListActors: %v (token %q)", err, acs.GetNextPageToken())
	}
	e.tokens["actors"] = acs.GetNextPageToken()
	pls, err := client.ListPlaces(ctx, &annalsv1.ListPlacesRequest{PageSize: 1})
	if err != nil || pls.GetNextPageToken() == "" {
		t.Fatalf("ListPlaces: %v (token %q)", err, pls.GetNextPageToken())
	}
	e.tokens["places"] = pls.GetNextPageToken()
	return e
}

// rpcCase is one hostile request.
type rpcCase struct {
	name  string
	req   any // proto.Message or rawMsg
	token string
	want  codes.Code
	msg   string // a substring of the message, when it matters
}

// sweepRPC describes one RPC under the sweep.
type sweepRPC struct {
	method string
	stream bool
	resp   func() proto.Message
	cases  []rpcCase
}

// sweepDoc is a good document; its place and parties are new records.
const sweepDoc = "June 2, 1802\n\nA harbour opened.\n\nPort Alder, Westmark | Town Council of Alder, Town Council of Bexley\n\nAlder Harbour Opening\n\nBackground\n\nA long story.\n"

const (
	tenThousand = 10000
	validEvent  = "events/soviet-japanese-neutrality-pact"
)

// hostileNames are names a Get of collection col must refuse, with the code.
func hostileNames(col, other string) []rpcCase {
	long := col + "/" + strings.Repeat("a", tenThousand)
	return []rpcCase{
		{name: "empty", req: "", want: codes.InvalidArgument, msg: "required"},
		{name: "collection only", req: col, want: codes.InvalidArgument, msg: "malformed"},
		{name: "empty id", req: col + "/", want: codes.InvalidArgument, msg: "empty id"},
		{name: "slash", req: "/", want: codes.InvalidArgument, msg: "malformed"},
		{name: "dot dot", req: col + "/../" + other, want: codes.InvalidArgument, msg: "malformed"},
		{name: "dot dot alone", req: col + "/..", want: codes.InvalidArgument, msg: "malformed"},
		{name: "nested", req: col + "/a/b", want: codes.InvalidArgument, msg: "malformed"},
		{name: "NUL", req: col + "/a\x00b", want: codes.InvalidArgument, msg: "malformed"},
		{name: "10000 characters", req: long, want: codes.InvalidArgument, msg: "limit"},
		{name: "invalid UTF-8", req: rawMsg(col + "/\xff\xfe"), want: codes.InvalidArgument, msg: "UTF-8"},
		{name: "upper case", req: strings.ToUpper(col) + "/x", want: codes.InvalidArgument, msg: "collection"},
		{name: "other collection", req: other, want: codes.InvalidArgument, msg: "collection"},
		{name: "percent-encoded", req: col + "/%2e%2e", want: codes.InvalidArgument, msg: "malformed"},
		{name: "leading space", req: " " + col + "/x", want: codes.InvalidArgument, msg: "collection"},
		{name: "newline", req: col + "/x\n", want: codes.InvalidArgument, msg: "malformed"},
		{name: "cyrillic", req: col + "/пакт", want: codes.InvalidArgument, msg: "malformed"},
		{name: "SQL", req: col + "/x' OR '1'='1", want: codes.InvalidArgument, msg: "malformed"},
		{name: "unknown", req: col + "/no-such-record", want: codes.NotFound, msg: "not found"},
	}
}

// nameCases turns hostileNames into requests of type T, setting field "name".
func nameCases[T proto.Message](newReq func(string) T, col, other string) []rpcCase {
	cases := hostileNames(col, other)
	for i, c := range cases {
		switch v := c.req.(type) {
		case string:
			cases[i].req = newReq(v)
		case rawMsg:
			cases[i].req = withRaw(newReq(""), "name", string(v))
		}
	}
	return cases
}

// hostileQueries are full-text queries; those made of words are searched
// as words (OK), those with none are InvalidArgument.
func hostileQueries(newReq func(q string) proto.Message) []rpcCase {
	var cases []rpcCase
	for _, q := range []string{`"`, `*`, `-`, `^`, `)(`, `""`, `(`, `:`, `"*"`, ` `} {
		cases = append(cases, rpcCase{name: "query " + q, req: newReq(q), want: codes.InvalidArgument, msg: "query"})
	}
	for _, q := range []string{`AND`, `NEAR(`, `OR OR`, `col:word`, `NOT moscow`, `moscow*`, `"moscow`, `a -b ^c`, `NEAR(a b, 2)`, `{a b}`, `events:pact`, `' OR 1=1 --`} {
		cases = append(cases, rpcCase{name: "query " + q, req: newReq(q), want: codes.OK})
	}
	cases = append(cases,
		rpcCase{name: "query 10000 characters", req: newReq(strings.Repeat("a", tenThousand)), want: codes.InvalidArgument, msg: "limit"},
		rpcCase{name: "query of too many words", req: newReq(words(MaxQueryWords + 1)), want: codes.InvalidArgument, msg: fmt.Sprint(MaxQueryWords)},
		rpcCase{name: "query of as many words as allowed", req: newReq(words(MaxQueryWords)), want: codes.OK},
		rpcCase{name: "query of one word many times", req: newReq(strings.Repeat("moscow ", 60)), want: codes.OK},
		rpcCase{name: "query NUL", req: newReq("moscow\x00"), want: codes.OK},
		rpcCase{name: "query invalid UTF-8", req: withRaw(newReq(""), "query", "mos\xffcow"), want: codes.InvalidArgument, msg: "UTF-8"},
	)
	return cases
}

// hostilePaging are page sizes and tokens a List must refuse (or coerce).
func (e *sweepEnv) hostilePaging(own string, newReq func(size int32, token string) proto.Message) []rpcCase {
	var foreign []string
	for k, tok := range e.tokens {
		if k != own {
			foreign = append(foreign, tok)
		}
	}
	slices.Sort(foreign)
	mine := e.tokens[own]
	cases := []rpcCase{
		{name: "page_size -1", req: newReq(-1, ""), want: codes.InvalidArgument, msg: "negative"},
		{name: "page_size min int32", req: newReq(math.MinInt32, ""), want: codes.InvalidArgument, msg: "negative"},
		{name: "page_size max int32", req: newReq(math.MaxInt32, ""), want: codes.OK},
		{name: "garbage token", req: newReq(0, "abc"), want: codes.InvalidArgument, msg: "page_token"},
		{name: "token of punctuation", req: newReq(0, "!!!***"), want: codes.InvalidArgument, msg: "page_token"},
		{name: "token of 10000 characters", req: newReq(0, strings.Repeat("A", tenThousand)), want: codes.InvalidArgument, msg: "page_token"},
		{name: "truncated token", req: newReq(0, mine[:len(mine)-2]), want: codes.InvalidArgument, msg: "page_token"},
		{name: "edited token", req: newReq(0, flipLast(mine)), want: codes.InvalidArgument, msg: "page_token"},
		{name: "token with NUL", req: newReq(0, mine+"\x00"), want: codes.InvalidArgument, msg: "page_token"},
		{name: "token invalid UTF-8", req: withRaw(newReq(0, ""), "page_token", "\xff"+mine), want: codes.InvalidArgument, msg: "UTF-8"},
		{name: "own token with negative size", req: newReq(-5, mine), want: codes.InvalidArgument, msg: "negative"},
		{name: "own token", req: newReq(2, mine), want: codes.OK},
	}
	for i, tok := range foreign {
		cases = append(cases, rpcCase{name: fmt.Sprintf("token from another RPC %d", i), req: newReq(0, tok), want: codes.InvalidArgument, msg: "different query"})
	}
	return cases
}

// words returns n different words.
func words(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%d ", i)
	}
	return b.String()
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// brokenWire are encodings no protobuf message can be decoded from, and
// unknown or mistyped fields a decoder must skip.
func brokenWire() []rpcCase {
	deep := []byte{}
	for range 200 {
		deep = protowire.AppendTag(deep, 15, protowire.StartGroupType)
	}
	return []rpcCase{
		{name: "truncated length", req: rawMsg{0x0a, 0x20, 'a'}, want: codes.InvalidArgument, msg: "protobuf"},
		{name: "bad varint", req: rawMsg{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, want: codes.InvalidArgument, msg: "protobuf"},
		{name: "field number 0", req: rawMsg{0x00, 0x01}, want: codes.InvalidArgument, msg: "protobuf"},
		{name: "unterminated group", req: rawMsg(deep), want: codes.InvalidArgument, msg: "protobuf"},
	}
}

// TestBadInputSweepRPC sends every RPC at least ten hostile requests.
func TestBadInputSweepRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the bundled archive into SQLite")
	}
	e := newSweepEnv(t)
	client := annalsv1.NewArchiveServiceClient(e.conn)
	for _, r := range e.sweepRPCs(t) {
		short := r.method[strings.LastIndex(r.method, "/")+1:]
		for _, c := range r.cases {
			t.Run(short+"/"+c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				if c.token != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", c.token)
				}
				var err error
				if r.stream {
					err = e.callStream(ctx, r.method, c.req, r.resp)
				} else {
					err = e.conn.Invoke(ctx, r.method, c.req, r.resp())
				}
				checkSweep(t, err, c.want, c.msg)
				// The server still serves.
				if _, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: validEvent}); err != nil {
					t.Fatalf("GetEvent after the case: %v", err)
				}
			})
		}
	}
	if l := e.logs.String(); strings.Contains(l, testToken) {
		t.Error("the import token appears in the logs")
	}
}

// sweepRPCs are the hostile requests of every RPC, and the RPCs' good
// ones; it fails t when an RPC of either service has fewer than ten.
func (e *sweepEnv) sweepRPCs(t *testing.T) []sweepRPC {
	t.Helper()
	events := func(q string) proto.Message { return &annalsv1.ListEventsRequest{Query: q} }
	actors := func(q string) proto.Message { return &annalsv1.ListActorsRequest{Query: q} }
	places := func(q string) proto.Message { return &annalsv1.ListPlacesRequest{Query: q} }
	date := func(y, m, d int32, p annalsv1.DatePrecision) *annalsv1.HistoricalDate {
		return &annalsv1.HistoricalDate{Year: y, Month: m, Day: d, Precision: p}
	}
	const (
		dayP   = annalsv1.DatePrecision_DATE_PRECISION_DAY
		yearP  = annalsv1.DatePrecision_DATE_PRECISION_YEAR
		monthP = annalsv1.DatePrecision_DATE_PRECISION_MONTH
	)

	listEvents := slices.Concat(
		hostileQueries(events),
		e.hostilePaging("events", func(n int32, tok string) proto.Message {
			return &annalsv1.ListEventsRequest{PageSize: n, PageToken: tok}
		}),
		[]rpcCase{
			{name: "token with other filters", req: &annalsv1.ListEventsRequest{PageToken: e.tokens["events"], Month: 4}, want: codes.InvalidArgument, msg: "different query"},
			{name: "month 13", req: &annalsv1.ListEventsRequest{Month: 13}, want: codes.InvalidArgument, msg: "month 13"},
			{name: "month -1", req: &annalsv1.ListEventsRequest{Month: -1}, want: codes.InvalidArgument, msg: "month -1"},
			{name: "day 32", req: &annalsv1.ListEventsRequest{Month: 1, Day: 32}, want: codes.InvalidArgument, msg: "day 32"},
			{name: "day without month", req: &annalsv1.ListEventsRequest{Day: 3}, want: codes.InvalidArgument, msg: "needs month"},
			{name: "February 30", req: &annalsv1.ListEventsRequest{Month: 2, Day: 30}, want: codes.InvalidArgument, msg: "February"},
			{name: "start year 0", req: &annalsv1.ListEventsRequest{StartDate: date(0, 0, 0, yearP)}, want: codes.InvalidArgument, msg: "year"},
			{name: "start month 13", req: &annalsv1.ListEventsRequest{StartDate: date(1941, 13, 0, monthP)}, want: codes.InvalidArgument, msg: "month"},
			{name: "start day 32", req: &annalsv1.ListEventsRequest{StartDate: date(1941, 1, 32, dayP)}, want: codes.InvalidArgument, msg: "day"},
			{name: "end precision 99", req: &annalsv1.ListEventsRequest{EndDate: date(1941, 1, 1, annalsv1.DatePrecision(99))}, want: codes.InvalidArgument, msg: "precision"},
			{name: "end precision 3 with a day", req: &annalsv1.ListEventsRequest{EndDate: date(1941, 1, 1, annalsv1.DatePrecision(3))}, want: codes.InvalidArgument, msg: ""},
			{name: "calendar 7", req: &annalsv1.ListEventsRequest{StartDate: &annalsv1.HistoricalDate{Year: 1941, Precision: yearP, Calendar: annalsv1.Calendar(7)}}, want: codes.InvalidArgument, msg: "calendar"},
			{name: "year max int32", req: &annalsv1.ListEventsRequest{StartDate: date(math.MaxInt32, 0, 0, yearP)}, want: codes.InvalidArgument, msg: "year"},
			{name: "year min int32", req: &annalsv1.ListEventsRequest{EndDate: date(math.MinInt32, 0, 0, yearP)}, want: codes.InvalidArgument, msg: "year"},
			{name: "end before start", req: &annalsv1.ListEventsRequest{StartDate: date(1945, 0, 0, yearP), EndDate: date(1939, 0, 0, yearP)}, want: codes.InvalidArgument, msg: "before"},
			{name: "actor with dot dot", req: &annalsv1.ListEventsRequest{Actor: "actors/../events/x"}, want: codes.InvalidArgument, msg: "actor"},
			{name: "actor from another collection", req: &annalsv1.ListEventsRequest{Actor: "places/moscow"}, want: codes.InvalidArgument, msg: "actor"},
			{name: "place with NUL", req: &annalsv1.ListEventsRequest{Place: "places/mos\x00cow"}, want: codes.InvalidArgument, msg: "place"},
			{name: "place invalid UTF-8", req: withRaw(&annalsv1.ListEventsRequest{}, "place", "places/\xc3"), want: codes.InvalidArgument, msg: "UTF-8"},
			{name: "unknown actor", req: &annalsv1.ListEventsRequest{Actor: "actors/nobody-at-all"}, want: codes.OK},
			{name: "wikidata lower case", req: &annalsv1.ListEventsRequest{WikidataId: "q649"}, want: codes.InvalidArgument, msg: "Wikidata"},
			{name: "wikidata SQL", req: &annalsv1.ListEventsRequest{WikidataId: "Q1' OR 1=1 --"}, want: codes.InvalidArgument, msg: "Wikidata"},
			{name: "wikidata 10000 characters", req: &annalsv1.ListEventsRequest{WikidataId: "Q" + strings.Repeat("1", tenThousand)}, want: codes.InvalidArgument, msg: "Wikidata"},
		},
		brokenWire(),
	)
	listActors := slices.Concat(
		hostileQueries(actors),
		e.hostilePaging("actors", func(n int32, tok string) proto.Message {
			return &annalsv1.ListActorsRequest{PageSize: n, PageToken: tok}
		}),
		[]rpcCase{
			{name: "token with other filters", req: &annalsv1.ListActorsRequest{PageToken: e.tokens["actors"], Kind: annalsv1.ActorKind_ACTOR_KIND_PERSON}, want: codes.InvalidArgument, msg: "different query"},
			{name: "kind 99", req: &annalsv1.ListActorsRequest{Kind: annalsv1.ActorKind(99)}, want: codes.InvalidArgument, msg: "kind 99"},
			{name: "kind -1", req: &annalsv1.ListActorsRequest{Kind: annalsv1.ActorKind(-1)}, want: codes.InvalidArgument, msg: "kind -1"},
			{name: "wikidata Q0", req: &annalsv1.ListActorsRequest{WikidataId: "Q0"}, want: codes.InvalidArgument, msg: "Wikidata"},
			{name: "wikidata invalid UTF-8", req: withRaw(&annalsv1.ListActorsRequest{}, "wikidata_id", "Q\xff"), want: codes.InvalidArgument, msg: "UTF-8"},
		},
		brokenWire(),
	)
	listPlaces := slices.Concat(
		hostileQueries(places),
		e.hostilePaging("places", func(n int32, tok string) proto.Message {
			return &annalsv1.ListPlacesRequest{PageSize: n, PageToken: tok}
		}),
		[]rpcCase{
			{name: "token with other filters", req: &annalsv1.ListPlacesRequest{PageToken: e.tokens["places"], Query: "moscow"}, want: codes.InvalidArgument, msg: "different query"},
			{name: "wikidata with space", req: &annalsv1.ListPlacesRequest{WikidataId: "Q 649"}, want: codes.InvalidArgument, msg: "Wikidata"},
		},
		brokenWire(),
	)

	goodDoc := sweepDoc
	imp := func(text, filename string) *annalsv1.ImportDocumentRequest {
		return &annalsv1.ImportDocumentRequest{Text: text, Filename: filename, ValidateOnly: true}
	}
	importCases := slices.Concat([]rpcCase{
		{name: "no token", req: imp(goodDoc, "a.txt"), want: codes.Unauthenticated, msg: "Bearer"},
		{name: "wrong token", req: imp(goodDoc, "a.txt"), token: "Bearer nope", want: codes.Unauthenticated, msg: "token"},
		{name: "token without scheme", req: imp(goodDoc, "a.txt"), token: testToken, want: codes.Unauthenticated, msg: "Bearer"},
		{name: "basic auth", req: imp(goodDoc, "a.txt"), token: "Basic " + testToken, want: codes.Unauthenticated, msg: "Bearer"},
		{name: "token with a suffix", req: imp(goodDoc, "a.txt"), token: "Bearer " + testToken + "x", want: codes.Unauthenticated, msg: "token"},
		{name: "empty bearer", req: imp(goodDoc, "a.txt"), token: "Bearer ", want: codes.Unauthenticated, msg: "Bearer"},
		{name: "good document", req: imp(goodDoc, "a.txt"), token: "Bearer " + testToken, want: codes.OK},
		{name: "empty text", req: imp("", "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "required"},
		{name: "text over 1 MiB", req: imp(strings.Repeat("a", ingest.MaxDocumentBytes+1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "limit"},
		{name: "text over the request limit", req: imp(strings.Repeat("a", DefaultMaxRecvMsgBytes+1), "a.txt"), token: "Bearer " + testToken, want: codes.ResourceExhausted, msg: "larger than max"},
		{name: "text invalid UTF-8", req: withRaw(imp("", "a.txt"), "text", "June 2, 1802\n\n\xff\xfe\n"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "UTF-8"},
		{name: "text with NUL", req: imp(strings.Replace(goodDoc, "harbour", "har\x00bour", 1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "line"},
		{name: "text not a document", req: imp("hello", "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "line 1"},
		{name: "year 0", req: imp(strings.Replace(goodDoc, "1802", "0", 1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "line 1"},
		{name: "month 13", req: imp(strings.Replace(goodDoc, "June 2, 1802", "13/2/1802", 1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "line 1"},
		{name: "day 32", req: imp(strings.Replace(goodDoc, "June 2", "June 32", 1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "line 1"},
		{name: "only a byte-order mark", req: imp("\ufeff", "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "document"},
		{name: "filename with slash", req: imp(goodDoc, "a/b.txt"), token: "Bearer " + testToken, want: codes.OK},
		{name: "filename dot dot", req: imp(goodDoc, "../../etc/passwd"), token: "Bearer " + testToken, want: codes.OK},
		{name: "filename with NUL", req: imp(goodDoc, "a\x00.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "filename"},
		{name: "filename 10000 characters", req: imp(goodDoc, strings.Repeat("f", tenThousand)), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "filename"},
		{name: "filename invalid UTF-8", req: withRaw(imp(goodDoc, ""), "filename", "a\xff.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "UTF-8"},
		{name: "filename with a bidi override", req: imp(goodDoc, "invoice\u202Etxt.exe"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "formatting"},
		{name: "filename with a bidi isolate", req: imp(goodDoc, "a\u2066b.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "formatting"},
		{name: "filename with a zero-width joiner", req: imp(goodDoc, "a\u200Db.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "formatting"},
		{name: "filename in Cyrillic", req: imp(goodDoc, "договор.txt"), token: "Bearer " + testToken, want: codes.OK},
		{name: "title in Cyrillic", req: imp(strings.Replace(goodDoc, "Alder Harbour Opening", "Битва при Бородино", 1), "a.txt"), token: "Bearer " + testToken, want: codes.OK},
		{name: "title in Han characters", req: imp(strings.Replace(goodDoc, "Alder Harbour Opening", "李白之死", 1), "a.txt"), token: "Bearer " + testToken, want: codes.OK},
		{name: "title of symbols only", req: imp(strings.Replace(goodDoc, "Alder Harbour Opening", "★ → ★", 1), "a.txt"), token: "Bearer " + testToken, want: codes.InvalidArgument, msg: "title"},
		{name: "names in Arabic and Greek", req: imp(strings.Replace(goodDoc, "Port Alder, Westmark", "القاهرة, Αθήνα", 1), "a.txt"), token: "Bearer " + testToken, want: codes.OK},
	}, brokenWire())
	for i := range importCases[len(importCases)-len(brokenWire()):] {
		importCases[len(importCases)-len(brokenWire())+i].token = "Bearer " + testToken
	}

	exportNames := nameCases(func(n string) *annalsv1.ExportResourceRequest { return &annalsv1.ExportResourceRequest{Name: n} }, "events", "places/moscow")
	for i := range exportNames {
		switch exportNames[i].name {
		case "other collection":
			exportNames[i].want, exportNames[i].msg = codes.OK, "" // any collection may be exported
		case "upper case", "leading space":
			exportNames[i].msg = "collection"
		}
	}
	exportResource := slices.Concat(exportNames, []rpcCase{
		{name: "format 7", req: &annalsv1.ExportResourceRequest{Name: validEvent, Format: annalsv1.RdfFormat(7)}, want: codes.InvalidArgument, msg: "format 7"},
		{name: "format -1", req: &annalsv1.ExportResourceRequest{Name: validEvent, Format: annalsv1.RdfFormat(-1)}, want: codes.InvalidArgument, msg: "format -1"},
		{name: "source", req: &annalsv1.ExportResourceRequest{Name: "sources/0000000000000000"}, want: codes.NotFound, msg: "not found"},
	}, brokenWire())
	exportDataset := slices.Concat([]rpcCase{
		{name: "format 7", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(7)}, want: codes.InvalidArgument, msg: "format 7"},
		{name: "format -1", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(-1)}, want: codes.InvalidArgument, msg: "format -1"},
		{name: "format 4", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(4)}, want: codes.InvalidArgument, msg: "format 4"},
		{name: "format 99", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(99)}, want: codes.InvalidArgument, msg: "format 99"},
		{name: "format max int32", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(math.MaxInt32)}, want: codes.InvalidArgument, msg: "format"},
		{name: "format min int32", req: &annalsv1.ExportDatasetRequest{Format: annalsv1.RdfFormat(math.MinInt32)}, want: codes.InvalidArgument, msg: "format"},
		{name: "format 7 after turtle", req: rawMsg(protowire.AppendVarint(protowire.AppendTag(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1), 1, protowire.VarintType), 7)), want: codes.InvalidArgument, msg: "format 7"},
		{name: "format as a string", req: rawMsg(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "turtle")), want: codes.OK},
		{name: "unknown field", req: rawMsg(protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), strings.Repeat("x", tenThousand))), want: codes.OK},
		{name: "invalid UTF-8 in an unknown field", req: rawMsg(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "\xff")), want: codes.OK},
	}, brokenWire())

	rpcs := []sweepRPC{
		{method: annalsv1.ArchiveService_GetEvent_FullMethodName, resp: func() proto.Message { return &annalsv1.GetEventResponse{} },
			cases: append(nameCases(func(n string) *annalsv1.GetEventRequest { return &annalsv1.GetEventRequest{Name: n} }, "events", "actors/vyacheslav-molotov"), brokenWire()...)},
		{method: annalsv1.ArchiveService_GetActor_FullMethodName, resp: func() proto.Message { return &annalsv1.GetActorResponse{} },
			cases: append(nameCases(func(n string) *annalsv1.GetActorRequest { return &annalsv1.GetActorRequest{Name: n} }, "actors", validEvent), brokenWire()...)},
		{method: annalsv1.ArchiveService_GetPlace_FullMethodName, resp: func() proto.Message { return &annalsv1.GetPlaceResponse{} },
			cases: append(nameCases(func(n string) *annalsv1.GetPlaceRequest { return &annalsv1.GetPlaceRequest{Name: n} }, "places", "actors/vyacheslav-molotov"), brokenWire()...)},
		{method: annalsv1.ArchiveService_GetSource_FullMethodName, resp: func() proto.Message { return &annalsv1.GetSourceResponse{} },
			cases: append(nameCases(func(n string) *annalsv1.GetSourceRequest { return &annalsv1.GetSourceRequest{Name: n} }, "sources", validEvent), brokenWire()...)},
		{method: annalsv1.ArchiveService_ListEvents_FullMethodName, resp: func() proto.Message { return &annalsv1.ListEventsResponse{} }, cases: listEvents},
		{method: annalsv1.ArchiveService_ListActors_FullMethodName, resp: func() proto.Message { return &annalsv1.ListActorsResponse{} }, cases: listActors},
		{method: annalsv1.ArchiveService_ListPlaces_FullMethodName, resp: func() proto.Message { return &annalsv1.ListPlacesResponse{} }, cases: listPlaces},
		{method: annalsv1.ArchiveService_ImportDocument_FullMethodName, resp: func() proto.Message { return &annalsv1.ImportDocumentResponse{} }, cases: importCases},
		{method: annalsv1.ExportService_ExportResource_FullMethodName, resp: func() proto.Message { return &annalsv1.ExportResourceResponse{} }, cases: exportResource},
		{method: annalsv1.ExportService_ExportDataset_FullMethodName, stream: true, resp: func() proto.Message { return &annalsv1.ExportDatasetResponse{} }, cases: exportDataset},
	}

	// Every RPC of both services is swept.
	var methods []string
	for _, sd := range []grpc.ServiceDesc{annalsv1.ArchiveService_ServiceDesc, annalsv1.ExportService_ServiceDesc} {
		for _, m := range sd.Methods {
			methods = append(methods, "/"+sd.ServiceName+"/"+m.MethodName)
		}
		for _, s := range sd.Streams {
			methods = append(methods, "/"+sd.ServiceName+"/"+s.StreamName)
		}
	}
	for _, m := range methods {
		i := slices.IndexFunc(rpcs, func(r sweepRPC) bool { return r.method == m })
		if i < 0 {
			t.Errorf("the sweep does not cover %s", m)
			continue
		}
		hostile := 0
		for _, c := range rpcs[i].cases {
			if c.want != codes.OK {
				hostile++
			}
		}
		if hostile < 10 {
			t.Errorf("%s has %d hostile cases, want at least 10", m, hostile)
		}
	}
	return rpcs
}

// callStream runs a server-streaming RPC to its end.
func (e *sweepEnv) callStream(ctx context.Context, method string, req any, resp func() proto.Message) error {
	s, err := e.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return err
	}
	if err := s.SendMsg(req); err != nil {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	for {
		if err := s.RecvMsg(resp()); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// checkSweep checks that err has code want and a message a person can act
// on: not a gRPC or Go internal, no SQL or file path.
func checkSweep(t *testing.T, err error, want codes.Code, msg string) {
	t.Helper()
	st := status.Convert(err)
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		t.Fatalf("got %v %q: never for bad input", st.Code(), st.Message())
	}
	if st.Code() != want {
		t.Fatalf("got %v %q, want %v", st.Code(), st.Message(), want)
	}
	if want == codes.OK {
		return
	}
	m := st.Message()
	if !strings.Contains(m, msg) {
		t.Errorf("message %q does not contain %q", m, msg)
	}
	if len(m) < 10 || len(m) > 1000 {
		t.Errorf("message %q: want a sentence, not %d bytes", clip(m), len(m))
	}
	for _, bad := range []string{"sqlite", "SQL", "panic", "goroutine", ".go:", "/tmp/", "proto:", "<nil>", "%!"} {
		if strings.Contains(m, bad) {
			t.Errorf("message %q contains %q", m, bad)
		}
	}
}

// httpCase is one odd HTTP request and the status it must get.
type httpCase struct {
	name   string
	method string
	path   string
	header []string // name, value, …
	want   int
}

// TestBadInputSweepHTTP sends every HTTP route at least ten odd requests:
// other methods, odd paths, hostile Accept and other headers.
func TestBadInputSweepHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the bundled archive into SQLite")
	}
	e := newSweepEnv(t)
	const (
		ok       = http.StatusOK
		moved    = http.StatusTemporaryRedirect // ServeMux cleans paths, keeping the method
		notFound = http.StatusNotFound
		method   = http.StatusMethodNotAllowed
		notAcc   = http.StatusNotAcceptable
		bad      = http.StatusBadRequest
		rng      = http.StatusRequestedRangeNotSatisfiable
	)
	type route struct {
		pattern string
		path    string // a good request of the route
		conneg  bool   // Accept decides the format (406 when nothing fits)
		ranges  bool   // served with byte ranges: a Range past the end is 416
		status  int    // what a good request gets: 200, or 303 for a thing (0 means 200)
		extra   []httpCase
	}
	resourceExtra := func(col string) []httpCase {
		return []httpCase{
			{"empty id", "GET", "/" + col + "/", nil, notFound},
			{"upper case id", "GET", "/" + col + "/Not-A-Slug", nil, bad},
			{"encoded slash", "GET", "/" + col + "/a%2Fb", nil, bad},
			{"encoded dot dot", "GET", "/" + col + "/%2e%2e", nil, bad},
			{"dot dot with encoded slash", "GET", "/" + col + "/..%2fhealthz", nil, bad},
			{"NUL", "GET", "/" + col + "/a%00b", nil, bad},
			{"invalid UTF-8", "GET", "/" + col + "/%ff%fe", nil, bad},
			{"10000 characters", "GET", "/" + col + "/" + strings.Repeat("a", tenThousand), nil, bad},
			{"suffix only", "GET", "/" + col + "/.ttl", nil, bad},
			{"two suffixes", "GET", "/" + col + "/x.ttl.nt", nil, bad},
			{"other suffix", "GET", "/" + col + "/x.json", nil, bad},
			{"semicolon", "GET", "/" + col + "/x;y", nil, bad},
			{"unknown", "GET", "/" + col + "/no-such-record", nil, notFound},
			{"unknown in Turtle", "GET", "/" + col + "/no-such-record.ttl", nil, notFound},
			{"unknown in JSON-LD", "GET", "/" + col + "/no-such-record.jsonld", nil, notFound},
			{"unknown page", "GET", "/" + col + "/no-such-record.html", nil, notFound},
			{"two suffixes, JSON-LD", "GET", "/" + col + "/x.jsonld.html", nil, bad},
			{"HTML of an upper-case id", "GET", "/" + col + "/Not-A-Slug.html", nil, bad},
			{"HTML and Turtle", "GET", "/" + col + "/x.html.ttl", nil, bad},
		}
	}
	// pageExtra are odd query strings for a browsable page whose full-text
	// parameter is q.
	pageExtra := func(path, q string) []httpCase {
		return []httpCase{
			{"query of no words", "GET", path + "?" + q + "=%2A", nil, bad},
			{"query of 10000 characters", "GET", path + "?" + q + "=" + strings.Repeat("a", tenThousand), nil, bad},
			{"query of invalid UTF-8", "GET", path + "?" + q + "=%ff%fe", nil, bad},
			{"query of too many words", "GET", path + "?" + q + "=" + strings.ReplaceAll(strings.TrimSpace(words(MaxQueryWords+1)), " ", "+"), nil, bad},
			{"query of SQL", "GET", path + "?" + q + "=%27+OR+1%3D1+--", nil, ok},
			{"query of HTML", "GET", path + "?" + q + "=%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil, ok},
			{"a query", "GET", path + "?" + q + "=moscow", nil, ok},
			{"garbage token", "GET", path + "?" + q + "=moscow&page_token=abc", nil, bad},
			{"negative page size", "GET", path + "?" + q + "=moscow&page_size=-1", nil, bad},
			{"page size not a number", "GET", path + "?" + q + "=moscow&page_size=ten", nil, bad},
			{"page size past int32", "GET", path + "?" + q + "=moscow&page_size=99999999999", nil, bad},
			{"huge page size", "GET", path + "?" + q + "=moscow&page_size=2147483647", nil, ok},
		}
	}
	docs := func(path string) []httpCase {
		var cs []httpCase
		for _, ext := range []string{".ttl", ".nt", ".jsonld", ".html"} {
			cs = append(cs,
				httpCase{"document " + ext, "GET", path + ext, nil, ok},
				httpCase{"document " + ext + " Range past the end", "GET", path + ext, []string{"Range", "bytes=99999999-"}, rng},
				httpCase{"document " + ext + " with Accept nothing offered", "GET", path + ext, []string{"Accept", "application/json"}, ok})
		}
		return cs
	}
	routes := []route{
		{pattern: "GET /{$}", path: "/", extra: []httpCase{{"index.php", "GET", "/index.php", nil, notFound}}},
		{pattern: "GET /healthz", path: "/healthz"},
		{pattern: "GET /readyz", path: "/readyz"},
		{pattern: "GET /metrics", path: "/metrics"},
		{pattern: "GET /dataset.ttl", path: "/dataset.ttl", ranges: true},
		{pattern: "GET /dataset.nt", path: "/dataset.nt", ranges: true},
		{pattern: "GET /dataset.nt.gz", path: "/dataset.nt.gz", ranges: true},
		{pattern: "GET /dataset.jsonld", path: "/dataset.jsonld", ranges: true},
		{pattern: "GET /dataset", path: "/dataset", conneg: true, status: http.StatusSeeOther},
		{pattern: "GET /.well-known/void", path: "/.well-known/void", conneg: true, ranges: true},
		{pattern: "GET /context.jsonld", path: "/context.jsonld", ranges: true},
		{pattern: "GET /shapes.ttl", path: "/shapes.ttl", ranges: true},
		{pattern: "GET /vocab", path: "/vocab", conneg: true, ranges: true},
		{pattern: "GET /vocab.ttl", path: "/vocab.ttl", ranges: true},
		{pattern: "GET /vocab.nt", path: "/vocab.nt", ranges: true},
		{pattern: "GET /vocab.jsonld", path: "/vocab.jsonld", ranges: true},
		{pattern: "GET /vocab.html", path: "/vocab.html", ranges: true},
		{pattern: "GET /sitemap.xml", path: "/sitemap.xml", extra: []httpCase{
			{"page 1", "GET", "/sitemap.xml?page=1", nil, ok},
			{"page 0", "GET", "/sitemap.xml?page=0", nil, notFound},
			{"page past the end", "GET", "/sitemap.xml?page=2", nil, notFound},
			{"page not a number", "GET", "/sitemap.xml?page=x", nil, notFound},
		}},
		{pattern: "GET /events/{id}", path: "/" + validEvent, conneg: true, status: http.StatusSeeOther, extra: append(resourceExtra("events"), docs("/"+validEvent)...)},
		{pattern: "GET /actors/{id}", path: "/actors/vyacheslav-molotov", conneg: true, status: http.StatusSeeOther, extra: append(resourceExtra("actors"), docs("/actors/vyacheslav-molotov")...)},
		{pattern: "GET /places/{id}", path: "/places/moscow", conneg: true, status: http.StatusSeeOther, extra: append(resourceExtra("places"), docs("/places/moscow")...)},
		{pattern: "GET /sources/{id}", path: "", conneg: true, status: http.StatusSeeOther, extra: resourceExtra("sources")},
		{pattern: "GET /search", path: "/search", extra: pageExtra("/search", "query")},
		{pattern: "GET /events", path: "/events", extra: slices.Concat(pageExtra("/events", "query"), []httpCase{
			{"start date not a date", "GET", "/events?start_date=abc", nil, bad},
			{"start date of 10000 digits", "GET", "/events?start_date=" + strings.Repeat("9", tenThousand), nil, bad},
			{"year 0", "GET", "/events?start_date=0", nil, bad},
			{"end before start", "GET", "/events?start_date=1945&end_date=1939", nil, bad},
			{"month 13", "GET", "/events?month=13", nil, bad},
			{"month not a number", "GET", "/events?month=April", nil, bad},
			{"day without month", "GET", "/events?day=3", nil, bad},
			{"day of 40 digits", "GET", "/events?month=1&day=" + strings.Repeat("1", 40), nil, bad},
			{"actor with dot dot", "GET", "/events?actor=actors/../events/x", nil, bad},
			{"place of another collection", "GET", "/events?place=actors/vyacheslav-molotov", nil, bad},
			{"wikidata id lower case", "GET", "/events?wikidata_id=q1", nil, bad},
			{"unknown actor", "GET", "/events?actor=actors/nobody", nil, ok},
			{"BCE dates", "GET", "/events?start_date=44%20BCE&end_date=-1", nil, ok},
		})},
		{pattern: "GET /actors", path: "/actors", extra: slices.Concat(pageExtra("/actors", "query"), []httpCase{
			{"unknown kind", "GET", "/actors?kind=wizard", nil, bad},
			{"kind unspecified", "GET", "/actors?kind=unspecified", nil, bad},
		})},
		{pattern: "GET /places", path: "/places", extra: pageExtra("/places", "query")},
		{pattern: "GET /on-this-day", path: "/on-this-day", extra: []httpCase{
			{"today", "GET", "/on-this-day", nil, ok},
			{"30 February", "GET", "/on-this-day?month=2&day=30", nil, bad},
			{"29 February", "GET", "/on-this-day?month=2&day=29", nil, ok},
			{"month 0 with a day", "GET", "/on-this-day?month=0&day=3", nil, bad},
			{"day 32", "GET", "/on-this-day?month=1&day=32", nil, bad},
			{"negative month", "GET", "/on-this-day?month=-1&day=1", nil, bad},
			{"not numbers", "GET", "/on-this-day?month=a&day=b", nil, bad},
			{"garbage token", "GET", "/on-this-day?month=4&day=13&page_token=abc", nil, bad},
		}},
		{pattern: "GET /timeline", path: "/timeline"},
		{pattern: "GET /annals.css", path: "/annals.css", ranges: true},
		{pattern: "GET /timeline/{period}", path: "/timeline/1941", extra: []httpCase{
			{"century", "GET", "/timeline/20th-century", nil, ok},
			{"decade", "GET", "/timeline/1940s", nil, ok},
			{"BCE year", "GET", "/timeline/44-bce", nil, ok},
			{"BCE decade", "GET", "/timeline/40s-bce", nil, ok},
			{"BCE century", "GET", "/timeline/1st-century-bce", nil, ok},
			{"year 0", "GET", "/timeline/0", nil, notFound},
			{"negative year", "GET", "/timeline/-44", nil, notFound},
			{"leading zero", "GET", "/timeline/01941", nil, notFound},
			{"wrong ordinal", "GET", "/timeline/20st-century", nil, notFound},
			{"century 0", "GET", "/timeline/0th-century", nil, notFound},
			{"decade not of ten", "GET", "/timeline/1945s", nil, notFound},
			{"year past the limit", "GET", "/timeline/" + strings.Repeat("9", 40), nil, notFound},
			{"upper case", "GET", "/timeline/20TH-CENTURY", nil, notFound},
			{"bce twice", "GET", "/timeline/44-bce-bce", nil, notFound},
			{"words", "GET", "/timeline/yesterday", nil, notFound},
			{"garbage token", "GET", "/timeline/1941?page_token=abc", nil, ok}, // told on the page
		}},
	}
	// A source's name is a hash: take the pact's.
	ev, err := annalsv1.NewArchiveServiceClient(e.conn).GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: validEvent})
	if err != nil || len(ev.GetEvent().GetSources()) == 0 {
		t.Fatalf("GetEvent: %v (sources %v)", err, ev.GetEvent().GetSources())
	}
	src := slices.IndexFunc(routes, func(r route) bool { return r.pattern == "GET /sources/{id}" })
	routes[src].path = "/" + ev.GetEvent().GetSources()[0]
	routes[src].extra = append(routes[src].extra, docs(routes[src].path)...)

	// Every route is swept.
	patterns := e.http.Config.Handler.(*httpHandler).patterns
	for _, p := range patterns {
		if slices.Contains(apiPatterns(), p) {
			continue // swept by TestBadInputSweepBrowserHTTP
		}
		if !slices.ContainsFunc(routes, func(r route) bool { return r.pattern == p }) {
			t.Errorf("the sweep does not cover the route %q", p)
		}
	}

	client := e.http.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(t *testing.T, c httpCase) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), c.method, e.http.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, clip(c.path), err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", c.method, clip(c.path), err)
		}
		return resp, string(body)
	}
	grpcClient := annalsv1.NewArchiveServiceClient(e.conn)
	for _, r := range routes {
		p := r.path
		ok := ok // what a good request of this route gets
		if r.status != 0 {
			ok = r.status
		}
		ifConneg := func(yes, no int) int {
			if r.conneg {
				return yes
			}
			return no
		}
		cases := []httpCase{
			{"good", "GET", p, nil, ok},
			{"HEAD", "HEAD", p, nil, ok},
			{"POST", "POST", p, nil, method},
			{"PUT", "PUT", p, nil, method},
			{"DELETE", "DELETE", p, nil, method},
			{"PATCH", "PATCH", p, nil, method},
			{"OPTIONS", "OPTIONS", p, nil, http.StatusNoContent},
			{"made-up method", "BREW", p, nil, method},
			{"TRACE", "TRACE", p, nil, method},
			{"double slash", "GET", "/" + p, nil, moved},
			{"dot dot", "GET", p + "/..", nil, moved},
			{"bad query escape", "GET", p + "?q=%zz&&;=", nil, ok},
			{"Accept nothing offered", "GET", p, []string{"Accept", "application/json"}, ifConneg(notAcc, ok)},
			{"Accept bad q", "GET", p, []string{"Accept", "text/turtle;q=2"}, ifConneg(notAcc, ok)},
			{"Accept punctuation", "GET", p, []string{"Accept", ";;;,,,//"}, ifConneg(notAcc, ok)},
			{"Accept 8 KB", "GET", p, []string{"Accept", strings.Repeat("x/y,", 2048) + "text/turtle"}, ifConneg(notAcc, ok)},
			{"Accept q=0 for all", "GET", p, []string{"Accept", "*/*;q=0"}, ifConneg(notAcc, ok)},
			{"garbage If-None-Match", "GET", p, []string{"If-None-Match", `"x", W/, *x, "`}, ok},
			{"garbage If-Modified-Since", "GET", p, []string{"If-Modified-Since", "yesterday"}, ok},
			{"Range past the end", "GET", p, []string{"Range", "bytes=99999999-"}, map[bool]int{true: rng, false: ok}[r.ranges]},
			{"garbage Range", "GET", p, []string{"Range", "lines=1-2"}, ok},
		}
		if p != "/" {
			cases = append(cases,
				httpCase{"trailing slash", "GET", p + "/", nil, notFound},
				httpCase{"NUL appended", "GET", p + "%00", nil, map[bool]int{true: bad, false: notFound}[strings.Contains(r.pattern, "{id}")]},
				httpCase{"upper case", "GET", strings.ToUpper(p), nil, notFound},
				httpCase{"encoded slash appended", "GET", p + "%2Fx", nil, map[bool]int{true: bad, false: notFound}[strings.Contains(r.pattern, "{id}")]},
			)
		} else {
			cases = append(cases,
				httpCase{"index.html", "GET", "/index.html", nil, notFound},
				httpCase{"NUL", "GET", "/%00", nil, notFound},
				httpCase{"invalid UTF-8", "GET", "/%ff", nil, notFound},
				httpCase{"dot", "GET", "/.", nil, moved},
			)
		}
		cases = append(cases, r.extra...)
		hostile := 0
		for _, c := range cases {
			if c.want >= 400 {
				hostile++
			}
		}
		if hostile < 10 {
			t.Errorf("route %q has %d hostile cases, want at least 10", r.pattern, hostile)
		}
		for _, c := range cases {
			t.Run(r.pattern+"/"+c.name, func(t *testing.T) {
				resp, body := get(t, c)
				if resp.StatusCode >= 500 {
					t.Fatalf("%s %s: %d %q: never for bad input", c.method, clip(c.path), resp.StatusCode, clip(body))
				}
				if resp.StatusCode != c.want {
					t.Errorf("%s %s: %d %q, want %d", c.method, clip(c.path), resp.StatusCode, clip(body), c.want)
				}
				if resp.StatusCode >= 400 && c.method != "HEAD" && len(strings.TrimSpace(body)) < 5 {
					t.Errorf("%s %s: %d with body %q; want a message", c.method, clip(c.path), resp.StatusCode, body)
				}
				if resp.StatusCode == method && resp.Header.Get("Allow") == "" {
					t.Errorf("%s %s: 405 without Allow", c.method, clip(c.path))
				}
				for _, w := range []string{"goroutine", "sqlite", "panic", ".go:"} {
					if strings.Contains(body, w) && resp.StatusCode >= 400 {
						t.Errorf("%s %s: the body mentions %q: %q", c.method, clip(c.path), w, clip(body))
					}
				}
				// Both sides still serve.
				if resp, _ := get(t, httpCase{method: "GET", path: "/healthz"}); resp.StatusCode != http.StatusOK {
					t.Fatalf("/healthz after the case: %d", resp.StatusCode)
				}
				if _, err := grpcClient.GetEvent(t.Context(), &annalsv1.GetEventRequest{Name: validEvent}); err != nil {
					t.Fatalf("GetEvent after the case: %v", err)
				}
			})
		}
	}
}
