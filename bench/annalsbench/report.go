package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Targets of issue 13: each a ratio to a baseline measured in the same run.
const (
	targetLoadRatio     = 0.5 // bulk load events/s at least this share of rawinsert's
	targetCommonRatio   = 2.0 // full text with a common word, p99 large/small at most this
	targetGetEventRatio = 0.8 // GetEvent req/s at least this share of the echo server's GetEvent
	targetFilterRatio   = 2.0 // ListEvents p99 large/small at most this, every filter
	targetFilterP99MS   = 5.0 // ListEvents p99 under this, page of 50, every filter
	targetNTriplesRatio = 0.8 // N-Triples triples/s at least this share of the disk-write ceiling
)

// Kept from issue 6: absolute bounds that are not ratios.
const (
	targetTurtlePerS  = 1e6     // Turtle export
	targetExportRSSMB = 200.0   // peak RSS of an export, at every size
	targetColdStartMS = 1000.0  // cold start to SERVING
	mib               = 1 << 20 //
)

// report renders what scripts/bench collected in a directory as Markdown on
// stdout. A missing file means a step failed or was skipped: its figure is
// reported as such, never invented.
func report(_ context.Context, args []string) error {
	fs := newFlags("report")
	dir := fs.String("dir", "", "results directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "dir"); err != nil {
		return err
	}
	r := &reporter{dir: *dir, env: readEnv(filepath.Join(*dir, "machine.env"))}
	r.render()
	fmt.Print(r.b.String())
	return nil
}

type reporter struct {
	dir     string
	env     map[string]string
	b       strings.Builder
	targets [][]string // the summary table's rows: issue 13's ratios, first column the order key
	kept    [][]string // the bounds kept from issue 6
}

func (r *reporter) p(format string, a ...any) { fmt.Fprintf(&r.b, format+"\n", a...) }

func (r *reporter) path(name string) string { return filepath.Join(r.dir, name) }

func readEnv(path string) map[string]string {
	env := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return env
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

// ---- parsing what the tools wrote ----

// ghzResult is the part of ghz's JSON report (-O json) the report uses.
type ghzResult struct {
	Count   int64   `json:"count"`
	Total   int64   `json:"total"` // ns
	RPS     float64 `json:"rps"`
	Average int64   `json:"average"`
	Latency []struct {
		Percentage int   `json:"percentage"`
		Latency    int64 `json:"latency"` // ns
	} `json:"latencyDistribution"`
	Status map[string]int64 `json:"statusCodeDistribution"`
	Errors map[string]int64 `json:"errorDistribution"`
}

func (g *ghzResult) pct(p int) float64 {
	for _, l := range g.Latency {
		if l.Percentage == p {
			return float64(l.Latency) / 1e6
		}
	}
	return math.NaN()
}

func (g *ghzResult) errs() int64 {
	var n int64
	for k, v := range g.Status {
		if k != "OK" {
			n += v
		}
	}
	return n
}

func (r *reporter) ghz(name string) *ghzResult {
	var g ghzResult
	if !r.readJSON(name, &g) || g.Count == 0 {
		return nil
	}
	return &g
}

func (r *reporter) readJSON(name string, v any) bool {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// timeV is what `/usr/bin/time -v` reported.
type timeV struct {
	WallS float64
	CPUS  float64 // user + system
	RSSMB float64
	Exit  int
}

var (
	reWall = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)`)
	reRSS  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	reExit = regexp.MustCompile(`Exit status: (\d+)`)
	reUser = regexp.MustCompile(`User time \(seconds\): ([\d.]+)`)
	reSys  = regexp.MustCompile(`System time \(seconds\): ([\d.]+)`)
)

func (r *reporter) timeV(name string) *timeV {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return nil
	}
	s := string(b)
	m := reWall.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	h, _ := strconv.ParseFloat(orZero(m[1]), 64)
	mi, _ := strconv.ParseFloat(m[2], 64)
	sec, _ := strconv.ParseFloat(m[3], 64)
	t := &timeV{WallS: h*3600 + mi*60 + sec}
	if m := reRSS.FindStringSubmatch(s); m != nil {
		kb, _ := strconv.ParseFloat(m[1], 64)
		t.RSSMB = kb * 1024 / mib
	}
	if m := reExit.FindStringSubmatch(s); m != nil {
		t.Exit, _ = strconv.Atoi(m[1])
	}
	for _, re := range []*regexp.Regexp{reUser, reSys} {
		if m := re.FindStringSubmatch(s); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			t.CPUS += v
		}
	}
	return t
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

var reDD = regexp.MustCompile(`(\d+) bytes .* copied, ([\d.]+) s`)

// diskBytesPerS is the rate dd wrote at, in bytes a second.
func (r *reporter) diskBytesPerS() (float64, bool) {
	m := reDD.FindStringSubmatch(r.file("dd.log"))
	if m == nil {
		return 0, false
	}
	b, _ := strconv.ParseFloat(m[1], 64)
	s, _ := strconv.ParseFloat(m[2], 64)
	if s == 0 {
		return 0, false
	}
	return b / s, true
}

// sumNum returns the sum of re's first submatch over all its matches in
// file name, and how many there were.
func (r *reporter) sumNum(name string, re *regexp.Regexp) (float64, int) {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return 0, 0
	}
	var sum float64
	ms := re.FindAllSubmatch(b, -1)
	for _, m := range ms {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		sum += v
	}
	return sum, len(ms)
}

// firstNum returns the first submatch of re in file name as a number.
func (r *reporter) firstNum(name string, re *regexp.Regexp) (float64, bool) {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return 0, false
	}
	m := re.FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return v, err == nil
}

func (r *reporter) file(name string) string {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n")
}

// ---- formatting ----

// num formats v with spaces between thousands, as BENCHMARKS.md does.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	neg := v < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func f1(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func f2(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func millions(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func met(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// target adds a row to the table of issue 13's targets; rows are shown in
// the order of their key (the order), whatever order the sections
// are rendered in.
func (r *reporter) target(key int, figure, measured, baseline, target string, ok bool) {
	r.targets = append(r.targets, []string{strconv.Itoa(key), figure, measured, baseline, target, met(ok)})
}

// keep adds a row to the table of bounds kept from issue 6.
func (r *reporter) keep(figure, measured, baseline, target string, ok bool) {
	r.kept = append(r.kept, []string{figure, measured, baseline, target, met(ok)})
}

func (r *reporter) missing(what string) {
	r.p("")
	r.p("_%s: not measured in this run (the step failed or was skipped; see the run's output)._", what)
}

func (r *reporter) size(label string) string {
	n, err := strconv.Atoi(r.env[strings.ToUpper(label)])
	if err != nil {
		return label
	}
	return num(float64(n))
}

// ---- the report ----

func (r *reporter) render() {
	e := r.env
	var body strings.Builder
	r.b, body = body, r.b // render sections first, then put the summary on top
	r.grpc()
	r.filters()
	r.export()
	r.load()
	r.coldStart()
	r.postgres()
	r.goBench()
	r.profiles()
	sections := r.b.String()
	r.b = strings.Builder{}

	quick := ""
	if e["QUICK"] == "1" {
		quick = " (BENCH_QUICK=1: a quick check at smaller sizes; the issue's figures need the full run)"
	}
	r.p("Command: `%s`%s, %s events (small) and %s events (large), seed %s.", orDash(e["COMMAND"]), quick, r.size("small"), r.size("large"), orDash(e["SEED"]))
	r.p("")
	r.p("Run: %s, commit `%s`%s, %s in all (load average %s at the start, %s at the end).",
		orDash(e["DATE"]), orDash(e["COMMIT"]), e["DIRTY"], orDash(e["DURATION"]), orDash(e["LOAD_START"]), orDash(e["LOAD_END"]))
	r.p("")
	r.p("Machine: %s cores (`nproc`), %s, %s memory, %s, %s.", orDash(e["NPROC"]), orDash(e["CPU"]), orDash(e["MEM"]), orDash(e["OS"]), orDash(e["GO"]))
	r.p("Tools: ghz %s, %s, Oxigraph %s (node %s).", orDash(e["GHZ"]), orDash(e["RAPPER"]), orDash(e["OXIGRAPH"]), orDash(e["NODE"]))
	r.p("")
	r.p("### Targets")
	r.p("")
	r.p("Issue 13: each figure is a ratio to a baseline measured in this run.")
	r.p("")
	r.p("| figure | measured | baseline (same run) | target | |")
	r.p("|---|---|---|---|---|")
	slices.SortStableFunc(r.targets, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	for _, t := range r.targets {
		r.p("| %s |", strings.Join(t[1:], " | "))
	}
	r.p("")
	r.p("Bounds kept from issue 6:")
	r.p("")
	r.p("| figure | measured | baseline (same run) | bound | |")
	r.p("|---|---|---|---|---|")
	for _, t := range r.kept {
		r.p("| %s |", strings.Join(t, " | "))
	}
	r.p("")
	r.b.WriteString(sections)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// cpuPerReq returns the server's and ghz's CPU time per request of a ghz
// run, in microseconds, from what ghzrun recorded beside its report.
func (r *reporter) cpuPerReq(name string, count int64) (server, client float64) {
	server, client = math.NaN(), math.NaN()
	if count == 0 {
		return
	}
	var ticks, hz float64
	if _, err := fmt.Sscan(r.file("ghz-"+name+".srvcpu"), &ticks, &hz); err == nil && hz > 0 {
		server = ticks / hz / float64(count) * 1e6
	}
	lines := strings.Split(r.file("ghz-"+name+".ghzcpu"), "\n")
	var u, sy float64
	if _, err := fmt.Sscan(lines[len(lines)-1], &u, &sy); err == nil {
		client = (u + sy) / float64(count) * 1e6
	}
	return
}

func (r *reporter) grpc() {
	r.p("### gRPC throughput")
	r.p("")
	var pk Pick
	havePick := r.readJSON("pick.json", &pk)
	r.p("ghz %s, `-c 50` on one connection, `--insecure`, loopback, each run bounded by `-n %s` and `-x %s`, against `annals serve` on the %s-event archive (default settings: a JSON request log line at info per request, to a file; Prometheus metrics) and against `bench/echo`, a bare grpc-go server built from the same grpc-go version (no interceptors, no storage) that answers GetEvent and ListEvents with the same message types from events held in memory, UnaryCall with a payload of as many bytes, and EmptyCall. Server and ghz share the machine's 2 cores; the CPU columns are each process's user+system time over the run divided by the requests (server: /proc/PID/stat; ghz: /usr/bin/time).",
		orDash(r.env["GHZ"]), orDash(r.env["GHZ_N"]), orDash(r.env["GHZ_X"]), r.size("large"))
	if havePick {
		r.p("GetEvent rotates over %d event names spread over the archive (%s bytes per response on average). ListEvents (page of 50) rotates over %d requests — the values of the filters %s chosen below — %s bytes and %s events per response on average.",
			pk.GetEventNames, num(pk.GetEventMeanBytes), pk.ListMixRequests, strings.Join(pk.ListMix, ", "), num(pk.ListMixMeanBytes), f1(pk.ListMixResults))
	}
	r.p("")
	r.p("| run | server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ghz CPU µs/req |")
	r.p("|---|---|---|---|---|---|---|---|")
	runs := []struct{ name, call, server string }{
		{"get", "GetEvent", "annals serve"},
		{"health", "grpc.health.v1.Health/Check", "annals serve"},
		{"echo-getmsg", "GetEvent (same message)", "echo"},
		{"echo-get", "UnaryCall (GetEvent's bytes)", "echo"},
		{"list", "ListEvents (mix)", "annals serve"},
		{"echo-listmsg", "ListEvents (same messages)", "echo"},
		{"echo-list", "UnaryCall (ListEvents' bytes)", "echo"},
		{"echo-empty", "EmptyCall (ghz's ceiling)", "echo"},
	}
	for _, x := range runs {
		g := r.ghz("ghz-" + x.name + ".json")
		if g == nil {
			r.p("| %s | %s | not measured | | | | | |", x.call, x.server)
			continue
		}
		sc, cc := r.cpuPerReq(x.name, g.Count)
		r.p("| %s | %s | %s | %s | %s | %d | %s | %s |", x.call, x.server, num(g.RPS), f2(g.pct(50)), f2(g.pct(99)), g.errs(), num(sc), num(cc))
	}
	r.p("")
	r.p("| annals | baseline | req/s ratio |")
	r.p("|---|---|---|")
	cmpRow := func(a, b, label, blabel string) (float64, bool) {
		ga, gb := r.ghz("ghz-"+a+".json"), r.ghz("ghz-"+b+".json")
		if ga == nil || gb == nil {
			r.p("| %s | %s | not measured |", label, blabel)
			return math.NaN(), false
		}
		q := ratio(ga.RPS, gb.RPS)
		r.p("| %s | %s | %s |", label, blabel, f2(q))
		return q, ga.errs() == 0
	}
	q, ok := cmpRow("get", "echo-getmsg", "GetEvent", "echo GetEvent (same message)")
	qb, _ := cmpRow("get", "echo-get", "GetEvent", "echo UnaryCall (same bytes)")
	qh, _ := cmpRow("get", "health", "GetEvent", "grpc.health.v1.Health/Check on the same server")
	cmpRow("list", "echo-listmsg", "ListEvents (mix)", "echo ListEvents (same messages)")
	cmpRow("list", "echo-list", "ListEvents (mix)", "echo UnaryCall (same bytes)")
	r.p("")
	if a, b := r.ghz("ghz-get.json"), r.ghz("ghz-echo-getmsg.json"); a != nil && b != nil {
		base := "echo GetEvent " + num(b.RPS) + " req/s (same bytes as UnaryCall: " + f2(qb) + "×"
		if h := r.ghz("ghz-health.json"); h != nil {
			base += "; Health/Check on the same server " + num(h.RPS) + " req/s: " + f2(qh) + "×"
		}
		r.target(3, "GetEvent req/s ÷ echo server's GetEvent", num(a.RPS)+" req/s: **"+f2(q)+"×**", base+")", "≥ 0.8×", ok && q >= targetGetEventRatio)
	} else {
		r.target(3, "GetEvent req/s ÷ echo server's GetEvent", "not measured", "", "≥ 0.8×", false)
	}
}

func (r *reporter) filters() {
	r.p("### ListEvents p99 per filter")
	r.p("")
	var pk Pick
	if !r.readJSON("pick.json", &pk) {
		r.missing("ListEvents per filter")
		return
	}
	r.p("`annalsbench latency`: ListEvents one request at a time (so p99 is the service time, not queueing behind other requests) through the generated grpc-go client (ghz's dynamic-message decoding of a 100 KB page costs more than the server's work, so it is not used here), at most `-n %s` requests or `-x %s` per filter and size after one warm-up pass, page of 50, against `annals serve` on the %s- and the %s-event archive (the same servers as above). Each filter rotates over up to %d values picked by `annalsbench pick` from events of the small archive and kept only if the first page is non-empty at both sizes (\"results\" is the mean page length).",
		orDash(r.env["FILTER_N"]), orDash(r.env["FILTER_X"]), r.size("small"), r.size("large"), perFilter)
	r.p("")
	r.p("| filter | values | results %s | p50 ms | p99 ms | results %s | p50 ms | p99 ms | p99 ratio | target (ratio ≤ 2, p99 < 5 ms) |", r.size("small"), r.size("large"))
	r.p("|---|---|---|---|---|---|---|---|---|---|")
	var notes []string
	allOK, any := true, false
	worst, worstName := 0.0, ""
	worstQ, worstQName := 0.0, ""
	commonQ := [2]float64{} // the common word's p99 ratio, and 1 when measured
	for _, f := range pk.Filters {
		s, l := r.ghz("ghz-filter-"+f.Name+"-small.json"), r.ghz("ghz-filter-"+f.Name+"-large.json")
		vals := strings.Join(f.Values, ", ")
		if len(vals) > 60 {
			vals = vals[:57] + "…"
		}
		vals = strings.ReplaceAll(vals, "|", "\\|")
		if s == nil || l == nil {
			r.p("| %s | %s | not measured | | | | | | | |", f.Label, vals)
			allOK = false
			continue
		}
		any = true
		q := ratio(l.pct(99), s.pct(99))
		ok := q <= targetFilterRatio && l.pct(99) < targetFilterP99MS && s.pct(99) < targetFilterP99MS && s.errs() == 0 && l.errs() == 0
		allOK = allOK && ok
		if l.pct(99) > worst {
			worst, worstName = l.pct(99), f.Label
		}
		if q > worstQ {
			worstQ, worstQName = q, f.Label
		}
		if f.Name == "full_text_common" {
			commonQ = [2]float64{q, 1}
		}
		r.p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", f.Label, vals, f1(f.SmallResults), f2(s.pct(50)), f2(s.pct(99)),
			f1(f.LargeResults), f2(l.pct(50)), f2(l.pct(99)), f2(q), met(ok))
		if f.Note != "" {
			notes = append(notes, f.Label+": "+f.Note+".")
		}
		if n := s.errs() + l.errs(); n > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d requests failed.", f.Label, n))
		}
	}
	for _, n := range notes {
		r.p("")
		r.p("%s", n)
	}
	r.p("")
	label := "ListEvents p99 " + r.size("large") + " ÷ " + r.size("small") + ", every filter"
	if any {
		r.target(4, label, fmt.Sprintf("worst ratio %s× (%s); worst p99 %s ms (%s)", f2(worstQ), worstQName, f2(worst), worstName),
			r.size("small")+"-event archive", "≤ 2× for all, p99 < 5 ms", allOK)
	} else {
		r.target(4, label, "not measured", "", "≤ 2× for all, p99 < 5 ms", false)
	}
	if common, ok := commonQ[0], commonQ[1] == 1; ok {
		r.target(2, "full text with a common word, p99 "+r.size("large")+" ÷ "+r.size("small"), "**"+f2(common)+"×**",
			r.size("small")+"-event archive", "≤ 2×", common <= targetCommonRatio)
	} else {
		r.target(2, "full text with a common word, p99 "+r.size("large")+" ÷ "+r.size("small"), "not measured", "", "≤ 2×", false)
	}
}

var (
	reExportTriples = regexp.MustCompile(`export: wrote (\d+) triples`)
	reRapperTriples = regexp.MustCompile(`Parsing returned (\d+) triples`)
)

func (r *reporter) export() {
	r.p("### Export")
	r.p("")
	r.p("`/usr/bin/time -v annals export --db ARCHIVE --format F --output FILE` (rates are triples over the process's wall time, start-up included; CPU is its user+system time, of at most 2 cores × wall), next to `rapper -i F -c FILE` (Raptor %s) parsing the file just written, in the same run.",
		orDash(strings.TrimPrefix(r.env["RAPPER"], "rapper ")))
	r.p("")
	r.p("| archive | format | triples | bytes | annals s | annals CPU s | annals triples/s | peak RSS MiB | rapper s | rapper triples/s | rapper RSS MiB | annals/rapper |")
	r.p("|---|---|---|---|---|---|---|---|---|---|---|---|")
	maxRSS := 0.0
	rssOK, rssAny, splitNote := true, false, false
	rates := map[string]float64{}
	baseRates := map[string]float64{}
	for _, size := range []string{"small", "large"} {
		for _, f := range []struct{ key, name string }{{"nt", "N-Triples"}, {"ttl", "Turtle"}} {
			base := f.key + "-" + size
			t := r.timeV("export-" + base + ".time")
			n, ok := r.firstNum("export-"+base+".log", reExportTriples)
			if t == nil || !ok || t.Exit != 0 {
				r.p("| %s | %s | not measured | | | | | | | | | |", r.size(size), f.name)
				rssOK = false
				continue
			}
			rssAny = true
			maxRSS = math.Max(maxRSS, t.RSSMB)
			rssOK = rssOK && t.RSSMB < targetExportRSSMB
			bytes, _ := strconv.ParseFloat(r.file("export-"+base+".bytes"), 64)
			rate := n / t.WallS
			rates[base] = rate
			rt := r.timeV("rapper-" + base + ".time")
			rn, parts := r.sumNum("rapper-"+base+".log", reRapperTriples)
			rcell := "not measured | | |"
			q := math.NaN()
			if rt != nil && parts > 0 && rt.Exit == 0 {
				rrate := rn / rt.WallS
				baseRates[base] = rrate
				q = rate / rrate
				rcell = fmt.Sprintf("%s | %s | %s", f1(rt.WallS), num(rrate), f1(rt.RSSMB))
				if parts > 1 {
					rcell = fmt.Sprintf("%s (%d parts) | %s | %s", f1(rt.WallS), parts, num(rrate), f1(rt.RSSMB))
					splitNote = true
				}
				if rn != n {
					rcell += fmt.Sprintf(" (**rapper read %s triples, annals wrote %s**)", num(rn), num(n))
				}
			}
			r.p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.size(size), f.name, num(n), num(bytes), f1(t.WallS), f1(t.CPUS), num(rate), f1(t.RSSMB), rcell, f2(q))
		}
	}
	r.p("")
	if bps, ok := r.diskBytesPerS(); ok {
		line := fmt.Sprintf("What the machine can write, measured in the same run: `dd if=/dev/zero bs=1M conv=fdatasync` wrote %s MB/s to the same file system", num(bps/1e6))
		for _, f := range []struct{ key, name string }{{"nt", "N-Triples"}, {"ttl", "Turtle"}} {
			n, ok1 := r.firstNum("export-"+f.key+"-large.log", reExportTriples)
			b, err := strconv.ParseFloat(r.file("export-"+f.key+"-large.bytes"), 64)
			if ok1 && err == nil && n > 0 {
				line += fmt.Sprintf("; at the %s dump's %s bytes a triple that is a ceiling of %s triples/s", f.name, f1(b/n), millions(bps/(b/n)))
			}
		}
		r.p("%s.", line)
		r.p("")
	}
	if splitNote {
		r.p("rapper (Raptor 2.0.15) reads a whole Turtle document into one lexer buffer and fails above 2 GiB (\"out of dynamic memory in turtle_lexer__scan_bytes()\", exit status 0), so a larger Turtle dump is cut by `annalsbench splitttl` into parts of about 1 GB, each starting with the @prefix lines, and rapper parses the parts one after another (timed together, the cut not included); the parts' triple counts add up to the export's.")
		r.p("")
	}
	// N-Triples: the export's rate next to what the disk can take of the
	// same bytes (dd's bytes/s over the dump's bytes per triple).
	ntLabel := "N-Triples export " + r.size("large") + " events, triples/s ÷ disk-write ceiling of the same bytes"
	if rate, ok := rates["nt-large"]; ok {
		n, _ := r.firstNum("export-nt-large.log", reExportTriples)
		b, err := strconv.ParseFloat(r.file("export-nt-large.bytes"), 64)
		if bps, dok := r.diskBytesPerS(); dok && err == nil && n > 0 && b > 0 {
			ceiling := bps / (b / n)
			q := rate / ceiling
			r.target(5, ntLabel, millions(rate)+" triples/s: **"+f2(q)+"×**",
				fmt.Sprintf("dd %s MB/s ÷ %s bytes a triple = %s triples/s", num(bps/1e6), f1(b/n), millions(ceiling)), "≥ 0.8×", q >= targetNTriplesRatio)
		} else {
			r.target(5, ntLabel, millions(rate)+" triples/s", "dd not measured", "≥ 0.8×", false)
		}
	} else {
		r.target(5, ntLabel, "not measured", "", "≥ 0.8×", false)
	}
	if rate, ok := rates["ttl-large"]; ok {
		b := "–"
		if br, ok := baseRates["ttl-large"]; ok {
			b = "rapper parses " + millions(br) + " triples/s"
		}
		r.keep("Turtle export, "+r.size("large")+" events", millions(rate)+" triples/s", b, "≥ "+millions(targetTurtlePerS)+" triples/s", rate >= targetTurtlePerS)
	} else {
		r.keep("Turtle export, "+r.size("large")+" events", "not measured", "", "≥ "+millions(targetTurtlePerS)+" triples/s", false)
	}
	if rssAny {
		r.keep("export peak RSS, every size and format", "max "+f1(maxRSS)+" MiB", "rapper: see Export", "< 200 MB", rssOK)
	} else {
		r.keep("export peak RSS", "not measured", "", "< 200 MB", false)
	}

	r.p("Oxigraph %s (npm, WASM) loading the %s-event archive's dumps into an in-memory store (`node bench/oxiload.mjs FILE`; the rate covers `store.load` only, the peak RSS the whole process, file text included). Oxigraph holds the whole graph in memory, about 600 bytes per triple, and its WASM build addresses at most 4 GiB, so neither the %s-event dumps (%s triples) nor even a 100 000-event dump (about 8 M triples, about 5 GB) fits: the %s-event dumps are the largest prefix of the archive it can load, and it is compared with annals exporting that same archive.",
		orDash(r.env["OXIGRAPH"]), r.size("small"), r.size("large"), num(func() float64 { v, _ := r.firstNum("export-nt-large.log", reExportTriples); return v }()), r.size("small"))
	r.p("")
	r.p("| file | triples | Oxigraph load s | Oxigraph triples/s | Oxigraph RSS MiB | annals export triples/s (same archive) | annals/Oxigraph |")
	r.p("|---|---|---|---|---|---|---|")
	for _, f := range []struct{ key, name string }{{"nt", "N-Triples"}, {"ttl", "Turtle"}} {
		var o struct {
			Triples float64 `json:"triples"`
			Seconds float64 `json:"seconds"`
			Rate    float64 `json:"triples_per_s"`
		}
		t := r.timeV("oxi-" + f.key + "-small.time")
		if !r.readJSON("oxi-"+f.key+"-small.json", &o) || t == nil {
			r.p("| %s, %s events | not measured | | | | | |", f.name, r.size("small"))
			continue
		}
		a := rates[f.key+"-small"]
		r.p("| %s, %s events | %s | %s | %s | %s | %s | %s |", f.name, r.size("small"), num(o.Triples), f1(o.Seconds), num(o.Rate), f1(t.RSSMB), num(a), f2(ratio(a, o.Rate)))
	}
	r.p("")
}

var reGenRate = regexp.MustCompile(`(\d+) bytes of database per event`)

func (r *reporter) load() {
	r.p("### Bulk load")
	r.p("")
	r.p("`/usr/bin/time -v annals gen --events N --db FILE` (generation, in a second goroutine, included: that is the bulk path), rate over the process's wall time. Baseline, `annalsbench rawinsert`:")
	var raw rawInsertResult
	haveRaw := r.readJSON("raw-large.json", &raw)
	if haveRaw {
		r.p("%s.", raw.Description)
	} else {
		r.p("not measured in this run.")
	}
	r.p("")
	r.p("| what | events | wall s | CPU s | events/s | DB bytes/event | peak RSS MiB |")
	r.p("|---|---|---|---|---|---|---|")
	var rate, baseRate float64
	for _, size := range []string{"small", "large"} {
		t := r.timeV("gen-" + size + ".time")
		bytes, _ := strconv.ParseFloat(r.file("gen-"+size+".bytes"), 64)
		n, _ := strconv.ParseFloat(r.env[strings.ToUpper(size)], 64)
		if t == nil || t.Exit != 0 || n == 0 {
			r.p("| annals gen | %s | not measured | | | | |", r.size(size))
			continue
		}
		rr := n / t.WallS
		if size == "large" {
			rate = rr
		}
		r.p("| annals gen | %s | %s | %s | %s | %s | %s |", r.size(size), f1(t.WallS), f1(t.CPUS), num(rr), num(bytes/n), f1(t.RSSMB))
	}
	if t := r.timeV("raw-large.time"); haveRaw && t != nil {
		baseRate = float64(raw.Events) / t.WallS
		r.p("| baseline: rawinsert | %s | %s | %s | %s | %s | %s |", num(float64(raw.Events)), f1(t.WallS), f1(t.CPUS), num(baseRate), num(raw.BytesPerEvent), f1(t.RSSMB))
	}
	var gen rawInsertResult
	if t := r.timeV("gen-only-large.time"); r.readJSON("gen-only-large.json", &gen) && t != nil {
		r.p("| generator only: rawinsert --no-db | %s | %s | %s | %s | – | %s |", num(float64(gen.Events)), f1(t.WallS), f1(t.CPUS), num(float64(gen.Events)/t.WallS), f1(t.RSSMB))
		r.p("")
		r.p("The last row, `rawinsert --no-db`, is %s: what the generator alone costs.", gen.Description)
	}
	r.p("")
	label := "bulk load " + r.size("large") + " events, events/s ÷ raw-row insert"
	if rate > 0 && baseRate > 0 {
		q := rate / baseRate
		r.p("annals gen loads at %s× the raw insert's rate.", f2(q))
		r.p("")
		r.target(1, label, num(rate)+" events/s: **"+f2(q)+"×**", "annalsbench rawinsert "+num(baseRate)+" events/s", "≥ 0.5×", q >= targetLoadRatio)
	} else {
		r.target(1, label, "not measured", "", "≥ 0.5×", false)
	}
	if t := r.timeV("gen-large.time"); t != nil && t.Exit == 0 {
		b := "–"
		if rt := r.timeV("raw-large.time"); rt != nil {
			b = "rawinsert " + f1(rt.RSSMB) + " MiB"
		}
		r.keep("bulk load peak RSS, "+r.size("large")+" events", f1(t.RSSMB)+" MiB", b, "reported", true)
	}
}

func (r *reporter) coldStart() {
	r.p("### Cold start")
	r.p("")
	r.p("`annalsbench coldstart`: exec of `annals serve --db FILE` to the first standard health check answering SERVING (polled every millisecond over gRPC), median of %s starts; the page cache is as the earlier steps left it (dropping it needs root).", orDash(r.env["COLD_RUNS"]))
	r.p("")
	r.p("| archive | DB bytes | to \"grpc listening\" ms | to SERVING ms (median) | all starts ms |")
	r.p("|---|---|---|---|---|")
	var res = map[string]coldStartResult{}
	for _, size := range []string{"small", "large"} {
		var c coldStartResult
		if !r.readJSON("cold-"+size+".json", &c) {
			r.p("| %s | not measured | | | |", r.size(size))
			continue
		}
		res[size] = c
		var all []string
		for _, x := range c.Runs {
			all = append(all, f1(x.ServingMS))
		}
		r.p("| %s events | %s | %s | %s | %s |", r.size(size), num(float64(c.DBBytes)), f1(c.MedianListenMS), f1(c.MedianServingMS), strings.Join(all, ", "))
	}
	r.p("")
	l, lok := res["large"]
	s, sok := res["small"]
	switch {
	case lok && sok:
		r.keep("cold start to SERVING, "+r.size("large")+" events", f1(l.MedianServingMS)+" ms", r.size("small")+" events: "+f1(s.MedianServingMS)+" ms ("+f2(ratio(l.MedianServingMS, s.MedianServingMS))+"×)", "< 1 s", l.MedianServingMS < targetColdStartMS)
	case lok:
		r.keep("cold start to SERVING, "+r.size("large")+" events", f1(l.MedianServingMS)+" ms", "–", "< 1 s", l.MedianServingMS < targetColdStartMS)
	default:
		r.keep("cold start to SERVING", "not measured", "", "< 1 s", false)
	}
}

func (r *reporter) goBench() {
	r.p("### Go benchmarks (store)")
	r.p("")
	out := r.file("gobench-store.txt")
	if out == "" {
		r.missing("Go benchmarks")
		return
	}
	r.p("```sh\n%s\n```", orDash(r.env["GOBENCH_CMD"]))
	r.p("")
	r.p("```")
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "ok") || strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "cpu:") {
			r.p("%s", l)
		}
	}
	r.p("```")
	r.p("")
}

func (r *reporter) profiles() {
	files, _ := filepath.Glob(r.path("prof-*.txt"))
	if len(files) == 0 {
		return
	}
	r.p("### CPU profiles")
	r.p("")
	r.p("`go tool pprof -top` (flat, then `-cum`) of each profile this run took; the profiles are kept in %s.", orDash(r.env["PROFILE_DIR"]))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		title := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "prof-"), ".txt")
		if len(lines) > 0 && strings.HasPrefix(lines[0], "# ") {
			title = strings.TrimPrefix(lines[0], "# ")
			lines = lines[1:]
		}
		if len(lines) > 80 {
			lines = lines[:80]
		}
		r.p("")
		r.p("%s", title)
		r.p("")
		r.p("```")
		r.p("%s", strings.Join(lines, "\n"))
		r.p("```")
	}
	r.p("")
}
