package ingest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// documentJSON writes d as indented JSON: an object with the source, the
// event, the actors and the places, each in protojson form. protojson's
// whitespace is deliberately unstable, so the JSON is compacted and indented
// again with encoding/json to give the same bytes on every run.
func documentJSON(t testing.TB, d *Document) []byte {
	t.Helper()
	msg := func(m proto.Message) json.RawMessage {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var out struct {
		Source json.RawMessage   `json:"source"`
		Event  json.RawMessage   `json:"event"`
		Actors []json.RawMessage `json:"actors"`
		Places []json.RawMessage `json:"places"`
	}
	out.Source, out.Event = msg(d.Source), msg(d.Event)
	for _, a := range d.Actors {
		out.Actors = append(out.Actors, msg(a))
	}
	for _, p := range d.Places {
		out.Places = append(out.Places, msg(p))
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ingest -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the parser's output (run go test ./ingest -update and review the diff):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first line where a and b differ.
func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + itoa(i+1) + ":\n  want: " + string(x) + "\n  got:  " + string(y)
		}
	}
	return "(no difference)"
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestSeedGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "seed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse("000_18ebd8a16d007420.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "seed.golden.json", documentJSON(t, d))
}
