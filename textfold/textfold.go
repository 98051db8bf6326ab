// Package textfold folds text for comparison and search, the same way for
// every script and every store backend: Unicode compatibility forms
// unified, case folded, diacritics dropped, and text cut into words.
//
// Words are runs of letters and digits. In scripts written without spaces
// between words (Han, Hiragana, Katakana, Hangul, Thai and the like) every
// character is a word of its own, so that a run of characters inside a
// longer label can be found as a phrase: "中立条約" finds "日ソ中立条約".
package textfold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

var folder = cases.Fold()

// keepMark reports whether a combining mark is part of the letter rather
// than a diacritic: the Japanese voicing marks (が is not か).
func keepMark(r rune) bool { return r == 0x3099 || r == 0x309A }

// Fold returns s with compatibility forms unified (NFKD), case folded and
// diacritics dropped, recomposed to NFC: "Ōsaka" and "OSAKA" both give
// "osaka", "Москва́" gives "москва". Marks that make another letter rather
// than accent one are kept: the Japanese voicing marks (が is not か) and the
// Cyrillic breve (й is not и).
func Fold(s string) string {
	// Bytes that are not UTF-8 are no letters: U+FFFD, which separates words.
	s = folder.String(norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD")))
	var b strings.Builder
	b.Grow(len(s))
	var prev rune
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) && !keepMark(r) && !(r == 0x0306 && unicode.Is(unicode.Cyrillic, prev)) {
			continue
		}
		// Case folding alone is not idempotent for every script (Cherokee
		// folds its small letters to capitals, x/text its capitals back):
		// one case per letter, the lower of its upper, makes it so.
		r = unicode.ToLower(unicode.ToUpper(r))
		b.WriteRune(r)
		prev = r
	}
	return norm.NFC.String(b.String())
}

// Scriptio continua: scripts whose words are not separated by spaces, where
// each character is indexed as a word.
var continua = []*unicode.RangeTable{
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
	unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan,
	unicode.Yi, unicode.Bopomofo,
}

// IsContinua reports whether r is written without spaces between words, so
// that it is a word on its own.
func IsContinua(r rune) bool {
	// The prolonged sound mark ー is Common, not Katakana, but belongs to the word.
	return r >= continuaMin && (r == 'ー' || unicode.Is(continuaTable, r))
}

// continuaTable is the scripts of continua as one table (one lookup, not
// one per script); continuaMin is its first character.
var (
	continuaTable = rangetable.Merge(continua...)
	continuaMin   = func() rune {
		if len(continuaTable.R16) > 0 {
			return rune(continuaTable.R16[0].Lo)
		}
		return rune(continuaTable.R32[0].Lo)
	}()
)

// isWordRune reports whether r belongs to a word (after folding).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.N, r) || keepMark(r)
}

// Words returns the folded words of s, in order: runs of letters and
// digits, and each character of a scriptio-continua run on its own.
func Words(s string) []string {
	var words []string
	EachWord(s, func(w string) { words = append(words, w) })
	return words
}

// EachWord calls fn with each folded word of s, in order (see Words).
//
// A run of ASCII letters and digits between ASCII separators (spaces,
// punctuation, the ends of s) folds to itself lower-cased, and no
// character on either side of an ASCII separator can combine with it, so
// such runs are folded by lower-casing them; only the runs that hold other
// characters go through Fold. The words are those of folding s as a whole
// (FuzzEachWordFast compares the two).
func EachWord(s string, fn func(w string)) {
	lower := s
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			lower = asciiLower(s, i)
			break
		}
	}
	start, ascii := 0, true
	for i := 0; i <= len(lower); i++ {
		var c byte
		if i < len(lower) {
			c = lower[i]
			if c >= 0x80 {
				ascii = false
				continue
			}
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				continue
			}
		}
		// An ASCII separator, or the end: lower[start:i] is a run between separators.
		if start < i {
			if ascii {
				fn(lower[start:i])
			} else {
				eachWordFolded(lower[start:i], fn)
			}
		}
		start, ascii = i+1, true
	}
}

// asciiLower returns s with its ASCII capitals lower-cased; s[:from] has none.
func asciiLower(s string, from int) string {
	b := make([]byte, len(s))
	copy(b, s[:from])
	for i := from; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// eachWordFolded is EachWord through Fold, for any text.
func eachWordFolded(s string, fn func(w string)) {
	f := Fold(s)
	start := -1
	for i := 0; i < len(f); {
		r, n := utf8.DecodeRuneInString(f[i:])
		switch {
		case IsContinua(r) || keepMark(r) && start < 0:
			if start >= 0 {
				fn(f[start:i])
				start = -1
			}
			// A voicing mark belongs to the character before it.
			j := i + n
			for j < len(f) {
				m, k := utf8.DecodeRuneInString(f[j:])
				if !keepMark(m) {
					break
				}
				j += k
			}
			fn(f[i:j])
			i = j
			continue
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				fn(f[start:i])
				start = -1
			}
		}
		i += n
	}
	if start >= 0 {
		fn(f[start:])
	}
}

// Term is one word of a query: the folded words it stands for, which must
// occur next to each other in this order (one word, or the characters of a
// scriptio-continua run), and whether its last word is a prefix.
type Term struct {
	Words  []string
	Prefix bool
}

// String writes the term as the user could have typed it.
func (t Term) String() string {
	s := strings.Join(t.Words, "")
	if t.Prefix {
		s += "*"
	}
	return s
}

// MaxQueryBytes bounds the text of a query that is looked at.
const MaxQueryBytes = 4096

// Query splits what a user typed into terms: each run of letters and
// digits is a term (all of them must occur), one directly followed by "*"
// is a prefix. Duplicate terms are dropped. A query of nothing but
// punctuation gives no terms.
func Query(q string) []Term {
	if len(q) > MaxQueryBytes {
		q = q[:MaxQueryBytes]
	}
	q = strings.ToValidUTF8(q, " ")
	var (
		terms []Term
		seen  = map[string]bool{}
	)
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if !isQueryRune(r) {
			i += n
			continue
		}
		j := i
		for j < len(q) {
			r, n := utf8.DecodeRuneInString(q[j:])
			if !isQueryRune(r) {
				break
			}
			j += n
		}
		t := Term{Words: splitRun(q[i:j]), Prefix: j < len(q) && q[j] == '*'}
		i = j
		if len(t.Words) == 0 {
			continue // only combining marks: nothing is indexed
		}
		if k := t.String(); !seen[k] {
			seen[k] = true
			terms = append(terms, t)
		}
	}
	return terms
}

// isQueryRune is a rune of a query term before folding: letters, digits and
// the combining marks folding may drop.
func isQueryRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.N, r) || unicode.Is(unicode.M, r)
}

// splitRun folds a run of a query and splits it where the index would: a
// Latin word stays one word, "中立条約" becomes its four characters, and a
// mixed run such as "ソ連軍2" becomes "ソ", "連", "軍", "2".
func splitRun(run string) []string { return Words(run) }
