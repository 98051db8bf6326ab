package postgres

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/annals-project/annals/store/record"
	"github.com/annals-project/annals/textfold"
)

// maxLexemeRunes is where a word is cut to make a tsvector lexeme (which
// must be shorter than 2 KiB): 500 characters of at most 4 bytes. A longer
// word is found through its cut lexeme as a prefix, then exactly in
// "words".
const maxLexemeRunes = 500

// shortSpan is the widest span (date_hi - date_lo, in histdate.Key units)
// of a "short" event: about a year (see eventQuery).
const (
	shortSpan       = 10000
	shortSpanString = "10000"
)

// wordsText is the "words" column of a row: the folded words of each field
// (record.Text), each field between spaces, fields a line apart, so that a
// phrase is found inside one field only, as FTS5 finds it in store/sqlite.
func wordsText(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteByte(' ')
		if t := record.Text(f); t != "" {
			b.WriteString(t)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// lexemes is the "fts" column of a row whose "words" column is words: its
// distinct words, each cut to a lexeme, one space apart; the row's
// tsvector is array_to_tsvector(string_to_array(lexemes, ' ')) (no parser,
// no dictionary, no positions).
func lexemes(words string) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, w := range strings.Fields(words) {
		w, _ = lexeme(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// ftsQuery is a full-text query made of a tsquery and LIKE patterns on
// "words": a row matches when its tsvector matches tsquery and its words
// match every pattern.
type ftsQuery struct {
	tsquery  string
	patterns []string
}

// makeQuery turns what a user typed into an ftsQuery with textfold's
// meaning: every term must occur; a term of one word is a lexeme of the
// tsvector (a prefix when it ends in *); a term of several words (a run of
// Han or kana characters) must also occur as a phrase in one field, and a
// word longer than a lexeme is found by its cut lexeme and then exactly.
// Nothing the user typed is read as tsquery or LIKE syntax: lexemes are
// quoted, patterns escaped. It returns an error wrapping
// store.ErrInvalidQuery for a query without words or with too many.
func makeQuery(q string) (ftsQuery, error) {
	terms, err := record.Terms(q)
	if err != nil {
		return ftsQuery{}, err
	}
	var fq ftsQuery
	var items []string
	for _, t := range terms {
		exact := len(t.Words) == 1
		for i, w := range t.Words {
			lex, cut := lexeme(w)
			item := quoteLexeme(lex)
			if cut || (t.Prefix && i == len(t.Words)-1) {
				item += ":*"
			}
			if cut {
				exact = false
			}
			items = append(items, item)
		}
		if !exact {
			fq.patterns = append(fq.patterns, phrasePattern(t))
		}
	}
	fq.tsquery = strings.Join(items, " & ")
	return fq, nil
}

// lexeme is w as the tsvector holds it: cut to maxLexemeRunes characters
// (annals_fts does the same); cut says whether it was.
func lexeme(w string) (string, bool) {
	if utf8.RuneCountInString(w) <= maxLexemeRunes {
		return w, false
	}
	n := 0
	for i := range w {
		if n == maxLexemeRunes {
			return w[:i], true
		}
		n++
	}
	return w, false
}

// quoteLexeme quotes a lexeme for tsquery input.
func quoteLexeme(w string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w) + "'"
}

// phrasePattern is the LIKE pattern of a term on "words": its words one
// space apart, between spaces (the last without its closing space for a
// prefix).
func phrasePattern(t textfold.Term) string {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	p := "% " + esc.Replace(strings.Join(t.Words, " "))
	if t.Prefix {
		return p + "%"
	}
	return p + " %"
}

// where returns the SQL condition of q on the table aliased t, whose
// parameters start at $n, and the parameters.
func (q ftsQuery) where(t string, n int) (string, []any) {
	cond := t + ".fts @@ $" + strconv.Itoa(n) + "::tsquery"
	args := []any{q.tsquery}
	for _, p := range q.patterns {
		n++
		cond += " AND " + t + ".words LIKE $" + strconv.Itoa(n)
		args = append(args, p)
	}
	return cond, args
}
