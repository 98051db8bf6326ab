package exporter

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knakk/rdf"
	"golang.org/x/text/language"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
)

// builder collects the triples of one record. The first error sticks; later
// additions are ignored. Dataset reuses one builder for every record.
type builder struct {
	x     *Exporter
	ts    []rdf.Triple
	err   error
	langs map[string]string  // language tag as stored -> as written ("" = none)
	refs  map[string]rdf.IRI // IRIs of the records referred to (ref), by name

	subj      rdf.IRI     // the subject last added
	subjBoxed rdf.Subject // subj as an interface, shared by its triples

	// Scratch space of done, kept between records.
	keys       []tripleKey
	subjs      []string     // the distinct subjects of ts
	ranks      []int32      // ranks[j]: the place of subjs[j] in subject order
	bySub      []int32      // indexes into subjs, sorted
	spare      []rdf.Triple // the other triple buffer: done fills it and swaps it with ts
	spareRanks []int32      // the ranks appendDone drops
	tsRank     []int32      // tsRank[i]: the rank of ts[i]'s predicate, while add keeps it in step
}

// tripleKey is what done sorts b.ts[i] by: the rank of its subject (the
// record's own first, then by IRI) in the top 16 bits, of its predicate
// (predicateOrder) in the next 16, and i in the low 32; when subject and
// predicate tie, the predicate's IRI (for one without a rank) and the
// object decide. Integers sort without a comparison function, and hold
// no pointer, so sorting moves no pointers, which costs nothing extra
// while the garbage collector runs.
type tripleKey uint64

func (k tripleKey) subj() int  { return int(k >> 48) }
func (k tripleKey) pred() int  { return int(k >> 32 & 0xffff) }
func (k tripleKey) index() int { return int(uint32(k)) }

func (x *Exporter) newBuilder() *builder {
	return &builder{x: x, langs: map[string]string{}, refs: map[string]rdf.IRI{}}
}

func (b *builder) reset() {
	clear(b.ts)
	b.ts, b.tsRank = b.ts[:0], b.tsRank[:0]
	b.err = nil
}

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("exporter: "+format, args...)
	}
}

func (b *builder) add(s rdf.IRI, p rdf.IRI, o rdf.Object) {
	p = b.x.vocab(p)
	if oi, ok := o.(rdf.IRI); ok {
		if t := b.x.vocab(oi); t != oi {
			o = t
		}
	}
	// A subject's triples are added one after the other: box it once.
	if b.subjBoxed == nil || s != b.subj {
		b.subj, b.subjBoxed = s, s
	}
	// A predicate with a rank is boxed once for all (Exporter.rankPred);
	// its rank is kept for appendDone, which sorts by it.
	var pred rdf.Predicate
	rank, ok := b.x.rank[p.String()]
	if ok {
		pred = b.x.rankPred[rank]
	} else {
		pred, rank = p, len(predicateOrder)
	}
	if len(b.tsRank) == len(b.ts) {
		b.tsRank = append(b.tsRank, int32(rank))
	}
	b.ts = append(b.ts, rdf.Triple{Subj: b.subjBoxed, Pred: pred, Obj: o})
}

// done returns the triples collected, grouped and in a canonical order that
// does not depend on the order of a record's lists: the record's own subject
// first (it is the subject of the first triple added), then the nodes of its
// description by IRI; a subject's predicates in the order of
// predicateOrder; a predicate's objects sorted (compareObjects); duplicates
// removed. Turtle output then names each subject once and each predicate
// once per subject.
func (b *builder) done() ([]rdf.Triple, error) {
	out, err := b.appendDone(b.spare[:0])
	if err != nil {
		return nil, err
	}
	clear(b.ts)
	b.spare, b.ts, b.tsRank = b.ts[:0], out, b.tsRank[:0]
	return out, nil
}

// appendDone is done that appends the triples to dst, leaving b.ts as it is.
func (b *builder) appendDone(dst []rdf.Triple) ([]rdf.Triple, error) {
	dst, ranks, err := b.appendDoneRanks(dst, b.spareRanks[:0])
	b.spareRanks = ranks
	return dst, err
}

// appendDoneRanks is appendDone that also appends the rank of each
// triple's predicate (Exporter.rank; len(predicateOrder) for one without)
// to ranks.
func (b *builder) appendDoneRanks(dst []rdf.Triple, ranks []int32) ([]rdf.Triple, []int32, error) {
	if b.err != nil {
		return dst, ranks, b.err
	}
	if len(b.ts) == 0 {
		return dst, ranks, nil
	}
	ts := b.ts
	// Rank the distinct subjects (a record has a few): the record's own
	// first, the others by IRI.
	b.subjs, b.keys = b.subjs[:0], b.keys[:0]
	last := -1
	for i, t := range ts {
		sub := t.Subj.String()
		if last < 0 || b.subjs[last] != sub {
			last = slices.Index(b.subjs, sub)
			if last < 0 {
				last = len(b.subjs)
				b.subjs = append(b.subjs, sub)
			}
		}
		var rank int
		if len(b.tsRank) == len(ts) {
			rank = int(b.tsRank[i])
		} else if r, ok := b.x.rank[t.Pred.String()]; ok {
			rank = r
		} else {
			rank = len(predicateOrder)
		}
		b.keys = append(b.keys, tripleKey(last)<<48|tripleKey(rank)<<32|tripleKey(i))
	}
	if len(b.subjs) >= 1<<16 || uint64(len(ts)) >= 1<<32 {
		return dst, ranks, fmt.Errorf("exporter: a record of %d subjects and %d triples is too large to sort", len(b.subjs), len(ts))
	}
	b.bySub = b.bySub[:0]
	for j := range b.subjs {
		b.bySub = append(b.bySub, int32(j))
	}
	subjs := b.subjs
	slices.SortFunc(b.bySub[1:], func(x, y int32) int { return strings.Compare(subjs[x], subjs[y]) })
	b.ranks = slices.Grow(b.ranks[:0], len(subjs))[:len(subjs)]
	for r, j := range b.bySub {
		b.ranks[j] = int32(r)
	}
	for k, key := range b.keys {
		b.keys[k] = tripleKey(b.ranks[key.subj()])<<48 | key&(1<<48-1)
	}
	// Sorted as integers by subject and predicate; then each run of one
	// subject's triples of one predicate (a few) by its objects — and, for
	// predicates without a rank, by the predicate's IRI first.
	slices.Sort(b.keys)
	unknown := len(predicateOrder)
	for i := 0; i < len(b.keys); {
		j := i + 1
		for j < len(b.keys) && b.keys[j]>>32 == b.keys[i]>>32 {
			j++
		}
		if j-i > 1 {
			run := b.keys[i:j]
			if run[0].pred() == unknown {
				slices.SortFunc(run, func(a, c tripleKey) int {
					ta, tc := &ts[a.index()], &ts[c.index()]
					if r := strings.Compare(ta.Pred.String(), tc.Pred.String()); r != 0 {
						return r
					}
					return compareObjects(ta.Obj, tc.Obj)
				})
			} else {
				slices.SortFunc(run, func(a, c tripleKey) int { return compareObjects(ts[a.index()].Obj, ts[c.index()].Obj) })
			}
		}
		i = j
	}
	var prev *rdf.Triple
	for _, k := range b.keys {
		t := &ts[k.index()]
		if prev != nil && t.Subj.String() == prev.Subj.String() && t.Pred.String() == prev.Pred.String() && compareObjects(t.Obj, prev.Obj) == 0 {
			continue
		}
		dst = append(dst, *t)
		ranks = append(ranks, int32(k.pred()))
		prev = t
	}
	return dst, ranks, nil
}

// predicateOrder is the order in which a subject's predicates are written:
// what it is, what it is called, when, where, who, then links and provenance.
var predicateOrder = []rdf.IRI{
	rdfType, rdfsLabel, schemaName, foafName, skosAltLabel, dctermsTitle, schemaDescription, dctermsDescription, schemaHeadline,
	schemaPosition, rdfValue, semRoleType, annalsNameAsWritten, schemaJobTitle, schemaInLanguage,
	schemaStartDate, schemaEndDate, schemaBirthDate, schemaDeathDate, schemaFoundingDate, schemaDissolutionDate,
	semHasBeginTimeStamp, semHasEndTimeStamp, semEarliestBegin, semLatestBegin, semEarliestEnd, semLatestEnd,
	wdtPointInTime, wdtStartTime, wdtEndTime, annalsEndUnknown, wdtDateOfBirth, wdtDateOfDeath, wdtInception, wdtDissolved,
	annalsStartDateValue, annalsEndDateValue,
	wikibaseTimeValueProp, wikibasePrecision, wikibaseTimezone, wikibaseCalendar,
	wdtLocation, schemaLocation, semHasPlace, wdtCoordinates, schemaGeo, schemaLatitude, schemaLongitude, annalsCountry, annalsState, schemaMemberOf,
	wdtParticipant, semHasActor, provGenerated, provWasGeneratedBy, wdtSignatory,
	wdtFollows, wdtFollowedBy, wdtHasCause, wdtHasEffect, wdtPartOf, schemaSuperEvent, wdtHasPart, schemaSubEvent,
	annalsEndedBy, annalsEnds, dctermsRelation,
	schemaImage, schemaContentURL, schemaCaption, annalsStyle, annalsCaptionYear,
	schemaSubjectOf, schemaAbout, schemaHasPart, schemaItem, schemaText,
	spdxChecksum, spdxAlgorithm, spdxChecksumValue, provGeneratedAtTime, provWasRevisionOf,
	annalsUnreconciled, owlSameAs, skosCloseMatch, provWasDerivedFrom,
	// Documents and the dataset description.
	foafPrimaryTopic, dctermsFormat, dctermsPublisher, dctermsLicense, dctermsIssued, dctermsModified,
	foafHomepage, dcatLandingPage, voidURISpace, voidSPARQLEndpoint, voidTriples, voidEntities, voidClasses, voidProperties,
	voidFeature, voidDataDump, voidVocabulary, voidExampleResource, voidSubset, voidClassPartition, voidPropPartition,
	voidClass, voidProperty, voidLinkPredicate, voidSubjectsTarget, voidObjectsTarget,
	dcatDistribProp, dcatDownloadURL, dcatMediaType, dcatCompress, dcatByteSize,
}

// compareObjects orders objects: IRIs before literals, IRIs by their string,
// literals by language tag, then lexical form, then datatype.
func compareObjects(a, b rdf.Object) int {
	if r := cmp.Compare(a.Type(), b.Type()); r != 0 {
		return r
	}
	al, aok := a.(rdf.Literal)
	bl, bok := b.(rdf.Literal)
	if aok && bok {
		if r := strings.Compare(al.Lang(), bl.Lang()); r != 0 {
			return r
		}
		if r := strings.Compare(al.String(), bl.String()); r != 0 {
			return r
		}
		return strings.Compare(al.DataType.String(), bl.DataType.String())
	}
	return strings.Compare(a.String(), b.String())
}

// Literals.

func plainLit(v string) rdf.Literal {
	l, _ := rdf.NewLiteral(v) // a string never fails
	return l
}

func typedLit(v string, dt rdf.IRI) rdf.Literal { return rdf.NewTypedLiteral(v, dt) }

// langLit makes a language-tagged literal from a tag known to be one
// knakk/rdf accepts.
func langLit(v, tag string) rdf.Literal {
	l, err := rdf.NewLangLiteral(v, tag)
	if err != nil {
		panic("exporter: " + err.Error())
	}
	return l
}

// text adds s p "v" when v is not empty.
func (b *builder) text(s rdf.IRI, p rdf.IRI, v string) {
	if v != "" {
		b.add(s, p, plainLit(v))
	}
}

// english adds s p "v"@en when v is not empty.
func (b *builder) english(s rdf.IRI, p rdf.IRI, v string) {
	if v != "" {
		b.add(s, p, langLit(v, "en"))
	}
}

// label adds s p "value"@tag for each predicate, when value is not empty.
func (b *builder) label(s rdf.IRI, l *annalsv1.Label, preds ...rdf.IRI) {
	if l.GetValue() == "" {
		return
	}
	lit := b.langLiteral(l.GetValue(), l.GetLanguage())
	for _, p := range preds {
		b.add(s, p, lit)
	}
}

// langLiteral returns v tagged with tag, checked as BCP 47, canonicalised
// and lower-cased, as Wikidata writes tags and as RDF 1.1 allows ("zh-Hant-TW"
// -> "zh-hant-tw"; "iw" -> "he"): SPARQL compares lang() results as strings,
// so tags that join with Wikidata's must be spelt as Wikidata spells them. A
// tag that is empty or not BCP 47 gives "und" (BCP 47's undetermined
// language): the text is kept, the unusable tag dropped, and the literal is
// still marked as text in some language.
//
// knakk/rdf's NewLangLiteral rejects valid tags with more than one hyphen
// ("zh-Hant-TW"); for those the literal is made by knakk/rdf's own N-Triples
// decoder, which accepts them, and checked to hold v and the tag unchanged.
// Should that fail, the tag is shortened subtag by subtag until accepted.
func (b *builder) langLiteral(v, tag string) rdf.Literal {
	norm, ok := b.langs[tag]
	if !ok {
		norm = normaliseLang(tag)
		b.langs[tag] = norm
	}
	if norm == "" {
		norm = "und" // BCP 47's "undetermined": natural-language text is always tagged
	}
	if l, err := rdf.NewLangLiteral(v, norm); err == nil {
		return l
	}
	line := "<urn:x:s> <urn:x:p> " + plainLit(v).Serialize(rdf.NTriples) + "@" + norm + " .\n"
	if t, err := rdf.NewTripleDecoder(strings.NewReader(line), rdf.NTriples).Decode(); err == nil {
		if l, ok := t.Obj.(rdf.Literal); ok && l.String() == v && l.Lang() == norm {
			return l
		}
	}
	for t := norm; ; {
		i := strings.LastIndexByte(t, '-')
		if i < 0 {
			return plainLit(v)
		}
		t = t[:i]
		if l, err := rdf.NewLangLiteral(v, t); err == nil {
			return l
		}
	}
}

// normaliseLang returns the canonical, lower-case form of a BCP 47 tag, or ""
// if tag is empty or not well-formed.
func normaliseLang(tag string) string {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	s := strings.ToLower(t.String())
	if s == "und" && !strings.EqualFold(tag, "und") {
		return ""
	}
	// The Turtle and N-Triples LANGTAG production: letters, then "-" and
	// letters or digits.
	for i, part := range strings.Split(s, "-") {
		if part == "" {
			return ""
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
				return ""
			}
		}
	}
	return s
}

// decimal writes v as an xsd:decimal that Turtle reads back as one: always
// with a decimal point, never an exponent.
func decimal(v float64) rdf.Literal {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return typedLit(s, xsdDecimal)
}

func integer(v int64) rdf.Literal { return typedLit(strconv.FormatInt(v, 10), xsdInteger) }

// zero is integer(0), made once.
var zero = integer(0)

func timestamp(ts *timestamppb.Timestamp) rdf.Literal {
	return typedLit(ts.AsTime().UTC().Format(time.RFC3339Nano), xsdDateTime)
}

// IRIs.

// iri returns the IRI of the record with the given (well-formed) name.
func (x *Exporter) iri(name string) rdf.IRI {
	return mustIRI(x.base + "/" + name)
}

// self returns the IRI of the record being mapped, which must be named in
// collection k; a malformed name fails the record.
func (b *builder) self(k resource.Kind, name string) (rdf.IRI, bool) {
	if _, err := resource.ParseKind(name, k); err != nil {
		b.fail("record %q: %w", name, err)
		return rdf.IRI{}, false
	}
	return b.x.iri(name), true
}

// ref returns the IRI of another record, named in a field of the one being
// mapped. The same actors and places are named by many records: their IRIs
// are kept (up to refsKept of them) rather than checked and made again.
func (b *builder) ref(from string, k resource.Kind, name string) (rdf.IRI, bool) {
	keep := k == resource.Actors || k == resource.Places // events are named by one or two others
	if iri, ok := b.refs[name]; ok && keep {
		return iri, true
	}
	if _, err := resource.ParseKind(name, k); err != nil {
		b.fail("record %q: reference: %w", from, err)
		return rdf.IRI{}, false
	}
	iri := b.x.iri(name)
	if keep {
		if len(b.refs) >= refsKept {
			clear(b.refs)
		}
		b.refs[name] = iri
	}
	return iri, true
}

// refsKept bounds the IRIs of references a builder keeps.
const refsKept = 1 << 14

// hash returns {subject}#{fragment}, the IRI of a node that belongs to the
// subject's description (a role, a date value, a section).
func hash(s rdf.IRI, fragment string) rdf.IRI { return mustIRI(s.String() + "#" + fragment) }

// Shared parts.

// labels adds rdfs:label and schema:name for every label, skos:altLabel for every alias.
func (b *builder) labels(s rdf.IRI, labels, aliases []*annalsv1.Label) {
	for _, l := range labels {
		b.label(s, l, rdfsLabel, schemaName)
	}
	for _, l := range aliases {
		b.label(s, l, skosAltLabel)
	}
}

// wikidata links s to its Wikidata item: owl:sameAs when the item is the same
// thing, skos:closeMatch when the record says it is only close.
func (b *builder) wikidata(s rdf.IRI, name, id string, m annalsv1.WikidataMatch) {
	if id == "" {
		return
	}
	if !validQID(id) {
		b.fail("record %q: malformed Wikidata id %q", name, id)
		return
	}
	switch m {
	case annalsv1.WikidataMatch_WIKIDATA_MATCH_UNSPECIFIED, annalsv1.WikidataMatch_WIKIDATA_MATCH_EXACT:
		b.add(s, owlSameAs, wikidataEntity(id))
	case annalsv1.WikidataMatch_WIKIDATA_MATCH_CLOSE:
		b.add(s, skosCloseMatch, wikidataEntity(id))
	default:
		b.fail("record %q: unknown Wikidata match %d", name, m)
	}
}

// derivedFrom adds prov:wasDerivedFrom for each source.
func (b *builder) derivedFrom(s rdf.IRI, name string, sources []string) {
	for _, src := range sources {
		if o, ok := b.ref(name, resource.Sources, src); ok {
			b.add(s, provWasDerivedFrom, o)
		}
	}
}

// fine reports whether d is known to the year or better: only such a date
// may be written as an XSD date, year-month or year, or as Wikidata's truthy
// xsd:dateTime. A decade, century or millennium written so would read as its
// first year (or its first day); it is written as bounds and a value node
// with its precision instead.
func fine(d *annalsv1.HistoricalDate) bool {
	return d.GetPrecision() >= annalsv1.DatePrecision_DATE_PRECISION_YEAR
}

// date adds the triples of one date: when it is known to the year or better
// (fine), d as an XSD literal typed by precision (xsd:date, xsd:gYearMonth,
// xsd:gYear) with each of typed and the Wikidata-style xsd:dateTime with wd;
// always the annals:startDateValue or annals:endDateValue node that carries
// precision and calendar. It reports whether d is valid.
func (b *builder) date(s rdf.IRI, name, field string, d *annalsv1.HistoricalDate, typed []rdf.IRI, wd rdf.IRI, end bool) bool {
	if fe := histdate.Validate(d); fe != nil {
		b.fail("record %q: %s: %v", name, field, fe)
		return false
	}
	dateTime := typedLit(histdate.DateTime(d), xsdDateTime)
	if fine(d) {
		lex, dt := histdate.XSD(d)
		var dtIRI rdf.IRI
		switch dt {
		case "date":
			dtIRI = xsdDate
		case "gYearMonth":
			dtIRI = xsdGYearMonth
		default:
			dtIRI = xsdGYear
		}
		for _, p := range typed {
			b.add(s, p, typedLit(lex, dtIRI))
		}
		if wd != (rdf.IRI{}) {
			b.add(s, wd, dateTime)
		}
	}
	valueProp, frag := annalsStartDateValue, "start-date"
	if end {
		valueProp, frag = annalsEndDateValue, "end-date"
	}
	v := hash(s, frag)
	b.add(s, valueProp, v)
	b.add(v, rdfType, wikibaseTimeValue)
	b.add(v, wikibaseTimeValueProp, dateTime)
	b.add(v, wikibasePrecision, integer(int64(d.GetPrecision())))
	b.add(v, wikibaseTimezone, zero)
	cal := wdGregorian
	if d.GetCalendar() == annalsv1.Calendar_CALENDAR_JULIAN {
		cal = wdJulian
	}
	b.add(v, wikibaseCalendar, cal)
	b.add(v, rdfsLabel, langLit(histdate.String(d), "en"))
	return true
}

// bounds adds the first and last instants d may stand for (SEM's earliest
// and latest time stamps, as comparable xsd:dateTime values). d must be valid.
func (b *builder) bounds(s rdf.IRI, d *annalsv1.HistoricalDate, earliest, latest rdf.IRI) {
	lo, hi := histdate.DateTimeBounds(d)
	b.add(s, earliest, typedLit(lo, xsdDateTime))
	b.add(s, latest, typedLit(hi, xsdDateTime))
}

// docLang is the language of documents in the seed format, and so of every
// text taken from one (summaries, articles, captions, titles, names and
// descriptions as written): the format is English (its dates, its "Key
// Figures" heading). Descriptions written by curators are English too.
const docLang = "en"

// Events.

func (b *builder) event(e *annalsv1.Event) {
	name := e.GetName()
	s, ok := b.self(resource.Events, name)
	if !ok {
		return
	}
	b.add(s, rdfType, schemaEvent)
	b.add(s, rdfType, semEvent)
	b.labels(s, e.GetLabels(), nil)
	b.english(s, schemaDescription, e.GetSummary())

	// Dates. A point in time has one date and no end; a span has an end, or
	// is marked as one whose end is not known. Nothing is said of an end the
	// record does not have.
	start, end := e.GetDate(), e.GetEndDate()
	if start == nil {
		b.fail("record %q: date: an event needs a date", name)
		return
	}
	switch {
	case end == nil && !e.GetEndUnknown():
		if !b.date(s, name, "date", start, []rdf.IRI{schemaStartDate, semHasBeginTimeStamp}, wdtPointInTime, false) {
			return
		}
	case end == nil:
		if !b.date(s, name, "date", start, []rdf.IRI{schemaStartDate, semHasBeginTimeStamp}, wdtStartTime, false) {
			return
		}
		b.add(s, annalsEndUnknown, typedLit("true", xsdBoolean))
	default:
		if !b.date(s, name, "date", start, []rdf.IRI{schemaStartDate, semHasBeginTimeStamp}, wdtStartTime, false) ||
			!b.date(s, name, "end_date", end, []rdf.IRI{schemaEndDate, semHasEndTimeStamp}, wdtEndTime, true) {
			return
		}
	}
	b.bounds(s, start, semEarliestBegin, semLatestBegin)
	if end != nil {
		b.bounds(s, end, semEarliestEnd, semLatestEnd)
	}

	// Places.
	for _, p := range e.GetPlaces() {
		if o, ok := b.ref(name, resource.Places, p); ok {
			b.add(s, wdtLocation, o)
			b.add(s, schemaLocation, o)
			b.add(s, semHasPlace, o)
		}
	}

	// Participants. Signatories signed a document the event produced: the
	// document, not the event, has them as wdt:P1891 (signatory), as a
	// treaty has in Wikidata.
	var signatories []rdf.IRI
	for _, p := range e.GetParticipants() {
		a, ok := b.ref(name, resource.Actors, p.GetActor())
		if !ok {
			continue
		}
		actorID, _ := resource.ParseKind(p.GetActor(), resource.Actors)
		rt, ok := roleTypes[int32(p.GetRole())]
		if !ok {
			rt = roleTypes[0]
		}
		b.add(s, wdtParticipant, a)
		if p.GetRole() == annalsv1.ParticipantRole_PARTICIPANT_ROLE_SIGNATORY {
			signatories = append(signatories, a)
		}
		b.add(s, semHasActor, a)
		role := hash(s, "role-"+rt.slug+"-"+actorID)
		b.add(s, semHasActor, role)
		b.add(role, rdfType, semRole)
		b.add(role, rdfValue, a)
		b.add(role, semRoleType, rt.iri)
		b.english(role, schemaDescription, p.GetDescription())
		b.english(role, annalsNameAsWritten, p.GetDisplayName())
	}
	if len(signatories) > 0 {
		doc := hash(s, "document")
		b.add(s, provGenerated, doc)
		b.add(doc, rdfType, annalsSignedDocument)
		b.add(doc, rdfType, schemaCreativeWork)
		for _, l := range e.GetLabels() {
			b.label(doc, l, schemaName)
		}
		b.add(doc, provWasGeneratedBy, s)
		for _, a := range signatories {
			b.add(doc, wdtSignatory, a)
		}
	}

	// Related events.
	for _, r := range e.GetRelations() {
		o, ok := b.ref(name, resource.Events, r.GetEvent())
		if !ok {
			continue
		}
		switch r.GetType() {
		case annalsv1.RelationType_RELATION_TYPE_FOLLOWS:
			b.add(s, wdtFollows, o)
		case annalsv1.RelationType_RELATION_TYPE_FOLLOWED_BY:
			b.add(s, wdtFollowedBy, o)
		case annalsv1.RelationType_RELATION_TYPE_HAS_CAUSE:
			b.add(s, wdtHasCause, o)
		case annalsv1.RelationType_RELATION_TYPE_HAS_EFFECT:
			b.add(s, wdtHasEffect, o)
		case annalsv1.RelationType_RELATION_TYPE_PART_OF:
			b.add(s, wdtPartOf, o)
			b.add(s, schemaSuperEvent, o)
		case annalsv1.RelationType_RELATION_TYPE_HAS_PART:
			b.add(s, wdtHasPart, o)
			b.add(s, schemaSubEvent, o)
		case annalsv1.RelationType_RELATION_TYPE_ENDED_BY:
			b.add(s, annalsEndedBy, o)
		case annalsv1.RelationType_RELATION_TYPE_ENDS:
			b.add(s, annalsEnds, o)
		default:
			b.add(s, dctermsRelation, o)
		}
	}

	// Illustration: a picture described by its caption; its file only when
	// the record gives one.
	if il := e.GetIllustration(); il != nil && (il.GetCaption() != "" || il.GetStyle() != "" || il.GetYear() != 0 || il.GetContentUrl() != "") {
		img := hash(s, "illustration")
		b.add(s, schemaImage, img)
		b.add(img, rdfType, schemaImageObject)
		if u := il.GetContentUrl(); u != "" {
			iri, err := absoluteIRI(u)
			if err != nil {
				b.fail("record %q: illustration.content_url: %v", name, err)
				return
			}
			b.add(img, schemaContentURL, iri)
		}
		b.english(img, schemaCaption, il.GetCaption())
		b.english(img, annalsStyle, il.GetStyle())
		if y := il.GetYear(); y != 0 {
			lex, _ := histdate.XSD(&annalsv1.HistoricalDate{Year: y, Precision: annalsv1.DatePrecision_DATE_PRECISION_YEAR})
			b.add(img, annalsCaptionYear, typedLit(lex, xsdGYear))
		}
	}

	// Article.
	if len(e.GetArticle()) > 0 {
		art := hash(s, "article")
		b.add(s, schemaSubjectOf, art)
		b.add(art, rdfType, schemaArticle)
		b.add(art, schemaAbout, s)
		b.add(art, schemaInLanguage, plainLit(docLang))
		for i, sec := range e.GetArticle() {
			n := strconv.Itoa(i + 1)
			sn := hash(s, "section-"+n)
			b.add(art, schemaHasPart, sn)
			b.add(sn, rdfType, annalsArticleSection)
			b.add(sn, schemaPosition, integer(int64(i+1)))
			b.english(sn, schemaHeadline, sec.GetHeading())
			b.english(sn, schemaText, strings.Join(sec.GetParagraphs(), "\n\n"))
			for j, it := range sec.GetItems() {
				in := hash(s, "section-"+n+"-item-"+strconv.Itoa(j+1))
				b.add(sn, schemaHasPart, in)
				b.add(in, rdfType, schemaListItem)
				b.add(in, schemaPosition, integer(int64(j+1)))
				b.english(in, schemaName, it.GetTerm())
				b.english(in, schemaDescription, it.GetText())
				if it.GetActor() != "" {
					if a, ok := b.ref(name, resource.Actors, it.GetActor()); ok {
						b.add(in, schemaItem, a)
					}
				}
			}
		}
	}

	b.wikidata(s, name, e.GetWikidataId(), e.GetWikidataMatch())
	b.derivedFrom(s, name, e.GetSources())
}

// absoluteIRI checks that u is an absolute http or https IRI.
func absoluteIRI(u string) (rdf.IRI, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return rdf.IRI{}, fmt.Errorf("%q is not an absolute http or https URL", u)
	}
	return rdf.NewIRI(u)
}

// Actors.

func (b *builder) actor(a *annalsv1.Actor) {
	name := a.GetName()
	s, ok := b.self(resource.Actors, name)
	if !ok {
		return
	}
	person := a.GetKind() == annalsv1.ActorKind_ACTOR_KIND_PERSON
	switch a.GetKind() {
	case annalsv1.ActorKind_ACTOR_KIND_PERSON:
		b.add(s, rdfType, schemaPerson)
	case annalsv1.ActorKind_ACTOR_KIND_STATE, annalsv1.ActorKind_ACTOR_KIND_GOVERNMENT,
		annalsv1.ActorKind_ACTOR_KIND_ORGANIZATION, annalsv1.ActorKind_ACTOR_KIND_GROUP:
		b.add(s, rdfType, schemaOrganization)
	}
	b.add(s, rdfType, semActor)
	b.labels(s, a.GetLabels(), a.GetAliases())
	b.english(s, schemaDescription, a.GetDescription())

	var startP, endP []rdf.IRI
	var startWD, endWD rdf.IRI
	switch {
	case person:
		startP, endP, startWD, endWD = []rdf.IRI{schemaBirthDate}, []rdf.IRI{schemaDeathDate}, wdtDateOfBirth, wdtDateOfDeath
	case a.GetKind() != annalsv1.ActorKind_ACTOR_KIND_UNSPECIFIED:
		startP, endP, startWD, endWD = []rdf.IRI{schemaFoundingDate}, []rdf.IRI{schemaDissolutionDate}, wdtInception, wdtDissolved
	}
	if d := a.GetStartDate(); d != nil {
		b.date(s, name, "start_date", d, startP, startWD, false)
	}
	if d := a.GetEndDate(); d != nil {
		b.date(s, name, "end_date", d, endP, endWD, true)
	}
	for _, p := range a.GetPositions() {
		b.english(s, schemaJobTitle, p)
	}
	// The state is the one the actor belonged to or served in the events:
	// a fact of that time, so not Wikidata's truthy country (wdt:P17),
	// which reads as true today.
	if st := a.GetState(); st != "" {
		if o, ok := b.ref(name, resource.Actors, st); ok {
			b.add(s, annalsState, o)
			if person {
				b.add(s, schemaMemberOf, o)
			}
		}
	}
	if a.GetUnreconciled() {
		b.add(s, annalsUnreconciled, typedLit("true", xsdBoolean))
	}
	b.wikidata(s, name, a.GetWikidataId(), a.GetWikidataMatch())
	b.derivedFrom(s, name, a.GetSources())
}

// Places.

func (b *builder) place(p *annalsv1.Place) {
	name := p.GetName()
	s, ok := b.self(resource.Places, name)
	if !ok {
		return
	}
	b.add(s, rdfType, schemaPlace)
	b.add(s, rdfType, semPlace)
	b.labels(s, p.GetLabels(), p.GetAliases())
	b.english(s, schemaDescription, p.GetDescription())
	if c := p.GetCoordinates(); c != nil {
		lat, lon := c.GetLatitude(), c.GetLongitude()
		if math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
			b.fail("record %q: coordinates (%v, %v) are not on Earth", name, lat, lon)
			return
		}
		lat, lon = lat+0, lon+0 // no negative zero
		b.add(s, wdtCoordinates, typedLit("Point("+decimal(lon).String()+" "+decimal(lat).String()+")", geoWKTLiteral))
		g := hash(s, "geo")
		b.add(s, schemaGeo, g)
		b.add(g, rdfType, schemaGeoCoordinates)
		b.add(g, schemaLatitude, decimal(lat))
		b.add(g, schemaLongitude, decimal(lon))
	}
	// The country of the time of the events (Moscow's is the Soviet Union),
	// not Wikidata's truthy wdt:P17, which would say it is so today.
	if c := p.GetCountry(); c != "" {
		if o, ok := b.ref(name, resource.Actors, c); ok {
			b.add(s, annalsCountry, o)
		}
	}
	if p.GetUnreconciled() {
		b.add(s, annalsUnreconciled, typedLit("true", xsdBoolean))
	}
	b.wikidata(s, name, p.GetWikidataId(), p.GetWikidataMatch())
	b.derivedFrom(s, name, p.GetSources())
}

// Sources.

func (b *builder) source(src *annalsv1.Source) {
	name := src.GetName()
	s, ok := b.self(resource.Sources, name)
	if !ok {
		return
	}
	b.add(s, rdfType, provEntity)
	b.add(s, rdfType, schemaCreativeWork)
	b.english(s, dctermsTitle, src.GetTitle())
	if src.GetText() != "" {
		b.add(s, schemaInLanguage, plainLit(docLang))
	}
	if h := src.GetSha256(); h != "" {
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			b.fail("record %q: sha256 %q is not 64 lower-case hex digits", name, h)
			return
		}
		c := hash(s, "checksum")
		b.add(s, spdxChecksum, c)
		b.add(c, rdfType, spdxChecksumClass)
		b.add(c, spdxAlgorithm, spdxAlgorithSHA256)
		b.add(c, spdxChecksumValue, typedLit(h, xsdHexBinary))
	}
	if ts := src.GetImportTime(); ts != nil {
		b.add(s, provGeneratedAtTime, timestamp(ts))
	}
	if ev := src.GetEvent(); ev != "" {
		if o, ok := b.ref(name, resource.Events, ev); ok {
			b.add(s, schemaAbout, o)
		}
	}
	if prev := src.GetPreviousRevision(); prev != "" {
		if o, ok := b.ref(name, resource.Sources, prev); ok {
			b.add(s, provWasRevisionOf, o)
		}
	}
	b.english(s, schemaText, src.GetText())
}
