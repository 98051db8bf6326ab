package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store/sqlite"
)

// TestImportSQLite imports the seed document into the SQLite backend twice,
// dry and for real: the first import creates, the second changes nothing.
func TestImportSQLite(t *testing.T) {
	ctx := context.Background()
	seed, err := os.ReadFile(filepath.Join("testdata", "seed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "annals.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tests := []struct {
		name string
		dry  bool
		want annalsv1.ChangeKind
	}{
		{"first import, dry run", true, annalsv1.ChangeKind_CHANGE_KIND_CREATED},
		{"first import", false, annalsv1.ChangeKind_CHANGE_KIND_CREATED},
		{"second import, dry run", true, annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED},
		{"second import", false, annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := ingest.Import(ctx, st, "seed.txt", seed, ingest.Options{DryRun: tt.dry})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Changes) != 9 {
				t.Errorf("%d changes; want 9 (event, source, 6 actors, 1 place)", len(rep.Changes))
			}
			for _, c := range rep.Changes {
				if c.Kind != tt.want {
					t.Errorf("%s %s; want %s", c.Kind, c.Name, tt.want)
				}
			}
		})
	}
	ev, err := st.GetEvent(ctx, "events/soviet-japanese-neutrality-pact")
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Participants) != 5 || ev.Places[0] != "places/moscow" {
		t.Errorf("stored event = %v", ev)
	}
}

// TestReencodedDocumentIsTheSame imports the seed, then the same document
// with CRLF line ends, a byte-order mark, trailing blank lines and spaces,
// and doubled blank lines: each is the same source, and changes nothing.
func TestReencodedDocumentIsTheSame(t *testing.T) {
	ctx := context.Background()
	seed, err := os.ReadFile(filepath.Join("testdata", "seed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "annals.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first, err := ingest.Import(ctx, st, "seed.txt", seed, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(seed)
	variants := map[string]string{
		"CRLF":                 strings.ReplaceAll(text, "\n", "\r\n"),
		"byte-order mark":      "\ufeff" + text,
		"trailing blank lines": text + "\n\n\n",
		"trailing spaces":      strings.ReplaceAll(text, "\n", "  \n"),
		"doubled blank lines":  strings.ReplaceAll(text, "\n\n", "\n\n\n"),
		"all at once":          "\ufeff" + strings.ReplaceAll(strings.ReplaceAll(text, "\n\n", "\n \n\n"), "\n", "\r\n") + "\r\n\r\n",
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			rep, err := ingest.Import(ctx, st, "other-name.txt", []byte(v), ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Source != first.Source || rep.Event != first.Event {
				t.Errorf("re-encoded document gave %s, %s; the original gave %s, %s", rep.Event, rep.Source, first.Event, first.Source)
			}
			for _, c := range rep.Changes {
				if c.Kind != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
					t.Errorf("%s %s; want every record unchanged", c.Kind, c.Name)
				}
			}
		})
	}
	// A real edit is a new revision.
	rep, err := ingest.Import(ctx, st, "edited.txt", []byte(strings.Replace(text, "Moscow", "Moscow city", 1)), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source == first.Source {
		t.Errorf("an edited document kept the source %s", rep.Source)
	}
}
