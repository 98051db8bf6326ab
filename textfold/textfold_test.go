package textfold

import (
	"slices"
	"testing"
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
