package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// RateRun is one open-model run at a fixed rate.
type RateRun struct {
	Tool     string        `json:"tool"`
	Rep      int           `json:"rep"`
	Rate     int           `json:"rate"`
	Planned  uint64        `json:"planned"`
	Server   uint64        `json:"server"`
	LagP50   time.Duration `json:"lag_p50"`
	LagP99   time.Duration `json:"lag_p99"`
	LagMax   time.Duration `json:"lag_max"`
	Late     uint64        `json:"late"`
	Warnings []string      `json:"warnings"`
	CPU      float64       `json:"cpu_s_per_100k"`
	Command  string        `json:"command"`
	Note     string        `json:"note,omitempty"`
	// Steal is the share of the tool CPUs' time the hypervisor took
	// during the run (/proc/stat before and after it); nil in
	// measurements of older drivers.
	Steal *float64 `json:"tool_cpu_steal,omitempty"`
}

func (b *bench) rateAccuracy(ctx context.Context) ([]RateRun, error) {
	rates := []int{1000, 10000, 25000}
	tools := []string{"tailgate", "vegeta"}
	logf("2. rate accuracy: %d reps × %v × %v", b.c.reps, rates, tools)
	d := b.d.rate
	cpus, err := parseCPUList(b.c.toolCPU)
	if err != nil {
		return nil, fmt.Errorf("--tool-cpu: %w", err)
	}
	var out []RateRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, rate := range rates {
			for _, tool := range rotate(tools, rep) {
				res := filepath.Join(b.c.work, fmt.Sprintf("rate-%s-%d-%d.json", tool, rate, rep))
				var steps []step
				switch tool {
				case "tailgate":
					steps = []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "-r", fmt.Sprintf("%d/s", rate), "-d", secs(d) + "s", "-c", "50", "-o", res, "--quiet"}, stdout: os.DevNull}}
				case "vegeta":
					tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
					_ = os.WriteFile(tf, []byte("GET "+b.nginxURL+"\n"), 0o644)
					steps = []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", rate), "-duration=" + secs(d) + "s"}, stdout: os.DevNull}}
				}
				before, stealErr := readCPUClock(cpus)
				ps, n, err := b.counted(ctx, "nginx", d+60*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := RateRun{Tool: tool, Rep: rep, Rate: rate, Planned: uint64(rate) * uint64(d/time.Second), Server: n, Command: b.commandLine(steps), Note: note(err)}
				if after, err := readCPUClock(cpus); err == nil && stealErr == nil {
					r.Steal = stealBetween(before, after)
				}
				if n > 0 {
					r.CPU = ps[0].CPU.Seconds() / float64(n) * 1e5
				}
				for _, line := range strings.Split(ps[0].Stderr, "\n") {
					if strings.HasPrefix(line, "warning:") {
						r.Warnings = append(r.Warnings, strings.TrimSpace(strings.TrimPrefix(line, "warning:")))
					}
				}
				if tool == "tailgate" && r.Note == "" {
					tr, err := results.ReadResultFile(res)
					if err != nil {
						return out, fmt.Errorf("tailgate result: %w", err)
					}
					lag := tr.Total.SendLag
					r.LagP50, r.LagP99, r.LagMax = lag.Percentile(50), lag.Percentile(99), lag.Max()
					r.Late = tr.Schedule.Late
				}
				logf("  rep %d %-8s %6d/s server %d of %d (%+.3f%%) lag p99 %v, steal %s", rep+1, tool, rate, n, r.Planned, deviation(n, r.Planned), r.LagP99, fmtSteal(r.Steal))
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func deviation(got, want uint64) float64 {
	if want == 0 {
		return 0
	}
	return (float64(got) - float64(want)) / float64(want) * 100
}

func (doc *document) writeRates(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 2. Rate accuracy (open model, %s, nginx)\n\n", doc.d.rate)
	p("Planned = rate × duration; server = nginx's count. Send lag (tailgate only) is actual send − intended send, "+
		"from the results file; steal is the share of the tool CPU's time the hypervisor took during the run, and the send-lag goal "+
		"counts the repetitions whose steal stayed below %.1f%% (section 6 says why). vegeta is shown for reference.\n\n%s\n\n", quietSteal*100, vegetaNote)
	p("| tool | rate | planned | server (median) | deviation (median; worst) | send lag p50 | p99 | max | CPU-s/100k | steal (median; max) | warnings |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, tool := range []string{"tailgate", "vegeta"} {
		for _, rate := range []int{1000, 10000, 25000} {
			var srv, devs, cpus, steals []float64
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
				if r.Steal != nil {
					steals = append(steals, *r.Steal)
				}
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
			p("| %s | %d/s | %d | %.0f | %+.3f%%; %+.3f%% | %s | %s | %s | %.2f | %s | %s |\n", tool, rate, planned, median(srv), median(devs), worst, lag[0], lag[1], lag[2], median(cpus), stealCell(steals), wtext)
		}
	}
	var reps []lagRep
	for _, r := range doc.Rates {
		if r.Tool == "tailgate" && r.Rate == 10000 {
			reps = append(reps, lagRep{r.LagP99, r.Steal})
		}
	}
	writeLagSteal(w, "tailgate", reps)
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
