package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/annals-project/annals/data"
	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
	"github.com/annals-project/annals/store/sqlite"
	"google.golang.org/protobuf/encoding/protojson"
)

// ingestCmd imports seed-format documents, each in its own transaction.
func ingestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "parse and reconcile, print what would change, write nothing")
	output := fs.String("output", "text", "report format: text or json (json prints the records as protojson)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "annals ingest: no FILE given")
		fs.Usage()
		return errUsage
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("--output %q: want text or json", *output)
	}
	level := c.logLevel
	if *dryRun && !flagSet(fs, "log-level") {
		// A dry run's report is the output: the store's and the bundled
		// dataset's messages (a scratch database created and filled) are
		// chatter unless --log-level (ANNALS_LOG_LEVEL) asks for them.
		level = "warn"
	}
	log, err := newLogger(stderr, level)
	if err != nil {
		return err
	}

	var st store.Store
	exists := backend.IsPostgres(c.db)
	if _, err := os.Stat(c.db); err == nil {
		exists = true
	}
	switch {
	case *dryRun && exists:
		// A dry run against an existing database reads it and writes
		// nothing: Import with DryRun only compares, and the bundled
		// dataset is not (re)loaded.
		db, err := c.open(ctx, log)
		if err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		defer db.Close()
		st = db
	case *dryRun:
		// No database yet: names are reconciled against the bundled
		// dataset, loaded into a scratch database that is removed after,
		// so that --db is not created.
		dir, err := os.MkdirTemp("", "annals-dry-run-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		mem, err := sqlite.Open(ctx, filepath.Join(dir, "scratch.db"), log)
		if err != nil {
			return fmt.Errorf("open scratch database: %w", err)
		}
		defer mem.Close()
		if _, err := data.Load(ctx, mem, ingest.Import, log); err != nil {
			return err
		}
		st = mem
	default:
		db, err := c.open(ctx, log)
		if err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		defer db.Close()
		if _, err := data.Load(ctx, db, ingest.Import, log); err != nil {
			return err
		}
		st = db
	}

	refused := 0
	var jsonOut []json.RawMessage
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, err := readDocument(path)
		if err == nil {
			var rep *ingest.Report
			rep, err = ingest.Import(ctx, st, path, text, ingest.Options{DryRun: *dryRun})
			if err == nil {
				if *output == "json" {
					raw, jerr := reportJSON(path, rep)
					if jerr != nil {
						return jerr
					}
					jsonOut = append(jsonOut, raw)
				} else {
					printReport(stdout, path, rep, *dryRun)
				}
				continue
			}
		}
		refused++
		var pe *ingest.ParseError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "refused: %v\n", pe)
		} else {
			fmt.Fprintf(stderr, "refused: %s: %v\n", path, err)
		}
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jsonOut == nil {
			jsonOut = []json.RawMessage{}
		}
		if err := enc.Encode(jsonOut); err != nil {
			return err
		}
	}
	if refused > 0 {
		fmt.Fprintf(stderr, "%d of %d documents refused\n", refused, fs.NArg())
		return errSomeRefused
	}
	return nil
}

// readDocument reads at most ingest.MaxDocumentBytes+1 bytes of a file, so
// that a huge file is refused without being read whole.
func readDocument(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, ingest.MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func printReport(w io.Writer, path string, rep *ingest.Report, dryRun bool) {
	verb := map[annalsv1.ChangeKind]string{
		annalsv1.ChangeKind_CHANGE_KIND_CREATED:   "created",
		annalsv1.ChangeKind_CHANGE_KIND_UPDATED:   "updated",
		annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED: "unchanged",
	}
	counts := map[string]int{}
	for _, c := range rep.Changes {
		counts[verb[c.Kind]]++
	}
	prefix := ""
	if dryRun {
		prefix = "(dry run) "
	}
	fmt.Fprintf(w, "%s%s: %s from %s — %d created, %d updated, %d unchanged\n", prefix, path, rep.Event, rep.Source,
		counts["created"], counts["updated"], counts["unchanged"])
	for _, c := range rep.Changes {
		if c.Kind != annalsv1.ChangeKind_CHANGE_KIND_UNCHANGED {
			fmt.Fprintf(w, "  %-9s %s\n", verb[c.Kind], c.Name)
		}
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// reportJSON renders one document's report with its records as protojson.
func reportJSON(path string, rep *ingest.Report) (json.RawMessage, error) {
	type change struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	out := struct {
		File     string            `json:"file"`
		Event    string            `json:"event"`
		Source   string            `json:"source"`
		Changes  []change          `json:"changes"`
		Warnings []string          `json:"warnings"`
		Records  []json.RawMessage `json:"records"`
	}{File: path, Event: rep.Event, Source: rep.Source, Changes: []change{}, Warnings: rep.Warnings, Records: []json.RawMessage{}}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, c := range rep.Changes {
		out.Changes = append(out.Changes, change{c.Name, strings.ToLower(strings.TrimPrefix(c.Kind.String(), "CHANGE_KIND_"))})
	}
	for _, m := range rep.Batch.Records() {
		raw, err := protojson.Marshal(m)
		if err != nil {
			return nil, err
		}
		out.Records = append(out.Records, raw)
	}
	return json.Marshal(out)
}
