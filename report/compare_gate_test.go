package report

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// gateRun is one run for the gate's tests: a request "home" and the total
// with 1000 latencies spread evenly over [10ms, 20ms), and, when flow > 0,
// a flow "checkout" with 1000 iterations over [flow, 2·flow) whose slowest
// 2% take tail instead when tail > 0 (so tail moves its p99, not its p50).
func gateRun(flow, tail time.Duration) *results.Result {
	r := &results.Result{Version: results.ResultVersion, Meta: results.Meta{Name: "gate", Model: results.OpenModel}, Total: results.NewStats("", "")}
	home := results.NewStats("home", "")
	for i := range 1000 {
		d := 10*time.Millisecond + time.Duration(i)*10*time.Microsecond
		for _, s := range []*results.Stats{r.Total, home} {
			s.Requests++
			s.Latency.Record(d)
		}
	}
	r.Requests = []*results.Stats{home}
	if flow > 0 {
		st := results.NewStats("checkout", "")
		for i := range 1000 {
			d := flow + time.Duration(i)*flow/1000
			if tail > 0 && i >= 980 {
				d = tail
			}
			st.Requests++
			st.Latency.Record(d)
		}
		r.Flows = []*results.Stats{st}
	}
	return r
}

// gateRuns returns a run per factor, the flow's latencies scaled by it.
func gateRuns(flow time.Duration, factors ...float64) []*results.Result {
	var out []*results.Result
	for _, f := range factors {
		out = append(out, gateRun(time.Duration(f*float64(flow)), 0))
	}
	return out
}

// TestRegressionsOfFlows: --max-slowdown gates a flow's p50 and p99 as it
// gates a request's, named flow:NAME, with the same rule for repeated
// runs: a change counts only when its verdict is significant.
func TestRegressionsOfFlows(t *testing.T) {
	one := func(r *results.Result) []*results.Result { return []*results.Result{r} }
	both := gateRun(0, 0)
	both.Flows = append(gateRun(10*time.Millisecond, 0).Flows, gateRun(20*time.Millisecond, 0).Flows...)
	both.Flows[1].Name = "slower"
	fast, slow := results.FlowSelector("checkout"), results.FlowSelector("slower")
	tests := []struct {
		name          string
		before, after []*results.Result
		opts          CompareOptions
		// want are the sentences' beginnings in order; each sentence
		// contains every one of also.
		want, also []string
	}{
		{name: "flow slower, single runs", before: one(gateRun(100*time.Millisecond, 0)), after: one(gateRun(130*time.Millisecond, 0)),
			want: []string{"flow:checkout p50 +29.9% (150ms → 195ms", "flow:checkout p99 +30.1% (199ms → 259ms"}, also: []string{"single runs", "is more than 10% slower"}},
		{name: "flow within the bound", before: one(gateRun(100*time.Millisecond, 0)), after: one(gateRun(105*time.Millisecond, 0))},
		{name: "flow faster", before: one(gateRun(130*time.Millisecond, 0)), after: one(gateRun(100*time.Millisecond, 0))},
		{name: "only the flow's tail slower", before: one(gateRun(100*time.Millisecond, 300*time.Millisecond)), after: one(gateRun(100*time.Millisecond, 400*time.Millisecond)),
			want: []string{"flow:checkout p99 +33."}, also: []string{"(300ms → 400ms, single runs)"}},
		{name: "flow on one side only", before: one(gateRun(0, 0)), after: one(gateRun(500*time.Millisecond, 0))},
		{name: "flow slower, repeated runs, significant",
			before: gateRuns(100*time.Millisecond, 1, 1.01, 0.99, 1.02, 0.98), after: gateRuns(130*time.Millisecond, 1, 1.01, 0.99, 1.02, 0.98),
			want: []string{"flow:checkout p50 +29.9% (150ms → 195ms", "flow:checkout p99 +30.1% (199ms → 259ms"}, also: []string{"p=0.008, n=5+5"}},
		// The per-run medians are 55% apart but the runs interleave: noise.
		{name: "flow slower, repeated runs, not significant",
			before: gateRuns(100*time.Millisecond, 1, 1.02, 1.04, 1.6, 1.62), after: gateRuns(100*time.Millisecond, 1.01, 1.03, 1.61, 1.63, 1.65)},
		{name: "within: one flow against another", before: one(both), after: one(both), opts: CompareOptions{A: &fast, B: &slow},
			want: []string{"flow:checkout vs flow:slower p50 +100", "flow:checkout vs flow:slower p99 +100"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(tc.before, tc.after, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Regressions(0.10)
			if len(got) != len(tc.want) {
				t.Fatalf("regressions %q, want %d beginning %q", got, len(tc.want), tc.want)
			}
			for i, g := range got {
				if !strings.HasPrefix(g, tc.want[i]) {
					t.Errorf("regression %d %q, want it to begin %q", i, g, tc.want[i])
				}
				for _, s := range tc.also {
					if !strings.Contains(g, s) {
						t.Errorf("regression %q lacks %q", g, s)
					}
				}
			}
		})
	}
}
