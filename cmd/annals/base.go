package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/store"
)

// The base IRI and the SPARQL endpoint are kept with the archive (store
// meta values), so that `annals export` of a database `annals serve` has
// served mints the IRIs the server mints and writes the same dump, without
// --base being repeated.
const (
	metaBase   = "base_iri"
	metaSPARQL = "sparql_endpoint"
)

// linkedDataConfig is where the exporter's settings come from: the flag
// (or its environment twin) when given, else the value kept with the
// archive, else the default.
type linkedDataConfig struct {
	base, sparql       string
	baseFrom, sparqlOf string // "flag", "database" or "default", for the log
}

// given reports whether the flag name was set on the command line or from
// its environment twin.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// resolveLinkedData decides the base IRI and SPARQL endpoint of a command
// from its flags and the archive's meta values.
func resolveLinkedData(ctx context.Context, st store.Store, fs *flag.FlagSet, base, sparql string) (linkedDataConfig, error) {
	c := linkedDataConfig{base: base, sparql: sparql, baseFrom: "flag", sparqlOf: "flag"}
	for _, v := range []struct {
		flag, key string
		value     *string
		from      *string
	}{{"base", metaBase, &c.base, &c.baseFrom}, {"sparql-endpoint", metaSPARQL, &c.sparql, &c.sparqlOf}} {
		if given(fs, v.flag) {
			continue
		}
		stored, err := st.Meta(ctx, v.key)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && stored == ""):
			*v.from = "default"
		case err != nil:
			return c, fmt.Errorf("read the archive's %s: %w", v.key, err)
		default:
			*v.value, *v.from = stored, "database"
		}
	}
	return c, nil
}

// linkedData resolves a command's linked-data settings (resolveLinkedData),
// logs them and makes their exporter.
func linkedData(ctx context.Context, st store.Store, fs *flag.FlagSet, base, sparql string, log *slog.Logger) (linkedDataConfig, *exporter.Exporter, error) {
	ld, err := resolveLinkedData(ctx, st, fs, base, sparql)
	if err != nil {
		return ld, nil, err
	}
	x, err := ld.newExporter()
	if err != nil {
		return ld, nil, err
	}
	log.Info("linked data", "base", ld.base, "base_from", ld.baseFrom, "sparql_endpoint", ld.sparql, "sparql_endpoint_from", ld.sparqlOf)
	return ld, x, nil
}

// newExporter makes the exporter of c.
func (c linkedDataConfig) newExporter() (*exporter.Exporter, error) {
	x, err := exporter.New(c.base, exporter.WithSPARQLEndpoint(c.sparql))
	if err != nil {
		return nil, fmt.Errorf("--base or --sparql-endpoint: %w", err)
	}
	return x, nil
}

// keep stores c with the archive, for later exports; a database that
// cannot be written (read-only) keeps what it has, with a warning.
func (c linkedDataConfig) keep(ctx context.Context, st store.Store, log *slog.Logger) {
	for _, kv := range [][2]string{{metaBase, c.base}, {metaSPARQL, c.sparql}} {
		if err := st.SetMeta(ctx, kv[0], kv[1]); err != nil {
			log.Warn("could not keep the linked-data setting with the archive; `annals export` will not know it", "key", kv[0], "error", err.Error())
		}
	}
}

// loopbackWarning says, for a base IRI that names this machine only, why
// that is a problem and what to do; "" for any other base.
func loopbackWarning(base string) string {
	if !exporter.IsLoopback(base) {
		return ""
	}
	return fmt.Sprintf("the base IRI %s is a loopback address: the IRIs in the RDF dereference only on this machine, and data published with them cannot be followed; set --base (ANNALS_BASE) to the public address, such as https://annals.example.org", base)
}
