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
	H2         []H2Run           `json:"h2,omitempty"`
	TLS        []TLSRun          `json:"tls,omitempty"`
	Conns      []ConnRun         `json:"conns,omitempty"`
	// Kept describes the earlier runs whose sections --keep carried over.
	Kept []keptRun `json:"kept,omitempty"`

	// Settings keeps what the document says about how it was measured, so
	// --render can write it again from measurements.json.
	Settings settings `json:"settings"`

	goals []goal
	hand  []handSection // read before measuring: a bad file fails at once
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
	take(7, len(old.H2) > 0, func() { doc.H2, doc.d.h2 = old.H2, o.H2 })
	take(8, len(old.TLS) > 0, func() { doc.TLS, doc.d.tls = old.TLS, o.TLS })
	take(9, len(old.Conns) > 0, func() { doc.Conns, doc.d.conns = old.Conns, o.Conns })
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
	Open, H2, TLS, Conns                    time.Duration
	Started, Finished                       time.Time
}

func (doc *document) save() {
	c, d := doc.c, doc.d
	doc.Settings = settings{Command: c.command, ToolCPU: c.toolCPU, ServerCPU: c.serverCPU, Benchtime: d.benchtime,
		Quick: c.quick, Nice: c.nice, Reps: c.reps, Throughput: d.throughput, Rate: d.rate, CO: d.co,
		MemShort: d.memShort, MemLong: d.memLong, Open: d.open, H2: d.h2, TLS: d.tls, Conns: d.conns, Started: doc.started, Finished: doc.finished}
}

func (doc *document) restore() {
	s := doc.Settings
	doc.c.command, doc.c.toolCPU, doc.c.serverCPU, doc.d.benchtime = s.Command, s.ToolCPU, s.ServerCPU, s.Benchtime
	doc.c.quick, doc.c.nice, doc.c.reps = s.Quick, s.Nice, s.Reps
	doc.d.throughput, doc.d.rate, doc.d.co, doc.d.memShort, doc.d.memLong = s.Throughput, s.Rate, s.CO, s.MemShort, s.MemLong
	doc.d.open, doc.d.h2, doc.d.tls, doc.d.conns = s.Open, s.H2, s.TLS, s.Conns
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
	for _, k := range []string{"tailgate", "wrk", "wrk2", "h2load", "vegeta", "hey", "nginx"} {
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
	if len(doc.H2) > 0 {
		doc.writeH2(w)
	}
	if len(doc.TLS) > 0 {
		doc.writeTLS(w)
	}
	if len(doc.Conns) > 0 {
		doc.writeConns(w)
	}
	writeHandwritten(w, doc.hand)
	if doc.c.notes != "" {
		if notes, err := os.ReadFile(doc.c.notes); err == nil {
			fmt.Fprintf(w, "## Notes\n\n%s", notes)
		}
	}
}

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
		var reps []lagRep
		for _, r := range doc.Rates {
			if r.Tool == "tailgate" && r.Rate == 10000 {
				reps = append(reps, lagRep{r.LagP99, r.Steal})
			}
		}
		if what, measured, ok := judgeLag("send lag p99 < 1 ms at 10k/s", reps); what != "" {
			add(what, measured, ok)
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
	if len(doc.H2) > 0 {
		doc.h2Goals(add)
	}
	if len(doc.TLS) > 0 {
		doc.tlsGoals(add)
	}
	if len(doc.Conns) > 0 {
		doc.connGoals(add)
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
