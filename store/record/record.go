// Package record holds what every store backend does to a record on its
// way in and out, so that all backends agree byte for byte: it checks a
// batch, decides whether a write creates, updates or leaves a record
// unchanged, stamps the output-only fields (create_time, update_time, etag),
// derives the columns an event is indexed by, the text its full-text index
// holds, and the checksum kept with its stored bytes.
package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/textfold"
)

// Record is what every resource message has.
type Record interface {
	proto.Message
	GetName() string
	GetCreateTime() *timestamppb.Timestamp
	GetUpdateTime() *timestamppb.Timestamp
	GetEtag() string
}

// New returns an empty record of collection k.
func New(k resource.Kind) Record {
	switch k {
	case resource.Events:
		return &annalsv1.Event{}
	case resource.Actors:
		return &annalsv1.Actor{}
	case resource.Places:
		return &annalsv1.Place{}
	default:
		return &annalsv1.Source{}
	}
}

// CheckBatch refuses a batch with nil records, malformed names, bad event
// dates or duplicate names, before any transaction is opened.
func CheckBatch(b *store.Batch) error {
	seen := map[string]bool{}
	check := func(k resource.Kind, rec Record) error {
		if rec == nil || rec.ProtoReflect() == nil || !rec.ProtoReflect().IsValid() {
			return fmt.Errorf("a nil record in %s", k)
		}
		name := rec.GetName()
		if _, err := resource.ParseKind(name, k); err != nil {
			return fmt.Errorf("record name: %w", err)
		}
		if seen[name] {
			return fmt.Errorf("%s appears twice in one batch", name)
		}
		seen[name] = true
		return nil
	}
	for _, r := range b.Sources {
		if err := check(resource.Sources, r); err != nil {
			return err
		}
	}
	for _, r := range b.Events {
		if err := check(resource.Events, r); err != nil {
			return err
		}
		if fe := histdate.Validate(r.GetDate()); fe != nil {
			return fmt.Errorf("%s: date: %w", r.GetName(), fe)
		}
		if r.GetEndDate() != nil {
			if fe := histdate.Validate(r.GetEndDate()); fe != nil {
				return fmt.Errorf("%s: end_date: %w", r.GetName(), fe)
			}
		}
	}
	for _, r := range b.Actors {
		if err := check(resource.Actors, r); err != nil {
			return err
		}
	}
	for _, r := range b.Places {
		if err := check(resource.Places, r); err != nil {
			return err
		}
	}
	for _, name := range b.Deletes {
		if _, _, err := resource.Parse(name); err != nil {
			return fmt.Errorf("deleted name: %w", err)
		}
		if seen[name] {
			return fmt.Errorf("%s is both written and deleted (or deleted twice) in one batch", name)
		}
		seen[name] = true
	}
	return nil
}

// SetOutput sets the output-only fields of m.
func SetOutput(m Record, ct, ut *timestamppb.Timestamp, etag string) {
	switch m := m.(type) {
	case *annalsv1.Event:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Actor:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Place:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	case *annalsv1.Source:
		m.CreateTime, m.UpdateTime, m.Etag = ct, ut, etag
	default:
		panic(fmt.Sprintf("record: unknown record type %T", m))
	}
}

// Marshal is the deterministic encoding records are stored in.
var Marshal = proto.MarshalOptions{Deterministic: true}

// Content is the deterministic encoding of m without its output-only fields.
func Content(m Record) ([]byte, error) {
	_, b, err := contentClone(m)
	return b, err
}

// contentClone is Content that also returns the copy of m it encoded, whose
// output-only fields are unset.
func contentClone(m Record) (Record, []byte, error) {
	c := proto.Clone(m).(Record)
	SetOutput(c, nil, nil, "")
	b, err := Marshal.Marshal(c)
	return c, b, err
}

// Etag is the etag of a record whose content encodes as c: the first 16 hex
// digits of its SHA-256.
func Etag(c []byte) string {
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:8])
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C kept with a record's stored bytes.
func Checksum(data []byte) int64 { return int64(crc32.Checksum(data, castagnoli)) }

// Verify checks a record's stored bytes against the checksum kept with them.
func Verify(name string, data []byte, sum int64) error {
	if Checksum(data) != sum {
		return &store.CorruptError{Name: name, Problem: "its stored bytes do not match their checksum"}
	}
	return nil
}

// Decode decodes a record's stored bytes into m.
func Decode(name string, data []byte, m proto.Message) error {
	if err := proto.Unmarshal(data, m); err != nil {
		return &store.CorruptError{Name: name, Problem: "its stored bytes do not decode: " + err.Error()}
	}
	return nil
}

// Stamped is what a write does to one record: its kind of change and, unless
// unchanged, the bytes to store. Output holds the output-only fields to set
// on the caller's record once the write commits.
type Stamped struct {
	Kind store.ChangeKind
	Data []byte // the record to store, with its output-only fields; nil when unchanged
	Sum  int64  // Checksum(Data)
	// Output is the caller's record and the fields it gets once the write commits.
	Output Output
	// Entry is the change log's entry for the write (Seq unset); zero when unchanged.
	Entry store.LogEntry
}

// Output is what a write sets on a caller's record once it commits.
type Output struct {
	Rec    Record
	CT, UT *timestamppb.Timestamp
	Etag   string
}

// Set sets the output-only fields on the caller's record.
func (o Output) Set() { SetOutput(o.Rec, o.CT, o.UT, o.Etag) }

// Stamp compares rec with the stored record of the same name (nil when there
// is none) and works out the copy to store. A record whose content
// (everything but create_time, update_time and etag) equals the stored one
// is unchanged. Otherwise the copy gets update_time now (Unix ns),
// create_time kept from the stored record or now for a new one, and the etag
// of its content; with verbatim, a record that carries update_time and etag
// keeps its own (and is unchanged only when they equal the stored ones too).
func Stamp(rec, stored Record, now int64, verbatim bool) (Stamped, error) {
	full, c, err := contentClone(rec)
	if err != nil {
		return Stamped{}, fmt.Errorf("encode: %w", err)
	}
	keep := verbatim && rec.GetUpdateTime() != nil && rec.GetEtag() != ""
	if stored != nil {
		oc, err := Content(stored)
		if err != nil {
			return Stamped{}, fmt.Errorf("encode stored record: %w", err)
		}
		same := bytes.Equal(oc, c)
		if keep {
			same = same && rec.GetEtag() == stored.GetEtag() &&
				proto.Equal(rec.GetUpdateTime(), stored.GetUpdateTime()) && proto.Equal(rec.GetCreateTime(), stored.GetCreateTime())
		}
		if same {
			return Stamped{Kind: annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED,
				Output: Output{rec, stored.GetCreateTime(), stored.GetUpdateTime(), stored.GetEtag()}}, nil
		}
	}
	ts := timestamppb.New(time.Unix(0, now))
	ct, ut, etag := ts, ts, Etag(c)
	kind := annalsv1.ChangeKind_CHANGE_KIND_CREATED
	if stored != nil {
		kind = annalsv1.ChangeKind_CHANGE_KIND_UPDATED
		if stored.GetCreateTime() != nil {
			ct = stored.GetCreateTime()
		}
	}
	if keep {
		ct, ut, etag = rec.GetCreateTime(), rec.GetUpdateTime(), rec.GetEtag()
		if ct == nil {
			ct = ut
		}
	}
	SetOutput(full, ct, ut, etag)
	data, err := Marshal.Marshal(full)
	if err != nil {
		return Stamped{}, fmt.Errorf("encode: %w", err)
	}
	t := ut.AsTime().UnixNano()
	return Stamped{
		Kind:   kind,
		Data:   data,
		Sum:    Checksum(data),
		Output: Output{rec, proto.Clone(ct).(*timestamppb.Timestamp), proto.Clone(ut).(*timestamppb.Timestamp), etag},
		Entry:  store.LogEntry{Name: rec.GetName(), Kind: kind, Time: t, Etag: etag},
	}, nil
}

// EventColumns are the indexed columns of an event: its span and, as far as
// the start date is known, its month and day as written in its calendar
// (nil when not known).
func EventColumns(e *annalsv1.Event) (lo, hi int64, month, day any) {
	d := e.GetDate()
	l, h := histdate.Bounds(d)
	if end := e.GetEndDate(); end != nil {
		_, eh := histdate.Bounds(end)
		h = max(h, eh)
	}
	if d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_MONTH {
		month = d.GetMonth()
	}
	if d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_DAY {
		day = d.GetDay()
	}
	return int64(l), int64(h), month, day
}

// LabelText is the values of labels, one a line.
func LabelText(ls []*annalsv1.Label) string {
	v := make([]string, len(ls))
	for i, l := range ls {
		v[i] = l.GetValue()
	}
	return strings.Join(v, "\n")
}

// EventBody is the text of an event's article: headings, paragraphs and list items.
func EventBody(e *annalsv1.Event) string {
	var body []string
	for _, sec := range e.GetArticle() {
		body = append(body, sec.GetHeading())
		body = append(body, sec.GetParagraphs()...)
		for _, it := range sec.GetItems() {
			body = append(body, it.GetTerm(), it.GetText())
		}
	}
	return strings.Join(body, "\n")
}

// Text is what a full-text index holds of a text: its words, folded by
// package textfold, one space apart (the characters of Han and kana runs
// each a word), so that every backend searches the same words.
func Text(s string) string {
	var b strings.Builder
	textfold.EachWord(s, func(w string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	})
	return b.String()
}

// Page sizes: a Page.Limit below 1 asks for DefaultLimit records, above MaxLimit for MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// PageLimit is the number of records a page of Limit n holds at most.
func PageLimit(n int) int {
	switch {
	case n < 1:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Terms is textfold.Query's terms of a full-text query, or an error
// wrapping store.ErrInvalidQuery when it has no word or more than
// store.MaxQueryWords.
func Terms(q string) ([]textfold.Term, error) {
	terms := textfold.Query(q)
	switch {
	case len(terms) == 0:
		return nil, fmt.Errorf("%w: the query has no words to search for", store.ErrInvalidQuery)
	case len(terms) > store.MaxQueryWords:
		return nil, fmt.Errorf("%w: the query has more than %d words", store.ErrInvalidQuery, store.MaxQueryWords)
	}
	return terms, nil
}
