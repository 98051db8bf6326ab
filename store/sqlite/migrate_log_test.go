package sqlite

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/annals-project/annals/store/storetest"
)

// TestMigrateLogs checks what opening logs about the schema: nothing for a
// new file, which is created at the current version, and the upgrade (before
// and after) for an existing file of an older version.
func TestMigrateLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	ctx := t.Context()
	var logs bytes.Buffer
	s, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "schema") {
		t.Errorf("opening a new file logged about the schema:\n%s", logs.String())
	}
	s.Close()

	old := filepath.Join(t.TempDir(), "old.db")
	oldDatabase(t, old, 1, storetest.Fixture())
	logs.Reset()
	s, err = Open(ctx, old, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []string{"upgrading the schema", "upgraded the schema"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("upgrading a version 1 file did not log %q:\n%s", want, logs.String())
		}
	}
}
