// Package cursor encodes and decodes the keyset positions behind page
// tokens, each bound to the query it was made for.
//
// A cursor is the position after the last record of a page:
//
//	version (1 byte) | fingerprint of the query (8 bytes) | key | name
//
// where key is an ordering key as a varint (for collections ordered by a key
// before the name, such as events by date) and name is the record's resource
// name; the whole is base64url without padding. Backends keep the codec here,
// apart from their storage code, so that it can be fuzzed on its own.
package cursor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

const version = 1

// MaxLen is the longest cursor Decode reads; anything longer is refused
// before it is decoded.
const MaxLen = 1024

// Fingerprint identifies a query by its parts, so that a cursor made for one
// query is refused by any other.
func Fingerprint(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so that no two part lists collide by concatenation.
		h.Write(binary.AppendUvarint(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	return h.Sum(nil)[:8]
}

// Encode makes the cursor after the record (key, name) in the query fp;
// hasKey says whether the collection orders by a key before the name.
func Encode(fp []byte, hasKey bool, key int64, name string) string {
	b := make([]byte, 0, 1+len(fp)+binary.MaxVarintLen64+len(name))
	b = append(b, version)
	b = append(b, fp...)
	if hasKey {
		b = binary.AppendVarint(b, key)
	}
	b = append(b, name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode for the query fp over collection k,
// and refuses anything else with store.ErrInvalidCursor. It accepts only the
// one encoding Encode gives for a position.
func Decode(c string, fp []byte, k resource.Kind, hasKey bool) (key int64, name string, err error) {
	bad := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("%w: %s", store.ErrInvalidCursor, why)
	}
	if len(c) > MaxLen {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != c {
		return bad("not base64url")
	}
	if len(b) < 1+len(fp) || b[0] != version {
		return bad("unknown format")
	}
	b = b[1:]
	if !bytes.Equal(b[:len(fp)], fp) {
		return bad("made for a different query")
	}
	b = b[len(fp):]
	if hasKey {
		v, n := binary.Varint(b)
		if n <= 0 || !bytes.Equal(binary.AppendVarint(nil, v), b[:n]) {
			return bad("bad position")
		}
		key, b = v, b[n:]
	}
	name = string(b)
	if _, err := resource.ParseKind(name, k); err != nil || !strings.HasPrefix(name, string(k)+"/") {
		return bad("bad position")
	}
	return key, name, nil
}

// The fingerprints of the three list queries: every filter field takes part,
// so that a page token is refused by any other query. Every backend uses
// these, so a token names the same query whichever made it.

// EventFingerprint identifies a ListEvents query.
func EventFingerprint(f store.EventFilter) []byte {
	return Fingerprint("events",
		strconv.FormatInt(int64(f.Month), 10), strconv.FormatInt(int64(f.Day), 10),
		strconv.FormatBool(f.HasFrom), strconv.FormatInt(f.From, 10),
		strconv.FormatBool(f.HasTo), strconv.FormatInt(f.To, 10),
		f.Actor, f.Place, f.WikidataID, f.Query)
}

// ActorFingerprint identifies a ListActors query.
func ActorFingerprint(f store.ActorFilter) []byte {
	return Fingerprint("actors", strconv.FormatInt(int64(f.Kind), 10), f.WikidataID, f.Query)
}

// PlaceFingerprint identifies a ListPlaces query.
func PlaceFingerprint(f store.PlaceFilter) []byte {
	return Fingerprint("places", f.WikidataID, f.Query)
}
