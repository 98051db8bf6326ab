package server

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// DefaultMaxListBytes bounds the memory that List answers in flight may
// hold, together. Each List call reserves listRecordBytes per record it
// asks for (page_size, at most the page byte bound) before it reads; once
// its answer is encoded it keeps only the encoded size, and gives that back
// when the connection has taken the last byte. Answers a slow client has not
// read yet therefore count, as well as answers being built. A call that
// cannot reserve its share within listQueueWait answers ResourceExhausted.
const DefaultMaxListBytes = 64 << 20

// listRecordBytes is what one record of a List answer is reckoned to hold
// in memory while the answer is built: its stored bytes, decoded, and
// encoded again (a generous average; records are mostly 1–3 KiB).
const listRecordBytes = 8 << 10

// listQueueWait is the longest a List call waits for its share of
// DefaultMaxListBytes before answering ResourceExhausted.
const listQueueWait = 2 * time.Second

// errTooManyLists means the List answers in flight hold all the bytes allowed.
var errTooManyLists = errors.New("too many list answers in flight")

// listBudget is the memory the List answers in flight may hold together.
type listBudget struct {
	sem  *semaphore.Weighted
	size int64
	// sending maps an answer a handler has returned to its share, for the
	// codec (codec.go) to find when it encodes the answer.
	sending sync.Map
}

func newListBudget(size int64) *listBudget {
	return &listBudget{sem: semaphore.NewWeighted(size), size: size}
}

// reserve takes a List call's share of the budget, waiting up to
// listQueueWait (or the call's deadline). A nil budget gives a nil share,
// which holds nothing.
func (b *listBudget) reserve(ctx context.Context, limit int, maxBytes int) (*listShare, error) {
	if b == nil {
		return nil, nil
	}
	if limit < 1 {
		limit = 50
	}
	w := int64(min(limit, 1000)) * listRecordBytes
	if maxBytes > 0 {
		w = min(w, 2*int64(maxBytes))
	}
	w = min(w, b.size)
	wctx, cancel := context.WithTimeout(ctx, listQueueWait)
	defer cancel()
	if err := b.sem.Acquire(wctx, w); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errTooManyLists
	}
	return &listShare{budget: b, held: w}, nil
}

// take returns the share kept for answer, if any, and forgets it.
func (b *listBudget) take(answer any) *listShare {
	if b == nil {
		return nil
	}
	s, ok := b.sending.LoadAndDelete(answer)
	if !ok {
		return nil
	}
	return s.(*listShare)
}

// listShare is one List call's part of the budget. Its methods do nothing
// on a nil share.
type listShare struct {
	budget *listBudget
	mu     sync.Mutex
	held   int64
	sent   bool // handed to the codec with its answer
}

// keepUntilSent hands answer's share to the codec, which gives it back once
// the connection has written the answer (or dropped it), and returns answer.
func keepUntilSent[M proto.Message](s *listShare, answer M) M {
	if s == nil {
		return answer
	}
	s.mu.Lock()
	s.sent = true
	s.mu.Unlock()
	s.budget.sending.Store(answer, s)
	return answer
}

// releaseUnlessSent gives the share back unless keepUntilSent handed it on:
// the call failed, or panicked.
func (s *listShare) releaseUnlessSent() {
	if s == nil {
		return
	}
	s.mu.Lock()
	sent := s.sent
	s.mu.Unlock()
	if !sent {
		s.keep(0)
	}
}

// keep shrinks the share to n bytes, giving back the rest.
func (s *listShare) keep(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < s.held {
		s.budget.sem.Release(s.held - n)
		s.held = n
	}
}

// marshal encodes the answer m into a buffer the share holds on to: the
// share shrinks to the encoded size, and is given back when gRPC frees the
// buffer, that is when the connection has written the last byte or the
// stream is gone. A buffer dropped without being freed (a connection that
// died mid-write) gives it back when the garbage collector finds it.
func (s *listShare) marshal(m proto.Message) (mem.BufferSlice, error) {
	size := proto.Size(m)
	if mem.IsBelowBufferPoolingThreshold(size) {
		s.keep(0)
		b, err := proto.Marshal(m)
		return mem.BufferSlice{mem.SliceBuffer(b)}, err
	}
	s.keep(int64(size))
	buf := make([]byte, 0, size)
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, m)
	if err != nil {
		s.keep(0)
		return nil, err
	}
	p := &buf
	runtime.AddCleanup(p, func(s *listShare) { s.keep(0) }, s)
	return mem.BufferSlice{mem.NewBuffer(p, sharePool{s})}, nil
}

// sharePool is the mem.BufferPool of one answer's buffer: putting the
// buffer back gives the share back.
type sharePool struct{ s *listShare }

func (p sharePool) Get(length int) *[]byte {
	b := make([]byte, length)
	return &b
}

func (p sharePool) Put(*[]byte) { p.s.keep(0) }
