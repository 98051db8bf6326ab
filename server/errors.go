package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every status the server returns.
const ErrorDomain = "annals.v1"

// The google.rpc.ErrorInfo reasons the server returns. Clients may match on
// them: unlike status messages they never change.
const (
	// ReasonInvalidArgument means the request has bad fields; a
	// google.rpc.BadRequest detail names each of them.
	ReasonInvalidArgument = "INVALID_ARGUMENT"
	// ReasonMalformedRequest means the request could not be decoded: it is
	// not protobuf wire format, or a string field is not valid UTF-8 (a
	// google.rpc.BadRequest then names the field).
	ReasonMalformedRequest = "MALFORMED_REQUEST"
	// ReasonInvalidPageToken means page_token is not one this server issued
	// for the same filters.
	ReasonInvalidPageToken = "INVALID_PAGE_TOKEN"
	// ReasonInvalidQuery means the full-text query has no word to search
	// for, or more than MaxQueryWords.
	ReasonInvalidQuery = "INVALID_QUERY"
	// ReasonInvalidDocument means an imported document does not follow the
	// seed format; the BadRequest detail gives the line.
	ReasonInvalidDocument = "INVALID_DOCUMENT"
	// ReasonDocumentTooLarge means an imported document is above the size limit.
	ReasonDocumentTooLarge = "DOCUMENT_TOO_LARGE"
	// ReasonNotFound means the named resource does not exist; a
	// google.rpc.ResourceInfo detail names it.
	ReasonNotFound = "RESOURCE_NOT_FOUND"
	// ReasonUnauthenticated means a write came without a valid bearer token.
	ReasonUnauthenticated = "UNAUTHENTICATED"
	// ReasonImportsDisabled means the server has no import token configured,
	// so it refuses every write.
	ReasonImportsDisabled = "IMPORTS_DISABLED"
	// ReasonImportsUnavailable means the server was built without an importer.
	ReasonImportsUnavailable = "IMPORTS_UNAVAILABLE"
	// ReasonReadOnly means the archive's database cannot be written now.
	ReasonReadOnly = "ARCHIVE_READ_ONLY"
	// ReasonUnavailable means the archive's database cannot answer now: it
	// is locked by another process, restarting or unreachable, or its file
	// was replaced underneath the server. Retry later.
	ReasonUnavailable = "ARCHIVE_UNAVAILABLE"
	// ReasonDataLoss means a stored record is damaged; a
	// google.rpc.ResourceInfo detail names it.
	ReasonDataLoss = "RECORD_CORRUPT"
	// ReasonTooManyLists means the list answers in flight hold as many
	// bytes as the server allows; retry shortly.
	ReasonTooManyLists = "TOO_MANY_LIST_BYTES"
	// ReasonStalled means a streaming client read nothing for too long.
	ReasonStalled = "CLIENT_STALLED"
	// ReasonTooManyExports means as many whole-archive exports as the server
	// allows are running; try again later.
	ReasonTooManyExports = "TOO_MANY_EXPORTS"
	// ReasonShuttingDown means the server is stopping: a WatchChanges stream
	// ends with it (Unavailable); resume on another server or after the restart.
	ReasonShuttingDown = "SHUTTING_DOWN"
	// ReasonCanceled means the caller canceled the request.
	ReasonCanceled = "CANCELLED"
	// ReasonDeadlineExceeded means the request ran out of time.
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	// ReasonInternal means the server failed; the detail is in its log.
	ReasonInternal = "INTERNAL"
)

// fieldViolation is one bad field of a request.
type fieldViolation struct {
	Field       string // a field path such as "start_date.month"
	Description string // what is wrong, for a developer
}

// badRequestError says which fields of a request are wrong. Validation
// collects every violation of a request into one badRequestError.
type badRequestError struct {
	reason     string // ErrorInfo reason; ReasonInvalidArgument when empty
	violations []fieldViolation
}

func (e *badRequestError) Error() string {
	parts := make([]string, len(e.violations))
	for i, v := range e.violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// resourceError ties an error to the resource name it concerns, so that a
// NotFound can name the resource without trusting a backend's error text.
type resourceError struct {
	name string
	err  error
}

func (e *resourceError) Error() string { return e.name + ": " + e.err.Error() }
func (e *resourceError) Unwrap() error { return e.err }

// withResource wraps err, if not nil, with the resource name it concerns.
func withResource(name string, err error) error {
	if err == nil {
		return nil
	}
	return &resourceError{name: name, err: err}
}

// The server's own failures, mapped by toStatus like any domain error.
var (
	errMissingToken     = errors.New("missing bearer token")
	errWrongToken       = errors.New("wrong bearer token")
	errImportsDisabled  = errors.New("no import token configured")
	errNoImporter       = errors.New("no importer configured")
	errPanic            = errors.New("handler panicked")
	errMalformedToken   = errors.New("malformed page token")
	errTokenOtherFilter = errors.New("page token made for a different query")
)

// toStatus is the one place where errors become gRPC statuses. Domain errors
// (store's and ingest's sentinels, validation errors, the server's own) map to
// canonical codes with a google.rpc.ErrorInfo and, for bad input, a
// google.rpc.BadRequest. Anything else becomes Internal with the message
// "internal error"; its detail is logged, never sent, so SQL, file paths and
// stack traces stay on the server. An error that already is a gRPC status
// (from grpc itself) is returned as is.
//
// A document above the size limit is InvalidArgument (reason
// DOCUMENT_TOO_LARGE), not ResourceExhausted: retrying the same document
// cannot succeed, and clients commonly retry ResourceExhausted.
func toStatus(ctx context.Context, log *slog.Logger, err error) *status.Status {
	if err == nil {
		return nil
	}
	// Only a status itself passes through: status.FromError would also accept
	// an error wrapping one, with the wrapper's text in the message.
	if se, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return se.GRPCStatus()
	}
	var (
		bad   *badRequestError
		perr  *ingest.ParseError
		rerr  *resourceError
		derr  *decodeError
		named string
	)
	if errors.As(err, &rerr) {
		named = rerr.name
	}
	switch {
	case errors.As(err, &bad):
		reason := bad.reason
		if reason == "" {
			reason = ReasonInvalidArgument
		}
		return withDetails(codes.InvalidArgument, bad.Error(), reason, nil, badRequest(bad.violations...))

	case errors.As(err, &derr):
		var details []protoadapt.MessageV1
		if derr.field != "" {
			details = append(details, badRequest(fieldViolation{derr.field, derr.desc}))
		}
		return withDetails(codes.InvalidArgument, derr.Error(), ReasonMalformedRequest, nil, details...)

	case errors.Is(err, store.ErrInvalidCursor):
		return withDetails(codes.InvalidArgument, "page_token is no longer valid; start again without it",
			ReasonInvalidPageToken, nil, badRequest(fieldViolation{"page_token", "the page it points to is not valid for this query"}))
	case errors.Is(err, store.ErrInvalidQuery):
		// The store refuses a query with no word, or with too many.
		return withDetails(codes.InvalidArgument,
			fmt.Sprintf("query has no word to search for, or more than %d different words; give 1 to %d words", MaxQueryWords, MaxQueryWords),
			ReasonInvalidQuery, nil, badRequest(fieldViolation{"query", fmt.Sprintf("no word to search for, or more than %d different words", MaxQueryWords)}))

	case errors.Is(err, store.ErrNotFound):
		msg := "resource not found"
		var info *errdetails.ResourceInfo
		if named != "" {
			kind, typ := describeName(named)
			msg = fmt.Sprintf("%s %q not found", kind, named)
			info = &errdetails.ResourceInfo{ResourceType: typ, ResourceName: named, Description: msg}
		}
		if info == nil {
			return withDetails(codes.NotFound, msg, ReasonNotFound, nil)
		}
		return withDetails(codes.NotFound, msg, ReasonNotFound, map[string]string{"resource_name": named}, info)

	case errors.As(err, &perr):
		where := "document"
		if perr.Line > 0 {
			where = "line " + strconv.Itoa(perr.Line)
		}
		desc := where + ": " + perr.Msg
		md := map[string]string{"line": strconv.Itoa(perr.Line)}
		if perr.File != "" {
			md["file"] = perr.File
		}
		reason, msg := ReasonInvalidDocument, "the document is not in the seed format: "+desc
		if errors.Is(err, ingest.ErrTooLarge) {
			reason, msg = ReasonDocumentTooLarge, "the document is too large: "+desc
		}
		return withDetails(codes.InvalidArgument, msg, reason, md, badRequest(fieldViolation{"text", desc}))
	case errors.Is(err, ingest.ErrTooLarge):
		desc := fmt.Sprintf("the document is larger than %d bytes", ingest.MaxDocumentBytes)
		return withDetails(codes.InvalidArgument, desc, ReasonDocumentTooLarge, nil, badRequest(fieldViolation{"text", desc}))

	case errors.Is(err, errMissingToken):
		return withDetails(codes.Unauthenticated, `imports need "authorization: Bearer <token>" metadata`, ReasonUnauthenticated, nil)
	case errors.Is(err, errWrongToken):
		return withDetails(codes.Unauthenticated, "the bearer token is not the import token", ReasonUnauthenticated, nil)
	case errors.Is(err, errImportsDisabled):
		return withDetails(codes.PermissionDenied, "imports are disabled: the server has no import token configured (ANNALS_IMPORT_TOKEN)", ReasonImportsDisabled, nil)
	case errors.Is(err, errNoImporter):
		return withDetails(codes.Unimplemented, "imports are not available on this server", ReasonImportsUnavailable, nil)
	case errors.Is(err, store.ErrReadOnly):
		log.LogAttrs(ctx, slog.LevelWarn, "archive is read-only", requestAttrs(ctx, slog.String("error", err.Error()))...)
		return withDetails(codes.Unavailable, "the archive cannot be written at the moment (its database is read-only or its disk is full); try the import again later", ReasonReadOnly, nil)

	case errors.Is(err, store.ErrUnavailable):
		log.LogAttrs(ctx, slog.LevelWarn, "archive unavailable", requestAttrs(ctx, slog.String("error", err.Error()))...)
		return withDetails(codes.Unavailable, "the archive's database cannot answer at the moment; try again shortly", ReasonUnavailable, nil)
	case errors.Is(err, store.ErrDataLoss):
		log.LogAttrs(ctx, slog.LevelError, "corrupt record", requestAttrs(ctx, slog.String("error", err.Error()))...)
		var ce *store.CorruptError
		if errors.As(err, &ce) {
			named = ce.Name
		}
		if named == "" {
			return withDetails(codes.DataLoss, "a stored record is damaged; the operator has been told in the server's log", ReasonDataLoss, nil)
		}
		kind, typ := describeName(named)
		msg := fmt.Sprintf("the stored %s %q is damaged; the operator has been told in the server's log", kind, named)
		return withDetails(codes.DataLoss, msg, ReasonDataLoss, map[string]string{"resource_name": named},
			&errdetails.ResourceInfo{ResourceType: typ, ResourceName: named, Description: msg})

	case errors.Is(err, errTooManyLists):
		return withDetails(codes.ResourceExhausted, "the server is building as many list answers as it has memory for; retry shortly or ask for smaller pages", ReasonTooManyLists, nil)
	case errors.Is(err, errStalled):
		return withDetails(codes.DeadlineExceeded, "the client read nothing for too long; the stream was cut", ReasonStalled, nil)

	case errors.Is(err, errTooManyExports):
		return withDetails(codes.ResourceExhausted, "too many exports are running; try again later", ReasonTooManyExports, nil)
	case errors.Is(err, errShuttingDown):
		return withDetails(codes.Unavailable, errShuttingDown.Error(), ReasonShuttingDown, nil)

	case errors.Is(err, context.Canceled):
		return withDetails(codes.Canceled, "the request was canceled", ReasonCanceled, nil)
	case errors.Is(err, context.DeadlineExceeded):
		return withDetails(codes.DeadlineExceeded, "the request ran out of time", ReasonDeadlineExceeded, nil)

	case errors.Is(err, errPanic):
		// Already logged with its stack by the recovery handler.
		return internal(ctx)
	}
	log.LogAttrs(ctx, slog.LevelError, "internal error", requestAttrs(ctx, slog.String("error", err.Error()))...)
	return internal(ctx)
}

// internal is the status of every failure of the server's own: a generic
// message, and the request id (google.rpc.RequestInfo) that finds the detail
// in the log.
func internal(ctx context.Context) *status.Status {
	if id := requestID(ctx); id != "" {
		return withDetails(codes.Internal, "internal error", ReasonInternal, nil, &errdetails.RequestInfo{RequestId: id})
	}
	return withDetails(codes.Internal, "internal error", ReasonInternal, nil)
}

// withDetails builds a status with an ErrorInfo followed by details.
func withDetails(c codes.Code, msg, reason string, md map[string]string, details ...protoadapt.MessageV1) *status.Status {
	s := status.New(c, msg)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: md}}, details...)
	if withd, err := s.WithDetails(all...); err == nil {
		return withd
	}
	return s
}

// badRequest builds a google.rpc.BadRequest from violations.
func badRequest(vs ...fieldViolation) *errdetails.BadRequest {
	br := &errdetails.BadRequest{}
	for _, v := range vs {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
	}
	return br
}

// describeName gives the singular noun and the proto type of a resource name's collection.
func describeName(name string) (noun, typ string) {
	col, _, _ := strings.Cut(name, "/")
	switch resource.Kind(col) {
	case resource.Events:
		return "event", "annals.v1.Event"
	case resource.Actors:
		return "actor", "annals.v1.Actor"
	case resource.Places:
		return "place", "annals.v1.Place"
	case resource.Sources:
		return "source", "annals.v1.Source"
	}
	return "resource", ""
}

// requestAttrs returns the log attributes that identify the request in ctx,
// followed by extra.
func requestAttrs(ctx context.Context, extra ...slog.Attr) []slog.Attr {
	var attrs []slog.Attr
	if m, ok := grpc.Method(ctx); ok {
		attrs = append(attrs, slog.String("method", m))
	}
	if id := requestID(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	return append(attrs, extra...)
}
