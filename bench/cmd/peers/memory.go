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

// MemRun is the peak RSS of one open-model run.
type MemRun struct {
	Tool     string        `json:"tool"`
	Rep      int           `json:"rep"`
	Duration time.Duration `json:"duration"`
	RSS      int64         `json:"rss"` // bytes, summed over the pipeline
	Parts    []int64       `json:"parts"`
	Server   uint64        `json:"server"`
	Command  string        `json:"command"`
	Note     string        `json:"note,omitempty"`
}

const memRate = 10000

func (b *bench) memory(ctx context.Context) ([]MemRun, error) {
	tools := []string{"tailgate", "vegeta"}
	lens := []time.Duration{b.d.memShort, b.d.memLong}
	logf("4. memory: %d reps × %v × %v at %d/s", b.c.reps, tools, lens, memRate)
	tf := filepath.Join(b.c.work, "vegeta-nginx.txt")
	if err := os.WriteFile(tf, []byte("GET "+b.nginxURL+"\n"), 0o644); err != nil {
		return nil, err
	}
	var out []MemRun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, d := range lens {
			for _, tool := range rotate(tools, rep) {
				var steps []step
				switch tool {
				case "tailgate":
					res := filepath.Join(b.c.work, fmt.Sprintf("mem-%d-%d.json", d/time.Second, rep))
					steps = []step{{argv: []string{b.c.tailgate, "hit", b.nginxURL, "-r", fmt.Sprintf("%d/s", memRate), "-d", secs(d) + "s", "-c", "50", "-o", res, "--quiet"}, stdout: os.DevNull}}
				case "vegeta":
					steps = []step{
						{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", memRate), "-duration=" + secs(d) + "s"}},
						{argv: []string{b.c.vegeta, "report"}, stdout: os.DevNull},
					}
				}
				ps, n, err := b.counted(ctx, "nginx", d+60*time.Second, steps...)
				if fatal(err) {
					return out, err
				}
				r := MemRun{Tool: tool, Rep: rep, Duration: d, Server: n, Command: b.commandLine(steps), Note: note(err)}
				for _, p := range ps {
					r.RSS += p.MaxRSS
					r.Parts = append(r.Parts, p.MaxRSS)
				}
				logf("  rep %d %-8s %4v peak RSS %.1f MiB %v (server %d)", rep+1, tool, d, mib(r.RSS), r.Parts, n)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

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
