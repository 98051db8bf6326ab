package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/sqlite"
	"github.com/annals-project/annals/web"
)

// testPages returns the HTML pages of st, as annals serve builds them.
func testPages(t *testing.T, st store.Reader) Pages {
	t.Helper()
	return testPagesOf(t, st, nil)
}

// testPagesOf is testPages whose pages carry x's schema.org JSON-LD and
// SPARQL endpoint, as annals serve wires them.
func testPagesOf(t *testing.T, st store.Reader, x *exporter.Exporter) Pages {
	t.Helper()
	cfg := web.Config{Archive: ReadService(st, nil), Store: st, GRPCAddr: func() string { return "localhost:50051" }}
	if x != nil {
		cfg.JSONLD = func(ctx context.Context, name string) ([]byte, error) { return x.SchemaOrg(ctx, st, name) }
		cfg.SPARQLEndpoint = x.SPARQLEndpoint()
	}
	p, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestListEventsBundled1939to1945: the most natural date filter, years
// without precision, gives the seven bundled events of 1939-1945 in date
// order; ReadService answers as the RPC does.
func TestListEventsBundled1939to1945(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bundled.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	resp, err := ReadService(st, nil).ListEvents(ctx, &annalsv1.ListEventsRequest{
		StartDate: &annalsv1.HistoricalDate{Year: 1939}, EndDate: &annalsv1.HistoricalDate{Year: 1945},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"events/battles-of-khalkhin-gol", "events/soviet-japanese-neutrality-pact", "events/operation-barbarossa",
		"events/soviet-denunciation-of-the-neutrality-pact", "events/soviet-declaration-of-war-on-japan",
		"events/soviet-japanese-war", "events/surrender-of-japan",
	}
	if got := eventNames(resp.GetEvents()); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	// Its errors are statuses, as over the network.
	_, err = ReadService(st, nil).ListEvents(ctx, &annalsv1.ListEventsRequest{StartDate: &annalsv1.HistoricalDate{Year: 1941, Day: 3}})
	checkErr(t, err, wantErr{code: codes.InvalidArgument, reason: ReasonInvalidArgument, fields: []string{"start_date.month"}, msg: "month 0"})
}
