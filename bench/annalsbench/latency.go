package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
)

// latencyResult has the fields of ghz's JSON report that the report reads,
// so that both kinds of run render the same way.
type latencyResult struct {
	Count   int64            `json:"count"`
	Total   int64            `json:"total"` // ns
	RPS     float64          `json:"rps"`
	Average int64            `json:"average"` // ns
	Latency []percentile     `json:"latencyDistribution"`
	Status  map[string]int64 `json:"statusCodeDistribution"`
	Results float64          `json:"results"` // mean events per response
}

type percentile struct {
	Percentage int   `json:"percentage"`
	Latency    int64 `json:"latency"` // ns
}

// latency sends ListEvents requests one at a time (concurrency 1) through the
// generated Go client and records each round trip: the service time of one
// request, with as little client cost as a Go program has (ghz decodes
// responses into dynamic messages, which for a 100 KB page costs more than
// the server's work). It rotates over the requests of a JSON array (the file
// pick writes for ghz), after one warm-up pass over them, and stops after n
// requests or the duration, whichever comes first.
func latency(ctx context.Context, args []string) error {
	fs := newFlags("latency")
	addr := fs.String("addr", "", "gRPC address of annals serve")
	reqFile := fs.String("requests", "", "JSON array of ListEventsRequest (protojson)")
	n := fs.Int("n", 3000, "at most this many requests")
	dur := fs.Duration("x", 10*time.Second, "at most this long")
	out := fs.String("out", "", "JSON result file (ghz's field names)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "addr", "requests", "out"); err != nil {
		return err
	}
	b, err := os.ReadFile(*reqFile)
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return fmt.Errorf("%s: %w", *reqFile, err)
	}
	var reqs []*annalsv1.ListEventsRequest
	for _, r := range raws {
		var req annalsv1.ListEventsRequest
		if err := protojson.Unmarshal(r, &req); err != nil {
			return fmt.Errorf("%s: %w", *reqFile, err)
		}
		reqs = append(reqs, &req)
	}
	if len(reqs) == 0 {
		return fmt.Errorf("%s: no requests", *reqFile)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := annalsv1.NewArchiveServiceClient(conn)
	for _, r := range reqs { // warm-up pass
		if _, err := c.ListEvents(ctx, r); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	res := latencyResult{Status: map[string]int64{}}
	lats := make([]int64, 0, *n)
	results := 0
	start := time.Now()
	deadline := start.Add(*dur)
	for i := 0; i < *n && time.Now().Before(deadline); i++ {
		t := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := c.ListEvents(rctx, reqs[i%len(reqs)])
		d := time.Since(t)
		cancel()
		res.Status[status.Code(err).String()]++
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		results += len(resp.GetEvents())
		lats = append(lats, int64(d))
	}
	total := time.Since(start)
	res.Count = int64(len(lats))
	res.Total = int64(total)
	res.RPS = float64(res.Count) / total.Seconds()
	if len(lats) > 0 {
		res.Results = float64(results) / float64(len(lats))
		slices.Sort(lats)
		var sum int64
		for _, l := range lats {
			sum += l
		}
		res.Average = sum / int64(len(lats))
		for _, p := range []int{10, 25, 50, 75, 90, 95, 99} {
			k := int(math.Ceil(float64(p)/100*float64(len(lats)))) - 1
			res.Latency = append(res.Latency, percentile{p, lats[max(k, 0)]})
		}
	}
	return writeJSON(*out, res)
}
