package textfold

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Soviet–Japanese Neutrality Pact", []string{"soviet", "japanese", "neutrality", "pact"}},
		{"Yōsuke MATSUOKA", []string{"yosuke", "matsuoka"}},
		{"Пакт о нейтралитете между СССР и Японией", []string{"пакт", "о", "нейтралитете", "между", "ссср", "и", "японией"}},
		{"Москва́", []string{"москва"}},
		{"日ソ中立条約", []string{"日", "ソ", "中", "立", "条", "約"}},
		{"ガガーリン", []string{"ガ", "ガ", "ー", "リ", "ン"}},
		{"ｶﾞｶﾞ", []string{"ガ", "ガ"}}, // half-width kana unified
		{"Αθήνα 1896", []string{"αθηνα", "1896"}},
		{"القاهرة", []string{"القاهرة"}},
		{"ソ連軍2", []string{"ソ", "連", "軍", "2"}},
		{"Straße", []string{"strasse"}},
		{"", nil},
		{"— … !", nil},
		{"0000Ꮋ", []string{"0000ꮋ"}}, // Cherokee: folding is idempotent
		{"ꮋ", []string{"ꮋ"}},
	}
	for _, tc := range tests {
		if got := Words(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		in   string
		want []string // Term.String of each term
	}{
		{"neutrality pact", []string{"neutrality", "pact"}},
		{"NEUTRAL* pact pact", []string{"neutral*", "pact"}},
		{"中立条約", []string{"中立条約"}},
		{"日ソ*", []string{"日ソ*"}},
		{`"); DROP TABLE events; --`, []string{"drop", "table", "events"}},
		{"\u0301\u0301", nil},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, term := range Query(tc.in) {
			got = append(got, term.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Query(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Query("中立条約")[0].Words; !slices.Equal(got, []string{"中", "立", "条", "約"}) {
		t.Errorf("Query(中立条約) words = %q", got)
	}
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"Soviet–Japanese", "日ソ中立条約", "Москва́", "ｶﾞ", "a\u3099b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(s) {
			if w == "" {
				t.Fatalf("Words(%q) has an empty word", s)
			}
			if got := Words(w); len(got) != 1 || got[0] != w {
				t.Fatalf("Words(%q) gives %q, whose words are %q: a word must fold to itself", s, w, got)
			}
		}
	})
}

// collect returns the words each calls fn with.
func collect(each func(string, func(string)), s string) []string {
	var words []string
	each(s, func(w string) { words = append(words, w) })
	return words
}

// TestEachWordFast: EachWord's words are those of folding the whole text
// (eachWordFolded), for ASCII, other scripts, and characters that fold or
// decompose into ASCII next to ASCII separators.
func TestEachWordFast(t *testing.T) {
	for _, s := range []string{
		"", " ", "Soviet–Japanese Neutrality Pact, 13 April 1941.", "ABC def-GHI_jkl", "Yōsuke MATSUOKA",
		"Пакт о нейтралитете", "日ソ中立条約 (1941)", "ｶﾞｶﾞ", "a\u0301 b", "=\u0338x", "x ℀ y", "x℀y", "½ 1⁄2",
		"Straße STRASSE", "e\u0301\u0301", ".\u3099", "A\u3099", "й и", "\u0306a", "ﬁne ﬂow", "Ⅻ ²", "ǅ ǈ ǋ",
		"\xff\xfeabc", "abc\x80", "İstanbul", "K\u212a", "a.b,c;d:e!f?g",
	} {
		if got, want := collect(EachWord, s), collect(eachWordFolded, s); !slices.Equal(got, want) {
			t.Errorf("EachWord(%q) = %q; folding the whole text gives %q", s, got, want)
		}
	}
}

// FuzzEachWordFast compares EachWord with folding the whole text.
func FuzzEachWordFast(f *testing.F) {
	for _, s := range []string{"Soviet–Japanese", "日ソ中立条約", "Москва́", "ｶﾞ", "a\u3099b", "x ℀ y", "=\u0338", "A B.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collect(EachWord, s), collect(eachWordFolded, s); !slices.Equal(got, want) {
			t.Fatalf("EachWord(%q) = %q; folding the whole text gives %q", s, got, want)
		}
	})
}

// TestIsContinua: the merged table answers as the scripts one by one.
func TestIsContinua(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := IsContinua(r), r == 'ー' || unicode.In(r, continua...); got != want {
			t.Fatalf("IsContinua(%U) = %v, want %v", r, got, want)
		}
	}
}

func BenchmarkEachWord(b *testing.B) {
	text := strings.Repeat("The treaty was written in two languages, and the copies were exchanged in a public ceremony. ", 20) +
		"Договор о нейтралитете 日ソ中立条約"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		EachWord(text, func(string) {})
	}
}
