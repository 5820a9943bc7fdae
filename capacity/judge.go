package capacity

import (
	"fmt"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Objective is one service-level objective a probe must meet, such as the
// threshold "p99 < 40ms".
type Objective interface {
	// String is the objective as the user wrote it.
	String() string
	// Check reports whether r meets the objective and what was measured
	// ("p99 = 52ms").
	Check(r *results.Result) (ok bool, detail string)
}

// Judge gives a probe's result its verdict.
type Judge struct {
	// Objectives must all hold.
	Objectives []Objective
	// LatencyBound is the tightest latency the objectives allow (0: none
	// bounds latency). A probe whose p99 exceeds ten times it is
	// catastrophic.
	LatencyBound time.Duration
	// Baseline is the median service time of the lowest passing probe:
	// a failing probe whose service time stayed near it lost its time
	// before sending, in the client (0: not known yet).
	Baseline time.Duration
}

// Catastrophe thresholds: past these the search goes no higher.
const (
	catastrophicErrorRate = 0.5
	catastrophicLatency   = 10
)

// Verdict judges the result of a probe at the offered rate. The checks, in
// order: the objectives; a backlog that grew during the probe (latency
// trending up: the rate is above capacity even if the objectives still held
// for this short a probe); then, for a failing probe, whether the time was
// lost in the client (its CPU saturated or taken by the hypervisor while
// arrivals went out late, or send lag with a service time near the
// baseline).
func (j *Judge) Verdict(r *results.Result, rate float64) Probe {
	p := Probe{Rate: rate, Result: r, Verdict: Pass, Latency: map[string]float64{}}
	st := r.Total
	if st != nil {
		p.ErrorRate = st.ErrorRate()
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}} {
			p.Latency[q.name] = ms(st.Latency.Percentile(q.p))
		}
	}
	p.Achieved = achieved(r, rate)
	var reasons []string
	for _, o := range j.Objectives {
		if ok, detail := o.Check(r); !ok {
			reasons = append(reasons, fmt.Sprintf("%s (%s)", o, detail))
		}
	}
	if grew, why := backlog(r, j.LatencyBound); grew {
		reasons = append(reasons, why)
	}
	if st == nil || st.Requests == 0 {
		reasons = append(reasons, "no requests were measured")
	}
	if len(reasons) == 0 {
		return p
	}
	p.Verdict, p.Reason = Fail, strings.Join(reasons, "; ")
	if st != nil && st.Requests > 0 {
		switch {
		case p.ErrorRate > catastrophicErrorRate:
			p.Catastrophic = true
		case j.LatencyBound > 0 && st.Latency.Percentile(99) > catastrophicLatency*j.LatencyBound:
			p.Catastrophic = true
		}
		switch {
		case cpuSaturated(r, st):
			p.Verdict = ClientLimited
			p.Reason = fmt.Sprintf("client could not hold %s/s: its CPU was %.0f%% busy and send lag p99 %s; %s",
				trimFloat(rate), 100*r.CPUShare(), round3(st.SendLag.Percentile(99)), p.Reason)
		case j.stolen(r, st):
			p.Verdict = ClientLimited
			p.Reason = fmt.Sprintf("client could not hold %s/s: the hypervisor took %.1f%% of its CPU time (steal) and send lag p99 %s; %s",
				trimFloat(rate), 100*r.Meta.Steal.Share(), round3(st.SendLag.Percentile(99)), p.Reason)
		case j.clientLimited(st):
			p.Verdict = ClientLimited
			p.Reason = fmt.Sprintf("client could not hold %s/s: send lag p99 %s while the target's service time p50 stayed at %s (baseline %s); %s",
				trimFloat(rate), round3(st.SendLag.Percentile(99)), round3(st.Service.Percentile(50)), round3(j.Baseline), p.Reason)
		}
	}
	return p
}

// cpuBusy is the share of its processors the client may use before a late
// probe is blamed on its CPU (the text report's warning uses the same).
const cpuBusy = 0.9

// cpuSaturated: the client's own CPU was busy on every processor it had
// while arrivals went out late.
func cpuSaturated(r *results.Result, st *results.Stats) bool {
	return r.CPUShare() >= cpuBusy && st.SendLag.Percentile(99) > results.LateThreshold
}

// stolen: the hypervisor took at least results.StealWarning of the client's
// CPU time while arrivals went out late and the target answered as fast as
// at the baseline. About that share of arrivals fell due while their CPU
// was taken away, so a p99 that fails can be the machine's stall rather
// than the target's (the report warns from the same share). A target at
// capacity also makes arrivals late, waiting for a free connection, but
// then its service time grows: steal alone does not blame the client.
func (j *Judge) stolen(r *results.Result, st *results.Stats) bool {
	return r.Meta.Steal.Share() >= results.StealWarning && st.SendLag.Percentile(99) > results.LateThreshold && j.serviceNearBaseline(st)
}

// serviceNearBaseline: the target's median service time stayed within
// 1.5× + 1 ms of the lowest passing probe's (false while that is unknown).
func (j *Judge) serviceNearBaseline(st *results.Stats) bool {
	return j.Baseline != 0 && st.Service.Percentile(50) <= j.Baseline*3/2+time.Millisecond
}

// clientLimited: requests waited before they were sent (send lag above
// the late threshold at p99) while the target answered as fast as it did at
// the lowest passing rate. A target at capacity makes requests wait in its
// own queues, which shows as service time.
func (j *Judge) clientLimited(st *results.Stats) bool {
	lag := st.SendLag.Percentile(99)
	return lag > results.LateThreshold && j.serviceNearBaseline(st) && lag > st.Service.Percentile(99)
}

// backlog reports a latency that grew during the probe: the median latency
// of the last third of its intervals above twice that of the first third,
// and by more than max(1ms, bound/4). Each third needs 20 requests at
// least, or the medians are noise.
func backlog(r *results.Result, bound time.Duration) (bool, string) {
	var ivs []results.Interval
	for _, iv := range r.Timeline {
		if !iv.Warmup {
			ivs = append(ivs, iv)
		}
	}
	if len(ivs) < 3 {
		return false, ""
	}
	third := len(ivs) / 3
	first, ok1 := median(ivs[:third])
	last, ok2 := median(ivs[len(ivs)-third:])
	if !ok1 || !ok2 {
		return false, ""
	}
	floor := max(time.Millisecond, bound/4)
	if last > 2*first && last-first > floor {
		return true, fmt.Sprintf("backlog: median latency grew from %s to %s during the probe", round3(first), round3(last))
	}
	return false, ""
}

// median merges the intervals' latency histograms and returns their p50.
func median(ivs []results.Interval) (time.Duration, bool) {
	h := results.NewHistogram()
	for _, iv := range ivs {
		if iv.Total.Latency != nil {
			if err := h.Merge(iv.Total.Latency); err != nil {
				return 0, false
			}
		}
	}
	if h.Count() < 20 {
		return 0, false
	}
	return h.Percentile(50), true
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func trimFloat(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", f), ".0") }

// round3 rounds d to about three significant digits for a reason text.
func round3(d time.Duration) time.Duration {
	for unit := time.Duration(1); unit < time.Hour; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit)
		}
	}
	return d.Round(time.Second)
}

// achieved is the throughput a probe got: requests completed over the
// probe's span, from its start to its last completion, but at least the
// span its arrivals were planned over (count/rate: 40 arrivals at 19.7/s
// span 2.03 s, not the 2 s of the profile, so a rate never reads above the
// one offered through rounding). Above capacity the drain stretches the
// span and the figure is the target's capacity: the plateau of the chart.
func achieved(r *results.Result, rate float64) float64 {
	if r.Total == nil || rate <= 0 {
		return 0
	}
	span := r.Meta.End.Sub(r.Meta.Start).Seconds()
	if planned := float64(r.Schedule.Planned) / rate; planned > span {
		span = planned
	}
	if span <= 0 {
		return 0
	}
	return float64(r.Total.Requests) / span
}
