package server

import (
	"bytes"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// TestEncodedAnswers: over a backend that keeps encodings, with and without
// the metrics wrapper, GetEvent and ListEvents answer from the stored bytes,
// and a client decodes exactly the records the store holds, output-only
// fields included.
func TestEncodedAnswers(t *testing.T) {
	st := openBackend(t, "sqlite")
	if _, ok := st.(store.Encoded); !ok {
		t.Fatal("the sqlite backend does not implement store.Encoded")
	}
	for _, metrics := range []bool{false, true} {
		cfg := Config{Store: st}
		if metrics {
			m, err := NewMetrics(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			cfg.Metrics = m
			cfg.Store = InstrumentStore(st, m)
		}
		lis := serveOnBufconn(t, cfg)
		conn := dialBufconn(t, lis)
		client := annalsv1.NewArchiveServiceClient(conn)
		ctx := t.Context()

		var want []*annalsv1.Event
		for p := (store.Page{Limit: 1000}); ; {
			res, err := st.ListEvents(ctx, store.EventFilter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, res.Items...)
			if p.After = res.Next; p.After == "" {
				break
			}
		}
		if len(want) < 3 {
			t.Fatalf("only %d fixture events", len(want))
		}
		for _, w := range want {
			got, err := client.GetEvent(ctx, &annalsv1.GetEventRequest{Name: w.GetName()})
			if err != nil {
				t.Fatalf("metrics %v: GetEvent(%s): %v", metrics, w.GetName(), err)
			}
			if !proto.Equal(got.GetEvent(), w) || w.GetEtag() == "" {
				t.Errorf("metrics %v: GetEvent(%s) = %v, want %v", metrics, w.GetName(), got.GetEvent(), w)
			}
		}
		var got []*annalsv1.Event
		req := &annalsv1.ListEventsRequest{PageSize: 2}
		for {
			res, err := client.ListEvents(ctx, req)
			if err != nil {
				t.Fatalf("metrics %v: ListEvents: %v", metrics, err)
			}
			got = append(got, res.GetEvents()...)
			if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("metrics %v: ListEvents gave %d events, want %d", metrics, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("metrics %v: ListEvents item %d = %v, want %v", metrics, i, got[i], want[i])
			}
		}
	}
}

// TestEncodedEventMarshalsAsStored: the message encodedEvent makes marshals
// to the very bytes it was given.
func TestEncodedEventMarshalsAsStored(t *testing.T) {
	e := fixtureEvents()[0]
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	out, err := proto.Marshal(&annalsv1.GetEventResponse{Event: encodedEvent(b)})
	if err != nil {
		t.Fatal(err)
	}
	var back annalsv1.GetEventResponse
	if err := proto.Unmarshal(out, &back); err != nil || !proto.Equal(back.GetEvent(), e) {
		t.Errorf("round trip through encodedEvent = %v, %v; want %v", back.GetEvent(), err, e)
	}
	if got := proto.Size(encodedEvent(b)); got != len(b) {
		t.Errorf("proto.Size(encodedEvent) = %d, want %d", got, len(b))
	}
}

// TestInstrumentedEncodesForPlainStores: the metrics wrapper offers the
// encoded reads over a store that keeps no encodings, by encoding its
// records, and times them as GetEvent and ListEvents.
func TestInstrumentedEncodesForPlainStores(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeStore()
	if _, ok := store.Store(fake).(store.Encoded); ok {
		t.Fatal("the fake store keeps encodings; this test needs one that does not")
	}
	enc := InstrumentStore(fake, m).(store.Encoded)
	ctx := t.Context()
	want, err := fake.ListEvents(ctx, store.EventFilter{}, store.Page{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := enc.ListEventsEncoded(ctx, store.EventFilter{}, store.Page{Limit: 3})
	if err != nil || len(got.Items) != len(want.Items) || got.Next != want.Next {
		t.Fatalf("ListEventsEncoded = %d items, next %q, %v; want %d, %q", len(got.Items), got.Next, err, len(want.Items), want.Next)
	}
	for i, b := range got.Items {
		var e annalsv1.Event
		if err := proto.Unmarshal(b, &e); err != nil || !proto.Equal(&e, want.Items[i]) {
			t.Errorf("item %d decodes as %v, %v; want %v", i, &e, err, want.Items[i])
		}
		one, err := enc.GetEventEncoded(ctx, want.Items[i].GetName())
		if err != nil || !bytes.Equal(one, b) {
			t.Errorf("GetEventEncoded(%s) = %d bytes, %v; want the list's %d bytes", want.Items[i].GetName(), len(one), err, len(b))
		}
	}
	if _, err := enc.GetEventEncoded(ctx, "events/none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEventEncoded of a missing event: %v, want store.ErrNotFound", err)
	}
}
