package server

import (
	"crypto/tls"
	"fmt"
)

// MinTLSVersion is the oldest TLS version the gRPC and HTTP listeners accept
// when TLS is on.
const MinTLSVersion = tls.VersionTLS12

// LoadTLSConfig reads a PEM certificate (chain) and its private key and
// returns the server TLS configuration both listeners use: TLS 1.2 at least,
// Go's default cipher suites. Each side adds its own ALPN protocols
// (credentials.NewTLS adds "h2"; http.Server.ServeTLS "h2" and "http/1.1").
func LoadTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   MinTLSVersion,
	}, nil
}
