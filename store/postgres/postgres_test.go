package postgres_test

import (
	"testing"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/postgres"
	"github.com/annals-project/annals/store/postgres/pgtest"
	"github.com/annals-project/annals/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openNew opens a store on a new database of the shared server.
func openNew(t *testing.T) *postgres.Store {
	t.Helper()
	dsn := pgtest.Shared(t).NewDatabase(t)
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openNew(t) })
}
