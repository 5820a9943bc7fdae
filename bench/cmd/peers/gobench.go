package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// GoBench is one benchmark line of go test -bench, one per -count.
type GoBench struct {
	Pkg       string  `json:"pkg"`
	Name      string  `json:"name"`
	NsOp      float64 `json:"ns_op"`
	BytesOp   float64 `json:"b_op"`
	AllocsOp  float64 `json:"allocs_op"`
	ExtraUnit string  `json:"extra_unit,omitempty"`
	Extra     float64 `json:"extra,omitempty"`
}

// hotPathBenches selects the hot-path benchmarks per package: the engine's
// own (loadgen/bench_test.go) and the template renderer's, which lives with
// the scenario engine when it exists. Other benchmarks in those packages
// (merging hour-long shards, …) measure other things and take long.
var hotPathBenches = []struct{ pkg, re string }{
	{"./loadgen/", "^Benchmark(SchedulerTick|Record|CollectSample|Engine)"},
	{"./scenarios/", "^Benchmark.*(Render|Template)"},
}

func (b *bench) goBench(ctx context.Context) ([]GoBench, error) {
	var out []GoBench
	for _, hb := range hotPathBenches {
		lc := exec.CommandContext(ctx, "go", "test", "-list", hb.re, hb.pkg)
		lc.Dir = b.c.src
		list, err := lc.Output()
		if err != nil || !strings.Contains(string(list), "Benchmark") {
			logf("5. no benchmarks matching %s in %s", hb.re, hb.pkg)
			continue
		}
		logf("5. go test -bench %s %s", hb.re, hb.pkg)
		cmd := exec.CommandContext(ctx, "nice", b.pinned(b.c.toolCPU, "go", "test", "-run", "^$", "-bench", hb.re, "-benchmem",
			"-benchtime", b.d.benchtime, "-count", strconv.Itoa(b.c.reps), hb.pkg)...)
		cmd.Dir = b.c.src
		cmd.Stderr = os.Stderr
		raw, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("go test -bench %s: %w\n%s", hb.pkg, err, tail(string(raw), 2000))
		}
		out = append(out, parseGoBench(hb.pkg, string(raw))...)
	}
	return out, nil
}

func parseGoBench(pkg, raw string) []GoBench {
	var out []GoBench
	for _, line := range strings.Split(raw, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		g := GoBench{Pkg: pkg, Name: f[0]}
		if i := strings.LastIndexByte(g.Name, '-'); i > 0 {
			g.Name = g.Name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				g.NsOp = v
			case "B/op":
				g.BytesOp = v
			case "allocs/op":
				g.AllocsOp = v
			default:
				g.ExtraUnit, g.Extra = f[i+1], v
			}
		}
		out = append(out, g)
	}
	return out
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
