package sqlite

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/annals-project/annals/store"
)

// maxQueryWords bounds the words of a full-text query.
const maxQueryWords = store.MaxQueryWords

// maxQueryBytes bounds the text of a full-text query that is looked at.
const maxQueryBytes = 4096

// ftsQuery turns what a user typed into an FTS5 query that cannot be read as
// FTS5 syntax: the words (runs of letters, digits and combining marks) each
// quoted as a string, a word directly followed by "*" as a prefix, all of
// them required. It returns store.ErrInvalidQuery when there is no word.
func ftsQuery(q string) (string, error) {
	if len(q) > maxQueryBytes {
		q = q[:maxQueryBytes]
	}
	q = norm.NFC.String(strings.ToValidUTF8(q, " "))
	var (
		terms []string
		seen  = map[string]bool{}
	)
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i
		hasBase := false
		for j < len(q) {
			r, n := utf8.DecodeRuneInString(q[j:])
			if !isWordRune(r) {
				break
			}
			hasBase = hasBase || !unicode.Is(unicode.M, r)
			j += n
		}
		word := q[i:j]
		prefix := j < len(q) && q[j] == '*'
		i = j
		if !hasBase {
			continue // only combining marks: nothing the tokenizer would index
		}
		// A word holds no '"', so quoting needs no escapes.
		t := `"` + word + `"`
		if prefix {
			t += "*"
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		terms = append(terms, t)
	}
	switch {
	case len(terms) == 0:
		return "", fmt.Errorf("%w: the query has no words to search for", store.ErrInvalidQuery)
	case len(terms) > maxQueryWords:
		return "", fmt.Errorf("%w: the query has more than %d words", store.ErrInvalidQuery, maxQueryWords)
	}
	return strings.Join(terms, " AND "), nil
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.N, r) || unicode.Is(unicode.M, r)
}
