package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/annals-project/annals/data"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/server"
	"github.com/annals-project/annals/store/sqlite"
	"golang.org/x/sync/errgroup"
)

// serveConfig is the configuration of `annals serve`.
type serveConfig struct {
	common
	grpcAddr       string
	importToken    string
	defaultTimeout time.Duration
	shutdownGrace  time.Duration
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c serveConfig
	c.register(fs)
	fs.StringVar(&c.grpcAddr, "grpc-addr", "localhost:50051", "address the gRPC server listens on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.importToken, "import-token", "", "bearer token that ImportDocument requires; empty disables imports over gRPC (prefer the environment variable: flags show in ps)")
	durationFlag(fs, &c.defaultTimeout, "default-timeout", 30*time.Second, "deadline for RPCs that arrive without one")
	durationFlag(fs, &c.shutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight requests may run after SIGTERM before they are cut")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "annals serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	log.Info("starting annals serve", effective(fs)...)

	st, err := sqlite.Open(ctx, c.db, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	srv, err := server.New(server.Config{
		Logger:         log,
		Store:          st,
		Import:         ingest.Import,
		ImportToken:    c.importToken,
		DefaultTimeout: c.defaultTimeout,
	})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", c.grpcAddr)
	if err != nil {
		return fmt.Errorf("listen for gRPC: %w", err)
	}
	log.Info("grpc listening", "addr", lis.Addr().String())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.GRPC().Serve(lis); err != nil {
			return fmt.Errorf("grpc server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// Health says NOT_SERVING until the bundled dataset is in the database.
		if _, err := data.Load(gctx, st, ingest.Import, log); err != nil {
			return fmt.Errorf("load bundled dataset: %w", err)
		}
		srv.SetServing(true)
		log.Info("serving", "db", c.db)
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down", "grace", c.shutdownGrace.String())
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
		defer cancel()
		srv.Shutdown(sctx)
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
