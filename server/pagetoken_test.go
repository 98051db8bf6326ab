package server

import (
	"encoding/base64"
	"errors"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

func TestPageTokenRoundTrip(t *testing.T) {
	fp := queryFingerprint(&annalsv1.ListEventsRequest{Month: 4})
	for _, cursor := range []string{"c", "fake:events/soviet-japanese-neutrality-pact", string(make([]byte, 1000)), "\xff\x00ünïcødé"} {
		token := encodePageToken(cursor, fp)
		got, err := decodePageToken(token, fp)
		if err != nil || got != cursor {
			t.Errorf("decode(encode(%q)) = %q, %v", cursor, got, err)
		}
	}
	if got := encodePageToken("", fp); got != "" {
		t.Errorf("the last page has token %q, want none", got)
	}
}

func TestPageTokenRejects(t *testing.T) {
	fp := queryFingerprint(&annalsv1.ListEventsRequest{Month: 4})
	good := encodePageToken("fake:events/x", fp)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	edit := func(f func(b []byte) []byte) string {
		b := f(append([]byte(nil), raw...))
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"not base64", "%%%", errMalformedToken},
		{"padded", good + "=", errMalformedToken},
		{"standard alphabet", base64.RawStdEncoding.EncodeToString(raw) + "+/", errMalformedToken},
		{"too short", edit(func(b []byte) []byte { return b[:5] }), errMalformedToken},
		{"no cursor", edit(func(b []byte) []byte { return append(b[:1+fingerprintLen], b[len(b)-macLen:]...) }), errMalformedToken},
		{"cursor edited", edit(func(b []byte) []byte { b[1+fingerprintLen] ^= 1; return b }), errMalformedToken},
		{"mac edited", edit(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), errMalformedToken},
		{"truncated", good[:len(good)-1], errMalformedToken},
		{"too long", string(make([]byte, maxTokenLen+1)), errMalformedToken},
		{"other version", edit(func(b []byte) []byte {
			b[0] = 2
			return append(b[:len(b)-macLen], tokenMAC(b[:len(b)-macLen])...)
		}), errMalformedToken},
		{"other query", encodePageToken("fake:events/x", queryFingerprint(&annalsv1.ListEventsRequest{Month: 5})), errTokenOtherFilter},
		{"other request type", encodePageToken("fake:events/x", queryFingerprint(&annalsv1.ListPlacesRequest{})), errTokenOtherFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePageToken(tt.token, fp)
			if !errors.Is(err, tt.want) {
				t.Errorf("decode = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestQueryFingerprint(t *testing.T) {
	base := &annalsv1.ListEventsRequest{Month: 4, Query: "pact"}
	same := []*annalsv1.ListEventsRequest{
		{Month: 4, Query: "pact", PageSize: 7},
		{Month: 4, Query: "pact", PageToken: "anything"},
	}
	for _, r := range same {
		if queryFingerprint(r) != queryFingerprint(base) {
			t.Errorf("%v has another fingerprint than %v; page_size and page_token must not count", r, base)
		}
	}
	other := []*annalsv1.ListEventsRequest{
		{Month: 4},
		{Month: 4, Query: "pacts"},
		{Month: 4, Query: "pact", Day: 13},
		{Month: 4, Query: "pact", StartDate: year(1941)},
		{Month: 4, Query: "pact", EndDate: year(1941)},
		{Month: 4, Query: "pact", Actor: molotov},
	}
	for _, r := range other {
		if queryFingerprint(r) == queryFingerprint(base) {
			t.Errorf("%v has the fingerprint of %v", r, base)
		}
	}
	if queryFingerprint(&annalsv1.ListActorsRequest{}) == queryFingerprint(&annalsv1.ListPlacesRequest{}) {
		t.Error("empty requests of two types share a fingerprint")
	}
	r := &annalsv1.ListEventsRequest{Month: 4, PageSize: 3, PageToken: "t"}
	queryFingerprint(r)
	if r.GetPageSize() != 3 || r.GetPageToken() != "t" {
		t.Errorf("queryFingerprint changed its argument: %v", r)
	}
}

// fuzzFingerprint is the query the fuzz target decodes tokens for; the seed
// corpus in testdata/fuzz/FuzzDecodePageToken holds tokens made for it.
var fuzzFingerprint = queryFingerprint(&annalsv1.ListEventsRequest{Month: 4, Day: 13})

// FuzzDecodePageToken feeds untrusted tokens to the decoder: it must not
// panic, and whatever it accepts must encode back to a token that decodes to
// the same cursor.
func FuzzDecodePageToken(f *testing.F) {
	f.Add("")
	f.Add(encodePageToken("fake:events/soviet-japanese-neutrality-pact", fuzzFingerprint))
	f.Add(encodePageToken("c", queryFingerprint(&annalsv1.ListEventsRequest{})))
	f.Fuzz(func(t *testing.T, token string) {
		cursor, err := decodePageToken(token, fuzzFingerprint)
		if err != nil {
			if !errors.Is(err, errMalformedToken) && !errors.Is(err, errTokenOtherFilter) {
				t.Fatalf("decode(%q) failed with an unexpected error: %v", token, err)
			}
			return
		}
		if cursor == "" {
			t.Fatalf("decode(%q) accepted an empty cursor", token)
		}
		again, err := decodePageToken(encodePageToken(cursor, fuzzFingerprint), fuzzFingerprint)
		if err != nil || again != cursor {
			t.Fatalf("re-encoding %q gave %q, %v", cursor, again, err)
		}
	})
}
