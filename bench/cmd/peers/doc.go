package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// document is everything measured, and writes BENCHMARKS.md.
type document struct {
	c        config
	d        durations
	started  time.Time
	finished time.Time

	Machine    Machine           `json:"machine"`
	Versions   map[string]string `json:"versions"`
	Throughput []ThroughputRun   `json:"throughput"`
	Rates      []RateRun         `json:"rates"`
	CO         []CORun           `json:"co"`
	Memory     []MemRun          `json:"memory"`
	GoBench    []GoBench         `json:"gobench"`
	Open       []OpenRun         `json:"open,omitempty"`
	// Kept describes the earlier runs whose sections --keep carried over.
	Kept []keptRun `json:"kept,omitempty"`

	// Settings keeps what the document says about how it was measured, so
	// --render can write it again from measurements.json.
	Settings settings `json:"settings"`

	goals []goal
}

// keptRun is where the sections this run did not measure come from.
type keptRun struct {
	Sections []int             `json:"sections"`
	Started  time.Time         `json:"started"`
	Versions map[string]string `json:"versions"`
	Source   string            `json:"source"`
}

// keepFrom loads the measurements of an earlier run for every section this
// run does not measure.
func (doc *document) keepFrom(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--keep: %w", err)
	}
	var old document
	if err := json.Unmarshal(raw, &old); err != nil {
		return fmt.Errorf("--keep %s: %w", path, err)
	}
	own := keptRun{Started: old.Settings.Started, Versions: old.Versions, Source: filepath.ToSlash(path)}
	origins := append(slices.Clone(old.Kept), own)
	for i := range origins {
		origins[i].Sections = slices.Clone(origins[i].Sections)
	}
	taken := make([][]int, len(origins))
	take := func(n int, has bool, copyIn func()) {
		if doc.c.sections[n] || !has {
			return
		}
		copyIn()
		// A section the earlier run kept itself keeps its first origin.
		at := len(origins) - 1
		for i, o := range old.Kept {
			if slices.Contains(o.Sections, n) {
				at = i
			}
		}
		taken[at] = append(taken[at], n)
	}
	// A kept section is shown with the run lengths it was measured with.
	o := old.Settings
	take(1, len(old.Throughput) > 0, func() { doc.Throughput, doc.d.throughput = old.Throughput, o.Throughput })
	take(2, len(old.Rates) > 0, func() { doc.Rates, doc.d.rate = old.Rates, o.Rate })
	take(3, len(old.CO) > 0, func() { doc.CO, doc.d.co = old.CO, o.CO })
	take(4, len(old.Memory) > 0, func() { doc.Memory, doc.d.memShort, doc.d.memLong = old.Memory, o.MemShort, o.MemLong })
	take(5, len(old.GoBench) > 0, func() { doc.GoBench, doc.d.benchtime = old.GoBench, o.Benchtime })
	take(6, len(old.Open) > 0, func() { doc.Open, doc.d.open = old.Open, o.Open })
	for i, o := range origins {
		if len(taken[i]) > 0 {
			o.Sections = taken[i]
			doc.Kept = append(doc.Kept, o)
		}
	}
	return nil
}

// settings is the part of config and durations the document shows.
type settings struct {
	Command, ToolCPU, ServerCPU, Benchtime  string
	Quick                                   bool
	Nice, Reps                              int
	Throughput, Rate, CO, MemShort, MemLong time.Duration
	Open                                    time.Duration
	Started, Finished                       time.Time
}

func (doc *document) save() {
	c, d := doc.c, doc.d
	doc.Settings = settings{Command: c.command, ToolCPU: c.toolCPU, ServerCPU: c.serverCPU, Benchtime: d.benchtime,
		Quick: c.quick, Nice: c.nice, Reps: c.reps, Throughput: d.throughput, Rate: d.rate, CO: d.co,
		MemShort: d.memShort, MemLong: d.memLong, Open: d.open, Started: doc.started, Finished: doc.finished}
}

func (doc *document) restore() {
	s := doc.Settings
	doc.c.command, doc.c.toolCPU, doc.c.serverCPU, doc.d.benchtime = s.Command, s.ToolCPU, s.ServerCPU, s.Benchtime
	doc.c.quick, doc.c.nice, doc.c.reps = s.Quick, s.Nice, s.Reps
	doc.d.throughput, doc.d.rate, doc.d.co, doc.d.memShort, doc.d.memLong = s.Throughput, s.Rate, s.CO, s.MemShort, s.MemLong
	doc.d.open = s.Open
	doc.started, doc.finished = s.Started, s.Finished
}

// goal is one target of issue 7 and whether this run met it.
type goal struct {
	what, measured string
	ok             bool
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianDur(xs []time.Duration) time.Duration {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return time.Duration(median(f))
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%d µs", d/time.Microsecond)
	}
}

func (doc *document) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Measured by `bench/peers.sh` (the Go driver `bench/cmd/peers`); regenerate with\n\n```\n%s\n```\n\n", doc.c.command)
	if doc.c.quick {
		p("**Smoke variant (`--quick`): short runs, one repetition. These figures only show that the script works.**\n\n")
	}
	m := doc.Machine
	p("- Date: %s (%s of measuring)\n", doc.started.UTC().Format("2006-01-02 15:04 UTC"), doc.finished.Sub(doc.started).Round(time.Second))
	p("- Machine: %d CPUs, %s, Linux %s, %s\n", m.CPUs, m.Model, m.Kernel, m.Go)
	p("- Tools: ")
	var vs []string
	for _, k := range []string{"tailgate", "wrk", "wrk2", "vegeta", "hey", "nginx"} {
		if v := doc.Versions[k]; v != "" && v != "unknown" {
			vs = append(vs, fmt.Sprintf("%s (%s)", k, v))
		}
	}
	p("%s\n", strings.Join(vs, ", "))
	for _, k := range doc.Kept {
		var ns []string
		for _, n := range k.Sections {
			ns = append(ns, fmt.Sprint(n))
		}
		p("- Sections %s are kept from the earlier run of %s (tailgate %s; `--keep %s`); the date, tools and commit above are this run's.\n",
			strings.Join(ns, ", "), k.Started.UTC().Format("2006-01-02 15:04 UTC"), k.Versions["tailgate"], k.Source)
	}
	if doc.c.nice != 0 {
		p("- Priority: every tool and server ran under `nice -n %d` (the machine was shared with other work).\n", doc.c.nice)
	}
	p("- Method: every load generator pinned to CPU %s and the server to CPU %s with `taskset`; "+
		"%d repetitions, the tools interleaved (the order rotates every repetition); request counts are the "+
		"server's (nginx `stub_status`, `bench/target`'s `/count`); tool CPU time is the "+
		"process's rusage from wait4 and peak RSS is what `/usr/bin/time -f %%M` reports for it (wait4's "+
		"ru_maxrss of a child started by the Go driver would include the driver's own memory). Ratios are taken pair by pair within a "+
		"repetition, then the median of the ratios is shown. This machine is shared with other work, so "+
		"absolute figures are noisy; the ratios are what the goals are stated in.\n\n",
		doc.c.toolCPU, doc.c.serverCPU, doc.c.reps)

	doc.goalsTable(w)
	if len(doc.Throughput) > 0 {
		doc.writeThroughput(w)
	}
	if len(doc.Rates) > 0 {
		doc.writeRates(w)
	}
	if len(doc.CO) > 0 {
		doc.writeCO(w)
	}
	if len(doc.Memory) > 0 {
		doc.writeMemory(w)
	}
	if len(doc.GoBench) > 0 {
		doc.writeGoBench(w)
	}
	if len(doc.Open) > 0 {
		doc.writeOpen(w)
	}
	if doc.c.notes != "" {
		if notes, err := os.ReadFile(doc.c.notes); err == nil {
			fmt.Fprintf(w, "## Notes\n\n%s", notes)
		}
	}
}

// pairRatios returns, per repetition, f(a)/f(b) for tools a and b.
func pairRatios(runs []ThroughputRun, a, b string, f func(ThroughputRun) float64) []float64 {
	byRep := map[int]map[string]ThroughputRun{}
	for _, r := range runs {
		if byRep[r.Rep] == nil {
			byRep[r.Rep] = map[string]ThroughputRun{}
		}
		byRep[r.Rep][r.Tool] = r
	}
	var out []float64
	for _, m := range byRep {
		ra, oka := m[a]
		rb, okb := m[b]
		if oka && okb && f(rb) > 0 {
			out = append(out, f(ra)/f(rb))
		}
	}
	return out
}

func rateOf(r ThroughputRun) float64 { return r.Rate }
func cpuOf(r ThroughputRun) float64  { return r.CPU }

func (doc *document) computeGoals() {
	doc.goals = nil
	add := func(what, measured string, ok bool) {
		doc.goals = append(doc.goals, goal{what: what, measured: measured, ok: ok})
	}
	if len(doc.Throughput) > 0 {
		r := median(pairRatios(doc.Throughput, "tailgate", "wrk", rateOf))
		add("max throughput ≥ 0.9× wrk", fmt.Sprintf("%.2f×", r), r >= 0.9)
		r = median(pairRatios(doc.Throughput, "tailgate", "vegeta", rateOf))
		add("max throughput ≥ 3× vegeta", fmt.Sprintf("%.2f×", r), r >= 3)
		r = median(pairRatios(doc.Throughput, "tailgate", "wrk", cpuOf))
		add("tool CPU per request ≤ 1.3× wrk", fmt.Sprintf("%.2f×", r), r <= 1.3)
	}
	if len(doc.Rates) > 0 {
		for _, rate := range []int{1000, 10000, 25000} {
			var devs []float64
			warned := false
			for _, r := range doc.Rates {
				if r.Tool == "tailgate" && r.Rate == rate {
					devs = append(devs, deviation(r.Server, r.Planned))
					for _, w := range r.Warnings {
						if strings.Contains(strings.ToLower(w), "saturat") || strings.Contains(strings.ToLower(w), "behind") {
							warned = true
						}
					}
				}
			}
			if len(devs) == 0 {
				continue
			}
			worst := slices.MaxFunc(devs, func(a, b float64) int { return cmpAbs(a, b) })
			within := math.Abs(worst) <= 0.1
			what := fmt.Sprintf("open model %d/s: server count within ±0.1%% of plan", rate)
			measured := fmt.Sprintf("worst %+.3f%%", worst)
			ok := within
			if rate == 25000 {
				what += " or a saturation warning"
				if !within && warned {
					measured += ", warned"
					ok = true
				} else if !within {
					measured += ", no warning"
				}
			}
			add(what, measured, ok)
		}
		var lags []time.Duration
		for _, r := range doc.Rates {
			if r.Tool == "tailgate" && r.Rate == 10000 {
				lags = append(lags, r.LagP99)
			}
		}
		if len(lags) > 0 {
			l := medianDur(lags)
			add("send lag p99 < 1 ms at 10k/s", fmtDur(l), l < time.Millisecond)
		}
	}
	if len(doc.CO) > 0 {
		t := coTruth(coStallEvery, coStallFor)
		var p99, p999 []time.Duration
		for _, r := range doc.CO {
			if r.Tool == "tailgate" {
				p99, p999 = append(p99, r.P99), append(p999, r.P999)
			}
		}
		e99, e999 := relErr(medianDur(p99), t.P99), relErr(medianDur(p999), t.P999)
		add("CO: p99 within 5% of the analytical value", fmt.Sprintf("%s vs %s (%+.1f%%)", fmtDur(medianDur(p99)), fmtDur(t.P99), e99), math.Abs(e99) <= 5)
		add("CO: p99.9 within 5% of the analytical value", fmt.Sprintf("%s vs %s (%+.1f%%)", fmtDur(medianDur(p999)), fmtDur(t.P999), e999), math.Abs(e999) <= 5)
	}
	if len(doc.Memory) > 0 {
		short, long := doc.memMedians("tailgate")
		add("peak RSS ≤ 64 MiB at 10k/s", fmt.Sprintf("%.1f / %.1f MiB", mib(short), mib(long)), mib(max(short, long)) <= 64)
		g := float64(long)/float64(short)*100 - 100
		add(fmt.Sprintf("peak RSS of the %s run within 10%% of the %s run", doc.d.memLong, doc.d.memShort), fmt.Sprintf("%+.1f%%", g), math.Abs(g) <= 10)
	}
	if len(doc.Open) > 0 {
		doc.openGoals(add)
	}
	if len(doc.GoBench) > 0 {
		found := false
		for _, name := range goBenchNames(doc.GoBench) {
			if strings.HasPrefix(name, "BenchmarkRecord") {
				_, _, allocs := goBenchMedians(doc.GoBench, name)
				add("recording a latency: 0 allocs/op ("+name+")", fmt.Sprintf("%.0f allocs/op", allocs), allocs == 0)
				found = true
			}
		}
		if !found {
			add("recording a latency: 0 allocs/op", "no BenchmarkRecord* found", false)
		}
	}
}

func cmpAbs(a, b float64) int {
	switch {
	case math.Abs(a) < math.Abs(b):
		return -1
	case math.Abs(a) > math.Abs(b):
		return 1
	}
	return 0
}

func relErr(got, want time.Duration) float64 {
	if want == 0 {
		return math.NaN()
	}
	return (float64(got) - float64(want)) / float64(want) * 100
}

func (doc *document) goalsTable(w io.Writer) {
	doc.computeGoals()
	if len(doc.goals) == 0 {
		return
	}
	fmt.Fprintf(w, "## Goals (issues 7 and 18)\n\n| goal | measured (medians) | met |\n|---|---|---|\n")
	for _, g := range doc.goals {
		mark := "no"
		if g.ok {
			mark = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", g.what, g.measured, mark)
	}
	fmt.Fprintln(w)
}

// writeNotes lists the runs that ended abnormally.
func writeNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "\nRuns killed for running far past their planned length (their figures are included as measured, so they are bounds):\n\n")
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

func (doc *document) writeThroughput(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 1. Maximum throughput (closed loop, 50 connections, %s, nginx)\n\n", doc.d.throughput)
	p("nginx with one worker serves a 128-byte static file. Requests are counted by nginx (`stub_status`); " +
		"CPU is the tool's user+system time divided by the server's count.\n\n")
	p("| tool | req/s (median) | req/s per rep | CPU-s per 100k req (median) | tailgate ÷ tool, req/s | tool CPU ÷ tailgate CPU |\n|---|---|---|---|---|---|\n")
	for _, tool := range peerTools {
		var rates, cpus []float64
		var per []string
		for _, r := range doc.Throughput {
			if r.Tool == tool {
				rates, cpus = append(rates, r.Rate), append(cpus, r.CPU)
				per = append(per, fmt.Sprintf("%.0f", r.Rate))
			}
		}
		if len(rates) == 0 {
			continue
		}
		ratio, cpuRatio := "—", "—"
		if tool != "tailgate" {
			ratio = fmt.Sprintf("%.2f×", median(pairRatios(doc.Throughput, "tailgate", tool, rateOf)))
			cpuRatio = fmt.Sprintf("%.2f×", median(pairRatios(doc.Throughput, tool, "tailgate", cpuOf)))
		}
		p("| %s | %.0f | %s | %.2f | %s | %s |\n", tool, median(rates), strings.Join(per, ", "), median(cpus), ratio, cpuRatio)
	}
	var notes []string
	for _, r := range doc.Throughput {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, rep %d: %s", r.Tool, r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("\nCommands (the tool under `taskset -c %s`):\n\n```\n", doc.c.toolCPU)
	seen := map[string]bool{}
	for _, r := range doc.Throughput {
		if !seen[r.Tool] {
			seen[r.Tool] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}

func (doc *document) writeRates(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 2. Rate accuracy (open model, %s, nginx)\n\n", doc.d.rate)
	p("Planned = rate × duration; server = nginx's count. Send lag (tailgate only) is actual send − intended send, " +
		"from the results file. vegeta is shown for reference.\n\n" + vegetaNote + "\n\n")
	p("| tool | rate | planned | server (median) | deviation (median; worst) | send lag p50 | p99 | max | CPU-s/100k | warnings |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, tool := range []string{"tailgate", "vegeta"} {
		for _, rate := range []int{1000, 10000, 25000} {
			var srv, devs, cpus []float64
			var l50, l99, lmax []time.Duration
			var planned uint64
			warn := map[string]bool{}
			for _, r := range doc.Rates {
				if r.Tool != tool || r.Rate != rate {
					continue
				}
				planned = r.Planned
				srv = append(srv, float64(r.Server))
				devs = append(devs, deviation(r.Server, r.Planned))
				cpus = append(cpus, r.CPU)
				l50, l99, lmax = append(l50, r.LagP50), append(l99, r.LagP99), append(lmax, r.LagMax)
				for _, x := range r.Warnings {
					warn[x] = true
				}
			}
			if len(srv) == 0 {
				continue
			}
			worst := slices.MaxFunc(devs, cmpAbs)
			lag := []string{"—", "—", "—"}
			if tool == "tailgate" {
				lag = []string{fmtDur(medianDur(l50)), fmtDur(medianDur(l99)), fmtDur(medianDur(lmax))}
			}
			var ws []string
			for x := range warn {
				ws = append(ws, x)
			}
			sort.Strings(ws)
			wtext := strings.Join(ws, "; ")
			if wtext == "" {
				wtext = "none"
			}
			p("| %s | %d/s | %d | %.0f | %+.3f%%; %+.3f%% | %s | %s | %s | %.2f | %s |\n", tool, rate, planned, median(srv), median(devs), worst, lag[0], lag[1], lag[2], median(cpus), wtext)
		}
	}
	var notes []string
	for _, r := range doc.Rates {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s at %d/s, rep %d: %s", r.Tool, r.Rate, r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("\nCommands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.Rates {
		k := fmt.Sprint(r.Tool, r.Rate)
		if !seen[k] {
			seen[k] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}

// vegetaNote explains vegeta's open-model figures on one pinned CPU.
const vegetaNote = "vegeta on one CPU: Go sets GOMAXPROCS from the CPU affinity, so pinned vegeta runs one " +
	"goroutine at a time. Its attack loop starts a new worker whenever none is waiting for the next tick; with one " +
	"processor the workers are rarely back in time, so it keeps spawning them, falls behind its schedule (server " +
	"count below the plan) and its memory grows with the run (section 4). Unpinned, on both CPUs, it keeps 1000/s. " +
	"This is what a user gets from `taskset -c 0 vegeta attack`; it is not vegeta's best case."

func (doc *document) writeCO(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	t := coTruth(coStallEvery, coStallFor)
	S, T := coStallFor, coStallEvery
	p("## 3. Coordinated omission: %d req/s for %s against a stalling server\n\n", coRate, doc.d.co)
	p("`bench/target --stall-every %s --stall-for %s`: every request that arrives while a stall window is open "+
		"waits until the window closes (windows open every T = %s and last S = %s).\n\n", T, S, T, S)
	p("**Analytical truth for an open-model client** (requests sent at their intended times, latency measured from "+
		"the intended time). A request arriving at phase u = t mod T waits S − u if u < S, else nothing. Arrivals at a "+
		"constant rate are uniform in u, so for 0 ≤ x < S\n\n"+
		"    P(latency − b > x) = (S − x) / T\n\n"+
		"where b is the base service time (a fraction of a millisecond on loopback). The q-quantile is therefore b "+
		"for q ≤ 1 − S/T = %.0f%%, and b + S − (1 − q)·T above it:\n\n", (1-S.Seconds()/T.Seconds())*100)
	p("| | p50 | p99 | p99.9 | max |\n|---|---|---|---|---|\n")
	p("| truth (+ b) | b | %s | %s | %s |\n\n", fmtDur(t.P99), fmtDur(t.P999), fmtDur(t.Max))
	p("p99 = S − 0.01·T = %s − %s; p99.9 = S − 0.001·T = %s − %s; max = S. A run of whole periods sees the same "+
		"stall time whatever its phase.\n\n", S, time.Duration(0.01*float64(T)), S, time.Duration(0.001*float64(T)))
	p("What each tool reported (medians over repetitions; error vs truth for p99 and p99.9):\n\n")
	p("| tool | p50 | p99 | p99.9 | max | p99 error | p99.9 error | server count | source of the figures |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, tool := range peerTools {
		var a, b, c, d []time.Duration
		var srv []float64
		src := ""
		for _, r := range doc.CO {
			if r.Tool == tool && r.Note == "" {
				a, b, c, d = append(a, r.P50), append(b, r.P99), append(c, r.P999), append(d, r.Max)
				srv = append(srv, float64(r.Server))
				src = r.Source
			}
		}
		if len(a) == 0 {
			continue
		}
		p("| %s | %s | %s | %s | %s | %+.1f%% | %+.1f%% | %.0f | %s |\n", tool, fmtDur(medianDur(a)), fmtDur(medianDur(b)), fmtDur(medianDur(c)), fmtDur(medianDur(d)),
			relErr(medianDur(b), t.P99), relErr(medianDur(c), t.P999), median(srv), src)
	}
	p("\nThe formula assumes every request reaches the server at once. A client with 50 connections puts 50 "+
		"requests of each stall on the wire; the other ~%d wait in its queue and go out when the window closes, so "+
		"they finish a few milliseconds after it, working through that queue. That wait is real latency for such a "+
		"client (tailgate counts it from the intended time) and is the few-millisecond excess of tailgate's p99 and "+
		"max over the truth.\n", int(coStallFor.Seconds()*coRate)-50)
	p("\nHow each peer runs here: Debian's wrk is wrk 4 (no `-R`: the wrk2 fork's rate-limited mode with its "+
		"CO correction is not packaged), so it runs closed-loop on 50 connections at whatever rate the server allows, "+
		"and only the few requests caught in a stall are really slow; what brings its figures near the truth is "+
		"`stats_correct`, a correction wrk 4 applies after the run that back-fills synthetic samples at the mean "+
		"per-connection interval (like HdrHistogram's corrected recording). Its percentiles are that estimate, at "+
		"a request rate far above the plan (see the server count). hey paces each of its 50 workers at %d req/s "+
		"(`-q`) and measures from the actual send, so a stalled worker's skipped sends are never measured. vegeta "+
		"is open-model with unbounded workers (it starts one more whenever no worker is free at a tick), and "+
		"measures from the moment a worker picks the tick up.\n\n"+vegetaNote+"\n\n", coRate/50)
	var notes []string
	for _, r := range doc.CO {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, rep %d: %s (no figures)", r.Tool, r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("Commands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.CO {
		if !seen[r.Tool] {
			seen[r.Tool] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}

func (doc *document) memMedians(tool string) (short, long int64) {
	var s, l []float64
	for _, r := range doc.Memory {
		if r.Tool != tool {
			continue
		}
		if r.Duration == doc.d.memShort {
			s = append(s, float64(r.RSS))
		} else {
			l = append(l, float64(r.RSS))
		}
	}
	return int64(median(s)), int64(median(l))
}

func (doc *document) writeMemory(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 4. Memory: peak RSS at %d req/s (open model, nginx)\n\n", memRate)
	p("Peak resident set size (ru_maxrss) of each process; vegeta's figure is `vegeta attack` plus `vegeta report` " +
		"(the pipeline a user runs).\n\n")
	p("| tool | %s run (median) | %s run (median) | growth | per rep (MiB) |\n|---|---|---|---|---|\n", doc.d.memShort, doc.d.memLong)
	for _, tool := range []string{"tailgate", "vegeta"} {
		short, long := doc.memMedians(tool)
		var per []string
		for _, r := range doc.Memory {
			if r.Tool == tool {
				parts := make([]string, len(r.Parts))
				for i, x := range r.Parts {
					parts[i] = fmt.Sprintf("%.1f", mib(x))
				}
				per = append(per, fmt.Sprintf("%s: %s", r.Duration, strings.Join(parts, "+")))
			}
		}
		p("| %s | %.1f MiB | %.1f MiB | %+.1f%% | %s |\n", tool, mib(short), mib(long), float64(long)/float64(short)*100-100, strings.Join(per, "; "))
	}
	var notes []string
	for _, r := range doc.Memory {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, %s run, rep %d: %s (server count %d)", r.Tool, r.Duration, r.Rep+1, r.Note, r.Server))
		}
	}
	writeNotes(w, notes)
	p("\nCommands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.Memory {
		k := fmt.Sprint(r.Tool, r.Duration)
		if !seen[k] {
			seen[k] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}

func goBenchNames(gb []GoBench) []string {
	var names []string
	for _, g := range gb {
		if !slices.Contains(names, g.Name) {
			names = append(names, g.Name)
		}
	}
	return names
}

func goBenchMedians(gb []GoBench, name string) (ns, b, allocs float64) {
	var a, bb, c []float64
	for _, g := range gb {
		if g.Name == name {
			a, bb, c = append(a, g.NsOp), append(bb, g.BytesOp), append(c, g.AllocsOp)
		}
	}
	return median(a), median(bb), median(c)
}

func (doc *document) writeGoBench(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 5. Hot path micro-benchmarks (`go test -bench`)\n\n")
	p("```\n")
	for _, hb := range hotPathBenches {
		p("taskset -c %s go test -run '^$' -bench '%s' -benchmem -benchtime %s -count %d %s\n", doc.c.toolCPU, hb.re, doc.d.benchtime, doc.c.reps, hb.pkg)
	}
	p("```\n\n")
	p("| package | benchmark | ns/op (median) | B/op | allocs/op | other |\n|---|---|---|---|---|---|\n")
	for _, name := range goBenchNames(doc.GoBench) {
		ns, b, allocs := goBenchMedians(doc.GoBench, name)
		pkg, extra := "", ""
		for _, g := range doc.GoBench {
			if g.Name == name {
				pkg = g.Pkg
				if g.ExtraUnit != "" {
					extra = fmt.Sprintf("%.3g %s", g.Extra, g.ExtraUnit)
				}
			}
		}
		p("| %s | %s | %.1f | %.0f | %.0f | %s |\n", strings.Trim(pkg, "./"), strings.TrimPrefix(name, "Benchmark"), ns, b, allocs, extra)
	}
	p("\n")
}
