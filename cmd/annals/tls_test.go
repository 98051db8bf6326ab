package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// selfSigned writes a fresh self-signed ECDSA certificate for 127.0.0.1 and
// its key into dir and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "annals test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS starts the real binary with a certificate made here and
// checks both listeners over real sockets: TLS clients that trust the
// certificate are served, plaintext and untrusting ones are not, and TLS
// older than 1.2 is refused.
func TestServeTLS(t *testing.T) {
	skipUnlessLong(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	d := startServe(t, filepath.Join(dir, "annals.db"), "ANNALS_TLS_CERT="+certFile, "ANNALS_TLS_KEY="+keyFile)

	// gRPC over TLS.
	conn, err := grpc.NewClient(d.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	waitServing(t, conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hresp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hresp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Health over TLS: %v, %v; want SERVING", hresp.GetStatus(), err)
	}
	ev, err := annalsv1.NewArchiveServiceClient(conn).GetEvent(ctx, &annalsv1.GetEventRequest{Name: "events/soviet-japanese-neutrality-pact"})
	if err != nil || ev.GetEvent().GetDate().GetYear() != 1941 {
		t.Fatalf("GetEvent over TLS: %v, %v", ev, err)
	}

	// A plaintext gRPC client gets nowhere.
	plain := dial(t, d.grpcAddr)
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = healthpb.NewHealthClient(plain).Check(pctx, &healthpb.HealthCheckRequest{})
	pcancel()
	if err == nil {
		t.Error("a plaintext gRPC client was served by a TLS server")
	}
	// Nor does a TLS client that does not trust the certificate.
	untrusting, err := grpc.NewClient(d.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{})))
	if err != nil {
		t.Fatal(err)
	}
	defer untrusting.Close()
	uctx, ucancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = healthpb.NewHealthClient(untrusting).Check(uctx, &healthpb.HealthCheckRequest{})
	ucancel()
	if err == nil {
		t.Error("a client that does not trust the certificate was served")
	}

	// HTTPS.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	for _, tt := range []struct{ path, want string }{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
		{"/events/soviet-japanese-neutrality-pact", "wdt:P585"},
	} {
		resp, err := client.Get("https://" + d.httpAddr + tt.path)
		if err != nil {
			t.Errorf("GET %s over TLS: %v", tt.path, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s over TLS: %d %q, want 200 with %q", tt.path, resp.StatusCode, body, tt.want)
		}
		if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("GET %s: connection state %+v, want TLS 1.2 or later", tt.path, resp.TLS)
		}
	}
	// Plain HTTP to the TLS port is answered 400 by net/http, never served.
	if resp, err := http.Get("http://" + d.httpAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP was served by the TLS listener")
		}
	}
	// TLS 1.1 is refused on both listeners.
	for _, addr := range []string{d.httpAddr, d.grpcAddr} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
			t.Errorf("%s accepted TLS 1.1", addr)
		}
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0", code)
	}
}

// TestServeTLSFlagsGoTogether checks that a certificate without its key (or
// the other way round) is a usage error (exit status 2), and that a file
// that is not a certificate stops the server with a clear error.
func TestServeTLSFlagsGoTogether(t *testing.T) {
	skipUnlessLong(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	db := filepath.Join(dir, "annals.db")
	for _, tt := range []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantErr  string
	}{
		{"cert only", []string{"--tls-cert", certFile}, nil, 2, "go together"},
		{"key only", []string{"--tls-key", keyFile}, nil, 2, "go together"},
		{"key only from the environment", nil, []string{"ANNALS_TLS_KEY=" + keyFile}, 2, "go together"},
		{"key is not a key", []string{"--tls-cert", certFile, "--tls-key", certFile}, nil, 1, "load TLS certificate"},
		{"missing files", []string{"--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", keyFile}, nil, 1, "nope.pem"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--db", db, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, tt.args...)
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), tt.env...)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || !strings.Contains(string(out), tt.wantErr) {
				t.Errorf("exit status %d, want %d with %q; output:\n%s", code, tt.wantCode, tt.wantErr, out)
			}
		})
	}
}
