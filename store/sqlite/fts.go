package sqlite

import (
	"fmt"
	"strings"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/textfold"
)

// maxQueryWords bounds the words of a full-text query.
const maxQueryWords = store.MaxQueryWords

// ftsQuery turns what a user typed into an FTS5 query that cannot be read as
// FTS5 syntax: each term of textfold.Query quoted as a phrase of its folded
// words (the characters of a Han or kana run must stand together, in
// order), one directly followed by "*" as a prefix, all of them required. It
// returns store.ErrInvalidQuery when there is no word.
func ftsQuery(q string) (string, error) {
	terms := textfold.Query(q)
	switch {
	case len(terms) == 0:
		return "", fmt.Errorf("%w: the query has no words to search for", store.ErrInvalidQuery)
	case len(terms) > maxQueryWords:
		return "", fmt.Errorf("%w: the query has more than %d words", store.ErrInvalidQuery, maxQueryWords)
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		// Folded words hold only letters, digits and marks: no '"' to escape.
		parts[i] = `"` + strings.Join(t.Words, " ") + `"`
		if t.Prefix {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " AND "), nil
}
