package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/ingest"
)

// exportCmd writes the whole archive as Turtle, N-Triples or JSON-LD, to a
// file (gzip-compressed when its name ends in .gz) or to standard output. The
// base IRI and SPARQL endpoint are the flags', else those `annals serve`
// kept with the database, so that the export is the server's dump.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	format := fs.String("format", "turtle", "turtle, ntriples or jsonld")
	base := fs.String("base", exporter.DefaultBase, "base IRI of the resources: {base}/events/{id} … (default: the one `annals serve` kept with the database, else http://localhost:8080)")
	sparql := fs.String("sparql-endpoint", "", "URL of a SPARQL endpoint that serves the dataset, stated in its description (default: the one `annals serve` kept with the database)")
	output := fs.String("output", "", "file to write (gzip when it ends in .gz); empty or - writes to standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "annals export: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	f, err := exporter.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if _, err := exporter.New(*base, exporter.WithSPARQLEndpoint(*sparql)); err != nil {
		return fmt.Errorf("--base or --sparql-endpoint: %w", err)
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	st, err := c.open(ctx, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	if _, err := data.Load(ctx, st, ingest.Import, log); err != nil {
		return err
	}
	ld, err := resolveLinkedData(ctx, st, fs, *base, *sparql)
	if err != nil {
		return err
	}
	x, err := ld.newExporter()
	if err != nil {
		return err
	}
	if w := loopbackWarning(ld.base); w != "" {
		fmt.Fprintf(stderr, "annals export: warning: %s\n", w)
	}

	var out io.Writer = stdout
	var file *os.File
	if fi, err := os.Stat(*output); *output != "" && *output != "-" && err == nil && !fi.Mode().IsRegular() {
		// A device or a named pipe (/dev/null, a FIFO a loader reads):
		// write into it, never replace it.
		dev, err := os.OpenFile(*output, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("open output: %w", err)
		}
		defer dev.Close()
		out = dev
	} else if *output != "" && *output != "-" {
		// Write beside the target and rename at the end, so that a failed or
		// interrupted export never leaves a truncated file under its name.
		file, err = os.CreateTemp(filepath.Dir(*output), "."+filepath.Base(*output)+".tmp-*")
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer os.Remove(file.Name()) // a no-op once renamed
		defer file.Close()
		out = newWriteback(file)
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	var w io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(*output, ".gz") {
		zw = exporter.NewGzipWriter(bw) // the bytes of the server's .gz
		w = zw
	}

	start := time.Now()
	last := start
	progress := func(n int64) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(stderr, "export: %d triples, %.0f triples/s\n", n, float64(n)/now.Sub(start).Seconds())
		}
	}
	n, err := x.Dataset(ctx, st, w, f, progress)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if file != nil {
		if err := file.Sync(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := file.Chmod(0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.Rename(file.Name(), *output); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(stderr, "export: wrote %d triples (%s, base %s from the %s) in %s\n", n, f, ld.base, ld.baseFrom, time.Since(start).Round(time.Millisecond))
	return nil
}
