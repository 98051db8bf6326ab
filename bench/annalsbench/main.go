// Command annalsbench holds the helpers of scripts/bench (issue 6's
// benchmark harness). It is a bench-only binary: nothing in it is part of
// annals. Subcommands:
//
//	annalsbench coldstart --annals BIN --db FILE [--runs 3] --out FILE.json
//	    time `annals serve` from exec to health SERVING, several times
//	annalsbench pick --small ADDR --large ADDR --large-events N [--seed S] --out DIR
//	    choose GetEvent names and ListEvents filter values that match data in
//	    both archives, and write ghz request files
//	annalsbench latency --addr ADDR --requests FILE.json [-n 3000] [-x 10s] --out FILE.json
//	    ListEvents round trips one at a time through the generated Go client
//	annalsbench rawinsert --events N [--seed S] --db FILE --out FILE.json
//	    the bulk load baseline: the same synthetic records written to SQLite
//	    as bare (name, protobuf) rows
//	annalsbench profserve --db FILE [--grpc-addr A] [--debug-addr A]
//	    annals' gRPC server (server.New, as `annals serve` builds it) with
//	    net/http/pprof on a separate loopback address, for CPU profiles
//	annalsbench show FILE.json...
//	    one progress line per ghz or latency report
//	annalsbench get DIR getevent_bytes|list_bytes|filters|scaling_filters|slowest_filter
//	    values scripts/bench needs from pick.json and the reports
//	annalsbench splitttl [--max BYTES] FILE.ttl
//	    cut a Turtle dump into parts rapper can read (it fails above 2 GiB)
//	annalsbench loadprof --db FILE --events N [--seed 2] --cpuprofile FILE
//	    add records to a large archive as annals gen does, under a CPU profile
//	annalsbench slim < GHZ.json > SMALLER.json
//	    drop the per-request details of a ghz JSON report
//	annalsbench pgserver --out FILE [--databases small,large]
//	    a throwaway PostgreSQL cluster (durable settings) for the PostgreSQL column
//	annalsbench report --dir DIR
//	    render the results scripts/bench collected in DIR as Markdown
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: annalsbench coldstart|pick|latency|rawinsert|profserve|show|get|splitttl|loadprof|slim|pgserver|report [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, []string) error{
		"coldstart": coldstart,
		"pick":      pick,
		"rawinsert": rawInsert,
		"profserve": profServe,
		"report":    report,
		"latency":   latency,
		"show":      show,
		"get":       get,
		"splitttl":  splitTTL,
		"loadprof":  loadProf,
		"slim":      slim,
		"pgserver":  pgServer,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "annalsbench: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "annalsbench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// newFlags returns a flag set for a subcommand that reports its own errors.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("annalsbench "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// required fails when any of the named string flags is empty.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" || f.Value.String() == "0" {
			return fmt.Errorf("--%s is required", n)
		}
	}
	return nil
}
