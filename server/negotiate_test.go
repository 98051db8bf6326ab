package server

import (
	"slices"
	"strings"
	"testing"
)

var testOffers = []string{"text/turtle", "application/n-triples", "text/html"}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, want string
	}{
		{"", "text/turtle"},
		{"*/*", "text/turtle"},
		{"text/turtle", "text/turtle"},
		{"application/n-triples", "application/n-triples"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"},
		{"application/n-triples;q=0.9, text/turtle;q=0.5", "application/n-triples"},
		{"text/*", "text/turtle"},
		{"text/*;q=0.5, text/html", "text/html"},
		{"TEXT/TURTLE", "text/turtle"},
		{"application/json", ""},
		{"application/ld+json, application/rdf+xml", ""},
		{"text/turtle;q=0", ""},
		{"*/*, text/turtle;q=0", "application/n-triples"},
		{"text/turtle;q=abc", ""},
		{"text/turtle;q=2", ""},
		{"garbage", ""},
		{"*/turtle", ""},
		{";;;,,,", ""},
		{"text/turtle; charset=utf-8", "text/turtle"},
		{strings.Repeat("a/b,", 5000) + "text/turtle", ""},
	}
	for _, tt := range tests {
		name := tt.accept
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			if got := Negotiate(tt.accept, testOffers); got != tt.want {
				t.Errorf("Negotiate(%q) = %q, want %q", tt.accept, got, tt.want)
			}
		})
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "text/turtle;q=0.5, text/html", "text/*;q=0", "a/b;q=", "\x00/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := Negotiate(accept, testOffers)
		if got != "" && !slices.Contains(testOffers, got) {
			t.Fatalf("Negotiate(%q) = %q, not an offer", accept, got)
		}
	})
}
