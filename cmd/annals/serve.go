package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/mirror"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/backend"
	"github.com/annals-project/annals/web"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// storeCheckInterval is how often `annals serve` checks that its database
// can serve (store.Checker), for its health status.
const storeCheckInterval = time.Second

// listenerAddr is l's address, or nil for no listener.
func listenerAddr(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

// serveConfig is the configuration of `annals serve`.
type serveConfig struct {
	common
	grpcAddr       string
	httpAddr       string
	base           string
	sparqlEndpoint string
	importToken    string
	defaultTimeout time.Duration
	shutdownGrace  time.Duration
	streamStall    time.Duration
	maxListBytes   int64
	tlsCert        string
	tlsKey         string
	mirrorStore    string
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c serveConfig
	c.register(fs)
	fs.StringVar(&c.grpcAddr, "grpc-addr", "localhost:50051", "address the gRPC server listens on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.httpAddr, "http-addr", "localhost:8080", "address the HTTP server (RDF dumps, resource pages, health) listens on; empty turns it off")
	fs.StringVar(&c.base, "base", exporter.DefaultBase, "base IRI of the resources in RDF, {base}/events/{id}; set it to the server's public address (kept with the database: a later start or `annals export` without it uses the kept one)")
	fs.StringVar(&c.sparqlEndpoint, "sparql-endpoint", "", "URL of a SPARQL endpoint that serves this dataset: stated in the dataset description (void:sparqlEndpoint) and linked from the HTML pages (kept with the database, as --base)")
	fs.StringVar(&c.importToken, "import-token", "", "bearer token that ImportDocument requires; empty disables imports over gRPC (prefer the environment variable: flags show in ps)")
	durationFlag(fs, &c.defaultTimeout, "default-timeout", server.DefaultTimeout, "deadline for RPCs that arrive without one")
	durationFlag(fs, &c.shutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight requests may run after SIGTERM before they are cut")
	durationFlag(fs, &c.streamStall, "stream-stall-timeout", server.DefaultStreamStallTimeout, "how long a server stream (ExportDataset, WatchChanges) may wait for a client that reads nothing before it is cut")
	fs.Int64Var(&c.maxListBytes, "max-list-bytes", server.DefaultMaxListBytes, "memory the List answers in flight (being built or not yet written to the client) may hold, in bytes (8 KiB reckoned per record asked for while built); past it calls queue, then get ResourceExhausted; -1: no bound")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) file; with --tls-key, gRPC and HTTP serve TLS (1.2 or later) instead of plaintext")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.StringVar(&c.mirrorStore, "mirror-graph-store", "", "also keep this SPARQL 1.1 Graph Store in sync, as annals mirror does (credentials from "+envMirrorUser+" and "+envMirrorPassword+"); empty: no mirror")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "annals serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		fmt.Fprintln(stderr, "annals serve: --tls-cert and --tls-key (ANNALS_TLS_CERT, ANNALS_TLS_KEY) go together: give both for TLS, or neither for plaintext")
		return errUsage
	}
	if c.importToken != "" && len(c.importToken) < server.MinImportTokenBytes {
		fmt.Fprintf(stderr, "annals serve: the import token (ANNALS_IMPORT_TOKEN) is %d bytes long; it must be at least %d: make one with `openssl rand -hex 16`\n",
			len(c.importToken), server.MinImportTokenBytes)
		return errUsage
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	log.Info("starting annals serve", effective(fs)...)

	st, err := c.open(ctx, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	// Metrics on a registry of this process's own, served at /metrics;
	// archive is st with each call timed.
	reg := prometheus.NewRegistry()
	metrics, err := server.NewMetrics(reg)
	if err != nil {
		return err
	}
	archive := server.InstrumentStore(st, metrics)

	var tlsCfg *tls.Config
	var grpcOpts []grpc.ServerOption
	if c.tlsCert != "" {
		if tlsCfg, err = server.LoadTLSConfig(c.tlsCert, c.tlsKey); err != nil {
			return err
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv, err := server.New(server.Config{
		Logger:             log,
		Store:              archive,
		Import:             ingest.Import,
		ImportToken:        c.importToken,
		DefaultTimeout:     c.defaultTimeout,
		StreamStallTimeout: c.streamStall,
		MaxListBytes:       c.maxListBytes,
		ServerOptions:      grpcOpts,
		Metrics:            metrics,
	})
	if err != nil {
		return err
	}
	ld, x, err := linkedData(ctx, st, fs, c.base, c.sparqlEndpoint, log)
	if err != nil {
		return err
	}
	if w := loopbackWarning(ld.base); w != "" {
		log.Warn(w)
	}
	ld.keep(ctx, st, log)
	server.RegisterExportService(srv, archive, x, 0)
	server.RegisterChangeService(srv, archive)
	var ready atomic.Bool
	// The gRPC listener's address, for the commands the pages show; set
	// once it listens, before any request is served.
	var grpcAddr atomic.Value
	grpcAddr.Store(c.grpcAddr)
	var httpSrv *http.Server
	var httpLis net.Listener
	if c.httpAddr != "" {
		// The RPCs for browsers: Connect and gRPC-Web on the HTTP port,
		// through the gRPC server and its interceptors.
		api, err := srv.BrowserHandler()
		if err != nil {
			return err
		}
		// The pages for people, reading through the same service.
		pages, err := web.New(web.Config{
			Logger:   log,
			Archive:  server.ReadService(archive, log),
			Store:    archive,
			GRPCAddr: func() string { return grpcAddr.Load().(string) },
			TLS:      tlsCfg != nil,
			JSONLD: func(ctx context.Context, name string) ([]byte, error) {
				return x.SchemaOrg(ctx, archive, name)
			},
			SPARQLEndpoint: x.SPARQLEndpoint(),
		})
		if err != nil {
			return err
		}
		h, err := server.NewHTTPHandler(server.HTTPConfig{Logger: log, Store: archive, Exporter: x, Ready: ready.Load, Metrics: metrics, API: api, Pages: pages})
		if err != nil {
			return err
		}
		// The limits (timeouts, header size) are server's: see the README's Limits table.
		httpSrv = server.NewHTTPServer(h)
		httpSrv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		httpSrv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
		if httpLis, err = net.Listen("tcp", c.httpAddr); err != nil {
			return fmt.Errorf("listen for HTTP: %w", err)
		}
		if tlsCfg != nil {
			httpSrv.TLSConfig = tlsCfg.Clone()
		}
		log.Info("http listening", "addr", httpLis.Addr().String(), "base", ld.base, "tls", tlsCfg != nil)
	}
	lis, err := net.Listen("tcp", c.grpcAddr)
	if err != nil {
		return fmt.Errorf("listen for gRPC: %w", err)
	}
	grpcAddr.Store(lis.Addr().String())
	log.Info("grpc listening", "addr", lis.Addr().String(), "tls", tlsCfg != nil)
	if c.importToken != "" && tlsCfg == nil {
		for _, a := range []net.Addr{lis.Addr(), listenerAddr(httpLis)} {
			if tcp, ok := a.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
				log.Warn("IMPORTS ARE EXPOSED: the import token is accepted in plaintext on a listener that is not loopback; anyone on the network path can read it and write to the archive. Serve TLS (--tls-cert, --tls-key) or listen on loopback behind a TLS proxy",
					"addr", tcp.String())
			}
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.GRPC().Serve(lis); err != nil {
			return fmt.Errorf("grpc server: %w", err)
		}
		return nil
	})
	if httpSrv != nil {
		g.Go(func() error {
			serveHTTP := httpSrv.Serve
			if httpSrv.TLSConfig != nil {
				// The certificate is in TLSConfig; ServeTLS adds the ALPN protocols.
				serveHTTP = func(l net.Listener) error { return httpSrv.ServeTLS(l, "", "") }
			}
			if err := serveHTTP(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http server: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		// Health says NOT_SERVING until the bundled dataset is in the database.
		if _, err := data.Load(gctx, archive, ingest.Import, log); err != nil {
			return fmt.Errorf("load bundled dataset: %w", err)
		}
		ready.Store(true)
		srv.SetServing(true)
		log.Info("serving", "db", backend.Redact(c.db))
		// Health follows the store from now on: a database file replaced
		// underneath, or one that stops answering, turns it NOT_SERVING.
		srv.FollowStore(gctx, archive, storeCheckInterval, ready.Store)
		if c.mirrorStore != "" {
			return runMirrorLoop(gctx, st, log, reg, c.mirrorStore, x)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down", "grace", c.shutdownGrace.String())
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
		defer cancel()
		ready.Store(false)
		var herr error
		done := make(chan struct{})
		if httpSrv != nil {
			go func() {
				defer close(done)
				// Shutdown lets in-flight downloads finish; Close cuts what is left at the deadline.
				if herr = httpSrv.Shutdown(sctx); herr != nil {
					_ = httpSrv.Close()
				}
			}()
		} else {
			close(done)
		}
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("grpc shutdown cut in-flight requests", "error", err.Error())
		}
		<-done
		if herr != nil {
			log.Warn("http shutdown cut in-flight requests", "error", herr.Error())
		}
		return nil
	})
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("stopped")
	_ = os.Stderr.Sync()
	return nil
}

// runMirrorLoop runs the mirror inside annals serve (--mirror-graph-store)
// until ctx ends, its metrics on the server's /metrics. A mirror that gives
// up (the store down for longer than its retries) is logged and started
// again a minute later: the server keeps serving.
func runMirrorLoop(ctx context.Context, st store.Store, log *slog.Logger, reg prometheus.Registerer, endpoint string, x *exporter.Exporter) error {
	metrics, err := mirror.NewMetrics(reg)
	if err != nil {
		return err
	}
	for {
		m, err := newMirror(ctx, st, log, metrics, endpoint, x, mirror.Config{})
		if err != nil {
			return fmt.Errorf("--mirror-graph-store: %w", err)
		}
		if err = m.Run(ctx); err == nil || ctx.Err() != nil {
			return nil
		}
		log.Error("mirror stopped; starting again in a minute", "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Minute):
		}
	}
}
