package sqlite

import (
	"strings"

	rec "github.com/annals-project/annals/store/record"
)

// ftsQuery turns what a user typed into an FTS5 query that cannot be read as
// FTS5 syntax: each term of textfold.Query quoted as a phrase of its folded
// words (the characters of a Han or kana run must stand together, in
// order), one directly followed by "*" as a prefix, all of them required. It
// returns store.ErrInvalidQuery when there is no word.
func ftsQuery(q string) (string, error) {
	terms, err := rec.Terms(q)
	if err != nil {
		return "", err
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
