// Package pgtest starts throwaway PostgreSQL clusters for tests: its own
// data directory and loopback port, started as the postgres user when the
// tests run as root (initdb refuses root), and stopped and removed when the
// tests end. A cluster can restart, stop and start again (fault tests), and
// give a streaming standby (pg_basebackup -R) for the replica tests.
//
// Tests of a package share one server (Shared): the one the environment
// variable ANNALS_TEST_POSTGRES names (a superuser DSN), or a cluster the
// test binary starts on first use; each test gets a database of its own
// (NewDatabase). When PostgreSQL is not installed the tests are skipped,
// unless CI is set: then they fail, so that CI never passes without them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names an existing PostgreSQL server for the shared tests, as a
// superuser connection string: postgres://postgres@127.0.0.1:5432/postgres.
const EnvDSN = "ANNALS_TEST_POSTGRES"

// Bin returns the directory of PostgreSQL's server programs (initdb, pg_ctl,
// postgres, pg_basebackup): PG_BIN if set, else the newest Debian
// /usr/lib/postgresql/*/bin, else that of pg_config or of initdb on PATH.
func Bin() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d, nil
			}
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's server programs (initdb, pg_ctl) are not installed: run scripts/install-tools (Debian postgresql, postgresql-contrib)")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Cluster is a PostgreSQL cluster this process started.
type Cluster struct {
	Port int
	bin  string
	dir  string // the temporary directory holding data, socket and log
	data string
	// owner runs the server programs: "postgres" when this process is root, else "".
	owner string
	// standbys started from this cluster, closed with it.
	mu          sync.Mutex
	standbys    []*Cluster
	everStarted atomic.Bool
	settings    []string
}

// StartCluster creates and starts a new cluster on a free loopback port.
// settings ("name=value") are added to the server's configuration, after
// the test settings (fsync=off among them), which they override.
func StartCluster(ctx context.Context, settings ...string) (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	c, err := newCluster(bin)
	if err != nil {
		return nil, err
	}
	c.settings = settings
	if err := c.run(ctx, "initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"); err != nil {
		c.remove()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func newCluster(bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "annals-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		c.owner = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// run runs one of the server programs, as the cluster's owner.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) error {
	name, argv := filepath.Join(c.bin, prog), args
	if c.owner != "" {
		name, argv = "runuser", append([]string{"-u", c.owner, "--", filepath.Join(c.bin, prog)}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PGTZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s%s", prog, strings.Join(args, " "), err, out, c.tailLog())
	}
	return nil
}

func (c *Cluster) logFile() string { return filepath.Join(c.dir, "server.log") }

// tailLog is the end of the server's log, for error messages.
func (c *Cluster) tailLog() string {
	b, err := os.ReadFile(c.logFile())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return "server log:\n" + string(b)
}

// PID returns the process id of the cluster's postmaster, 0 when not running.
func (c *Cluster) PID() int {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// Log returns the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.logFile())
	return string(b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the (stopped) cluster; the first start picks its port.
func (c *Cluster) Start(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if c.Port == 0 || attempt > 0 && !c.started() {
			if c.Port, err = freePort(); err != nil {
				return err
			}
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=32MB"+
			" -c max_wal_senders=10 -c wal_level=replica -c hot_standby=on -c log_min_messages=warning -c timezone=UTC",
			c.Port, c.dir)
		for _, kv := range c.settings {
			opts += " -c " + kv
		}
		if err = c.run(ctx, "pg_ctl", "-D", c.data, "-o", opts, "-l", c.logFile(), "-w", "-t", "60", "start"); err == nil {
			c.everStarted.Store(true)
			return nil
		}
		if c.everStarted.Load() {
			// The port is the cluster's identity once clients know it: keep it.
			time.Sleep(200 * time.Millisecond)
		}
	}
	return err
}

func (c *Cluster) started() bool { return c.everStarted.Load() }

// Stop stops the cluster: mode "fast" (clients disconnected, clean
// shutdown) or "immediate" (as if it crashed).
func (c *Cluster) Stop(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-m", mode, "-w", "-t", "60", "stop")
}

// Restart stops the cluster with mode and starts it again on the same port.
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	if err := c.Stop(ctx, mode); err != nil {
		return err
	}
	return c.Start(ctx)
}

// DSN is the connection string of database db on the cluster, as the
// superuser postgres.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, url.PathEscape(db))
}

// Standby makes a streaming standby of c (pg_basebackup -R) and starts it
// on a port of its own. It is closed with c.
func (c *Cluster) Standby(ctx context.Context) (*Cluster, error) {
	s, err := newCluster(c.bin)
	if err != nil {
		return nil, err
	}
	if err := s.run(ctx, "pg_basebackup", "-D", s.data, "-R", "-X", "stream", "-c", "fast",
		"-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres"); err != nil {
		s.remove()
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		s.remove()
		return nil, err
	}
	c.mu.Lock()
	c.standbys = append(c.standbys, s)
	c.mu.Unlock()
	return s, nil
}

// WaitReplay waits until the standby s has replayed everything its primary
// c had written when WaitReplay was called.
func (c *Cluster) WaitReplay(ctx context.Context, s *Cluster) error {
	var lsn string
	if err := queryRow(ctx, c.DSN("postgres"), "SELECT pg_current_wal_lsn()::text", &lsn); err != nil {
		return err
	}
	for {
		var done bool
		err := queryRow(ctx, s.DSN("postgres"), "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", &done, lsn)
		if err == nil && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("standby did not replay up to %s: %w (last error %v)", lsn, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func queryRow(ctx context.Context, dsn, q string, dst any, args ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, q, args...).Scan(dst)
}

// Close stops the cluster and its standbys at once and removes their files.
func (c *Cluster) Close() {
	c.mu.Lock()
	sb := c.standbys
	c.standbys = nil
	c.mu.Unlock()
	for _, s := range sb {
		s.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = c.Stop(ctx, "immediate")
	c.remove()
}

func (c *Cluster) remove() { os.RemoveAll(c.dir) }

// Server is a PostgreSQL server the tests of a package share.
type Server struct {
	// Admin is a superuser connection string of its maintenance database.
	Admin string
	// Cluster is the cluster this process started, nil for ANNALS_TEST_POSTGRES's.
	Cluster *Cluster
	n       atomic.Int64
	prefix  string
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
)

// Required fails t when PostgreSQL is not installed and CI is set (CI must
// never pass without these tests) and skips it otherwise.
func Required(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Skipf("PostgreSQL not available (%v); CI never skips this", err)
}

// Shared returns the server the tests of this test binary share, starting
// a cluster on first use unless ANNALS_TEST_POSTGRES names one.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() {
		prefix := fmt.Sprintf("annals_test_%d_%d_", os.Getpid(), time.Now().UnixNano()%1e6)
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			shared = &Server{Admin: dsn, prefix: prefix}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := StartCluster(ctx)
		if err != nil {
			sharedErr = err
			return
		}
		shared = &Server{Admin: c.DSN("postgres"), Cluster: c, prefix: prefix}
	})
	if sharedErr != nil {
		Required(t, sharedErr)
	}
	return shared
}

// Main runs a package's tests (call it from TestMain), then stops the
// cluster Shared started, if any.
func Main(m *testing.M) {
	code := m.Run()
	CloseShared()
	os.Exit(code)
}

// CloseShared stops the shared cluster, if one was started: a test binary
// with a TestMain of its own calls it after m.Run.
func CloseShared() {
	if shared != nil && shared.Cluster != nil {
		shared.Cluster.Close()
	}
}

// NewCluster starts a cluster of the test's own (for tests that stop,
// restart or replicate it), closed when the test ends.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := Bin(); err != nil {
		Required(t, err)
	}
	c, err := StartCluster(t.Context())
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// NewDatabase creates an empty database for the test and returns its
// connection string; it is dropped when the test ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("%s%d", s.prefix, s.n.Add(1))
	ctx := t.Context()
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(s.Admin, name)
}

func (s *Server) exec(ctx context.Context, q string) error {
	conn, err := pgx.Connect(ctx, s.Admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, q)
	return err
}

// WithDatabase returns the URL connection string dsn with its database
// replaced by db.
func WithDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}
