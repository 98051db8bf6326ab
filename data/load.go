package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/histdate"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// VersionKey is the store meta key that holds the version of the bundled
// dataset last loaded into a database.
const VersionKey = "bundle_version"

// Bundle is the parsed bundled dataset.
type Bundle struct {
	// Version is a digest of every bundled file; it changes whenever one does.
	Version string
	// Actors, Places and Events are the curated records; Overlays are the
	// curated events that add to an event a seed document gives, by name.
	Actors   []*annalsv1.Actor
	Places   []*annalsv1.Place
	Events   []*annalsv1.Event
	Overlays map[string]*annalsv1.Event
	// Seeds are the seed documents by file name, in name order.
	Seeds []Seed
}

// Seed is one bundled document in the seed format.
type Seed struct {
	Filename string
	Text     []byte
}

// Read parses the bundled dataset from fsys (normally FS) and checks each
// curated record: it must parse as its message type, be named after its
// file, and carry valid dates.
func Read(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{Overlays: map[string]*annalsv1.Event{}}
	h := sha256.New()
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read bundled dataset: %w", err)
	}
	sort.Strings(files)
	var curatedEvents []*annalsv1.Event
	for _, p := range files {
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read bundled dataset: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(raw))
		h.Write(raw)
		dir, file := path.Split(p)
		switch {
		case dir == "seeds/" && strings.HasSuffix(file, ".txt"):
			b.Seeds = append(b.Seeds, Seed{Filename: file, Text: raw})
		case strings.HasPrefix(dir, "curated/") && strings.HasSuffix(file, ".textproto"):
			id := strings.TrimSuffix(file, ".textproto")
			kind := resource.Kind(strings.TrimSuffix(strings.TrimPrefix(dir, "curated/"), "/"))
			var m proto.Message
			switch kind {
			case resource.Actors:
				a := &annalsv1.Actor{}
				b.Actors, m = append(b.Actors, a), a
			case resource.Places:
				pl := &annalsv1.Place{}
				b.Places, m = append(b.Places, pl), pl
			case resource.Events:
				e := &annalsv1.Event{}
				curatedEvents, m = append(curatedEvents, e), e
			default:
				return nil, fmt.Errorf("%s: unknown collection %q", p, kind)
			}
			if err := prototext.Unmarshal(raw, m); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if err := checkRecord(kind, id, m); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		default:
			return nil, fmt.Errorf("%s: not part of the dataset layout (seeds/*.txt, curated/{actors,places,events}/*.textproto)", p)
		}
	}
	b.Version = hex.EncodeToString(h.Sum(nil))[:16]
	b.Events = curatedEvents // sorted out into overlays by Load, which knows the seeds' events
	return b, nil
}

func checkRecord(kind resource.Kind, id string, m proto.Message) error {
	var name string
	var dates []*annalsv1.HistoricalDate
	switch r := m.(type) {
	case *annalsv1.Actor:
		name = r.GetName()
		dates = append(dates, r.StartDate, r.EndDate)
	case *annalsv1.Place:
		name = r.GetName()
	case *annalsv1.Event:
		name = r.GetName()
		dates = append(dates, r.Date, r.EndDate)
	}
	if want := resource.Name(kind, id); name != want {
		return fmt.Errorf("name is %q; the file name says %q", name, want)
	}
	for _, d := range dates {
		if d == nil {
			continue
		}
		if fe := histdate.Validate(d); fe != nil {
			return fmt.Errorf("date %s: %w", histdate.String(d), fe)
		}
	}
	return nil
}

// Load brings the bundled dataset into st unless st already holds this
// version of it. It writes the curated records first, then imports each seed
// document through ingest (reconciling its names with the curated records)
// with its overlay applied, and finally records the version. It reports
// whether it wrote anything.
func Load(ctx context.Context, st store.Store, imp ingest.Importer, log *slog.Logger) (bool, error) {
	b, err := Read(FS)
	if err != nil {
		return false, err
	}
	return b.Load(ctx, st, imp, log)
}

// Load writes b into st; see the package-level Load.
func (b *Bundle) Load(ctx context.Context, st store.Store, imp ingest.Importer, log *slog.Logger) (bool, error) {
	have, err := st.Meta(ctx, VersionKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("load bundled dataset: %w", err)
	}
	if have == b.Version {
		log.Info("bundled dataset already loaded", "version", b.Version)
		return false, nil
	}

	// Which curated events are overlays: those a seed document also gives.
	type parsed struct {
		seed   Seed
		report *ingest.Report
	}
	seedEvents := map[string]bool{}
	for _, s := range b.Seeds {
		doc, err := ingest.Parse(s.Filename, s.Text)
		if err != nil {
			return false, fmt.Errorf("bundled seed: %w", err)
		}
		seedEvents[doc.Event.GetName()] = true
	}
	curated := &store.Batch{Actors: b.Actors, Places: b.Places}
	for _, e := range b.Events {
		if seedEvents[e.GetName()] {
			b.Overlays[e.GetName()] = e
		} else {
			curated.Events = append(curated.Events, e)
		}
	}
	// Each write reads what it keeps of the stored records in its own
	// transaction, so that replicas starting at once (or an import running
	// meanwhile) lose nothing.
	changes, err := st.Update(ctx, func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
		// Write copies: Put sets output-only fields on what it is given.
		c := cloneBatch(curated)
		return c, keepSources(ctx, tx, c)
	})
	if err != nil {
		return false, fmt.Errorf("load curated records: %w", err)
	}
	count := countChanges(changes)
	for _, s := range b.Seeds {
		// A bundled document is imported at the bundle's release, not at
		// the time this database happened to load it (nor, for a database
		// loaded by an older release, at that older load time).
		overlay := func(batch *store.Batch) {
			for _, src := range batch.Sources {
				src.ImportTime = timestamppb.New(Released)
			}
			for _, e := range batch.Events {
				if ov := b.Overlays[e.GetName()]; ov != nil {
					ApplyOverlay(e, ov)
				}
			}
		}
		rep, err := imp(ctx, st, s.Filename, s.Text, ingest.Options{ImportTime: Released, Amend: overlay})
		if err != nil {
			return false, fmt.Errorf("bundled seed %s: %w", s.Filename, err)
		}
		addCounts(count, countChanges(rep.Changes))
	}
	if err := st.SetMeta(ctx, VersionKey, b.Version); err != nil {
		return false, fmt.Errorf("load bundled dataset: %w", err)
	}
	log.Info("bundled dataset loaded", "version", b.Version, "previous_version", have,
		"created", count[annalsv1.ChangeKind_CHANGE_KIND_CREATED],
		"updated", count[annalsv1.ChangeKind_CHANGE_KIND_UPDATED],
		"unchanged", count[annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED])
	return true, nil
}

// ApplyOverlay adds a curated overlay to an event built from a document.
// Labels replace those of the same language; participants, relations and
// places are added unless already present; the Wikidata id and end date are
// set when the overlay has them (and the event's end marked unknown when
// the overlay says so).
func ApplyOverlay(dst, ov *annalsv1.Event) {
	for _, l := range ov.GetLabels() {
		i := slices.IndexFunc(dst.Labels, func(x *annalsv1.Label) bool { return x.GetLanguage() == l.GetLanguage() })
		if i >= 0 {
			dst.Labels[i] = proto.CloneOf(l)
		} else {
			dst.Labels = append(dst.Labels, proto.CloneOf(l))
		}
	}
	for _, p := range ov.GetParticipants() {
		if !slices.ContainsFunc(dst.Participants, func(x *annalsv1.Participant) bool {
			return x.GetActor() == p.GetActor() && x.GetRole() == p.GetRole()
		}) {
			dst.Participants = append(dst.Participants, proto.CloneOf(p))
		}
	}
	for _, r := range ov.GetRelations() {
		if !slices.ContainsFunc(dst.Relations, func(x *annalsv1.EventRelation) bool { return proto.Equal(x, r) }) {
			dst.Relations = append(dst.Relations, proto.CloneOf(r))
		}
	}
	for _, p := range ov.GetPlaces() {
		if !slices.Contains(dst.Places, p) {
			dst.Places = append(dst.Places, p)
		}
	}
	if ov.GetWikidataId() != "" {
		dst.WikidataId = ov.GetWikidataId()
	}
	if ov.GetWikidataMatch() != annalsv1.WikidataMatch_WIKIDATA_MATCH_UNSPECIFIED {
		dst.WikidataMatch = ov.GetWikidataMatch()
	}
	if ov.EndDate != nil {
		dst.EndDate = proto.CloneOf(ov.EndDate)
		dst.EndUnknown = false
	} else if ov.GetEndUnknown() {
		dst.EndUnknown = true
	}
}

// keepSources gives curated actors and places the source links their stored
// copies have: documents that mention them are provenance the curated file
// cannot know, and dropping them would rewrite the record on every update.
func keepSources(ctx context.Context, st store.Lookup, b *store.Batch) error {
	for _, a := range b.Actors {
		old, err := st.GetActor(ctx, a.GetName())
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		a.Sources = old.GetSources()
	}
	for _, p := range b.Places {
		old, err := st.GetPlace(ctx, p.GetName())
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		p.Sources = old.GetSources()
	}
	return nil
}

func cloneBatch(b *store.Batch) *store.Batch {
	c := &store.Batch{}
	for _, x := range b.Actors {
		c.Actors = append(c.Actors, proto.CloneOf(x))
	}
	for _, x := range b.Places {
		c.Places = append(c.Places, proto.CloneOf(x))
	}
	for _, x := range b.Events {
		c.Events = append(c.Events, proto.CloneOf(x))
	}
	return c
}

func countChanges(cs []store.Change) map[annalsv1.ChangeKind]int {
	m := map[annalsv1.ChangeKind]int{}
	for _, c := range cs {
		m[c.Kind]++
	}
	return m
}

func addCounts(dst, src map[annalsv1.ChangeKind]int) {
	for k, v := range src {
		dst[k] += v
	}
}
