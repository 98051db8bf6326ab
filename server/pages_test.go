package server

import (
	"testing"

	"github.com/annals-project/annals/store"
	"github.com/annals-project/annals/web"
)

// testPages returns the HTML pages of st, as annals serve builds them.
func testPages(t *testing.T, st store.Reader) Pages {
	t.Helper()
	p, err := web.New(web.Config{Archive: ReadService(st, nil), Store: st, GRPCAddr: func() string { return "localhost:50051" }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
