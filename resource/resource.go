// Package resource knows the names of Annals resources: "events/{id}",
// "actors/{id}", "places/{id}" and "sources/{id}" (AIP-122), and how an id is
// made from an English label.
package resource

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosimple/unidecode"
	"golang.org/x/text/unicode/norm"

	"github.com/annals-project/annals/textfold"
)

// Kind is the collection a resource belongs to.
type Kind string

// The collections of the archive.
const (
	Events  Kind = "events"
	Actors  Kind = "actors"
	Places  Kind = "places"
	Sources Kind = "sources"
)

// Kinds lists every collection, in a fixed order.
var Kinds = []Kind{Events, Actors, Places, Sources}

// MaxIDLength is the longest id a resource name may carry.
const MaxIDLength = 200

// ErrMalformed is returned (wrapped) for a string that is not a resource name.
var ErrMalformed = errors.New("malformed resource name")

// Name returns the resource name of id in collection k.
func Name(k Kind, id string) string { return string(k) + "/" + id }

// Parse splits a resource name into its collection and id. The id must be a
// slug: lower-case ASCII letters and digits in runs joined by single hyphens.
func Parse(name string) (Kind, string, error) {
	col, id, ok := strings.Cut(name, "/")
	if !ok {
		return "", "", fmt.Errorf("%w: %q has no \"/\"; want a name such as \"events/{id}\"", ErrMalformed, clip(name))
	}
	k := Kind(col)
	switch k {
	case Events, Actors, Places, Sources:
	default:
		return "", "", fmt.Errorf("%w: unknown collection %q; want events, actors, places or sources", ErrMalformed, clip(col))
	}
	if err := CheckID(id); err != nil {
		return "", "", err
	}
	return k, id, nil
}

// ParseKind is Parse that also requires the collection to be want.
func ParseKind(name string, want Kind) (string, error) {
	k, id, err := Parse(name)
	if err != nil {
		return "", err
	}
	if k != want {
		return "", fmt.Errorf("%w: %q is in collection %q; want \"%s/{id}\"", ErrMalformed, clip(name), k, want)
	}
	return id, nil
}

// CheckID reports whether id is a well-formed slug.
func CheckID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty id", ErrMalformed)
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: id is %d bytes long; the limit is %d", ErrMalformed, len(id), MaxIDLength)
	case id[0] == '-' || id[len(id)-1] == '-' || strings.Contains(id, "--"):
		return fmt.Errorf("%w: id %q must not start or end with \"-\" or contain \"--\"", ErrMalformed, clip(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: id %q may hold only a-z, 0-9 and \"-\"", ErrMalformed, clip(id))
		}
	}
	return nil
}

// Slug turns a label into an id: letters of every script are spelled in
// ASCII (ō→o, ß→ss, Москва→moskva, 李白→li-bai, Αθήνα→athena, with
// gosimple/unidecode's transliteration tables), lower-cased, and every run of
// other characters becomes one "-"; a Han character is a word of its own.
// "Soviet–Japanese Neutrality Pact" gives "soviet-japanese-neutrality-pact".
// Slug returns "" when the label has nothing to spell (only punctuation or
// symbols). Transliteration loses distinctions (李白 and 李柏 both spell
// li-bai): callers give a new record a suffix when its slug is taken by a
// different one.
func Slug(label string) string {
	var b strings.Builder
	pendingDash := false
	emit := func(s string) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				if b.Len() > 0 && pendingDash {
					b.WriteByte('-')
				}
				pendingDash = false
				b.WriteByte(c)
				continue
			}
			pendingDash = true
		}
	}
	for _, r := range norm.NFKD.String(label) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining mark left by decomposition
		case r < utf8.RuneSelf:
			emit(string(r))
		case unicode.Is(unicode.Han, r):
			pendingDash = true
			emit(unidecode.Unidecode(string(r)))
			pendingDash = true
		default:
			emit(unidecode.Unidecode(string(r)))
		}
	}
	s := b.String()
	if len(s) > MaxIDLength {
		s = strings.TrimRight(s[:MaxIDLength], "-")
	}
	return s
}

func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// MatchKey folds a name for matching names in documents to known records:
// case, diacritics and punctuation are ignored, as is the word "the", so
// "Government of the Soviet Union" and "government of Soviet union" give the
// same key. Letters keep their script (see package textfold): "Москва" and
// "Moskva" are different keys, as are "李白" and "李柏", though their slugs
// are alike. MatchKey returns "" when the name has no letters or digits.
func MatchKey(name string) string {
	words := textfold.Words(name)
	if len(words) == 0 {
		return ""
	}
	kept := words[:0:0]
	for _, w := range words {
		if w != "the" {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		kept = words
	}
	return strings.Join(kept, "-")
}
