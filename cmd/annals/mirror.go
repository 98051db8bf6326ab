package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/mirror"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
)

// The mirror's credentials come from the environment only (flags show in ps).
const (
	envMirrorUser     = "ANNALS_MIRROR_USER"
	envMirrorPassword = "ANNALS_MIRROR_PASSWORD"
)

// mirrorConfig is the configuration of `annals mirror`.
type mirrorConfig struct {
	common
	graphStore      string
	base            string
	sparql          string
	once            bool
	reload          bool
	metricsAddr     string
	pollInterval    time.Duration
	datasetInterval time.Duration
	retryFor        time.Duration
	workers         int
}

// mirrorCmd keeps a SPARQL store in sync with the archive (package mirror).
func mirrorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c mirrorConfig
	c.register(fs)
	fs.Lookup("db").Usage = "the archive to mirror (annals serve's --db: a SQLite file, which must exist, or a PostgreSQL URL)"
	fs.StringVar(&c.graphStore, "graph-store", "", "SPARQL 1.1 Graph Store endpoint to keep in sync, such as http://localhost:8890/sparql-graph-crud-auth (Virtuoso); credentials from "+envMirrorUser+" and "+envMirrorPassword)
	fs.StringVar(&c.base, "base", exporter.DefaultBase, "base IRI of the resources in RDF: the graphs are named {base}/{resource name} (default: the one annals serve kept with the database, else http://localhost:8080)")
	fs.StringVar(&c.sparql, "sparql-endpoint", "", "URL of the SPARQL endpoint the store serves, stated in the dataset graph's description (default: the one annals serve kept with the database)")
	fs.BoolVar(&c.once, "once", false, "sync up to the newest change and exit, instead of following new changes until SIGTERM")
	fs.BoolVar(&c.reload, "reload", false, "load every record again, whatever the store's state graph says")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "address to serve Prometheus metrics on (/metrics); empty turns it off")
	durationFlag(fs, &c.pollInterval, "poll-interval", mirror.DefaultPollInterval, "how often a mirror that has caught up looks for new changes")
	durationFlag(fs, &c.datasetInterval, "dataset-interval", mirror.DefaultDatasetInterval, "least time between refreshes of the dataset graph (VoID/DCAT) while changes keep coming")
	durationFlag(fs, &c.retryFor, "retry-for", mirror.DefaultRetryFor, "how long a failing request to the store is retried (with backoff) before the mirror gives up")
	fs.IntVar(&c.workers, "workers", mirror.DefaultWorkers, "requests to the store at once")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "annals mirror: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if c.graphStore == "" {
		fmt.Fprintln(stderr, "annals mirror: --graph-store (ANNALS_GRAPH_STORE) is required, such as http://localhost:8890/sparql-graph-crud-auth")
		return errUsage
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	log.Info("starting annals mirror", append(effective(fs), "user", os.Getenv(envMirrorUser))...)
	if !backend.IsPostgres(c.db) {
		if _, err := os.Stat(c.db); err != nil {
			return fmt.Errorf("database %s: %w (annals mirror reads an existing archive; annals serve or annals ingest creates one)", c.db, err)
		}
	}
	st, err := c.open(ctx, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	// The graphs are named, and the dataset described, as the server
	// that serves this archive names and describes them.
	_, x, err := linkedData(ctx, st, fs, c.base, c.sparql, log)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := mirror.NewMetrics(reg)
	if err != nil {
		return err
	}
	if c.metricsAddr != "" {
		lis, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(lis) }()
		defer hs.Close()
		log.Info("metrics listening", "addr", lis.Addr().String())
	}
	m, err := newMirror(ctx, st, log, metrics, c.graphStore, x, mirror.Config{
		PollInterval: c.pollInterval, DatasetInterval: c.datasetInterval, RetryFor: c.retryFor, Reload: c.reload, Workers: c.workers,
	})
	if err != nil {
		return err
	}
	if c.once {
		err = m.Sync(ctx)
	} else {
		err = m.Run(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mirror: %s holds every change up to %d\n", c.graphStore, m.Sequence())
	return nil
}

// newMirror builds a mirror of st, mapped to RDF by x, into the Graph
// Store at endpoint, with the credentials in the environment; cfg gives the
// timings.
func newMirror(ctx context.Context, st store.Store, log *slog.Logger, metrics *mirror.Metrics, endpoint string, x *exporter.Exporter, cfg mirror.Config) (*mirror.Mirror, error) {
	gs, err := mirror.NewGraphStore(endpoint, os.Getenv(envMirrorUser), os.Getenv(envMirrorPassword), nil)
	if err != nil {
		return nil, err
	}
	id, err := mirror.ArchiveID(ctx, st)
	if err != nil {
		if !errors.Is(err, store.ErrReadOnly) {
			return nil, fmt.Errorf("archive identity: %w", err)
		}
		log.Warn("mirror: read-only database; the archive is identified by its first change", "error", err.Error())
		id = ""
	}
	cfg.Archive, cfg.Renderer, cfg.Target, cfg.Base, cfg.Logger, cfg.Metrics, cfg.ArchiveID = st, mirror.NewRenderer(x, st), gs, x.Base(), log, metrics, id
	return mirror.New(cfg)
}
