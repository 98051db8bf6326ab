package server

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
)

// backends are the stores the bufconn tests run against: the map-backed fake
// and the real SQLite backend, in memory, both holding the fixtures.
var backends = []string{"fake", "sqlite"}

// openBackend returns a store of the named backend holding the fixtures.
func openBackend(t *testing.T, name string) store.Store {
	t.Helper()
	if name == "fake" {
		return newFakeStore()
	}
	st, err := sqlite.Open(t.Context(), ":memory:", nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Put(t.Context(), &store.Batch{
		Sources: fixtureSources(),
		Events:  fixtureEvents(),
		Actors:  fixtureActors(),
		Places:  fixturePlaces(),
	}); err != nil {
		t.Fatalf("put fixtures: %v", err)
	}
	return st
}

// withoutOutputOnly returns a copy of m without the output-only fields a
// backend sets (create_time, update_time, etag), wherever they occur.
func withoutOutputOnly(m proto.Message) proto.Message {
	m = proto.Clone(m)
	var strip func(protoreflect.Message)
	strip = func(r protoreflect.Message) {
		fields := r.Descriptor().Fields()
		for _, n := range []protoreflect.Name{"create_time", "update_time", "etag"} {
			if fd := fields.ByName(n); fd != nil {
				r.Clear(fd)
			}
		}
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() == nil:
			case fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					strip(v.List().Get(i).Message())
				}
			case !fd.IsMap():
				strip(v.Message())
			}
			return true
		})
	}
	strip(m.ProtoReflect())
	return m
}
