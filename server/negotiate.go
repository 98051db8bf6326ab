package server

import (
	"strconv"
	"strings"
)

// maxAcceptBytes bounds the Accept header Negotiate reads; the rest is ignored.
const maxAcceptBytes = 4096

// Negotiate picks, from offers (media types in the server's order of
// preference), the one an HTTP Accept header prefers (RFC 9110 §12.5.1):
// the highest q-value wins, then the most specific range that matched it,
// then the server's order. An empty header accepts anything, so the first
// offer is returned. It returns "" when nothing offered is acceptable (the
// caller answers 406). Malformed parts of the header are skipped.
func Negotiate(accept string, offers []string) string {
	if len(offers) == 0 {
		return ""
	}
	accept = strings.TrimSpace(accept)
	if accept == "" {
		return offers[0]
	}
	if len(accept) > maxAcceptBytes {
		accept = accept[:maxAcceptBytes]
	}
	type rng struct {
		typ, sub string
		q        float64
	}
	var ranges []rng
	for _, part := range strings.Split(accept, ",") {
		params := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(params[0]))
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" || (typ == "*" && sub != "*") {
			continue
		}
		q := 1.0
		valid := true
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				valid = false
				break
			}
			q = f
		}
		if valid {
			ranges = append(ranges, rng{typ, sub, q})
		}
	}
	best, bestQ, bestSpec := "", 0.0, -1
	for _, offer := range offers {
		ot, os, _ := strings.Cut(offer, "/")
		// The most specific matching range decides this offer's q.
		q, spec := -1.0, -1
		for _, r := range ranges {
			s := -1
			switch {
			case r.typ == ot && r.sub == os:
				s = 2
			case r.typ == ot && r.sub == "*":
				s = 1
			case r.typ == "*" && r.sub == "*":
				s = 0
			}
			if s > spec {
				q, spec = r.q, s
			}
		}
		if spec < 0 || q <= 0 {
			continue
		}
		if q > bestQ || (q == bestQ && spec > bestSpec) {
			best, bestQ, bestSpec = offer, q, spec
		}
	}
	return best
}
