package cursor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/store/cursor"
)

func TestRoundTrip(t *testing.T) {
	fp := cursor.Fingerprint("events", "4")
	for _, k := range []int64{0, 1, -1, -25599899, 19410413, 1 << 40, -(1 << 40)} {
		c := cursor.Encode(fp, true, k, "events/x-1")
		gk, gn, err := cursor.Decode(c, fp, resource.Events, true)
		if err != nil || gk != k || gn != "events/x-1" {
			t.Errorf("round trip of %d: %d %q %v", k, gk, gn, err)
		}
	}
	afp := cursor.Fingerprint("actors")
	c := cursor.Encode(afp, false, 0, "actors/a")
	if _, n, err := cursor.Decode(c, afp, resource.Actors, false); err != nil || n != "actors/a" {
		t.Errorf("actor cursor: %q %v", n, err)
	}
}

func TestRefuses(t *testing.T) {
	fp := cursor.Fingerprint("events")
	good := cursor.Encode(fp, true, 19410413, "events/a")
	for name, c := range map[string]string{
		"other query":      cursor.Encode(cursor.Fingerprint("events", "x"), true, 19410413, "events/a"),
		"other collection": cursor.Encode(fp, true, 1, "actors/a"),
		"padded":           good + "=",
		"not base64":       "!!!!",
		"empty name":       cursor.Encode(fp, true, 1, ""),
		"too long":         strings.Repeat("A", cursor.MaxLen+4),
		"truncated":        good[:6],
	} {
		if _, _, err := cursor.Decode(c, fp, resource.Events, true); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("%s: Decode(%q) = %v, want store.ErrInvalidCursor", name, c, err)
		}
	}
}

func TestFingerprintNoConcatCollision(t *testing.T) {
	if string(cursor.Fingerprint("ab", "c")) == string(cursor.Fingerprint("a", "bc")) {
		t.Error(`Fingerprint("ab","c") == Fingerprint("a","bc")`)
	}
}

// FuzzDecode checks that no page token crashes the decoder and that
// whatever it accepts is a well-formed position in its one encoding.
func FuzzDecode(f *testing.F) {
	fp := cursor.Fingerprint("events")
	f.Add(cursor.Encode(fp, true, 19410413, "events/soviet-japanese-neutrality-pact"))
	f.Add(cursor.Encode(fp, true, -430000, "events/a"))
	f.Add("")
	f.Add("AAAA")
	f.Add("garbage!")
	f.Fuzz(func(t *testing.T, c string) {
		k, n, err := cursor.Decode(c, fp, resource.Events, true)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidCursor) {
				t.Fatalf("Decode(%q): %v", c, err)
			}
			return
		}
		if _, err := resource.ParseKind(n, resource.Events); err != nil {
			t.Fatalf("Decode(%q) accepted name %q", c, n)
		}
		if again := cursor.Encode(fp, true, k, n); again != c {
			t.Fatalf("Decode(%q) is not canonical: re-encodes as %q", c, again)
		}
	})
}

func TestFingerprintsDiffer(t *testing.T) {
	a := cursor.EventFingerprint(store.EventFilter{Month: 4})
	b := cursor.EventFingerprint(store.EventFilter{Day: 4})
	if string(a) == string(b) {
		t.Error("month 4 and day 4 have the same fingerprint")
	}
	if string(cursor.ActorFingerprint(store.ActorFilter{Query: "x"})) == string(cursor.PlaceFingerprint(store.PlaceFilter{Query: "x"})) {
		t.Error("actor and place queries have the same fingerprint")
	}
}
