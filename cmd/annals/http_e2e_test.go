package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func httpGet(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, body
}

// TestHTTPAndExportEndToEnd checks the linked-data side over real sockets:
// the dumps, the VoID description, content negotiation (303 to the
// document, 406), conditional requests, and that the gRPC stream, the HTTP
// dump and `annals export` give the same bytes: the server keeps its base
// IRI and SPARQL endpoint with the database, and the export uses them.
func TestHTTPAndExportEndToEnd(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "annals.db")
	const publicBase = "https://annals.example.org/data"
	d := startServe(t, db, "ANNALS_BASE="+publicBase, "ANNALS_SPARQL_ENDPOINT=https://sparql.example.org/annals")
	conn := dial(t, d.grpcAddr)
	waitServing(t, conn)
	base := "http://" + d.httpAddr
	iri := "/events/soviet-japanese-neutrality-pact"

	// Content negotiation on a resource.
	for _, tt := range []struct {
		accept, wantType string
		wantCode         int
	}{
		{"text/turtle", "text/turtle", 200},
		{"application/n-triples", "application/n-triples", 200},
		{"application/ld+json", "application/ld+json", 200},
		{"text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "text/html", 200},
		{"", "text/turtle", 200},
		{"application/json", "text/plain", 406},
		{"image/png", "text/plain", 406},
	} {
		resp, body := httpGet(t, base+iri, "Accept", tt.accept)
		if resp.StatusCode != tt.wantCode || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) {
			t.Errorf("Accept %q: %d %s, want %d %s\n%s", tt.accept, resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantCode, tt.wantType, body)
		}
		if tt.wantCode == 200 && !bytes.Contains(body, []byte("日ソ中立条約")) {
			t.Errorf("Accept %q: body lacks the ja label", tt.accept)
		}
	}
	resp, _ := httpGet(t, base+iri, "Accept", "text/turtle")
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("no ETag or Last-Modified: %v", resp.Header)
	}
	if resp, _ := httpGet(t, base+iri, "Accept", "text/turtle", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", resp.StatusCode)
	}
	if resp, body := httpGet(t, base+"/events/no-such-event"); resp.StatusCode != 404 || !bytes.Contains(body, []byte("events/no-such-event")) {
		t.Errorf("unknown event: %d %s, want 404 naming it", resp.StatusCode, body)
	}
	if resp, _ := httpGet(t, base+"/events/Not%20A%20Slug"); resp.StatusCode != 400 {
		t.Errorf("malformed id: %d, want 400", resp.StatusCode)
	}

	// The dumps, over HTTP.
	_, ttl := httpGet(t, base+"/dataset.ttl")
	_, nt := httpGet(t, base+"/dataset.nt")
	resp, gz := httpGet(t, base+"/dataset.nt.gz")
	if resp.Header.Get("Content-Type") != "application/gzip" {
		t.Errorf("dataset.nt.gz Content-Type = %q", resp.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, nt) {
		t.Error("dataset.nt.gz does not unzip to dataset.nt")
	}
	if !bytes.Contains(nt, []byte("<http://www.wikidata.org/entity/Q649>")) || !bytes.Contains(ttl, []byte("void:triples")) {
		t.Error("dumps lack the Wikidata link or the VoID description")
	}
	_, jsonld := httpGet(t, base+"/dataset.jsonld")
	_, void := httpGet(t, base+"/.well-known/void", "Accept", "text/turtle")
	if !bytes.Contains(void, []byte("void:triples")) || !bytes.Contains(void, []byte("<https://sparql.example.org/annals>")) {
		t.Errorf("VoID description lacks void:triples or the SPARQL endpoint:\n%s", void)
	}
	if !bytes.Contains(nt, []byte("<"+publicBase+"/events/soviet-japanese-neutrality-pact>")) {
		t.Errorf("the dump does not use the base IRI %s", publicBase)
	}
	if strings.Contains(d.Logs(), "loopback") {
		t.Errorf("a loopback warning for the base %s", publicBase)
	}

	// The same dump streamed over gRPC reassembles to the same bytes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp := annalsv1.NewExportServiceClient(conn)
	for _, f := range []struct {
		format annalsv1.RdfFormat
		want   []byte
	}{{annalsv1.RdfFormat_RDF_FORMAT_TURTLE, ttl}, {annalsv1.RdfFormat_RDF_FORMAT_N_TRIPLES, nt}} {
		stream, err := exp.ExportDataset(ctx, &annalsv1.ExportDatasetRequest{Format: f.format})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for i := 0; ; i++ {
			msg, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("ExportDataset: %v", err)
			}
			if i == 0 && msg.GetContentType() == "" {
				t.Error("first chunk has no content type")
			}
			if len(msg.GetData()) > 1<<20 {
				t.Errorf("chunk of %d bytes, above 1 MiB", len(msg.GetData()))
			}
			got.Write(msg.GetData())
		}
		if !bytes.Equal(got.Bytes(), f.want) {
			t.Errorf("%v: the gRPC stream (%d bytes) differs from the HTTP dump (%d bytes)", f.format, got.Len(), len(f.want))
		}
	}
	res, err := exp.ExportResource(ctx, &annalsv1.ExportResourceRequest{Name: "places/moscow"})
	if err != nil || !strings.Contains(res.GetContent(), "wd:Q649") || !strings.HasPrefix(res.GetContentType(), "text/turtle") {
		t.Errorf("ExportResource(places/moscow) = %q, %v", res.GetContentType(), err)
	}
	if _, err := exp.ExportResource(ctx, &annalsv1.ExportResourceRequest{Name: "places/atlantis"}); status.Code(err) != codes.NotFound {
		t.Errorf("ExportResource of an unknown place: %v, want NotFound", err)
	}
	if _, err := exp.ExportResource(ctx, &annalsv1.ExportResourceRequest{Name: "planets/mars"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("ExportResource of a malformed name: %v, want InvalidArgument", err)
	}

	// `annals export` of the same database writes the same bytes (gzip when .gz).
	if code := d.stop(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	bin, _ := buildBinary()
	for _, tt := range []struct {
		format, file string
		want         []byte
	}{{"turtle", "dump.ttl", ttl}, {"ntriples", "dump.nt.gz", nt}, {"jsonld", "dump.jsonld", jsonld}} {
		out := filepath.Join(dir, tt.file)
		// No --base: the one the server kept with the database.
		cmd := exec.Command(bin, "export", "--db", db, "--format", tt.format, "--output", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("annals export: %v\n%s", err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(tt.file, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s is not gzip: %v", tt.file, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("annals export --format %s differs from the served dump", tt.format)
		}
	}
}
