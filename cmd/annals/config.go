package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
)

// envPrefix is the prefix of every flag's environment twin: --grpc-addr is
// also read from ANNALS_GRPC_ADDR. A flag given on the command line wins.
//
// Two settings are environment variables only, never flags (which show in
// ps): ANNALS_MIRROR_USER and ANNALS_MIRROR_PASSWORD, the credentials of the
// SPARQL Graph Store of annals mirror and annals serve --mirror-graph-store
// (see mirror.go).
const envPrefix = "ANNALS_"

// envName returns the environment twin of a flag name.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag of fs that was not given on the command line from
// its environment twin, if that is set. It must run after fs.Parse.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// parseFlags parses args into fs, then fills the rest from the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: annals %s [flags]%s\n\nFlags (each also read from the environment variable shown; the flag wins):\n", fs.Name(), argsHint[fs.Name()])
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(fs.Output(), "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
	}
	// Flags may come before, between or after the file names, as curators
	// type them; "--" ends the flags (for a file whose name starts with -).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil { // leaves fs.Args() = pos
		return err
	}
	return applyEnv(fs)
}

// flagSet reports whether the flag name was given, on the command line or
// through its environment twin (parseFlags sets twins with fs.Set).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

var argsHint = map[string]string{"ingest": " FILE..."}

// effective returns the flags' values as slog attributes, for logging the
// effective configuration at start; secrets are masked.
func effective(fs *flag.FlagSet) []any {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	var attrs []any
	for _, n := range names {
		v := fs.Lookup(n).Value.String()
		switch {
		case strings.Contains(n, "token") && v != "":
			v = "(set)"
		default:
			// A PostgreSQL URL (--db, --db-replica, --from, --to) without its password.
			v = backend.Redact(v)
		}
		attrs = append(attrs, strings.ReplaceAll(n, "-", "_"), v)
	}
	return attrs
}

// common holds the flags every command shares.
type common struct {
	db        string
	dbReplica string
	maxConns  int
	logLevel  string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", "annals.db", "the database: a SQLite file (created and filled with the bundled dataset if missing), "+
		"or a PostgreSQL URL postgres://user:password@host:port/dbname (its schema is created in an empty database)")
	fs.StringVar(&c.dbReplica, "db-replica", "", "PostgreSQL URL of a streaming standby of --db: reads go to it (to --db while it is down), writes to --db")
	fs.IntVar(&c.maxConns, "db-max-conns", 0, "most connections to each PostgreSQL database (0: the larger of 4 and the number of CPUs)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// open opens the store c.db names (see package store/backend).
func (c *common) open(ctx context.Context, log *slog.Logger) (store.Store, error) {
	if c.maxConns < 0 {
		return nil, fmt.Errorf("--db-max-conns %d: want 0 or more", c.maxConns)
	}
	return backend.Open(ctx, c.db, backend.Options{Logger: log, Replica: c.dbReplica, MaxConns: int32(c.maxConns)})
}

// durationFlag documents that a flag takes a Go duration such as 30s.
func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, usage+" (a duration such as 30s)")
}
