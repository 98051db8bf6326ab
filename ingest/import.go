package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

var _ Importer = Import

// Import parses one document, reconciles it with st and, unless
// opts.DryRun, writes the result: reconciling and writing are one atomic
// unit (st.Update), so concurrent imports, from any number of processes,
// give the archive the same records as the same imports one by one. A
// document that is refused gives a *ParseError; store errors are returned
// wrapped. In a dry run the report's changes come from comparing the batch
// with what is stored, ignoring output-only fields.
func Import(ctx context.Context, st store.Store, filename string, text []byte, opts Options) (*Report, error) {
	doc, err := Parse(filename, text)
	if err != nil {
		return nil, err
	}
	now := opts.ImportTime
	if now.IsZero() {
		now = time.Now()
	}
	rep := &Report{}
	// fn may run more than once (a backend retries a transaction that lost
	// a conflict): each run reconciles a fresh copy of the document.
	fn := func(ctx context.Context, tx store.Lookup) (*store.Batch, error) {
		d := proto.Clone(doc.Event).(*annalsv1.Event)
		b, warnings, err := reconcile(ctx, &Document{Event: d, Source: doc.Source, Actors: doc.Actors, Places: doc.Places}, tx, now)
		if err != nil {
			return nil, err
		}
		if opts.Amend != nil {
			opts.Amend(b)
		}
		rep.Event, rep.Source, rep.Warnings, rep.Batch = b.Events[0].GetName(), b.Sources[0].GetName(), warnings, b
		return b, nil
	}
	if opts.DryRun {
		var b *store.Batch
		if b, err = fn(ctx, st); err == nil {
			rep.Changes, err = compare(ctx, st, b)
		}
	} else {
		rep.Changes, err = st.Update(ctx, fn)
	}
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", filename, err)
	}
	slices.SortFunc(rep.Changes, func(a, b store.Change) int { return strings.Compare(a.Name, b.Name) })
	return rep, nil
}

// compare says, record by record, what writing b to r would do: CREATED for
// a record r does not have, UNCHANGED for one equal to the stored record
// (ignoring output-only fields), UPDATED otherwise.
func compare(ctx context.Context, r store.Reader, b *store.Batch) ([]store.Change, error) {
	var all []store.Change
	for _, f := range []func() ([]store.Change, error){
		func() ([]store.Change, error) { return compareAll(ctx, b.Sources, r.GetSource) },
		func() ([]store.Change, error) { return compareAll(ctx, b.Events, r.GetEvent) },
		func() ([]store.Change, error) { return compareAll(ctx, b.Actors, r.GetActor) },
		func() ([]store.Change, error) { return compareAll(ctx, b.Places, r.GetPlace) },
	} {
		changes, err := f()
		if err != nil {
			return nil, err
		}
		all = append(all, changes...)
	}
	return all, nil
}

// recordPtr is a pointer to a stored resource message.
type recordPtr[M any] interface {
	*M
	proto.Message
	GetName() string
}

// compareAll compares the records of one collection with what get finds.
func compareAll[M any, P recordPtr[M]](ctx context.Context, recs []P, get func(context.Context, string) (P, error)) ([]store.Change, error) {
	changes := make([]store.Change, 0, len(recs))
	for _, rec := range recs {
		stored, err := get(ctx, rec.GetName())
		kind := annalsv1.ChangeKind_CHANGE_KIND_UPDATED
		switch {
		case errors.Is(err, store.ErrNotFound):
			kind = annalsv1.ChangeKind_CHANGE_KIND_CREATED
		case err != nil:
			return nil, fmt.Errorf("compare %s: %w", rec.GetName(), err)
		case equalContent(rec, stored):
			kind = annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED
		}
		changes = append(changes, store.Change{Name: rec.GetName(), Kind: kind})
	}
	return changes, nil
}

// equalContent reports whether a and b are equal, ignoring output-only fields.
func equalContent(a, b proto.Message) bool {
	a, b = proto.Clone(a), proto.Clone(b)
	clearOutputOnly(a)
	clearOutputOnly(b)
	return proto.Equal(a, b)
}
