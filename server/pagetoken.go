package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Page tokens (AIP-158) are opaque to clients. Inside, a token is
//
//	base64url( version(1) | fingerprint(8) | cursor | mac(8) )
//
// where cursor is the store's page cursor, fingerprint identifies the
// request's filters (every field but page_size and page_token), and mac is a
// truncated HMAC-SHA256 of what precedes it. The mac catches garbage, truncated
// and edited tokens; the fingerprint catches a token sent back with other
// filters. The key is fixed, so tokens survive restarts and work across
// replicas: the mac protects integrity, not secrecy, and the store validates
// the cursor itself in any case.

const (
	tokenVersion   = 1
	fingerprintLen = 8
	macLen         = 8
	// maxTokenLen bounds the tokens worth decoding; it leaves room for store
	// cursors of well over a kilobyte.
	maxTokenLen = 2048
)

// tokenKey is the HMAC key of page tokens; changing it invalidates outstanding tokens.
var tokenKey = []byte("annals.v1 page token")

// fingerprint identifies the query a List request makes: a hash of its type
// and of every field except page_size and page_token.
type fingerprint [fingerprintLen]byte

// queryFingerprint returns the fingerprint of req.
func queryFingerprint(req proto.Message) fingerprint {
	m := proto.Clone(req).ProtoReflect()
	fields := m.Descriptor().Fields()
	for _, name := range []protoreflect.Name{"page_size", "page_token"} {
		if fd := fields.ByName(name); fd != nil {
			m.Clear(fd)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Interface())
	if err != nil {
		// Marshalling a valid request cannot fail; fall back to its type alone.
		b = nil
	}
	h := sha256.New()
	h.Write([]byte(m.Descriptor().FullName()))
	h.Write([]byte{0})
	h.Write(b)
	var fp fingerprint
	copy(fp[:], h.Sum(nil))
	return fp
}

// encodePageToken makes the next_page_token for a store cursor of the query fp.
// An empty cursor (the last page) gives an empty token.
func encodePageToken(cursor string, fp fingerprint) string {
	if cursor == "" {
		return ""
	}
	raw := make([]byte, 0, 1+fingerprintLen+len(cursor)+macLen)
	raw = append(raw, tokenVersion)
	raw = append(raw, fp[:]...)
	raw = append(raw, cursor...)
	raw = append(raw, tokenMAC(raw)...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodePageToken returns the store cursor in token, which must have been made
// by encodePageToken for the query fp. It fails with errMalformedToken for
// anything this server did not issue and with errTokenOtherFilter for a token
// of another query.
func decodePageToken(token string, fp fingerprint) (string, error) {
	if len(token) > maxTokenLen {
		return "", fmt.Errorf("%w: %d characters long", errMalformedToken, len(token))
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("%w: not base64url", errMalformedToken)
	}
	if len(raw) < 1+fingerprintLen+1+macLen {
		return "", fmt.Errorf("%w: too short", errMalformedToken)
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, tokenMAC(body)) {
		return "", fmt.Errorf("%w: checksum mismatch", errMalformedToken)
	}
	if body[0] != tokenVersion {
		return "", fmt.Errorf("%w: version %d", errMalformedToken, body[0])
	}
	if !bytes.Equal(body[1:1+fingerprintLen], fp[:]) {
		return "", errTokenOtherFilter
	}
	return string(body[1+fingerprintLen:]), nil
}

func tokenMAC(body []byte) []byte {
	h := hmac.New(sha256.New, tokenKey)
	h.Write(body)
	return h.Sum(nil)[:macLen]
}
