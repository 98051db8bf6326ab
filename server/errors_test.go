package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
)

func TestToStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sqlite: read /data/annals.db: %w", err) }
	tests := []struct {
		name string
		err  error
		want wantErr
	}{
		{"not found, named", withResource("places/atlantis", wrap(store.ErrNotFound)),
			wantErr{code: codes.NotFound, reason: ReasonNotFound, msg: `place "places/atlantis" not found`}},
		{"not found, unnamed", wrap(store.ErrNotFound),
			wantErr{code: codes.NotFound, reason: ReasonNotFound, msg: "resource not found"}},
		{"invalid cursor", wrap(store.ErrInvalidCursor),
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidPageToken, fields: []string{"page_token"}, msg: "page_token"}},
		{"invalid query", wrap(store.ErrInvalidQuery),
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidQuery, fields: []string{"query"}, msg: "query"}},
		{"read-only", wrap(store.ErrReadOnly),
			wantErr{code: codes.Unavailable, reason: ReasonReadOnly, msg: "the archive cannot be written"}},
		{"unavailable", wrap(store.ErrUnavailable),
			wantErr{code: codes.Unavailable, reason: ReasonUnavailable, msg: "try again shortly"}},
		{"data loss", wrap(store.ErrDataLoss),
			wantErr{code: codes.DataLoss, reason: ReasonDataLoss, msg: "damaged"}},
		{"data loss of a named record", wrap(&store.CorruptError{Name: "events/x", Problem: "bad bytes"}),
			wantErr{code: codes.DataLoss, reason: ReasonDataLoss, msg: `event "events/x" is damaged`}},
		{"parse error", fmt.Errorf("import: %w", &ingest.ParseError{File: "a.txt", Line: 4, Msg: "want a title"}),
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidDocument, fields: []string{"text"}, msg: "line 4: want a title"}},
		{"parse error of the whole document", &ingest.ParseError{Msg: "empty document"},
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidDocument, fields: []string{"text"}, msg: "document: empty document"}},
		{"too large", &ingest.ParseError{Msg: "too large", Err: ingest.ErrTooLarge},
			wantErr{code: codes.InvalidArgument, reason: ReasonDocumentTooLarge, fields: []string{"text"}, msg: "too large"}},
		{"too large, bare", ingest.ErrTooLarge,
			wantErr{code: codes.InvalidArgument, reason: ReasonDocumentTooLarge, fields: []string{"text"}, msg: "larger"}},
		{"validation", &badRequestError{violations: []fieldViolation{{"month", "month 13 is not 1-12"}, {"day", "day needs month"}}},
			wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"month", "day"}, msg: "month 13 is not 1-12"}},
		{"canceled", wrap(context.Canceled),
			wantErr{code: codes.Canceled, reason: ReasonCanceled, msg: "canceled"}},
		{"deadline", wrap(context.DeadlineExceeded),
			wantErr{code: codes.DeadlineExceeded, reason: ReasonDeadlineExceeded, msg: "time"}},
		{"missing token", errMissingToken,
			wantErr{code: codes.Unauthenticated, reason: ReasonUnauthenticated, msg: "Bearer"}},
		{"imports disabled", errImportsDisabled,
			wantErr{code: codes.PermissionDenied, reason: ReasonImportsDisabled, msg: "ANNALS_IMPORT_TOKEN"}},
		{"too many exports", errTooManyExports,
			wantErr{code: codes.ResourceExhausted, reason: ReasonTooManyExports, msg: "try again later"}},
		{"panic", errPanic,
			wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"}},
		{"unknown", wrap(errors.New(`near "MATCH": syntax error`)),
			wantErr{code: codes.Internal, reason: ReasonInternal, msg: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			st := toStatus(t.Context(), log, tt.err)
			checkErr(t, st.Err(), tt.want)
			for _, leak := range []string{"sqlite", "/data", "MATCH", "a.txt"} {
				if strings.Contains(st.Message(), leak) {
					t.Errorf("message %q leaks %q", st.Message(), leak)
				}
			}
			if tt.want.code == codes.Internal && tt.err != errPanic && !strings.Contains(logs.String(), "MATCH") {
				t.Errorf("the detail of an internal error is not logged: %s", logs.String())
			}
		})
	}

	if toStatus(t.Context(), slog.New(slog.DiscardHandler), nil) != nil {
		t.Error("toStatus(nil) is not nil")
	}
	wrapped := fmt.Errorf("remote backend at 10.0.0.7: %w", status.Error(codes.NotFound, "x"))
	if got := toStatus(t.Context(), slog.New(slog.DiscardHandler), wrapped); got.Code() != codes.Internal || strings.Contains(got.Message(), "10.0.0.7") {
		t.Errorf("a wrapped status became %v, want Internal without the wrapper's text", got)
	}
	own := status.Error(codes.NotFound, "unknown service")
	if got := toStatus(t.Context(), slog.New(slog.DiscardHandler), own); got.Code() != codes.NotFound || got.Message() != "unknown service" {
		t.Errorf("a status passed through as %v", got)
	}
}
