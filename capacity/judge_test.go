package capacity

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// probeResult builds a probe's result: n requests at latency lat (service
// time svc, send lag lag), over intervals whose median latency follows
// trend (one interval per entry).
func probeResult(n int, lat, svc, lag time.Duration, trend ...time.Duration) *results.Result {
	start := time.Unix(0, 0)
	r := &results.Result{Total: results.NewStats("", ""), Meta: results.Meta{Start: start, End: start.Add(2 * time.Second)}}
	r.Schedule.Planned, r.Schedule.Sent = uint64(n), uint64(n)
	for range n {
		r.Total.Requests++
		r.Total.Latency.Record(lat)
		r.Total.Service.Record(svc)
		r.Total.SendLag.Record(lag)
	}
	for i, m := range trend {
		h := results.NewHistogram()
		for range 30 {
			h.Record(m)
		}
		r.Timeline = append(r.Timeline, results.Interval{Start: results.Duration(time.Duration(i) * time.Second), Total: results.IntervalStats{Requests: 30, Latency: h}})
	}
	return r
}

// cpuBound marks a probe's client as busy on 95% of its one CPU.
func cpuBound(r *results.Result) *results.Result {
	r.Meta.NumCPU = 1
	r.Meta.CPU.User = results.Duration(1900 * time.Millisecond)
	return r
}

// stolenFrom marks a probe's client as having lost share of its CPU time
// to the hypervisor (steal).
func stolenFrom(r *results.Result, share float64) *results.Result {
	total := 2 * time.Second
	r.Meta.Steal = &results.Steal{CPUs: 1, Time: results.Duration(total), Stolen: results.Duration(float64(total) * share)}
	return r
}

// stalledService adds 5 requests (2.5% of 200) whose service time was
// stall: its p50 stays, its p99 (the stalls a stolen CPU also puts on
// reading responses) rises above the send lag's, so only steal can tell
// the client was to blame.
func stalledService(r *results.Result, stall time.Duration) *results.Result {
	for range 5 {
		r.Total.Requests++
		r.Total.Latency.Record(stall)
		r.Total.Service.Record(stall)
		r.Total.SendLag.Record(0)
	}
	return r
}

type p99Max time.Duration

func (b p99Max) String() string { return "p99 < " + time.Duration(b).String() }

func (b p99Max) Check(r *results.Result) (bool, string) {
	v := r.Total.Latency.Percentile(99)
	return v < time.Duration(b), "p99 = " + v.String()
}

func TestJudge(t *testing.T) {
	ms := time.Millisecond
	j := Judge{Objectives: []Objective{p99Max(40 * ms)}, LatencyBound: 40 * ms, Baseline: 5 * ms}
	tests := []struct {
		name         string
		r            *results.Result
		verdict      Verdict
		catastrophic bool
		reason       string
	}{
		{"flat and within the SLO", probeResult(200, 10*ms, 10*ms, 0, 10*ms, 11*ms, 10*ms, 10*ms, 11*ms, 10*ms), Pass, false, ""},
		{"within the SLO, but the backlog grows", probeResult(200, 20*ms, 20*ms, 0, 5*ms, 6*ms, 9*ms, 14*ms, 22*ms, 30*ms), Fail, false, "backlog: median latency grew from 5"},
		{"over the SLO: the target slowed", probeResult(200, 80*ms, 78*ms, 2*ms), Fail, false, "p99 < 40ms (p99 = 80"},
		{"ten times the SLO: catastrophic", probeResult(200, 500*ms, 490*ms, 10*ms), Fail, true, "p99 < 40ms"},
		{"over the SLO, lost before sending: client-limited", probeResult(200, 80*ms, 5*ms, 75*ms), ClientLimited, false, "client could not hold 100/s"},
		{"over the SLO with the client's CPU saturated: client-limited", cpuBound(probeResult(200, 80*ms, 60*ms, 20*ms)), ClientLimited, false, "its CPU was 95% busy"},
		{"over the SLO, late arrivals under 5% steal, service as at the baseline: client-limited", stolenFrom(stalledService(probeResult(200, 80*ms, 6*ms, 30*ms), 50*ms), 0.05), ClientLimited, false, "the hypervisor took 5.0% of its CPU time"},
		{"over the SLO, late arrivals under 5% steal, service slowed: the target", stolenFrom(probeResult(200, 80*ms, 60*ms, 20*ms), 0.05), Fail, false, "p99 < 40ms (p99 = 80"},
		{"over the SLO under 5% steal, arrivals on time: the target slowed", stolenFrom(probeResult(200, 80*ms, 78*ms, 0), 0.05), Fail, false, "p99 < 40ms (p99 = 80"},
		{"over the SLO, late arrivals, steal below the warning: the target slowed", stolenFrom(stalledService(probeResult(200, 80*ms, 6*ms, 30*ms), 50*ms), 0.005), Fail, false, "p99 < 40ms (p99 = 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := j.Verdict(tt.r, 100)
			if p.Verdict != tt.verdict || p.Catastrophic != tt.catastrophic || !strings.Contains(p.Reason, tt.reason) {
				t.Fatalf("verdict %s, catastrophic %v, reason %q; want %s, %v, containing %q", p.Verdict, p.Catastrophic, p.Reason, tt.verdict, tt.catastrophic, tt.reason)
			}
		})
	}
}

// TestAchievedNeverAboveOffered: 40 arrivals planned at 19.7/s span 2.03 s;
// completing them within the 2 s profile is 19.7/s, not 20/s.
func TestAchievedNeverAboveOffered(t *testing.T) {
	r := probeResult(40, time.Millisecond, time.Millisecond, 0)
	if got := achieved(r, 19.7); got > 19.7+1e-9 || got < 19.69 {
		t.Fatalf("achieved %g/s of 19.7/s offered", got)
	}
	r.Meta.End = r.Meta.Start.Add(4 * time.Second) // a drain past the plan
	if got := achieved(r, 19.7); got != 10 {
		t.Fatalf("achieved %g/s, want 40 requests over 4 s", got)
	}
}
