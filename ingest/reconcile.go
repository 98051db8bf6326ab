package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/record"
)

// maxNameSuffix bounds the numeric suffixes tried for a new record's name.
const maxNameSuffix = 1000

// Reconcile matches the actors and places doc names to the records in r and
// returns the batch that stores the document, with warnings for a curator.
// To store it, run Reconcile inside store.Writer.Update (as Import does):
// what it reads and what it writes are then one atomic unit.
//
// The document's event is the stored event its source already belongs to
// (after an earlier import of the same document, however encoded) or else
// the stored event of the same name whose title and date agree with the
// document's: the same title (by resource.MatchKey) and overlapping dates.
// A stored event of that name with another title (two titles can spell the
// same slug) or a date that does not overlap (two battles of one name) is a
// different event, never overwritten: the document's event gets a free name,
// "{slug}-{year}" or "{slug}-2", "{slug}-3", …, and a warning says so.
//
// Each name is matched by resource.MatchKey against the labels and aliases
// of existing records (r.MatchNames):
//   - one match: the document links to that record, which joins the batch
//     unchanged but for this source added to its sources;
//   - no match: a new record, unreconciled and without a Wikidata id, named
//     from the slug (with "-2", "-3", … when the name is taken);
//   - several matches: a warning naming them, and a new unreconciled record,
//     never a guess, unless the stored event already links to exactly one of
//     them (as after an earlier import of the same document), which is kept.
//
// An existing event of the same name is merged: the document owns the en
// label, summary, article, date, places, illustration and the participants
// whose actors it names as participants; the stored record keeps its other labels,
// relations, Wikidata id, end date and other participants. The event's
// sources list this source first. A new source (one not stored yet) gets
// the import time and, as previous_revision, the newest earlier source of
// the event; a stored one is reused as it is, so importing the same
// document again gives a batch equal to what is stored.
//
// Records in the batch carry no output-only fields (create_time,
// update_time, etag). Reconcile does not change doc.
func Reconcile(ctx context.Context, doc *Document, r store.Lookup) (*store.Batch, []string, error) {
	return reconcile(ctx, doc, r, time.Now())
}

// reconciler holds the state of one reconcile call.
type reconciler struct {
	ctx      context.Context
	r        store.Lookup
	src      string          // the source's resource name
	prior    map[string]bool // actors and places the stored event already links to
	used     map[string]bool // names given to new records in this batch
	warnings []string
}

func reconcile(ctx context.Context, doc *Document, r store.Lookup, now time.Time) (*store.Batch, []string, error) {
	if doc == nil || doc.Event == nil || doc.Source == nil {
		return nil, nil, errors.New("reconcile: incomplete document")
	}
	rc := &reconciler{ctx: ctx, r: r, used: map[string]bool{}}
	stored, known, err := rc.event(doc)
	if err != nil {
		return nil, nil, err
	}
	evName := doc.Event.Name
	if stored != nil {
		evName = stored.Name
	}
	if known != nil {
		rc.src = known.Name
	} else {
		rc.src = doc.Source.Name
	}
	if err := rc.priorLinks(stored); err != nil {
		return nil, nil, err
	}

	b := &store.Batch{}
	actorName := map[string]string{}  // provisional name -> final name
	actorLabel := map[string]string{} // final name -> en label
	for _, a := range doc.Actors {
		rec, err := rc.actor(a)
		if err != nil {
			return nil, nil, err
		}
		actorName[a.Name] = rec.Name
		actorLabel[rec.Name] = enLabel(rec.Labels)
		if !slices.ContainsFunc(b.Actors, func(x *annalsv1.Actor) bool { return x.Name == rec.Name }) {
			b.Actors = append(b.Actors, rec)
		}
	}
	placeName := map[string]string{}
	for _, p := range doc.Places {
		prov := proto.Clone(p).(*annalsv1.Place)
		if prov.Country != "" {
			prov.Country = actorName[prov.Country]
		}
		rec, err := rc.place(prov)
		if err != nil {
			return nil, nil, err
		}
		placeName[p.Name] = rec.Name
		if !slices.ContainsFunc(b.Places, func(x *annalsv1.Place) bool { return x.Name == rec.Name }) {
			b.Places = append(b.Places, rec)
		}
	}

	ev := proto.Clone(doc.Event).(*annalsv1.Event)
	ev.Name = evName
	for i, p := range ev.Places {
		ev.Places[i] = placeName[p]
	}
	ev.Places = slices.Compact(ev.Places)
	var parts []*annalsv1.Participant
	for _, p := range ev.Participants {
		written := p.DisplayName
		p.Actor = actorName[p.Actor]
		if written == actorLabel[p.Actor] {
			p.DisplayName = "" // the proto keeps the name as written only when it differs from the label
		}
		if !slices.ContainsFunc(parts, func(q *annalsv1.Participant) bool { return q.Actor == p.Actor && q.Role == p.Role }) {
			parts = append(parts, p)
		}
	}
	ev.Participants = parts
	for _, s := range ev.Article {
		for _, it := range s.Items {
			if it.Actor != "" {
				it.Actor = actorName[it.Actor]
			}
		}
	}

	src := known
	if src != nil {
		clearOutputOnly(src)
	} else {
		src = proto.Clone(doc.Source).(*annalsv1.Source)
		src.Event = evName
		src.ImportTime = timestamppb.New(now)
		if stored != nil {
			for _, s := range stored.Sources {
				if s != src.Name {
					src.PreviousRevision = s
					break
				}
			}
		}
	}
	b.Sources = []*annalsv1.Source{src}
	b.Events = []*annalsv1.Event{mergeEvent(ev, stored, src.Name)}
	return b, rc.warnings, nil
}

// event finds the stored event the document describes and, when the
// document was imported before, its stored source (see Reconcile). With no
// stored event it sets the name of the new one on doc.Event (a suffix when
// the slug is taken by a different event); doc is otherwise unchanged.
func (rc *reconciler) event(doc *Document) (stored *annalsv1.Event, known *annalsv1.Source, err error) {
	known, err = getOrNil(rc.r.GetSource(rc.ctx, doc.Source.Name))
	if err != nil {
		return nil, nil, fmt.Errorf("reconcile %s: %w", doc.Source.Name, err)
	}
	if known != nil && known.Event != "" {
		stored, err = getOrNil(rc.r.GetEvent(rc.ctx, known.Event))
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile %s: %w", known.Event, err)
		}
		if stored != nil {
			return stored, known, nil
		}
	}
	known = nil
	base := doc.Event.Name
	title := enLabel(doc.Event.Labels)
	var taken []string // stored events of other titles or dates with these names
	for _, name := range eventNames(base, doc.Event.GetDate()) {
		ev, err := getOrNil(rc.r.GetEvent(rc.ctx, name))
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile %s: %w", name, err)
		}
		if ev == nil {
			if len(taken) == 0 {
				return nil, nil, nil
			}
			doc.Event.Name = name
			rc.warnf("%s is another event (%s); this one, %q dated %s, is %s",
				taken[0], describeEvent(rc.ctx, rc.r, taken[0]), title, histdate.String(doc.Event.GetDate()), name)
			return nil, nil, nil
		}
		if resource.MatchKey(enLabel(ev.Labels)) == resource.MatchKey(title) && overlaps(ev, doc.Event.GetDate()) {
			// A document imported before under another encoding, or by an
			// earlier Annals that digested the raw bytes, is the same source.
			for _, sn := range ev.Sources {
				s, err := getOrNil(rc.r.GetSource(rc.ctx, sn))
				if err != nil {
					return nil, nil, fmt.Errorf("reconcile %s: %w", sn, err)
				}
				if s != nil && Digest(Canonical(s.Text)) == doc.Source.Sha256 {
					return ev, s, nil
				}
			}
			return ev, nil, nil
		}
		taken = append(taken, name)
	}
	return nil, nil, fmt.Errorf("reconcile %s: no free name among %d suffixes", base, maxNameSuffix)
}

// eventNames are the names a new event called base may get, in the order
// they are tried: base, base-{year}, base-2, base-3, …
func eventNames(base string, d *annalsv1.HistoricalDate) []string {
	names := []string{base}
	if y := d.GetYear(); y != 0 {
		suffix := strconv.Itoa(int(y))
		if y < 0 {
			suffix = strconv.Itoa(int(-y)) + "-bce"
		}
		names = append(names, base+"-"+suffix)
	}
	for n := 2; n <= maxNameSuffix; n++ {
		names = append(names, base+"-"+strconv.Itoa(n))
	}
	return names
}

// overlaps reports whether the stored event's span and the date d share a day.
func overlaps(ev *annalsv1.Event, d *annalsv1.HistoricalDate) bool {
	lo, hi := histdate.Bounds(ev.GetDate())
	if end := ev.GetEndDate(); end != nil {
		_, eh := histdate.Bounds(end)
		hi = max(hi, eh)
	}
	dlo, dhi := histdate.Bounds(d)
	return dlo <= hi && lo <= dhi
}

// describeEvent says what a stored event is, for a warning.
func describeEvent(ctx context.Context, r store.Lookup, name string) string {
	ev, err := r.GetEvent(ctx, name)
	if err != nil {
		return "unreadable"
	}
	return fmt.Sprintf("%q dated %s", enLabel(ev.Labels), histdate.String(ev.GetDate()))
}

// mergeEvent combines the document's event ev with the stored one (nil if
// none): see Reconcile for who owns what. A stored participant is kept when
// the document has no participant with the same actor.
func mergeEvent(ev, stored *annalsv1.Event, src string) *annalsv1.Event {
	ev.Sources = []string{src}
	if stored == nil {
		return ev
	}
	for _, l := range stored.Labels {
		if l.Language != "en" {
			ev.Labels = append(ev.Labels, proto.Clone(l).(*annalsv1.Label))
		}
	}
	named := map[string]bool{} // the actors the document names as participants
	for _, p := range ev.Participants {
		named[p.Actor] = true
	}
	for _, p := range stored.Participants {
		if !named[p.Actor] {
			ev.Participants = append(ev.Participants, proto.Clone(p).(*annalsv1.Participant))
		}
	}
	for _, rel := range stored.Relations {
		ev.Relations = append(ev.Relations, proto.Clone(rel).(*annalsv1.EventRelation))
	}
	ev.WikidataId = stored.WikidataId
	if stored.EndDate != nil {
		ev.EndDate = proto.Clone(stored.EndDate).(*annalsv1.HistoricalDate)
	}
	for _, s := range stored.Sources {
		if s != src {
			ev.Sources = append(ev.Sources, s)
		}
	}
	return ev
}

// priorLinks records the actors and places the stored event links to: its
// participants, its places and their countries.
func (rc *reconciler) priorLinks(stored *annalsv1.Event) error {
	rc.prior = map[string]bool{}
	if stored == nil {
		return nil
	}
	for _, p := range stored.Participants {
		rc.prior[p.Actor] = true
	}
	for _, name := range stored.Places {
		rc.prior[name] = true
		pl, err := getOrNil(rc.r.GetPlace(rc.ctx, name))
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", name, err)
		}
		if pl != nil && pl.Country != "" {
			rc.prior[pl.Country] = true
		}
	}
	return nil
}

// resolve finds the existing record for a document's name in collection k:
// it returns the record's name, or "" when a new record must be made.
func (rc *reconciler) resolve(k resource.Kind, label string) (string, error) {
	cands, err := rc.r.MatchNames(rc.ctx, k, resource.MatchKey(label))
	if err != nil {
		return "", fmt.Errorf("reconcile %q: %w", label, err)
	}
	switch len(cands) {
	case 0:
		return "", nil
	case 1:
		return cands[0], nil
	}
	var linked []string
	for _, c := range cands {
		if rc.prior[c] {
			linked = append(linked, c)
		}
	}
	if len(linked) == 1 {
		rc.warnf("%q matches %d records (%s); kept %s, which the event already links to", label, len(cands), strings.Join(cands, ", "), linked[0])
		return linked[0], nil
	}
	rc.warnf("%q matches %d records (%s); made a new unreconciled record rather than choose", label, len(cands), strings.Join(cands, ", "))
	return "", nil
}

// freeName returns the provisional name, or it with the first free numeric
// suffix, that no stored record and no new record of this batch has.
func (rc *reconciler) freeName(provisional string, exists func(string) (bool, error)) (string, error) {
	for n := 1; n <= maxNameSuffix; n++ {
		name := provisional
		if n > 1 {
			name = provisional + "-" + strconv.Itoa(n)
		}
		if rc.used[name] {
			continue
		}
		taken, err := exists(name)
		if err != nil {
			return "", fmt.Errorf("reconcile %s: %w", name, err)
		}
		if !taken {
			rc.used[name] = true
			return name, nil
		}
	}
	return "", fmt.Errorf("reconcile %s: no free name among %d suffixes", provisional, maxNameSuffix)
}

// actor returns the batch's record for a provisional actor: the matched
// record with this source added, or a new unreconciled one.
func (rc *reconciler) actor(a *annalsv1.Actor) (*annalsv1.Actor, error) {
	label := enLabel(a.Labels)
	name, err := rc.resolve(resource.Actors, label)
	if err != nil {
		return nil, err
	}
	if name != "" {
		rec, err := rc.r.GetActor(rc.ctx, name)
		if err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", name, err)
		}
		clearOutputOnly(rec)
		rec.Sources = addSource(rec.Sources, rc.src)
		if rec.Unreconciled {
			rc.warnf("%q is %s, which is not reconciled yet", label, rec.Name)
		}
		return rec, nil
	}
	rec := proto.Clone(a).(*annalsv1.Actor)
	rec.Name, err = rc.freeName(a.Name, func(n string) (bool, error) { return exists(rc.r.GetActor(rc.ctx, n)) })
	if err != nil {
		return nil, err
	}
	rec.Unreconciled, rec.WikidataId, rec.Sources = true, "", []string{rc.src}
	rc.warnf("%q matches no known actor; made %s, unreconciled", label, rec.Name)
	return rec, nil
}

// place is actor for places; prov's country is already the final actor name.
func (rc *reconciler) place(prov *annalsv1.Place) (*annalsv1.Place, error) {
	label := enLabel(prov.Labels)
	name, err := rc.resolve(resource.Places, label)
	if err != nil {
		return nil, err
	}
	if name != "" {
		rec, err := rc.r.GetPlace(rc.ctx, name)
		if err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", name, err)
		}
		clearOutputOnly(rec)
		rec.Sources = addSource(rec.Sources, rc.src)
		if rec.Unreconciled {
			rc.warnf("%q is %s, which is not reconciled yet", label, rec.Name)
		}
		return rec, nil
	}
	rec := prov
	rec.Name, err = rc.freeName(prov.Name, func(n string) (bool, error) { return exists(rc.r.GetPlace(rc.ctx, n)) })
	if err != nil {
		return nil, err
	}
	rec.Unreconciled, rec.WikidataId, rec.Sources = true, "", []string{rc.src}
	rc.warnf("%q matches no known place; made %s, unreconciled", label, rec.Name)
	return rec, nil
}

func (rc *reconciler) warnf(format string, args ...any) {
	rc.warnings = append(rc.warnings, fmt.Sprintf(format, args...))
}

// addSource puts src first in sources unless it is there already.
func addSource(sources []string, src string) []string {
	if slices.Contains(sources, src) {
		return sources
	}
	return append([]string{src}, sources...)
}

// enLabel returns the first English label, or the first label if none is English.
func enLabel(ls []*annalsv1.Label) string {
	for _, l := range ls {
		if l.Language == "en" {
			return l.Value
		}
	}
	if len(ls) > 0 {
		return ls[0].Value
	}
	return ""
}

// getOrNil turns store.ErrNotFound into a nil record and no error.
func getOrNil[T any](rec *T, err error) (*T, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// exists reports whether a Get found its record.
func exists[T any](rec *T, err error) (bool, error) {
	rec, err = getOrNil(rec, err)
	return rec != nil, err
}

// clearOutputOnly clears the fields the store sets: create_time, update_time and etag.
func clearOutputOnly(m proto.Message) {
	if r, ok := m.(record.Record); ok {
		record.SetOutput(r, nil, nil, "")
	}
}
