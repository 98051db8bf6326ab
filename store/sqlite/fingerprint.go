package sqlite

import (
	"strconv"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/cursor"
)

// The fingerprints of the three list queries: every filter field takes part,
// so that a page token is refused by any other query (see package cursor).

func eventFingerprint(f store.EventFilter) []byte {
	return cursor.Fingerprint("events",
		strconv.FormatInt(int64(f.Month), 10), strconv.FormatInt(int64(f.Day), 10),
		strconv.FormatBool(f.HasFrom), strconv.FormatInt(f.From, 10),
		strconv.FormatBool(f.HasTo), strconv.FormatInt(f.To, 10),
		f.Actor, f.Place, f.WikidataID, f.Query)
}

func actorFingerprint(f store.ActorFilter) []byte {
	return cursor.Fingerprint("actors", strconv.FormatInt(int64(f.Kind), 10), f.WikidataID, f.Query)
}

func placeFingerprint(f store.PlaceFilter) []byte {
	return cursor.Fingerprint("places", f.WikidataID, f.Query)
}
