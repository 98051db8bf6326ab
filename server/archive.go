package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// defaultMaxPageBytes bounds the encoded size of one List response, below
// the 4 MiB a gRPC client accepts by default. A page that would be larger is
// cut short (AIP-158 allows fewer results than page_size); its
// next_page_token continues where it stops.
const defaultMaxPageBytes = 4<<20 - 64<<10

// archiveService implements annals.v1.ArchiveService over a store. Handlers
// validate the request (validate.go), call the store and return its errors
// as they are: the errors interceptor maps them to statuses (errors.go).
type archiveService struct {
	annalsv1.UnimplementedArchiveServiceServer

	store        store.Store
	importer     ingest.Importer
	log          *slog.Logger
	metrics      *Metrics // nil: none
	maxPageBytes int
	listBudget   *listBudget // nil: unbounded
	// written, if not nil, is called after each import that stored
	// something, to wake the change feed's watchers.
	written func()
}

// GetEvent returns one event.
func (a *archiveService) GetEvent(ctx context.Context, req *annalsv1.GetEventRequest) (*annalsv1.GetEventResponse, error) {
	if err := validateName(req.GetName(), resource.Events); err != nil {
		return nil, err
	}
	if enc, ok := a.store.(store.Encoded); ok {
		b, err := enc.GetEventEncoded(ctx, req.GetName())
		if err != nil {
			return nil, withResource(req.GetName(), err)
		}
		return &annalsv1.GetEventResponse{Event: encodedEvent(b)}, nil
	}
	ev, err := a.store.GetEvent(ctx, req.GetName())
	if err != nil {
		return nil, withResource(req.GetName(), err)
	}
	return &annalsv1.GetEventResponse{Event: ev}, nil
}

// encodedEvent is an Event that marshals as b, a stored event's encoding,
// without decoding it: b is held as the message's unknown fields, which
// proto.Marshal writes out as they are. Its fields read as unset, so it is
// for sending only; the client decodes the bytes as the Event they are.
func encodedEvent(b []byte) *annalsv1.Event {
	e := &annalsv1.Event{}
	e.ProtoReflect().SetUnknown(b)
	return e
}

// encodeResult encodes each record of a page, for a store that keeps no
// encodings.
func encodeResult[T proto.Message](res store.Result[T], err error) (store.Result[[]byte], error) {
	if err != nil {
		return store.Result[[]byte]{}, err
	}
	out := store.Result[[]byte]{Items: make([][]byte, len(res.Items)), Next: res.Next}
	for i, it := range res.Items {
		if out.Items[i], err = proto.Marshal(it); err != nil {
			return store.Result[[]byte]{}, err
		}
	}
	return out, nil
}

// GetActor returns one actor.
func (a *archiveService) GetActor(ctx context.Context, req *annalsv1.GetActorRequest) (*annalsv1.GetActorResponse, error) {
	if err := validateName(req.GetName(), resource.Actors); err != nil {
		return nil, err
	}
	ac, err := a.store.GetActor(ctx, req.GetName())
	if err != nil {
		return nil, withResource(req.GetName(), err)
	}
	return &annalsv1.GetActorResponse{Actor: ac}, nil
}

// GetPlace returns one place.
func (a *archiveService) GetPlace(ctx context.Context, req *annalsv1.GetPlaceRequest) (*annalsv1.GetPlaceResponse, error) {
	if err := validateName(req.GetName(), resource.Places); err != nil {
		return nil, err
	}
	pl, err := a.store.GetPlace(ctx, req.GetName())
	if err != nil {
		return nil, withResource(req.GetName(), err)
	}
	return &annalsv1.GetPlaceResponse{Place: pl}, nil
}

// GetSource returns one source document revision.
func (a *archiveService) GetSource(ctx context.Context, req *annalsv1.GetSourceRequest) (*annalsv1.GetSourceResponse, error) {
	if err := validateName(req.GetName(), resource.Sources); err != nil {
		return nil, err
	}
	src, err := a.store.GetSource(ctx, req.GetName())
	if err != nil {
		return nil, withResource(req.GetName(), err)
	}
	return &annalsv1.GetSourceResponse{Source: src}, nil
}

// ListEvents returns one page of events, ordered by date.
func (a *archiveService) ListEvents(ctx context.Context, req *annalsv1.ListEventsRequest) (*annalsv1.ListEventsResponse, error) {
	f, page, fp, err := validateListEvents(req)
	if err != nil {
		return nil, err
	}
	list := func(ctx context.Context, p store.Page) (store.Result[*annalsv1.Event], error) {
		return a.store.ListEvents(ctx, f, p)
	}
	if enc, ok := a.store.(store.Encoded); ok {
		list = func(ctx context.Context, p store.Page) (store.Result[*annalsv1.Event], error) {
			res, err := enc.ListEventsEncoded(ctx, f, p)
			if err != nil {
				return store.Result[*annalsv1.Event]{}, err
			}
			out := store.Result[*annalsv1.Event]{Items: make([]*annalsv1.Event, len(res.Items)), Next: res.Next}
			for i, b := range res.Items {
				out.Items[i] = encodedEvent(b)
			}
			return out, nil
		}
	}
	share, err := a.listBudget.reserve(ctx, page.Limit, a.maxPageBytes)
	if err != nil {
		return nil, err
	}
	defer share.releaseUnlessSent()
	items, next, err := fetchPage(ctx, a.maxPageBytes, page, list)
	if err != nil {
		return nil, err
	}
	return keepUntilSent(share, &annalsv1.ListEventsResponse{Events: items, NextPageToken: encodePageToken(next, fp)}), nil
}

// ListActors returns one page of actors, ordered by name.
func (a *archiveService) ListActors(ctx context.Context, req *annalsv1.ListActorsRequest) (*annalsv1.ListActorsResponse, error) {
	f, page, fp, err := validateListActors(req)
	if err != nil {
		return nil, err
	}
	share, err := a.listBudget.reserve(ctx, page.Limit, a.maxPageBytes)
	if err != nil {
		return nil, err
	}
	defer share.releaseUnlessSent()
	items, next, err := fetchPage(ctx, a.maxPageBytes, page, func(ctx context.Context, p store.Page) (store.Result[*annalsv1.Actor], error) {
		return a.store.ListActors(ctx, f, p)
	})
	if err != nil {
		return nil, err
	}
	return keepUntilSent(share, &annalsv1.ListActorsResponse{Actors: items, NextPageToken: encodePageToken(next, fp)}), nil
}

// ListPlaces returns one page of places, ordered by name.
func (a *archiveService) ListPlaces(ctx context.Context, req *annalsv1.ListPlacesRequest) (*annalsv1.ListPlacesResponse, error) {
	f, page, fp, err := validateListPlaces(req)
	if err != nil {
		return nil, err
	}
	share, err := a.listBudget.reserve(ctx, page.Limit, a.maxPageBytes)
	if err != nil {
		return nil, err
	}
	defer share.releaseUnlessSent()
	items, next, err := fetchPage(ctx, a.maxPageBytes, page, func(ctx context.Context, p store.Page) (store.Result[*annalsv1.Place], error) {
		return a.store.ListPlaces(ctx, f, p)
	})
	if err != nil {
		return nil, err
	}
	return keepUntilSent(share, &annalsv1.ListPlacesResponse{Places: items, NextPageToken: encodePageToken(next, fp)}), nil
}

// fetchPage reads one page through list. When the page's records together
// exceed maxBytes it reads again, asking only for the records that fit (at
// least one), so that the response stays within what clients accept and the
// store's cursor still marks where the shorter page ends.
func fetchPage[T proto.Message](ctx context.Context, maxBytes int, p store.Page, list func(context.Context, store.Page) (store.Result[T], error)) ([]T, string, error) {
	res, err := list(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if maxBytes <= 0 {
		return res.Items, res.Next, nil
	}
	total, fit := 0, 0
	for _, it := range res.Items {
		total += proto.Size(it) + 8 // field tag and length prefix, generously
		if total > maxBytes {
			break
		}
		fit++
	}
	if fit == len(res.Items) {
		return res.Items, res.Next, nil
	}
	p.Limit = max(fit, 1)
	res, err = list(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return res.Items, res.Next, nil
}

// ImportDocument parses, reconciles and stores one seed-format document.
// The auth interceptor has checked the bearer token before it runs.
func (a *archiveService) ImportDocument(ctx context.Context, req *annalsv1.ImportDocumentRequest) (*annalsv1.ImportDocumentResponse, error) {
	if a.importer == nil {
		return nil, errNoImporter
	}
	if err := validateImport(req); err != nil {
		a.metrics.countImport(nil, req.GetValidateOnly(), err)
		return nil, err
	}
	rep, err := a.importer(ctx, a.store, req.GetFilename(), []byte(req.GetText()), ingest.Options{DryRun: req.GetValidateOnly()})
	if err == nil && rep == nil {
		err = errors.New("importer returned neither a report nor an error")
	}
	a.metrics.countImport(rep, req.GetValidateOnly(), err)
	if err != nil {
		return nil, err
	}
	if !req.GetValidateOnly() && a.written != nil {
		a.written()
	}
	resp := &annalsv1.ImportDocumentResponse{
		Event:    rep.Event,
		Source:   rep.Source,
		Warnings: rep.Warnings,
	}
	for _, c := range rep.Changes {
		resp.Changes = append(resp.Changes, &annalsv1.Change{Name: c.Name, Kind: c.Kind})
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "document imported", requestAttrs(ctx,
		slog.String("event", rep.Event),
		slog.String("source", rep.Source),
		slog.Int("changes", len(rep.Changes)),
		slog.Int("warnings", len(rep.Warnings)),
		slog.Bool("validate_only", req.GetValidateOnly()),
	)...)
	return resp, nil
}
