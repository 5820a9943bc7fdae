package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// ConnRun is one run of section 9: a closed loop or an open-model rate over
// many connections.
type ConnRun struct {
	Tool    string        `json:"tool"`
	Rep     int           `json:"rep"`
	Conns   int           `json:"conns"`
	Open    bool          `json:"open"` // at connOpenRate; else a closed loop
	Planned uint64        `json:"planned,omitempty"`
	Server  uint64        `json:"server"`
	Rate    float64       `json:"rate"` // server-side requests / run length
	CPU     float64       `json:"cpu_us_per_request"`
	MaxRSS  int64         `json:"maxrss"`
	LagP99  time.Duration `json:"lag_p99,omitempty"`
	Command string        `json:"command"`
	Note    string        `json:"note,omitempty"`
}

// connCounts are section 9's connection counts and connOpenRate its open
// model's rate (issue 18).
var connCounts = []int{100, 1000, 5000, 10000}

const connOpenRate = 20000

// connTools are the tools of one mode: tailgate first, then its peer.
func connTools(open bool) []string {
	if open {
		return []string{"tailgate", "wrk2"}
	}
	return []string{"tailgate", "wrk"}
}

func (b *bench) connCmd(tool string, conns int, open bool, rep int) (steps []step, resPath string) {
	d := secs(b.d.conns) + "s"
	c := fmt.Sprint(conns)
	switch tool {
	case "wrk":
		return []step{{argv: []string{b.c.wrk, "-t1", "-c" + c, "-d" + d, b.nginxURL}}}, ""
	case "wrk2":
		return []step{{argv: []string{b.c.wrk2, "-t1", "-c" + c, "-d" + d, fmt.Sprintf("-R%d", connOpenRate), b.nginxURL}}}, ""
	}
	if !open {
		return []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "--vus", c, "-c", c, "-d", d, "--quiet"}, stdout: os.DevNull}}, ""
	}
	resPath = filepath.Join(b.c.work, fmt.Sprintf("conns-%d-%d.json", conns, rep))
	return []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "-r", fmt.Sprintf("%d/s", connOpenRate), "-c", c, "-d", d,
		"-o", resPath, "--quiet"}, stdout: os.DevNull}}, resPath
}

// connScale runs tailgate beside wrk (closed loop) and wrk2 (open model) at
// each connection count against nginx, interleaved.
func (b *bench) connScale(ctx context.Context) ([]ConnRun, error) {
	logf("9. connection scale: %d reps × %v connections, closed and %d/s", b.c.reps, connCounts, connOpenRate)
	var out []ConnRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, conns := range connCounts {
			for _, open := range []bool{false, true} {
				for _, tool := range rotate(connTools(open), rep) {
					steps, resPath := b.connCmd(tool, conns, open, rep)
					ps, n, err := b.counted(ctx, "nginx", b.d.conns+90*time.Second, steps...)
					if fatal(err) {
						return out, err
					}
					r := ConnRun{Tool: tool, Rep: rep, Conns: conns, Open: open, Server: n, MaxRSS: ps[0].MaxRSS,
						Rate: float64(n) / b.d.conns.Seconds(), Command: b.commandLine(steps), Note: note(err)}
					if open {
						r.Planned = uint64(connOpenRate) * uint64(b.d.conns/time.Second)
					}
					if n > 0 {
						r.CPU = float64(ps[0].CPU.Microseconds()) / float64(n)
					}
					if resPath != "" && r.Note == "" {
						tr, err := results.ReadResultFile(resPath)
						if err != nil {
							return out, fmt.Errorf("%s result: %w", tool, err)
						}
						r.LagP99 = tr.Total.SendLag.Percentile(99)
					}
					logf("  rep %d %-8s %5d conns %-6s %8.0f req/s %.1f µs/req, peak RSS %.1f MiB", rep+1, tool, conns,
						modeName(open), r.Rate, r.CPU, mib(r.MaxRSS))
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

func modeName(open bool) string {
	if open {
		return fmt.Sprintf("%d/s", connOpenRate)
	}
	return "closed"
}

// connRatios returns, per repetition, f(tailgate)/f(peer) at conns in one
// mode.
func connRatios(runs []ConnRun, conns int, open bool, f func(ConnRun) float64) []float64 {
	byRep := map[int]map[string]ConnRun{}
	for _, r := range runs {
		if r.Conns != conns || r.Open != open {
			continue
		}
		if byRep[r.Rep] == nil {
			byRep[r.Rep] = map[string]ConnRun{}
		}
		byRep[r.Rep][r.Tool] = r
	}
	peer := connTools(open)[1]
	var out []float64
	for _, m := range byRep {
		a, oka := m["tailgate"]
		p, okp := m[peer]
		if oka && okp && f(p) > 0 {
			out = append(out, f(a)/f(p))
		}
	}
	return out
}

func connRate(r ConnRun) float64 { return r.Rate }
func connCPU(r ConnRun) float64  { return r.CPU }
func connRSS(r ConnRun) float64  { return float64(r.MaxRSS) }

// connGoals adds issue 18's connection-scale targets.
func (doc *document) connGoals(add func(what, measured string, ok bool)) {
	if rs := connRatios(doc.Conns, 5000, false, connRate); len(rs) > 0 {
		r := median(rs)
		add("5000 connections, closed loop: throughput ≥ 0.95× wrk's", fmt.Sprintf("%.2f×", r), r >= 0.95)
	}
	if rs := connRatios(doc.Conns, 5000, false, connRSS); len(rs) > 0 {
		r := median(rs)
		add("5000 connections, closed loop: peak RSS ≤ 2× wrk's", fmt.Sprintf("%.2f×", r), r <= 2)
	}
	ran, all := 0, 0
	for _, r := range doc.Conns {
		if r.Tool == "tailgate" && r.Conns == 10000 {
			all++
			if r.Note == "" && r.Server > 0 {
				ran++
			}
		}
	}
	if all > 0 {
		add("10,000 connections run (closed loop and open model)", fmt.Sprintf("%d of %d runs", ran, all), ran == all)
	}
}

func (doc *document) writeConns(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 9. Connection scale: 100 to 10,000 connections (%s, nginx)\n\n", doc.d.conns)
	p("A closed loop (one virtual user per connection) beside wrk, and the open model at %d/s beside wrk2 (`-R`), "+
		"each with one thread on CPU 0 against one nginx worker on CPU 1. Throughput is nginx's count over the run "+
		"length; CPU is the tool's user+system time over that count; the ratios (tailgate ÷ its peer) are taken pair "+
		"by pair within a repetition. Connecting is part of the run for every tool.\n\n", connOpenRate)
	p("| mode | connections | tool | requests/s (median) | ÷ peer | CPU µs/req | ÷ peer | peak RSS | ÷ peer | count vs plan (worst) | send lag p99 |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, open := range []bool{false, true} {
		for _, conns := range connCounts {
			for i, tool := range connTools(open) {
				var rate, cpu, rss, devs []float64
				var lags []time.Duration
				for _, r := range doc.Conns {
					if r.Tool != tool || r.Conns != conns || r.Open != open {
						continue
					}
					rate, cpu, rss = append(rate, r.Rate), append(cpu, r.CPU), append(rss, mib(r.MaxRSS))
					if open {
						devs = append(devs, deviation(r.Server, r.Planned))
						lags = append(lags, r.LagP99)
					}
				}
				if len(rate) == 0 {
					continue
				}
				ratio := func(f func(ConnRun) float64) string {
					if i > 0 {
						return "—"
					}
					rs := connRatios(doc.Conns, conns, open, f)
					if len(rs) == 0 {
						return "—"
					}
					return fmt.Sprintf("%.2f×", median(rs))
				}
				dev, lag := "—", "—"
				if open {
					worst := devs[0]
					for _, d := range devs {
						if cmpAbs(d, worst) > 0 {
							worst = d
						}
					}
					dev = fmt.Sprintf("%+.3f%%", worst)
					if tool == "tailgate" {
						lag = fmtDur(medianDur(lags))
					}
				}
				p("| %s | %d | %s | %.0f | %s | %.1f | %s | %.1f MiB | %s | %s | %s |\n", modeName(open), conns, tool,
					median(rate), ratio(connRate), median(cpu), ratio(connCPU), median(rss), ratio(connRSS), dev, lag)
			}
		}
	}
	var notes []string
	for _, r := range doc.Conns {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, %d connections, %s, rep %d: %s", r.Tool, r.Conns, modeName(r.Open), r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("\nCommands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.Conns {
		k := fmt.Sprint(r.Tool, r.Conns, r.Open)
		if !seen[k] {
			seen[k] = true
			p("%s\n", strings.TrimSpace(r.Command))
		}
	}
	p("```\n\n")
}
