package resource

import (
	"errors"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Soviet–Japanese Neutrality Pact", "soviet-japanese-neutrality-pact"},
		{"Yōsuke Matsuoka", "yosuke-matsuoka"},
		{"Battles of Khalkhin Gol", "battles-of-khalkhin-gol"},
		{"  Éire -- (Ireland)!  ", "eire-ireland"},
		{"Straße", "strasse"},
		{"Łódź", "lodz"},
		{"1066", "1066"},
		{"Москва", "moskva"},
		{"Битва при Бородино", "bitva-pri-borodino"},
		{"李白", "li-bai"},
		{"Αθήνα", "athena"},
		{"Ivan Петров", "ivan-petrov"},
		{"→ ★", ""},
		{"", ""},
		{"Operation «Barbarossa»", "operation-barbarossa"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Slug(tt.in); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Slug(tt.in); got != "" {
				if err := CheckID(got); err != nil {
					t.Errorf("Slug(%q) = %q is not a valid id: %v", tt.in, got, err)
				}
			}
		})
	}
	long := strings.Repeat("ab ", 200)
	if got := Slug(long); len(got) > MaxIDLength || CheckID(got) != nil {
		t.Errorf("Slug of a long label = %q (len %d), want a valid id of at most %d bytes", got, len(got), MaxIDLength)
	}
}

func TestMatchKey(t *testing.T) {
	same := [][2]string{
		{"Government of Soviet Union", "Government of the Soviet Union"},
		{"Yosuke Matsuoka", "Yōsuke  MATSUOKA"},
		{"Soviet–Japanese War", "Soviet-Japanese war"},
	}
	for _, p := range same {
		if a, b := MatchKey(p[0]), MatchKey(p[1]); a != b || a == "" {
			t.Errorf("MatchKey(%q) = %q, MatchKey(%q) = %q; want equal and non-empty", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{
		{"Japan", "Government of Japan"},
		{"Москва", "Moskva"},
		{"李白", "李柏"},
		{"Ivan Петров", "Ivan Сидоров"},
		{"Битва 1812", "Пожар 1812"},
		{"Йорк", "Иорк"},
	}
	for _, p := range differ {
		if a, b := MatchKey(p[0]), MatchKey(p[1]); a == b || a == "" || b == "" {
			t.Errorf("MatchKey(%q) = %q, MatchKey(%q) = %q; want different and non-empty", p[0], a, p[1], b)
		}
	}
	if MatchKey("Москва́") != MatchKey("МОСКВА") {
		t.Error("MatchKey must ignore case and accents in Cyrillic too")
	}
	if MatchKey("Japan") == MatchKey("Government of Japan") {
		t.Error("Japan and Government of Japan must not share a key")
	}
	if got := MatchKey("The"); got != "the" {
		t.Errorf(`MatchKey("The") = %q, want "the"`, got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		id      string
		wantErr bool
	}{
		{"events/soviet-japanese-neutrality-pact", Events, "soviet-japanese-neutrality-pact", false},
		{"actors/vyacheslav-molotov", Actors, "vyacheslav-molotov", false},
		{"places/moscow", Places, "moscow", false},
		{"sources/230d3b05e2c6efec", Sources, "230d3b05e2c6efec", false},
		{"events/", "", "", true},
		{"events", "", "", true},
		{"people/x", "", "", true},
		{"events/Moscow", "", "", true},
		{"events/a/b", "", "", true},
		{"events/..", "", "", true},
		{"events/-a", "", "", true},
		{"events/a--b", "", "", true},
		{"events/a\x00", "", "", true},
		{"events/" + strings.Repeat("a", MaxIDLength+1), "", "", true},
		{"events/\xff", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, id, err := Parse(tt.name)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse(%q) error = %v, want ErrMalformed", tt.name, err)
				}
				return
			}
			if err != nil || k != tt.kind || id != tt.id {
				t.Fatalf("Parse(%q) = %q, %q, %v; want %q, %q, nil", tt.name, k, id, err, tt.kind, tt.id)
			}
			if Name(k, id) != tt.name {
				t.Errorf("Name(%q, %q) = %q", k, id, Name(k, id))
			}
		})
	}
	if _, err := ParseKind("actors/x", Events); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseKind(actors/x, Events) error = %v, want ErrMalformed", err)
	}
}
