package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/server"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// bearer adds "authorization: Bearer token" to ctx's outgoing metadata.
func bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// wantStatus fails the test unless err is a status with code and, when
// reason is set, an ErrorInfo with that reason. It returns the status.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	s, ok := status.FromError(err)
	if !ok || s.Code() != code {
		t.Fatalf("err = %v, want code %v", err, code)
	}
	if reason == "" {
		return s
	}
	for _, d := range s.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if info.GetReason() != reason || info.GetDomain() != server.ErrorDomain {
				t.Errorf("ErrorInfo = %v, want reason %s in domain %s", info, reason, server.ErrorDomain)
			}
			return s
		}
	}
	t.Errorf("status %v has no ErrorInfo", s.Proto())
	return s
}

// listEventNames returns the names of the events ListEvents gives for req (first page).
func listEventNames(t *testing.T, ctx context.Context, c annalsv1.ArchiveServiceClient, req *annalsv1.ListEventsRequest) []string {
	t.Helper()
	resp, err := c.ListEvents(ctx, req)
	if err != nil {
		t.Fatalf("ListEvents(%v): %v", req, err)
	}
	var names []string
	for _, e := range resp.GetEvents() {
		names = append(names, e.GetName())
	}
	return names
}

// TestImportDocumentOverSocket runs `annals serve` with an import token and
// imports documents over a real socket: with the token the event is stored
// and listed; without it, or with a wrong one, the call is Unauthenticated;
// a bad document is InvalidArgument naming the line; a server without a
// token refuses imports with PermissionDenied.
func TestImportDocumentOverSocket(t *testing.T) {
	skipUnlessLong(t)
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	const token = "e2e-secret-token-0123456789"
	harbour, err := os.ReadFile(doc("harbour.txt"))
	if err != nil {
		t.Fatal(err)
	}
	bridge, err := os.ReadFile(doc("bridge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	badDate, err := os.ReadFile(doc("bad_date.txt"))
	if err != nil {
		t.Fatal(err)
	}

	d := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN="+token)
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	client := annalsv1.NewArchiveServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const event = "events/alder-bexley-harbour-charter"

	t.Run("with the token", func(t *testing.T) {
		resp, err := client.ImportDocument(bearer(ctx, token), &annalsv1.ImportDocumentRequest{Text: string(harbour), Filename: "harbour.txt"})
		if err != nil {
			t.Fatalf("ImportDocument: %v", err)
		}
		if resp.GetEvent() != event || !strings.HasPrefix(resp.GetSource(), "sources/") {
			t.Errorf("response names event %q source %q", resp.GetEvent(), resp.GetSource())
		}
		kinds := map[string]annalsv1.ChangeKind{}
		for _, c := range resp.GetChanges() {
			kinds[c.GetName()] = c.GetKind()
		}
		for _, name := range []string{event, resp.GetSource(), "actors/mara-quill", "places/port-alder"} {
			if kinds[name] != annalsv1.ChangeKind_CHANGE_KIND_CREATED {
				t.Errorf("%s: %v, want CREATED; changes %v", name, kinds[name], resp.GetChanges())
			}
		}
		if len(resp.GetWarnings()) == 0 {
			t.Errorf("no warnings for names that match no known record")
		}

		src, err := client.GetSource(ctx, &annalsv1.GetSourceRequest{Name: resp.GetSource()})
		if err != nil {
			t.Fatalf("GetSource: %v", err)
		}
		if src.GetSource().GetFilename() != "harbour.txt" || src.GetSource().GetEvent() != event {
			t.Errorf("source = filename %q event %q", src.GetSource().GetFilename(), src.GetSource().GetEvent())
		}

		// The same document again changes nothing.
		again, err := client.ImportDocument(bearer(ctx, token), &annalsv1.ImportDocumentRequest{Text: string(harbour), Filename: "harbour.txt"})
		if err != nil {
			t.Fatalf("second ImportDocument: %v", err)
		}
		for _, c := range again.GetChanges() {
			if c.GetKind() != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
				t.Errorf("second import: %s %v, want UNCHANGED", c.GetName(), c.GetKind())
			}
		}
	})

	t.Run("listed", func(t *testing.T) {
		for _, req := range []*annalsv1.ListEventsRequest{
			{Query: "harbour"},
			{Query: "sandbar quay"},
			{Month: 6, Day: 2},
			{
				StartDate: &annalsv1.HistoricalDate{Year: 1802, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
				EndDate:   &annalsv1.HistoricalDate{Year: 1802, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR},
			},
			{Actor: "actors/mara-quill"},
			{Place: "places/port-alder"},
		} {
			if names := listEventNames(t, ctx, client, req); !slices.Contains(names, event) {
				t.Errorf("ListEvents(%v) = %v, want %s among them", req, names, event)
			}
		}
		if names := listEventNames(t, ctx, client, &annalsv1.ListEventsRequest{Month: 6, Day: 3}); slices.Contains(names, event) {
			t.Errorf("ListEvents(June 3) lists %s", event)
		}
	})

	t.Run("refused", func(t *testing.T) {
		req := &annalsv1.ImportDocumentRequest{Text: string(bridge), Filename: "bridge.txt"}
		_, err := client.ImportDocument(ctx, req)
		wantStatus(t, err, codes.Unauthenticated, server.ReasonUnauthenticated)
		_, err = client.ImportDocument(bearer(ctx, "not-the-secret"), req)
		wantStatus(t, err, codes.Unauthenticated, server.ReasonUnauthenticated)
		_, err = client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/the-stone-bridge-of-orrin"})
		wantStatus(t, err, codes.NotFound, "")
	})

	t.Run("bad document", func(t *testing.T) {
		_, err := client.ImportDocument(bearer(ctx, token), &annalsv1.ImportDocumentRequest{Text: string(badDate), Filename: "bad_date.txt"})
		s := wantStatus(t, err, codes.InvalidArgument, server.ReasonInvalidDocument)
		var found bool
		for _, d := range s.Details() {
			br, ok := d.(*errdetails.BadRequest)
			if !ok {
				continue
			}
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == "text" {
					found = true
					if !strings.HasPrefix(v.GetDescription(), "line 1: ") || !strings.Contains(v.GetDescription(), "February 30, 1941") {
						t.Errorf("violation on text = %q, want it to name line 1 and the date", v.GetDescription())
					}
				}
			}
		}
		if !found {
			t.Errorf("no BadRequest field violation on text: %v", s.Proto())
		}
		if !strings.Contains(s.Message(), "line 1") {
			t.Errorf("message %q does not name the line", s.Message())
		}
	})

	t.Run("without a configured token", func(t *testing.T) {
		d2 := startServe(t, filepath.Join(t.TempDir(), "annals.db"), "ANNALS_IMPORT_TOKEN=")
		conn2 := dial(t, d2.grpcAddr)
		waitServing(t, conn2)
		c2 := annalsv1.NewArchiveServiceClient(conn2)
		for _, cctx := range []context.Context{ctx, bearer(ctx, token), bearer(ctx, "")} {
			_, err := c2.ImportDocument(cctx, &annalsv1.ImportDocumentRequest{Text: string(harbour)})
			s := wantStatus(t, err, codes.PermissionDenied, server.ReasonImportsDisabled)
			if !strings.Contains(s.Message(), "ANNALS_IMPORT_TOKEN") {
				t.Errorf("message %q does not say how to enable imports", s.Message())
			}
		}
		if _, err := c2.GetEvent(ctx, &annalsv1.GetEventRequest{Name: event}); status.Code(err) != codes.NotFound {
			t.Errorf("GetEvent on the server without a token: %v, want NotFound", err)
		}
	})
}
