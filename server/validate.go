package server

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// This file is the one place where requests are checked. Each validate
// function reports every bad field of a request at once (as a
// *badRequestError) and turns a good request into what the store needs.

// Paging limits (AIP-158).
const (
	// DefaultPageSize is the page size of a List request with page_size 0.
	DefaultPageSize = 50
	// MaxPageSize is the largest page; larger page sizes are read as this.
	MaxPageSize = 1000
)

// Limits on free-text fields.
const (
	// MaxQueryBytes is the longest full-text query accepted.
	MaxQueryBytes = 500
	// MaxQueryWords is the most different words a full-text query may have:
	// the store's limit (store.MaxQueryWords), which backends enforce.
	MaxQueryWords = store.MaxQueryWords
	// MaxFilenameBytes is the longest ImportDocument filename accepted.
	MaxFilenameBytes = 255
)

// wikidataID matches a Wikidata item id.
var wikidataID = regexp.MustCompile(`^Q[1-9][0-9]{0,11}$`)

// checker collects the field violations of one request.
type checker struct {
	violations []fieldViolation
}

func (c *checker) add(field, format string, args ...any) {
	c.violations = append(c.violations, fieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// err returns the violations as a *badRequestError, or nil if there are none.
// When page_token is the only bad field the reason is INVALID_PAGE_TOKEN.
func (c *checker) err() error {
	if len(c.violations) == 0 {
		return nil
	}
	reason := ReasonInvalidArgument
	if len(c.violations) == 1 && c.violations[0].Field == "page_token" {
		reason = ReasonInvalidPageToken
	}
	return &badRequestError{reason: reason, violations: c.violations}
}

// name checks a resource name of collection k in field. Empty is refused
// when required and accepted (as "no filter") otherwise.
func (c *checker) name(field, name string, k resource.Kind, required bool) {
	want := string(k) + "/{id}"
	switch _, err := resource.ParseKind(name, k); {
	case name == "" && required:
		c.add(field, "a resource name %q is required", want)
	case name == "":
	case !strings.Contains(name, "/"):
		c.add(field, "malformed resource name %q; want %q", clip(name), want)
	case err != nil:
		c.add(field, "%s", err.Error())
	}
}

func (c *checker) wikidataID(field, id string) {
	if id != "" && !wikidataID.MatchString(id) {
		c.add(field, "%q is not a Wikidata item id; want Q followed by digits, such as \"Q649\"", clip(id))
	}
}

func (c *checker) query(field, q string) {
	switch {
	case len(q) > MaxQueryBytes:
		c.add(field, "the query is %d bytes long; the limit is %d", len(q), MaxQueryBytes)
	case !utf8.ValidString(q):
		c.add(field, "the query is not valid UTF-8")
	}
}

// pageSize returns the number of records to fetch for page_size n.
func (c *checker) pageSize(n int32) int {
	switch {
	case n < 0:
		c.add("page_size", "page_size %d is negative; use 0 for the default of %d", n, DefaultPageSize)
		return 0
	case n == 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return int(n)
}

// pageToken returns the store cursor in token, a token made for the query fp.
func (c *checker) pageToken(token string, fp fingerprint) string {
	if token == "" {
		return ""
	}
	cursor, err := decodePageToken(token, fp)
	switch {
	case errors.Is(err, errTokenOtherFilter):
		c.add("page_token", "page_token was made for a different query; send the same filters as the call that returned it, or start again without it")
	case err != nil:
		c.add("page_token", "page_token is not a token this server issued (it may be truncated or edited); start again without it")
	}
	return cursor
}

// pageTokenOf checks the page_token of a List request, once its other fields
// are checked: a token cannot have been made for a bad query, so it is only
// decoded when every other field (page_size aside) is good. It returns the
// store cursor and the request's query fingerprint.
func (c *checker) pageTokenOf(req interface {
	proto.Message
	GetPageToken() string
}) (string, fingerprint) {
	fp := queryFingerprint(req)
	for _, v := range c.violations {
		if v.Field != "page_size" {
			return "", fp
		}
	}
	return c.pageToken(req.GetPageToken(), fp), fp
}

// validateName checks the name of a Get request.
func validateName(name string, k resource.Kind) error {
	var c checker
	c.name("name", name, k, true)
	return c.err()
}

// validateListEvents checks a ListEvents request and returns the store filter
// and page it asks for, and the fingerprint of its query.
func validateListEvents(req *annalsv1.ListEventsRequest) (store.EventFilter, store.Page, fingerprint, error) {
	var c checker
	limit := c.pageSize(req.GetPageSize())
	f := store.EventFilter{
		Month:      req.GetMonth(),
		Day:        req.GetDay(),
		Actor:      req.GetActor(),
		Place:      req.GetPlace(),
		WikidataID: req.GetWikidataId(),
		Query:      req.GetQuery(),
	}

	month, day := req.GetMonth(), req.GetDay()
	monthOK := month == 0 || month >= 1 && month <= 12
	if !monthOK {
		c.add("month", "month %d is not 1-12", month)
	}
	switch {
	case day == 0:
	case day < 0 || day > 31:
		c.add("day", "day %d is not 1-31", day)
	case month == 0:
		c.add("day", "day needs month: give the month of day %d too", day)
	case monthOK:
		// Any year: February has 29 days in leap years.
		if n := histdate.DaysIn(annalsv1.Calendar_CALENDAR_GREGORIAN, 2000, month); day > n {
			c.add("day", "day %d does not exist in %s, which has %d days", day, histdate.MonthNames()[month-1], n)
		}
	}

	startOK, endOK := true, true
	if d := inferPrecision(req.GetStartDate()); d != nil {
		if fe := histdate.Validate(d); fe != nil {
			c.add("start_date."+fe.Field, "%s", fe.Reason)
			startOK = false
		} else {
			lo, _ := histdate.Bounds(d)
			f.From, f.HasFrom = int64(lo), true
		}
	}
	if d := inferPrecision(req.GetEndDate()); d != nil {
		if fe := histdate.Validate(d); fe != nil {
			c.add("end_date."+fe.Field, "%s", fe.Reason)
			endOK = false
		} else {
			_, hi := histdate.Bounds(d)
			f.To, f.HasTo = int64(hi), true
		}
	}
	if startOK && endOK && f.HasFrom && f.HasTo && f.From > f.To {
		c.add("end_date", "end_date %s is before start_date %s",
			histdate.String(inferPrecision(req.GetEndDate())), histdate.String(inferPrecision(req.GetStartDate())))
	}

	c.name("actor", req.GetActor(), resource.Actors, false)
	c.name("place", req.GetPlace(), resource.Places, false)
	c.wikidataID("wikidata_id", req.GetWikidataId())
	c.query("query", req.GetQuery())

	cursor, fp := c.pageTokenOf(req)
	return f, store.Page{Limit: limit, After: cursor}, fp, c.err()
}

// inferPrecision returns d, or when d has no precision a copy of d with the
// precision of its most specific field: a day makes it a date known to the
// day, a month (without a day) to the month, a year alone to the year. So
// {"year": 1939} as a filter bound means the whole of 1939. A day without a
// month gets day precision, which validation then refuses for the month.
func inferPrecision(d *annalsv1.HistoricalDate) *annalsv1.HistoricalDate {
	if d == nil || d.GetPrecision() != annalsv1.DatePrecision_DATE_PRECISION_UNSPECIFIED {
		return d
	}
	d = proto.CloneOf(d)
	switch {
	case d.GetDay() != 0:
		d.Precision = annalsv1.DatePrecision_DATE_PRECISION_DAY
	case d.GetMonth() != 0:
		d.Precision = annalsv1.DatePrecision_DATE_PRECISION_MONTH
	default:
		d.Precision = annalsv1.DatePrecision_DATE_PRECISION_YEAR
	}
	return d
}

// validateListActors checks a ListActors request.
func validateListActors(req *annalsv1.ListActorsRequest) (store.ActorFilter, store.Page, fingerprint, error) {
	var c checker
	limit := c.pageSize(req.GetPageSize())
	if _, ok := annalsv1.ActorKind_name[int32(req.GetKind())]; !ok {
		c.add("kind", "unknown actor kind %d", req.GetKind())
	}
	c.wikidataID("wikidata_id", req.GetWikidataId())
	c.query("query", req.GetQuery())
	cursor, fp := c.pageTokenOf(req)
	f := store.ActorFilter{Kind: req.GetKind(), WikidataID: req.GetWikidataId(), Query: req.GetQuery()}
	return f, store.Page{Limit: limit, After: cursor}, fp, c.err()
}

// validateListPlaces checks a ListPlaces request.
func validateListPlaces(req *annalsv1.ListPlacesRequest) (store.PlaceFilter, store.Page, fingerprint, error) {
	var c checker
	limit := c.pageSize(req.GetPageSize())
	c.wikidataID("wikidata_id", req.GetWikidataId())
	c.query("query", req.GetQuery())
	cursor, fp := c.pageTokenOf(req)
	f := store.PlaceFilter{WikidataID: req.GetWikidataId(), Query: req.GetQuery()}
	return f, store.Page{Limit: limit, After: cursor}, fp, c.err()
}

// validateImport checks an ImportDocument request.
func validateImport(req *annalsv1.ImportDocumentRequest) error {
	var c checker
	text := req.GetText()
	switch {
	case text == "":
		c.add("text", "the document text is required")
	case len(text) > ingest.MaxDocumentBytes:
		c.add("text", "the document is %d bytes long; the limit is %d", len(text), ingest.MaxDocumentBytes)
	case !utf8.ValidString(text):
		c.add("text", "the document is not valid UTF-8")
	}
	name := req.GetFilename()
	switch {
	case len(name) > MaxFilenameBytes:
		c.add("filename", "the filename is %d bytes long; the limit is %d", len(name), MaxFilenameBytes)
	case !utf8.ValidString(name):
		c.add("filename", "the filename is not valid UTF-8")
	case hasControl(name):
		c.add("filename", "the filename contains control or formatting characters (such as bidirectional overrides, which make a name read other than it is)")
	}
	err := c.err()
	if err != nil && len(text) > ingest.MaxDocumentBytes && len(c.violations) == 1 {
		err.(*badRequestError).reason = ReasonDocumentTooLarge
	}
	return err
}

// hasControl reports whether s holds a control character or an invisible
// formatting character (Unicode category Cf: bidirectional overrides and
// isolates such as U+202E, zero-width joiners, the byte-order mark), which
// would make a file name in a log or a report read as something it is not.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

// clip shortens user input quoted in messages.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
