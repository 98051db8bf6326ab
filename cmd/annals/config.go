package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
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
		if strings.Contains(n, "token") && v != "" {
			v = "(set)"
		}
		attrs = append(attrs, strings.ReplaceAll(n, "-", "_"), v)
	}
	return attrs
}

// common holds the flags every command shares.
type common struct {
	db       string
	logLevel string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", "annals.db", "SQLite database file; created and filled with the bundled dataset if missing")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// durationFlag documents that a flag takes a Go duration such as 30s.
func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, usage+" (a duration such as 30s)")
}
