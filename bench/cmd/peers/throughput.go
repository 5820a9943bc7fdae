package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ThroughputRun is one closed-loop run of one tool.
type ThroughputRun struct {
	Tool     string  `json:"tool"`
	Rep      int     `json:"rep"`
	Requests uint64  `json:"requests"` // server-side
	Rate     float64 `json:"rate"`     // server-side requests / planned duration
	CPU      float64 `json:"cpu_s_per_100k"`
	Command  string  `json:"command"`
	Note     string  `json:"note,omitempty"`
}

var peerTools = []string{"tailgate", "wrk", "vegeta", "hey"}

func (b *bench) throughputCmd(tool string) []step {
	d := b.d.throughput
	u := b.nginxURL
	switch tool {
	case "tailgate":
		return []step{{argv: []string{b.c.tailgate, "hit", u, "--vus", "50", "-c", "50", "-d", secs(d) + "s", "--quiet"}}}
	case "wrk":
		return []step{{argv: []string{b.c.wrk, "-t1", "-c50", "-d" + secs(d) + "s", u}}}
	case "vegeta":
		tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
		_ = os.WriteFile(tf, []byte("GET "+u+"\n"), 0o644)
		return []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, "-rate=0", "-workers=50", "-max-workers=50", "-duration=" + secs(d) + "s"}, stdout: os.DevNull}}
	case "hey":
		return []step{{argv: []string{b.c.hey, "-c", "50", "-z", secs(d) + "s", u}, stdout: os.DevNull}}
	}
	// invariant: tool comes from peerTools, every one of which is handled above.
	panic("unknown tool " + tool)
}

func (b *bench) throughput(ctx context.Context) ([]ThroughputRun, error) {
	logf("1. max throughput: %d reps × %v", b.c.reps, peerTools)
	var out []ThroughputRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, tool := range rotate(peerTools, rep) {
			steps := b.throughputCmd(tool)
			ps, n, err := b.counted(ctx, "nginx", b.d.throughput+30*time.Second, steps...)
			if fatal(err) {
				return out, err
			}
			var cpu time.Duration
			for _, p := range ps {
				cpu += p.CPU
			}
			r := ThroughputRun{Tool: tool, Rep: rep, Requests: n, Rate: float64(n) / b.d.throughput.Seconds(),
				Command: b.commandLine(steps), Note: note(err)}
			if n > 0 {
				r.CPU = cpu.Seconds() / float64(n) * 1e5
			}
			logf("  rep %d %-8s %8.0f req/s  %.2f CPU-s/100k", rep+1, tool, r.Rate, r.CPU)
			out = append(out, r)
		}
	}
	return out, nil
}

func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string(nil), s[k:]...), s[:k]...)
}

// commandLine shows a pipeline as a user would type it: binaries by name,
// files in the work directory as $WORK/name.
func (b *bench) commandLine(steps []step) string {
	var parts []string
	for _, s := range steps {
		argv := append([]string(nil), s.argv...)
		argv[0] = filepath.Base(argv[0])
		for i := range argv {
			argv[i] = strings.ReplaceAll(argv[i], b.c.work, "$WORK")
			if strings.ContainsAny(argv[i], " \"") {
				argv[i] = "'" + argv[i] + "'"
			}
		}
		line := strings.Join(argv, " ")
		if s.stdin != "" {
			line += " < " + filepath.Base(s.stdin)
		}
		switch s.stdout {
		case "":
		case os.DevNull:
			line += " > /dev/null"
		default:
			line += " > " + strings.ReplaceAll(s.stdout, b.c.work, "$WORK")
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, " | ")
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
