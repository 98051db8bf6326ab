package synth

import (
	"math/bits"
	"strings"

	"github.com/annals-project/annals/resource"
)

// Names are built from syllables of one consonant and one vowel, always two
// ASCII letters, so a run of letters splits into syllables one way only.
// Each collection has a codec that turns a record's index into a fixed number
// of syllables through a seeded bijection: different indices give different
// syllables, hence different letters. Every name ends with its code words
// (the words before them, such as "Treaty of" or "Port", never have the
// consonant-vowel pattern), so the last letters of a slug identify the index
// and names are unique by construction, not by luck. The same property lets
// the Generator find a record again from its resource name (see ActorByName).

const (
	consonants = "bdghklmnprstvz"
	vowels     = "aeiou"
	nSyll      = uint64(len(consonants) * len(vowels)) // 70
)

// cyrConsonants and cyrVowels transliterate the syllables into Cyrillic.
var (
	cyrConsonants = []string{"б", "д", "г", "х", "к", "л", "м", "н", "п", "р", "с", "т", "в", "з"}
	cyrVowels     = []string{"а", "е", "и", "о", "у"}
)

// kana spells every syllable in katakana, by consonant then vowel (a e i o u).
var kana = [len(consonants)][len(vowels)]string{
	{"バ", "ベ", "ビ", "ボ", "ブ"},
	{"ダ", "デ", "ディ", "ド", "ドゥ"},
	{"ガ", "ゲ", "ギ", "ゴ", "グ"},
	{"ハ", "ヘ", "ヒ", "ホ", "フ"},
	{"カ", "ケ", "キ", "コ", "ク"},
	{"ラ", "レ", "リ", "ロ", "ル"},
	{"マ", "メ", "ミ", "モ", "ム"},
	{"ナ", "ネ", "ニ", "ノ", "ヌ"},
	{"パ", "ペ", "ピ", "ポ", "プ"},
	{"ラ", "レ", "リ", "ロ", "ル"},
	{"サ", "セ", "シ", "ソ", "ス"},
	{"タ", "テ", "ティ", "ト", "トゥ"},
	{"ヴァ", "ヴェ", "ヴィ", "ヴォ", "ヴ"},
	{"ザ", "ゼ", "ジ", "ゾ", "ズ"},
}

// maxSyll is the longest code.
const maxSyll = 6

// code is the syllables of one name, most significant first, and how they
// are grouped into words.
type code struct {
	n     int
	syll  [maxSyll]uint8
	words [3]uint8 // syllables per word; zero-terminated
}

// codec maps indices in [0, m) to codes of k syllables and back. The map is
// x = a·i + b mod m followed by a chain that adds to each syllable a function
// of the next one, so that neighbouring indices share no obvious pattern.
type codec struct {
	k       int
	m       uint64 // nSyll^k
	a, ainv uint64
	b       uint64
	splits  [][3]uint8 // word groupings to choose from
}

func newCodec(k int, salt uint64, splits [][3]uint8) *codec {
	m := uint64(1)
	for range k {
		m *= nSyll
	}
	a := m / 1000000 * 618034 // near m/φ spreads neighbours far apart
	for gcd(a, m) != 1 {
		a++
	}
	return &codec{k: k, m: m, a: a, ainv: modInverse(a, m), b: salt % m, splits: splits}
}

// capacity is how many distinct codes the codec has.
func (c *codec) capacity() uint64 { return c.m }

func (c *codec) encode(i uint64) code {
	x := mulmod(c.a, i%c.m, c.m) + c.b
	if x >= c.m {
		x -= c.m
	}
	var cd code
	cd.n = c.k
	var d [maxSyll]uint64
	for j := c.k - 1; j >= 0; j-- {
		d[j] = x % nSyll
		x /= nSyll
	}
	next := uint64(17)
	for j := c.k - 1; j >= 0; j-- {
		o := (d[j] + mixSyll(next)) % nSyll
		cd.syll[j] = uint8(o)
		next = o
	}
	cd.words = c.splits[int(cd.syll[0])%len(c.splits)]
	return cd
}

// decode is the inverse of encode for a run of k syllables.
func (c *codec) decode(syll []uint8) (uint64, bool) {
	if len(syll) != c.k {
		return 0, false
	}
	var x uint64
	for j := 0; j < c.k; j++ {
		next := uint64(17)
		if j+1 < c.k {
			next = uint64(syll[j+1])
		}
		d := (uint64(syll[j]) + nSyll - mixSyll(next)) % nSyll
		x = x*nSyll + d
	}
	x = (x + c.m - c.b) % c.m
	return mulmod(c.ainv, x, c.m), true
}

func mixSyll(v uint64) uint64 { return (v*29 + 11) % nSyll }

// mulmod returns a·b mod m without overflow (a, b < m).
func mulmod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, r := bits.Div64(hi, lo, m)
	return r
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// modInverse returns the inverse of a modulo m (gcd(a, m) must be 1).
func modInverse(a, m uint64) uint64 {
	// Extended Euclid on signed values; m < 2^63 here.
	t, newT := int64(0), int64(1)
	r, newR := int64(m), int64(a)
	for newR != 0 {
		q := r / newR
		t, newT = newT, t-q*newT
		r, newR = newR, r-q*newR
	}
	if t < 0 {
		t += int64(m)
	}
	return uint64(t)
}

// en writes the code as capitalised English words separated by spaces.
func (cd code) en(b *strings.Builder) {
	j := 0
	for w := 0; w < len(cd.words) && cd.words[w] != 0; w++ {
		if w > 0 {
			b.WriteByte(' ')
		}
		for s := 0; s < int(cd.words[w]); s++ {
			c, v := consonants[cd.syll[j]/5], vowels[cd.syll[j]%5]
			if s == 0 {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			b.WriteByte(v)
			j++
		}
	}
}

// enString returns the code as English words.
func (cd code) enString() string {
	var b strings.Builder
	b.Grow(cd.n*2 + 2)
	cd.en(&b)
	return b.String()
}

// ru returns the code in Cyrillic, words separated by spaces.
func (cd code) ru() string {
	var b strings.Builder
	j := 0
	for w := 0; w < len(cd.words) && cd.words[w] != 0; w++ {
		if w > 0 {
			b.WriteByte(' ')
		}
		for s := 0; s < int(cd.words[w]); s++ {
			c := cyrConsonants[cd.syll[j]/5]
			if s == 0 {
				c = strings.ToUpper(c)
			}
			b.WriteString(c)
			b.WriteString(cyrVowels[cd.syll[j]%5])
			j++
		}
	}
	return b.String()
}

// ja returns the code in katakana, words separated by a middle dot.
func (cd code) ja() string {
	var b strings.Builder
	j := 0
	for w := 0; w < len(cd.words) && cd.words[w] != 0; w++ {
		if w > 0 {
			b.WriteString("・")
		}
		for s := 0; s < int(cd.words[w]); s++ {
			b.WriteString(kana[cd.syll[j]/5][cd.syll[j]%5])
			j++
		}
	}
	return b.String()
}

// parseCodeSlug reads the syllables of a slug made of code words (lower
// case, hyphen-separated); ok is false if any word is not consonant-vowel pairs.
func parseCodeSlug(s string) ([]uint8, bool) {
	var out []uint8
	for _, w := range strings.Split(s, "-") {
		if w == "" || len(w)%2 != 0 {
			return nil, false
		}
		for i := 0; i < len(w); i += 2 {
			c, v := strings.IndexByte(consonants, w[i]), strings.IndexByte(vowels, w[i+1])
			if c < 0 || v < 0 {
				return nil, false
			}
			out = append(out, uint8(c*5+v))
		}
	}
	return out, true
}

// splitCodeSlug splits a slug into the words before its code and the code:
// the code is the longest run of trailing consonant-vowel words.
func splitCodeSlug(s string) (prefix, codeSlug string) {
	words := strings.Split(s, "-")
	k := len(words)
	for k > 0 && isCodeWord(words[k-1]) {
		k--
	}
	return strings.Join(words[:k], "-"), strings.Join(words[k:], "-")
}

func isCodeWord(w string) bool {
	if w == "" || len(w)%2 != 0 {
		return false
	}
	for i := 0; i < len(w); i += 2 {
		if strings.IndexByte(consonants, w[i]) < 0 || strings.IndexByte(vowels, w[i+1]) < 0 {
			return false
		}
	}
	return true
}

// slug is resource.Slug for the labels this package makes (ASCII letters
// and digits in words separated by single spaces), without Unicode
// normalisation; any other label goes to resource.Slug.
func slug(label string) string { return nameIn("", label) }

// nameIn returns resource.Name(k, resource.Slug(label)) in one allocation
// for the labels this package makes (k "" gives the bare slug).
func nameIn(k resource.Kind, label string) string {
	slow := func() string {
		if k == "" {
			return resource.Slug(label)
		}
		return resource.Name(k, resource.Slug(label))
	}
	if label == "" || label[0] == ' ' || label[len(label)-1] == ' ' {
		return slow()
	}
	off := 0
	if k != "" {
		off = len(k) + 1
	}
	b := make([]byte, off+len(label))
	copy(b, k)
	if off > 0 {
		b[off-1] = '/'
	}
	for i := 0; i < len(label); i++ {
		switch c := label[i]; {
		case c >= 'A' && c <= 'Z':
			b[off+i] = c + ('a' - 'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b[off+i] = c
		case c == ' ' && label[i-1] != ' ':
			b[off+i] = '-'
		default:
			return slow()
		}
	}
	return string(b)
}
