// Package server is Annals' network boundary: the gRPC services over the
// store, their interceptors (logging, error mapping, panic recovery, auth for
// writes), request validation, page tokens, and the one function that maps
// domain errors to gRPC statuses.
package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/store"
)

// Defaults for the zero values of Config.
const (
	// DefaultTimeout is the deadline given to unary RPCs that arrive without one.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRecvMsgBytes is the largest request accepted: room for a
	// 1 MiB ImportDocument with plenty to spare.
	DefaultMaxRecvMsgBytes = 4 << 20
	// DefaultMaxSendMsgBytes is the largest response sent. List responses are
	// kept under 4 MiB anyway (see archive.go); this bounds single records.
	DefaultMaxSendMsgBytes = 16 << 20
	// DefaultMaxConcurrentStreams is how many RPCs one client connection may
	// have open at once (advertised in HTTP/2 SETTINGS); further RPCs on that
	// connection wait until one ends.
	DefaultMaxConcurrentStreams = 256
)

// Keepalive: how the server treats client pings and idle connections.
const (
	// KeepaliveMinPingInterval is the shortest interval between client pings
	// the server tolerates (with or without RPCs open); a client pinging more
	// often is sent GOAWAY "too_many_pings" and disconnected.
	KeepaliveMinPingInterval = 10 * time.Second
	// KeepaliveIdlePing is how long a connection may be silent before the
	// server pings it to find out whether the client is still there.
	KeepaliveIdlePing = 5 * time.Minute
	// KeepalivePingTimeout is how long the server waits for the answer to
	// that ping before closing the connection.
	KeepalivePingTimeout = 20 * time.Second
)

// minRecvMsgBytes is the smallest MaxRecvMsgBytes that still lets the
// largest document through ImportDocument, with room for the envelope.
const minRecvMsgBytes = ingest.MaxDocumentBytes + 64<<10

// Config is what New needs to build a Server.
type Config struct {
	// Logger receives request logs and the detail of internal errors. Nil
	// discards them.
	Logger *slog.Logger
	// Store is the archive. Required.
	Store store.Store
	// Import parses and stores documents for ImportDocument; nil makes
	// ImportDocument answer Unimplemented.
	Import ingest.Importer
	// ImportToken is the bearer token ImportDocument requires. Empty disables
	// imports (they answer PermissionDenied).
	ImportToken string
	// DefaultTimeout is the deadline of unary RPCs that arrive without one:
	// 0 means DefaultTimeout, negative means none.
	DefaultTimeout time.Duration
	// MaxRecvMsgBytes is the largest request accepted: 0 means
	// DefaultMaxRecvMsgBytes. It must leave room for a document of
	// ingest.MaxDocumentBytes.
	MaxRecvMsgBytes int
	// MaxSendMsgBytes is the largest response sent: 0 means DefaultMaxSendMsgBytes.
	MaxSendMsgBytes int
	// MaxConcurrentStreams bounds the RPCs open at once on one connection:
	// 0 means DefaultMaxConcurrentStreams.
	MaxConcurrentStreams uint32
	// ServerOptions are added after the server's own options (for TLS
	// credentials, stats handlers and the like).
	ServerOptions []grpc.ServerOption
	// MaxListBytes bounds the memory of the List answers in flight, built
	// or not yet written to their clients: 0 means DefaultMaxListBytes,
	// negative means no bound.
	MaxListBytes int64
	// StreamStallTimeout is how long a server stream (ExportDataset,
	// WatchChanges) may wait for a client that reads nothing before it is
	// cut: 0 means DefaultStreamStallTimeout.
	StreamStallTimeout time.Duration
	// Metrics, when not nil, receives the gRPC server metrics (by method
	// and code) and import counts. Wrap the Store with InstrumentStore for
	// store latency.
	Metrics *Metrics
}

// Server is Annals' gRPC server: ArchiveService, the standard health service
// and server reflection, behind the interceptors. Further services (such as
// ExportService) are added with RegisterService before Serve.
type Server struct {
	grpc    *grpc.Server
	health  *health.Server
	log     *slog.Logger
	archive *archiveService

	maxRecv, maxSend int           // message-size limits, for BrowserHandler
	stall            time.Duration // Config.StreamStallTimeout, for the streaming services

	mu       sync.Mutex
	services []string // names whose health follows SetServing
	serving  bool

	// draining is closed when Shutdown starts: health Watch streams end then
	// (see endHealthWatches).
	draining  chan struct{}
	drainOnce sync.Once

	// changes wakes WatchChanges streams after a write through this server.
	changes *changeSignal
}

// New builds a Server from cfg. Its health is NOT_SERVING until SetServing(true).
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: Config.Store is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := cfg.DefaultTimeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	recv := cfg.MaxRecvMsgBytes
	if recv == 0 {
		recv = DefaultMaxRecvMsgBytes
	}
	if recv < minRecvMsgBytes {
		return nil, fmt.Errorf("server: MaxRecvMsgBytes %d is too small for a %d-byte document; use at least %d",
			recv, ingest.MaxDocumentBytes, minRecvMsgBytes)
	}
	send := cfg.MaxSendMsgBytes
	if send == 0 {
		send = DefaultMaxSendMsgBytes
	}
	if send < 0 {
		return nil, fmt.Errorf("server: MaxSendMsgBytes %d is negative", send)
	}

	streams := cfg.MaxConcurrentStreams
	if streams == 0 {
		streams = DefaultMaxConcurrentStreams
	}

	ic := &interceptors{log: log, defaultTimeout: timeout, metrics: cfg.Metrics}
	if cfg.ImportToken != "" {
		h := sha256.Sum256([]byte(cfg.ImportToken))
		ic.tokenHash = &h
	}
	var lists *listBudget
	switch {
	case cfg.MaxListBytes == 0:
		lists = newListBudget(DefaultMaxListBytes)
	case cfg.MaxListBytes > 0:
		lists = newListBudget(cfg.MaxListBytes)
	}
	draining := make(chan struct{})
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(ic.unary()...),
		grpc.ChainStreamInterceptor(ic.stream()...),
		grpc.ChainStreamInterceptor(endHealthWatches(draining)),
		grpc.ForceServerCodecV2(newRequestCodec(lists)),
		grpc.MaxRecvMsgSize(recv),
		grpc.MaxSendMsgSize(send),
		grpc.MaxConcurrentStreams(streams),
		// RPCs run on a few long-lived goroutines (a new one when all are
		// busy), whose stacks stay grown to the depth of the SQLite driver:
		// growing a fresh goroutine's stack was 12% of a GetEvent's server
		// CPU (BENCHMARKS.md, Scale).
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             KeepaliveMinPingInterval,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    KeepaliveIdlePing,
			Timeout: KeepalivePingTimeout,
		}),
	}
	opts = append(opts, cfg.ServerOptions...)

	s := &Server{
		draining: draining,
		grpc:     grpc.NewServer(opts...),
		health:   health.NewServer(),
		log:      log,
		maxRecv:  recv,
		maxSend:  send,
		stall:    cfg.StreamStallTimeout,
		changes:  newChangeSignal(log),
	}
	if s.stall <= 0 {
		s.stall = DefaultStreamStallTimeout
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if err := registerReflection(s.grpc); err != nil {
		return nil, err
	}
	s.archive = &archiveService{
		store:        cfg.Store,
		importer:     cfg.Import,
		log:          log,
		metrics:      cfg.Metrics,
		maxPageBytes: defaultMaxPageBytes,
		written:      s.changes.notify,
		listBudget:   lists,
	}
	annalsv1.RegisterArchiveServiceServer(s, s.archive)
	return s, nil
}

// RegisterService registers a service implementation, as
// grpc.ServiceRegistrar, so that generated Register functions accept a
// *Server: annalsv1.RegisterExportServiceServer(srv, impl). The service's
// health follows SetServing. Call it before Serve.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.grpc.RegisterService(desc, impl)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = append(s.services, desc.ServiceName)
	s.health.SetServingStatus(desc.ServiceName, servingStatus(s.serving))
}

// GRPC returns the underlying *grpc.Server.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve accepts connections on lis until Shutdown; see grpc.Server.Serve.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// SetServing sets the health of the server ("") and of every registered
// service to SERVING or NOT_SERVING. Call SetServing(true) once the archive
// is loaded.
func (s *Server) SetServing(serving bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serving = serving
	st := servingStatus(serving)
	s.health.SetServingStatus("", st)
	for _, name := range s.services {
		s.health.SetServingStatus(name, st)
	}
}

func servingStatus(serving bool) healthpb.HealthCheckResponse_ServingStatus {
	if serving {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// MinImportTokenBytes is the shortest import token a server accepts: a
// shorter one is guessable.
const MinImportTokenBytes = 16

// FollowStore checks, every interval until ctx ends, that the store can
// serve (when it is a store.Checker), and keeps the health status true:
// NOT_SERVING with an error logged once when it cannot (its database file
// replaced underneath, the database unreachable), SERVING again with a log
// line once it can. onChange, if not nil, hears every change. It returns at
// once; the checks run in a goroutine of their own.
func (s *Server) FollowStore(ctx context.Context, st any, interval time.Duration, onChange func(serving bool)) {
	c, ok := st.(store.Checker)
	if !ok {
		return
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		serving := true
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cctx, cancel := context.WithTimeout(ctx, interval*5)
			err := c.Check(cctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil && serving:
				s.log.Error("the archive's database cannot serve; health is NOT_SERVING until it can", "error", err.Error())
			case err == nil && !serving:
				s.log.Info("the archive's database serves again; health is SERVING")
			default:
				continue
			}
			serving = err == nil
			s.SetServing(serving)
			if onChange != nil {
				onChange(serving)
			}
		}
	}()
}

// Shutdown stops the server: health turns NOT_SERVING for good (so load
// balancers stop sending requests), then in-flight RPCs may finish. When ctx
// ends first, the remaining connections are closed at once and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.health.Shutdown()
	s.drainOnce.Do(func() { close(s.draining) })
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
		return ctx.Err()
	}
}
