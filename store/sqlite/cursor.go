package sqlite

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

// A cursor is the position after the last record of a page, bound to the
// query it was made for:
//
//	version (1 byte) | fingerprint of the query (8 bytes) | key | name
//
// where key is the event's date_lo as a varint (events only) and name is the
// record's resource name; the whole is base64url without padding.
const cursorVersion = 1

// fingerprint identifies a query, so that a cursor is refused by any other query.
func fingerprint(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so that no two part lists collide by concatenation.
		h.Write(binary.AppendUvarint(nil, uint64(len(p))))
		h.Write([]byte(p))
	}
	return h.Sum(nil)[:8]
}

func eventFingerprint(f store.EventFilter) []byte {
	return fingerprint("events",
		strconv.FormatInt(int64(f.Month), 10), strconv.FormatInt(int64(f.Day), 10),
		strconv.FormatBool(f.HasFrom), strconv.FormatInt(f.From, 10),
		strconv.FormatBool(f.HasTo), strconv.FormatInt(f.To, 10),
		f.Actor, f.Place, f.WikidataID, f.Query)
}

func actorFingerprint(f store.ActorFilter) []byte {
	return fingerprint("actors", strconv.FormatInt(int64(f.Kind), 10), f.WikidataID, f.Query)
}

func placeFingerprint(f store.PlaceFilter) []byte {
	return fingerprint("places", f.WikidataID, f.Query)
}

// encodeCursor makes the cursor after the record (key, name); hasKey says
// whether the collection orders by a key before the name.
func encodeCursor(fp []byte, hasKey bool, key int64, name string) string {
	b := make([]byte, 0, 1+len(fp)+binary.MaxVarintLen64+len(name))
	b = append(b, cursorVersion)
	b = append(b, fp...)
	if hasKey {
		b = binary.AppendVarint(b, key)
	}
	b = append(b, name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor made by encodeCursor for the query fp over
// collection k, and refuses anything else with store.ErrInvalidCursor.
func decodeCursor(c string, fp []byte, k resource.Kind, hasKey bool) (key int64, name string, err error) {
	bad := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("%w: %s", store.ErrInvalidCursor, why)
	}
	if len(c) > 1024 {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != c {
		return bad("not base64url")
	}
	if len(b) < 1+len(fp) || b[0] != cursorVersion {
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
