package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// show prints one line per ghz or latency JSON report: requests, req/s, p50,
// p99 and the status codes. scripts/bench prints it as progress.
func show(_ context.Context, args []string) error {
	for _, path := range args {
		var g struct {
			ghzResult
			Results *float64 `json:"results"`
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &g); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		extra := ""
		if g.Results != nil {
			extra = fmt.Sprintf(", %.1f events per page", *g.Results)
		}
		fmt.Printf("  %s: %d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms%s, status %v\n",
			strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "ghz-"), ".json"), g.Count, g.RPS, g.pct(50), g.pct(99), extra, g.Status)
	}
	return nil
}

// get prints what scripts/bench needs from pick.json and the per-filter
// reports, so that the script needs no JSON tool:
//
//	get DIR getevent_bytes | list_bytes | filters | scaling_filters | slowest_filter
func get(_ context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: annalsbench get DIR getevent_bytes|list_bytes|filters|scaling_filters|slowest_filter")
	}
	r := &reporter{dir: args[0]}
	var pk Pick
	if !r.readJSON("pick.json", &pk) {
		return fmt.Errorf("%s: no pick.json", args[0])
	}
	switch args[1] {
	case "getevent_bytes":
		fmt.Println(int(pk.GetEventMeanBytes))
	case "list_bytes":
		fmt.Println(int(pk.ListMixMeanBytes))
	case "filters":
		for _, f := range pk.Filters {
			fmt.Println(f.Name)
		}
	case "scaling_filters":
		// Filters whose p99 grows more than targetFilterRatio times from the
		// small archive to the large one, slowest first.
		type fp struct {
			name string
			p99  float64
		}
		var out []fp
		for _, f := range pk.Filters {
			s, l := r.ghz("ghz-filter-"+f.Name+"-small.json"), r.ghz("ghz-filter-"+f.Name+"-large.json")
			if s != nil && l != nil && ratio(l.pct(99), s.pct(99)) > targetFilterRatio {
				out = append(out, fp{f.Name, l.pct(99)})
			}
		}
		slices.SortFunc(out, func(a, b fp) int { return cmp.Compare(b.p99, a.p99) })
		for _, f := range out {
			fmt.Println(f.name)
		}
	case "slowest_filter":
		worst, name := math.Inf(-1), ""
		for _, f := range pk.Filters {
			if g := r.ghz("ghz-filter-" + f.Name + "-large.json"); g != nil && g.pct(99) > worst {
				worst, name = g.pct(99), f.Name
			}
		}
		if name == "" {
			return fmt.Errorf("no per-filter results in %s", args[0])
		}
		fmt.Println(name)
	default:
		return fmt.Errorf("get: unknown key %q", args[1])
	}
	return nil
}

// slim copies a ghz JSON report from stdin to stdout without its "details"
// (one entry per request: tens of MB for a long run), which nothing reads.
func slim(_ context.Context, _ []string) error {
	var m map[string]json.RawMessage
	if err := json.NewDecoder(os.Stdin).Decode(&m); err != nil {
		return err
	}
	delete(m, "details")
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(b, '\n'))
	return err
}
