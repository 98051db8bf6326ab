package server

import (
	"runtime"
	"strings"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// TestListShareHeldUntilWritten: a List answer's share of the budget shrinks
// to its encoded size when the codec encodes it, and comes back whole when
// gRPC frees the buffer, or, for a buffer dropped without being freed, when
// the garbage collector finds it.
func TestListShareHeldUntilWritten(t *testing.T) {
	const size = 1000 * listRecordBytes
	b := newListBudget(size)
	codec := newRequestCodec(b)
	answer := func() *annalsv1.ListEventsResponse {
		var evs []*annalsv1.Event
		for range 20 {
			evs = append(evs, &annalsv1.Event{Summary: strings.Repeat("x", 1000)})
		}
		return &annalsv1.ListEventsResponse{Events: evs}
	}
	held := func() int64 {
		t.Helper()
		// The largest n the semaphore still gives is what is free.
		lo, hi := int64(0), int64(size)
		for lo < hi {
			n := (lo + hi + 1) / 2
			if b.sem.TryAcquire(n) {
				b.sem.Release(n)
				lo = n
			} else {
				hi = n - 1
			}
		}
		return size - lo
	}

	for _, freed := range []bool{true, false} {
		s, err := b.reserve(t.Context(), 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := held(); got != size {
			t.Fatalf("reserved for a page of 1000: %d bytes held, want %d", got, size)
		}
		a := keepUntilSent(s, answer())
		s.releaseUnlessSent()
		if got := held(); got != size {
			t.Fatalf("an answer handed to the codec gave its share back before it was encoded: %d held", got)
		}
		data, err := codec.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := held(), int64(data.Len()); got != want {
			t.Fatalf("encoded: %d bytes held, want the encoded size %d", got, want)
		}
		if freed {
			data.Free()
			if got := held(); got != 0 {
				t.Fatalf("after the buffer was freed %d bytes are still held", got)
			}
			continue
		}
		data = nil
		for deadline := time.Now().Add(10 * time.Second); held() != 0; {
			if time.Now().After(deadline) {
				t.Fatalf("a dropped buffer's share was not given back: %d bytes held", held())
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	// An answer the codec does not know encodes as ever and holds nothing.
	if _, err := codec.Marshal(answer()); err != nil {
		t.Fatal(err)
	}
	if got := held(); got != 0 {
		t.Errorf("an unbudgeted answer holds %d bytes", got)
	}
}
