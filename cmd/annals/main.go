// Command annals is the one Annals binary: it serves the archive over gRPC
// and HTTP, imports event documents, and exports the archive as RDF.
//
//	annals serve   [flags]          serve gRPC (and HTTP) on the embedded default
//	annals ingest  [flags] FILE...  import seed-format documents
//	annals export  [flags]          write the archive as Turtle or N-Triples
//	annals gen     [flags]          generate a synthetic archive
//	annals copy    --from DB --to DB
//	                                copy a whole archive between databases
//	annals mirror  [flags]          keep a SPARQL store in sync with the archive
//
// Every flag has an environment twin, ANNALS_<FLAG>; the flag wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `annals — historical events over gRPC, linked to Wikidata

usage:
  annals serve   [flags]          serve the archive (gRPC, HTTP); creates ./annals.db on first start
                                  (--db postgres://… serves a PostgreSQL database instead)
  annals ingest  [flags] FILE...  import seed-format documents into the database
  annals export  [flags]          write the whole archive as Turtle or N-Triples
  annals gen     --events N (--db FILE | --out DIR)
                                  generate a synthetic archive (for benchmarks)
  annals copy    --from DB --to DB
                                  copy a whole archive between databases (SQLite, PostgreSQL)
  annals mirror  --graph-store URL [--once]
                                  keep a SPARQL store in sync (Graph Store Protocol)
  annals help COMMAND             show a command's flags

Every flag can also be set through the environment: --grpc-addr through
ANNALS_GRPC_ADDR, and so on. A flag on the command line wins.
`

// run runs one command and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return 0
		}
		cmd, rest = rest[0], []string{"-h"}
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, rest, stderr)
	case "ingest":
		err = ingestCmd(ctx, rest, stdout, stderr)
	case "export":
		err = exportCmd(ctx, rest, stdout, stderr)
	case "gen":
		err = genCmd(ctx, rest, stdout, stderr)
	case "copy":
		err = copyCmd(ctx, rest, stderr)
	case "mirror":
		err = mirrorCmd(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "annals: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errSomeRefused):
		return 1
	default:
		fmt.Fprintf(stderr, "annals %s: %v\n", cmd, err)
		return 1
	}
}

var (
	errUsage       = errors.New("usage")
	errSomeRefused = errors.New("some documents were refused")
)

// newLogger returns the JSON logger on w at the named level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
