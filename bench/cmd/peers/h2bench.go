package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------- 7 HTTP/2 vs h2load

// H2Run is one closed-loop HTTP/2 run (h2c with prior knowledge) of one
// tool in one shape: connections × concurrent streams per connection.
type H2Run struct {
	Tool     string  `json:"tool"`
	Rep      int     `json:"rep"`
	Conns    int     `json:"conns"`
	Streams  int     `json:"streams"`
	Requests uint64  `json:"requests"` // server-side
	Rate     float64 `json:"rate"`
	CPU      float64 `json:"cpu_us_per_request"`
	MaxRSS   int64   `json:"maxrss"`
	Command  string  `json:"command"`
	Note     string  `json:"note,omitempty"`
}

// h2Shape is connections × streams; both of section 7's make 50
// concurrent streams.
type h2Shape struct{ conns, streams int }

func (s h2Shape) String() string { return fmt.Sprintf("%d×%d", s.conns, s.streams) }

var h2Shapes = []h2Shape{{1, 50}, {50, 1}}

func (b *bench) h2Tools() []string {
	tools := []string{"tailgate", "h2load"}
	if b.c.tailgateBase != "" {
		tools = append(tools, baseTool)
	}
	return tools
}

// h2Cmd is the command of tool in shape s. tailgate runs the closed model
// with one VU per stream; tailgate-base is a build from before --streams,
// whose -c was the number of concurrent requests over net/http's pool.
func (b *bench) h2Cmd(tool string, s h2Shape) []step {
	d := secs(b.d.h2)
	u := b.h2cURL
	n := strconv.Itoa(s.conns * s.streams)
	switch tool {
	case "h2load":
		return []step{{argv: []string{b.c.h2load, "-t1", "-c" + strconv.Itoa(s.conns), "-m" + strconv.Itoa(s.streams), "-D" + d, u}, stdout: os.DevNull}}
	case baseTool:
		return []step{{argv: []string{b.c.tailgateBase, "hit", u, "--http2", "--vus", n, "-c", n, "-d", d + "s", "--quiet"}, stdout: os.DevNull}}
	}
	return []step{{argv: []string{b.c.tailgate, "hit", u, "--http2", "--vus", n, "-c", strconv.Itoa(s.conns), "--streams", strconv.Itoa(s.streams), "-d", d + "s", "--quiet"}, stdout: os.DevNull}}
}

// h2Bench runs every tool in every shape against nginx's h2c port,
// interleaved, and counts the requests nginx served.
func (b *bench) h2Bench(ctx context.Context) ([]H2Run, error) {
	tools := b.h2Tools()
	logf("7. HTTP/2 vs h2load: %d reps × %v × %v", b.c.reps, h2Shapes, tools)
	var out []H2Run
	for rep := 0; rep < b.c.reps; rep++ {
		for _, s := range h2Shapes {
			for _, tool := range rotate(tools, rep) {
				steps := b.h2Cmd(tool, s)
				ps, n, err := b.counted(ctx, "nginx", b.d.h2+30*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := H2Run{Tool: tool, Rep: rep, Conns: s.conns, Streams: s.streams, Requests: n,
					Rate: float64(n) / b.d.h2.Seconds(), MaxRSS: ps[0].MaxRSS, Command: b.commandLine(steps), Note: note(err)}
				if n > 0 {
					r.CPU = float64(ps[0].CPU.Microseconds()) / float64(n)
				}
				logf("  rep %d %-13s %-5s %8.0f req/s  %.1f µs/req", rep+1, tool, s, r.Rate, r.CPU)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// h2Ratios returns, per repetition in shape s, f(a)/f(b).
func h2Ratios(runs []H2Run, s h2Shape, a, b string, f func(H2Run) float64) []float64 {
	byRep := map[int]map[string]H2Run{}
	for _, r := range runs {
		if r.Conns != s.conns || r.Streams != s.streams {
			continue
		}
		if byRep[r.Rep] == nil {
			byRep[r.Rep] = map[string]H2Run{}
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

func h2Rate(r H2Run) float64 { return r.Rate }
func h2CPU(r H2Run) float64  { return r.CPU }

// h2Goals adds issue 18's HTTP/2 target: ≥ 0.8× h2load's throughput at
// 50 concurrent streams, in both shapes.
func (doc *document) h2Goals(add func(what, measured string, ok bool)) {
	for _, s := range h2Shapes {
		rs := h2Ratios(doc.H2, s, "tailgate", "h2load", h2Rate)
		if len(rs) == 0 {
			continue
		}
		r := median(rs)
		add(fmt.Sprintf("HTTP/2 %s (connections × streams): throughput ≥ 0.8× h2load's", s), fmt.Sprintf("%.2f×", r), r >= 0.8)
	}
}

func (doc *document) writeH2(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 7. HTTP/2 vs h2load (h2c, closed loop, 50 concurrent streams, %s, nginx)\n\n", doc.d.h2)
	p("nginx (one worker, `listen … http2` on a clear-text port) serves the same 128-byte file over h2c with prior " +
		"knowledge. Shapes are connections × concurrent streams per connection, as h2load's `-c` × `-m`; tailgate runs " +
		"one VU per stream (`--vus`, `-c`, `--streams`). Requests are nginx's count; CPU is the tool's user+system " +
		"time over that count. Ratios are taken pair by pair within a repetition.")
	if doc.c.tailgateBase != "" || hasTool(doc.H2, baseTool) {
		p(" tailgate-base is a build from before `--streams` (net/http's HTTP/2 client; its `-c 50` was 50 concurrent " +
			"requests over as few connections as net/http opens).")
	}
	p("\n\n| shape | tool | req/s (median) | req/s per rep | CPU µs/req (median) | ÷ h2load req/s | ÷ h2load CPU | peak RSS |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range h2Shapes {
		for _, tool := range []string{"tailgate", "h2load", baseTool} {
			var rates, cpus, rss []float64
			var per []string
			for _, r := range doc.H2 {
				if r.Tool != tool || r.Conns != s.conns || r.Streams != s.streams {
					continue
				}
				rates, cpus, rss = append(rates, r.Rate), append(cpus, r.CPU), append(rss, mib(r.MaxRSS))
				per = append(per, fmt.Sprintf("%.0f", r.Rate))
			}
			if len(rates) == 0 {
				continue
			}
			rr, cr := "—", "—"
			if tool != "h2load" {
				if rs := h2Ratios(doc.H2, s, tool, "h2load", h2Rate); len(rs) > 0 {
					rr = fmt.Sprintf("%.2f×", median(rs))
				}
				if rs := h2Ratios(doc.H2, s, tool, "h2load", h2CPU); len(rs) > 0 {
					cr = fmt.Sprintf("%.2f×", median(rs))
				}
			}
			p("| %s | %s | %.0f | %s | %.1f | %s | %s | %.1f MiB |\n", s, tool, median(rates), strings.Join(per, ", "), median(cpus), rr, cr, median(rss))
		}
	}
	var notes []string
	for _, r := range doc.H2 {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s %d×%d, rep %d: %s", r.Tool, r.Conns, r.Streams, r.Rep+1, r.Note))
		}
	}
	writeNotes(w, notes)
	p("\nCommands:\n\n```\n")
	seen := map[string]bool{}
	for _, r := range doc.H2 {
		k := fmt.Sprint(r.Tool, r.Conns, r.Streams)
		if !seen[k] {
			seen[k] = true
			p("%s\n", r.Command)
		}
	}
	p("```\n\n")
}

func hasTool(runs []H2Run, tool string) bool {
	for _, r := range runs {
		if r.Tool == tool {
			return true
		}
	}
	return false
}
