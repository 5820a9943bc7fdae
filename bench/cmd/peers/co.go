package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Stall parameters of the target in section 3 and the request rate.
const (
	coStallEvery = 5 * time.Second
	coStallFor   = 500 * time.Millisecond
	coRate       = 1000
)

// COTruth is the analytical latency distribution of an open-model client at
// a constant rate against the stalling target, apart from the base service
// time b (a fraction of a millisecond on loopback).
//
// A request arriving at phase u = t mod T of a period waits S − u when
// u < S and nothing otherwise. Arrivals are uniform in u, so
// P(wait > x) = (S − x)/T for 0 ≤ x < S. The q-quantile of the wait is
// therefore 0 for q ≤ 1 − S/T and S − (1 − q)·T above it; the maximum is S.
type COTruth struct {
	P50, P99, P999, Max time.Duration
}

func coTruth(stallEvery, stallFor time.Duration) COTruth {
	q := func(p float64) time.Duration {
		tail := (1 - p/100) * float64(stallEvery)
		if tail >= float64(stallFor) {
			return 0
		}
		return time.Duration(float64(stallFor) - tail)
	}
	return COTruth{P50: q(50), P99: q(99), P999: q(99.9), Max: stallFor}
}

// CORun is what one tool reported in one run of section 3.
type CORun struct {
	Tool   string        `json:"tool"`
	Rep    int           `json:"rep"`
	Server uint64        `json:"server"`
	Client uint64        `json:"client"`
	P50    time.Duration `json:"p50"`
	P99    time.Duration `json:"p99"`
	P999   time.Duration `json:"p999"`
	Max    time.Duration `json:"max"`
	// Source says where each figure comes from.
	Source  string `json:"source"`
	Command string `json:"command"`
	Note    string `json:"note,omitempty"`
}

const wrkLua = `done = function(summary, latency, requests)
  io.write(string.format("TAILGATE-BENCH %d %d %d %d %d\n", summary.requests,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`

func (b *bench) coordinatedOmission(ctx context.Context) ([]CORun, error) {
	logf("3. coordinated omission: %d reps × %v at %d/s against a stall of %v every %v", b.c.reps, peerTools, coRate, coStallFor, coStallEvery)
	d := b.d.co
	ds := secs(d) + "s"
	u := b.targetURL
	lua := filepath.Join(b.c.work, "percentiles.lua")
	if err := os.WriteFile(lua, []byte(wrkLua), 0o644); err != nil {
		return nil, err
	}
	tf := filepath.Join(b.c.work, "vegeta-target.txt")
	if err := os.WriteFile(tf, []byte("GET "+u+"\n"), 0o644); err != nil {
		return nil, err
	}
	var out []CORun
	for rep := 0; rep < b.c.reps; rep++ {
		for _, tool := range rotate(peerTools, rep) {
			var steps []step
			res := filepath.Join(b.c.work, fmt.Sprintf("co-%s-%d", tool, rep))
			switch tool {
			case "tailgate":
				steps = []step{{argv: []string{b.c.tailgate, "hit", u, "-r", fmt.Sprintf("%d/s", coRate), "-d", ds, "-c", "50", "-o", res + ".json", "--quiet"}, stdout: os.DevNull}}
			case "wrk":
				steps = []step{{argv: []string{b.c.wrk, "-t1", "-c50", "-d" + ds, "-s", lua, u}}}
			case "vegeta":
				steps = []step{{argv: []string{b.c.vegeta, "attack", "-targets=" + tf, fmt.Sprintf("-rate=%d", coRate), "-duration=" + ds}, stdout: res + ".bin"}}
			case "hey":
				// hey paces per worker: -q is requests per second per worker.
				steps = []step{{argv: []string{b.c.hey, "-c", "50", "-q", strconv.Itoa(coRate / 50), "-z", ds, "-o", "csv", u}, stdout: res + ".csv"}}
			}
			ps, n, err := b.counted(ctx, "target", d+60*time.Second, steps...)
			if fatal(err) {
				return out, err
			}
			r := CORun{Tool: tool, Rep: rep, Server: n, Command: b.commandLine(steps), Note: note(err)}
			if r.Note != "" {
				logf("  rep %d %-8s %s", rep+1, tool, r.Note)
				out = append(out, r)
				continue
			}
			switch tool {
			case "tailgate":
				err = coTailgate(&r, res+".json")
			case "wrk":
				err = coWrk(&r, ps[0].Stdout)
			case "vegeta":
				err = coVegeta(ctx, b, &r, res+".bin")
			case "hey":
				err = coHey(&r, res+".csv")
			}
			if err != nil {
				return out, fmt.Errorf("%s: %w", tool, err)
			}
			logf("  rep %d %-8s p50 %v p99 %v p99.9 %v max %v (server %d)", rep+1, tool, r.P50, r.P99, r.P999, r.Max, n)
			out = append(out, r)
		}
	}
	return out, nil
}

func coTailgate(r *CORun, path string) error {
	res, err := results.ReadResultFile(path)
	if err != nil {
		return err
	}
	h := res.Total.Latency
	r.Client = res.Total.Requests
	r.P50, r.P99, r.P999, r.Max = h.Percentile(50), h.Percentile(99), h.Percentile(99.9), h.Max()
	r.Source = "results file (latency from the intended send time)"
	return nil
}

// coWrk reads the line the Lua done() hook printed.
func coWrk(r *CORun, stdout string) error {
	var line string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "TAILGATE-BENCH ") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) != 6 {
		return fmt.Errorf("no percentiles from the Lua hook in %q", line)
	}
	var v [5]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return fmt.Errorf("the Lua hook's line %q: %w", line, err)
		}
		v[i] = n
	}
	r.Client = uint64(v[0])
	r.P50, r.P99, r.P999, r.Max = time.Duration(v[1])*time.Microsecond, time.Duration(v[2])*time.Microsecond, time.Duration(v[3])*time.Microsecond, time.Duration(v[4])*time.Microsecond
	r.Source = "wrk's own histogram via a Lua done() hook"
	return nil
}

func coVegeta(ctx context.Context, b *bench, r *CORun, bin string) error {
	rep, err := exec.CommandContext(ctx, b.c.vegeta, "report", "-type=json", bin).Output()
	if err != nil {
		return fmt.Errorf("vegeta report: %w", err)
	}
	var m struct {
		Requests  uint64 `json:"requests"`
		Latencies struct {
			P50 int64 `json:"50th"`
			P99 int64 `json:"99th"`
			Max int64 `json:"max"`
		} `json:"latencies"`
	}
	if err := json.Unmarshal(rep, &m); err != nil {
		return fmt.Errorf("vegeta report: %w", err)
	}
	r.Client = m.Requests
	r.P50, r.P99, r.Max = time.Duration(m.Latencies.P50), time.Duration(m.Latencies.P99), time.Duration(m.Latencies.Max)
	// vegeta report has no p99.9: take it from the raw results.
	csvOut, err := exec.CommandContext(ctx, b.c.vegeta, "encode", "-to=csv", bin).Output()
	if err != nil {
		return fmt.Errorf("vegeta encode: %w", err)
	}
	var lat []time.Duration
	rd := csv.NewReader(bytes.NewReader(csvOut))
	rd.FieldsPerRecord = -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("vegeta csv: %w", err)
		}
		if len(rec) < 3 {
			continue
		}
		ns, err := strconv.ParseInt(rec[2], 10, 64)
		if err != nil {
			return fmt.Errorf("vegeta csv latency %q: %w", rec[2], err)
		}
		lat = append(lat, time.Duration(ns))
	}
	r.P999 = quantile(lat, 99.9)
	r.Source = "vegeta report -type=json (p99.9 from vegeta encode -to=csv)"
	return nil
}

func coHey(r *CORun, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := csv.NewReader(bufio.NewReader(f))
	rd.FieldsPerRecord = -1
	var lat []time.Duration
	for first := true; ; first = false {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("hey csv: %w", err)
		}
		if first || len(rec) < 1 {
			continue // header
		}
		s, err := strconv.ParseFloat(rec[0], 64)
		if err != nil {
			return fmt.Errorf("hey csv response-time %q: %w", rec[0], err)
		}
		lat = append(lat, time.Duration(s*float64(time.Second)))
	}
	r.Client = uint64(len(lat))
	r.P50, r.P99, r.P999 = quantile(lat, 50), quantile(lat, 99), quantile(lat, 99.9)
	if len(lat) > 0 {
		r.Max = slices.Max(lat)
	}
	r.Source = "hey -o csv (per-request response times; nearest rank)"
	return nil
}

// quantile is the nearest-rank percentile p of xs (sorted in place).
func quantile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	k := int(math.Ceil(p/100*float64(len(xs)))) - 1
	k = max(0, min(k, len(xs)-1))
	return xs[k]
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
