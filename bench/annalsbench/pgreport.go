package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// postgres renders the PostgreSQL column beside SQLite's: bulk load, cold
// start, GetEvent and ListEvents throughput (with the server's and
// PostgreSQL's CPU per request), ListEvents p99 per filter and its
// large/small ratio, export, and 1 to 3 replicas over one database.
func (r *reporter) postgres() {
	r.p("### PostgreSQL beside SQLite")
	r.p("")
	if r.timeV("pg-gen-small.time") == nil && r.ghz("ghz-pg-get.json") == nil {
		r.missing("PostgreSQL (BENCH_POSTGRES=0, or its cluster did not start)")
		return
	}
	r.p("The same archives (same seed) in a throwaway PostgreSQL cluster on the same machine (%s; `annalsbench pgserver`: fsync and synchronous_commit on, as SQLite's synchronous=FULL, shared_buffers 512MB), `annals serve --db postgres://…` with its default pool, the same request files and load tools as the SQLite runs above. PostgreSQL's CPU is the postmaster's and all its processes' user+system time over the run (/proc).",
		orDash(r.env["POSTGRES"]))
	r.p("")
	r.p("| figure | SQLite %s | PostgreSQL %s | SQLite %s | PostgreSQL %s |", r.size("small"), r.size("small"), r.size("large"), r.size("large"))
	r.p("|---|---|---|---|---|")
	// Bulk load.
	rate := func(prefix, size string) string {
		t := r.timeV(prefix + "gen-" + size + ".time")
		n, _ := strconv.ParseFloat(r.env[strings.ToUpper(size)], 64)
		if t == nil || t.Exit != 0 || n == 0 {
			return "not measured"
		}
		return num(n/t.WallS) + " events/s"
	}
	r.p("| bulk load (annals gen) | %s | %s | %s | %s |", rate("", "small"), rate("pg-", "small"), rate("", "large"), rate("pg-", "large"))
	cold := func(name string) string {
		var c coldStartResult
		if !r.readJSON(name, &c) {
			return "not measured"
		}
		return f1(c.MedianServingMS) + " ms"
	}
	r.p("| cold start to SERVING (median) | %s | %s | %s | %s |", cold("cold-small.json"), cold("cold-pg-small.json"), cold("cold-large.json"), cold("cold-pg-large.json"))
	exp := func(name string) string {
		t := r.timeV(name + ".time")
		n, ok := r.firstNum(name+".log", reExportTriples)
		if t == nil || !ok || t.Exit != 0 {
			return "not measured"
		}
		return num(n/t.WallS) + " triples/s"
	}
	for _, f := range []struct{ key, name string }{{"nt", "N-Triples"}, {"ttl", "Turtle"}} {
		r.p("| export, %s | %s | %s | %s | %s |", f.name, exp("export-"+f.key+"-small"), exp("pg-export-"+f.key+"-small"), exp("export-"+f.key+"-large"), exp("pg-export-"+f.key+"-large"))
	}
	r.p("")

	r.p("ghz `-c 50` on the %s-event archive (as in gRPC throughput above):", r.size("large"))
	r.p("")
	r.p("| run | backend | req/s | p50 ms | p99 ms | errors | annals CPU µs/req | PostgreSQL CPU µs/req | vs echo (same messages) |")
	r.p("|---|---|---|---|---|---|---|---|---|")
	for _, x := range []struct{ name, pg, echo, call string }{{"get", "pg-get", "echo-getmsg", "GetEvent"}, {"list", "pg-list", "echo-listmsg", "ListEvents (mix)"}} {
		e := r.ghz("ghz-" + x.echo + ".json")
		for _, run := range []struct{ name, backend string }{{x.name, "SQLite"}, {x.pg, "PostgreSQL"}} {
			g := r.ghz("ghz-" + run.name + ".json")
			if g == nil {
				r.p("| %s | %s | not measured | | | | | | |", x.call, run.backend)
				continue
			}
			sc, _ := r.cpuPerReq(run.name, g.Count)
			pc := math.NaN()
			var ticks, hz float64
			if _, err := fmt.Sscan(r.file("ghz-"+run.name+".pgcpu"), &ticks, &hz); err == nil && hz > 0 && g.Count > 0 {
				pc = ticks / hz / float64(g.Count) * 1e6
			}
			vs := "–"
			if e != nil {
				vs = f2(ratio(g.RPS, e.RPS)) + "×"
			}
			pcs := "–"
			if !math.IsNaN(pc) {
				pcs = num(pc)
			}
			r.p("| %s | %s | %s | %s | %s | %d | %s | %s | %s |", x.call, run.backend, num(g.RPS), f2(g.pct(50)), f2(g.pct(99)), g.errs(), num(sc), pcs, vs)
		}
	}
	r.p("")

	var pk Pick
	if r.readJSON("pick.json", &pk) {
		r.p("ListEvents p99 per filter, one request at a time (`annalsbench latency`, as above), ms:")
		r.p("")
		r.p("| filter | SQLite %s | SQLite %s | ratio | PostgreSQL %s | PostgreSQL %s | ratio |", r.size("small"), r.size("large"), r.size("small"), r.size("large"))
		r.p("|---|---|---|---|---|---|---|")
		worst, worstName, allOK, any := 0.0, "", true, false
		for _, f := range pk.Filters {
			cells := []string{f.Label}
			for _, prefix := range []string{"ghz-filter-", "ghz-pg-filter-"} {
				s, l := r.ghz(prefix+f.Name+"-small.json"), r.ghz(prefix+f.Name+"-large.json")
				if s == nil || l == nil {
					cells = append(cells, "not measured", "", "")
					if prefix == "ghz-pg-filter-" {
						allOK = false
					}
					continue
				}
				q := ratio(l.pct(99), s.pct(99))
				cells = append(cells, f2(s.pct(99)), f2(l.pct(99)), f2(q))
				if prefix == "ghz-pg-filter-" {
					any = true
					allOK = allOK && q <= targetFilterRatio && l.pct(99) < targetFilterP99MS && s.errs()+l.errs() == 0
					if l.pct(99) > worst {
						worst, worstName = l.pct(99), f.Label
					}
				}
			}
			r.p("| %s |", strings.Join(cells, " | "))
		}
		r.p("")
		if any {
			r.keep("PostgreSQL: ListEvents p99, every filter", "worst p99 "+f2(worst)+" ms ("+worstName+")", r.size("small")+"-event archive", "1M/10k ≤ 2, p99 < 5 ms", allOK)
		}
	}

	r.p("Replicas: N `annals serve` over the one %s-event PostgreSQL database, GetEvent at the same client load in all (ghz, `-c 48` and `-n %s` split evenly over N ghz processes, one a replica, run at once). On this 2-core machine the replicas, PostgreSQL and ghz share the same cores, so this shows what a request costs and the contention, not capacity; SCALING.md turns the CPU per request into capacity.",
		r.size("large"), orDash(r.env["GHZ_N"]))
	r.p("")
	r.p("| replicas | req/s (sum) | p99 ms (worst) | errors | annals CPU µs/req (all replicas) | PostgreSQL CPU µs/req | server CPU µs/req in all |")
	r.p("|---|---|---|---|---|---|---|")
	for n := 1; n <= 3; n++ {
		var rps, p99 float64
		var errs, count int64
		okAll := true
		for i := 1; i <= n; i++ {
			g := r.ghz(fmt.Sprintf("pg-replicas-%d-%d.json", n, i))
			if g == nil {
				okAll = false
				break
			}
			rps += g.RPS
			p99 = math.Max(p99, g.pct(99))
			errs += g.errs()
			count += g.Count
		}
		var k, ann, pg, hz float64
		_, err := fmt.Sscan(r.file(fmt.Sprintf("pg-replicas-%d.cpu", n)), &k, &ann, &pg, &hz)
		if !okAll || err != nil || hz == 0 || count == 0 {
			r.p("| %d | not measured | | | | | |", n)
			continue
		}
		a, p := ann/hz/float64(count)*1e6, pg/hz/float64(count)*1e6
		r.p("| %d | %s | %s | %d | %s | %s | %s |", n, num(rps), f2(p99), errs, num(a), num(p), num(a+p))
	}
	r.p("")
}
