package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/annals-project/annals/exporter"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store/backend"
)

// profServe serves annals' gRPC services over an existing database the way
// `annals serve` builds them (server.New with the store --db names, the ingest
// importer, Prometheus metrics and the instrumented store, ExportService;
// JSON request logs at info on stderr), and
// net/http/pprof on its own loopback address. It exists only so that
// scripts/bench can take CPU profiles of the server under load: pprof is
// never on annals' public HTTP handler. It does not load the bundled
// dataset (the database already holds it) and serves no HTTP routes.
func profServe(ctx context.Context, args []string) error {
	fs := newFlags("profserve")
	db := fs.String("db", "", "existing database: a SQLite file or a PostgreSQL URL")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:0", "gRPC address")
	debugAddr := fs.String("debug-addr", "127.0.0.1:0", "pprof address (loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "db"); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := backend.Open(ctx, *db, backend.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	metrics, err := server.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	archive := server.InstrumentStore(st, metrics)
	srv, err := server.New(server.Config{Logger: log, Store: archive, Import: ingest.Import, Metrics: metrics})
	if err != nil {
		return err
	}
	x, err := exporter.New(exporter.DefaultBase)
	if err != nil {
		return err
	}
	server.RegisterExportService(srv, archive, x, 0)
	srv.SetServing(true)

	glis, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		return err
	}
	dlis, err := net.Listen("tcp", *debugAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	dsrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := dsrv.Serve(dlis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server", "error", err.Error())
		}
	}()
	fmt.Printf("profserve grpc %s debug %s\n", glis.Addr(), dlis.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = dsrv.Shutdown(sctx)
		_ = srv.Shutdown(sctx)
	}()
	return srv.Serve(glis)
}
