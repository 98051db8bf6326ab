package main

import (
	"context"
	"hash/fnv"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/synth"
)

// archiveEcho answers GetEvent and ListEvents with the same message types
// annals answers, from events made once in memory (synth, seed 1): no
// store, no interceptors, no validation. It is the practical limit for
// serving these messages, so that ghz (which decodes every response into
// dynamic messages, at a cost that depends on the message's shape) does
// the same work against both servers.
type archiveEcho struct {
	annalsv1.UnimplementedArchiveServiceServer
	events []*annalsv1.Event
}

func newArchiveEcho(n int) *archiveEcho {
	g := synth.New(1, n)
	a := &archiveEcho{events: make([]*annalsv1.Event, n)}
	for i := range a.events {
		a.events[i] = g.EventAt(i)
	}
	return a
}

// GetEvent answers one of the events, chosen by a hash of the name.
func (a *archiveEcho) GetEvent(_ context.Context, req *annalsv1.GetEventRequest) (*annalsv1.GetEventResponse, error) {
	h := fnv.New32a()
	h.Write([]byte(req.GetName()))
	return &annalsv1.GetEventResponse{Event: a.events[int(h.Sum32()%uint32(len(a.events)))]}, nil
}

// ListEvents answers page_size events (50 when unset), whatever the filter.
func (a *archiveEcho) ListEvents(_ context.Context, req *annalsv1.ListEventsRequest) (*annalsv1.ListEventsResponse, error) {
	n := int(req.GetPageSize())
	if n <= 0 || n > len(a.events) {
		n = 50
	}
	return &annalsv1.ListEventsResponse{Events: a.events[:n]}, nil
}
