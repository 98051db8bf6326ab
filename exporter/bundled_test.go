package exporter

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store/sqlite"
)

// TestBundledArchive runs the independent parsers and the pact's SPARQL
// queries over the dumps of the archive Annals ships: rapper, Jena riot,
// Oxigraph and N3.js count the same triples as void:triples, and Oxigraph
// answers the queries about the Neutrality Pact.
func TestBundledArchive(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "annals.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := data.Load(ctx, st, ingest.Import, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	files, n := writeDumpsOf(t, st)
	if n < 500 {
		t.Fatalf("the bundled archive exports %d triples; is it loaded?", n)
	}
	checkParsers(t, files, n)
	needNode(t)
	var queries []string
	for _, q := range []string{"pact-labels", "pact-location", "pact-participants", "pact-point-in-time",
		"pact-provenance", "pact-signatory", "moscow-coordinates"} {
		queries = append(queries, filepath.Join("testdata", "queries", q+".rq"))
	}
	checkQueries(t, files, queries)
}
