package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// Pages renders Annals' HTML (package web implements it): the page of each
// record, which the resource routes serve when HTML is asked for, and the
// browsable pages (home, search, timeline, lists), which NewHTTPHandler
// registers beside the linked-data routes.
type Pages interface {
	// Routes returns the browsable pages by http.ServeMux pattern, such as
	// "GET /{$}" and "GET /timeline". They must not collide with the
	// linked-data routes.
	Routes() map[string]http.HandlerFunc
	// Resource writes the HTML page of rec, the record named name, for the
	// reader of r (its Accept-Language chooses among the labels).
	Resource(w io.Writer, r *http.Request, name string, rec proto.Message) error
}

// ReadService answers ArchiveService's read RPCs from st in process, as the
// gRPC service does — the same validation, defaults, page tokens and page
// cuts — with its errors mapped by the same function to gRPC statuses
// (status.FromError reads their codes and details). The HTML pages read
// through it, so that their filters and paging are the API's. It writes
// nothing: ImportDocument answers Unimplemented.
func ReadService(st store.Reader, log *slog.Logger) annalsv1.ArchiveServiceServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &readService{
		a:   &archiveService{store: readOnly{st}, log: log, maxPageBytes: defaultMaxPageBytes},
		log: log,
	}
}

// readOnly is a store.Store that reads through a store.Reader and refuses
// writes. Embedding only the Reader also hides store.Encoded, so that the
// records the service returns are decoded ones the pages can read.
type readOnly struct{ store.Reader }

func (readOnly) Put(context.Context, *store.Batch) ([]store.Change, error) {
	return nil, store.ErrReadOnly
}
func (readOnly) Update(context.Context, store.UpdateFunc) ([]store.Change, error) {
	return nil, store.ErrReadOnly
}
func (readOnly) Meta(context.Context, string) (string, error)  { return "", store.ErrReadOnly }
func (readOnly) SetMeta(context.Context, string, string) error { return store.ErrReadOnly }
func (readOnly) Close() error                                  { return nil }

// readService maps the errors of archiveService, as the errors interceptor
// does on the network.
type readService struct {
	annalsv1.UnimplementedArchiveServiceServer
	a   *archiveService
	log *slog.Logger
}

// mapped returns resp, or err mapped to a status.
func mapped[T any](ctx context.Context, log *slog.Logger, resp T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, toStatus(ctx, log, err).Err()
	}
	return resp, nil
}

func (s *readService) GetEvent(ctx context.Context, req *annalsv1.GetEventRequest) (*annalsv1.GetEventResponse, error) {
	resp, err := s.a.GetEvent(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) ListEvents(ctx context.Context, req *annalsv1.ListEventsRequest) (*annalsv1.ListEventsResponse, error) {
	resp, err := s.a.ListEvents(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) GetActor(ctx context.Context, req *annalsv1.GetActorRequest) (*annalsv1.GetActorResponse, error) {
	resp, err := s.a.GetActor(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) ListActors(ctx context.Context, req *annalsv1.ListActorsRequest) (*annalsv1.ListActorsResponse, error) {
	resp, err := s.a.ListActors(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) GetPlace(ctx context.Context, req *annalsv1.GetPlaceRequest) (*annalsv1.GetPlaceResponse, error) {
	resp, err := s.a.GetPlace(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) ListPlaces(ctx context.Context, req *annalsv1.ListPlacesRequest) (*annalsv1.ListPlacesResponse, error) {
	resp, err := s.a.ListPlaces(ctx, req)
	return mapped(ctx, s.log, resp, err)
}

func (s *readService) GetSource(ctx context.Context, req *annalsv1.GetSourceRequest) (*annalsv1.GetSourceResponse, error) {
	resp, err := s.a.GetSource(ctx, req)
	return mapped(ctx, s.log, resp, err)
}
