package report

// Notes and warnings: what a reader must know before trusting a result's
// figures, shared by the text and Markdown reports and the end-of-run
// summary.

import (
	"fmt"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// notes are facts about a result that are not problems but change how its
// figures read.
func notes(r *results.Result) []string {
	var out []string
	if r.Meta.Model == results.ClosedModel {
		vus := ""
		if r.Meta.VUs > 0 {
			vus = fmt.Sprintf(" of %d VUs", r.Meta.VUs)
		}
		out = append(out, "closed model"+vus+": each user waits for its response before the next request, "+
			"so a slow target lowers the load instead of queueing it; these percentiles are not open-model latencies.")
	}
	return out
}

// Warnings lists what the reader of a result must know: the client fell
// behind schedule, arrivals were dropped or never sent, the result is
// partial, many requests failed. Each warning is one sentence with the
// measured figures.
func Warnings(r *results.Result) []string {
	var out []string
	m := &r.Meta
	sc := &r.Schedule
	if m.Partial {
		reason := m.StopReason
		if reason == "" {
			reason = "the run did not finish"
		}
		out = append(out, "partial result ("+reason+"): the figures cover only what was measured before it stopped")
	} else if m.StopReason != "" {
		out = append(out, "the run stopped early: "+m.StopReason)
	}
	if m.Model != results.ClosedModel {
		if w := behindSchedule(r); w != "" {
			out = append(out, w)
		}
	}
	if w := stealWarning(m.Steal); w != "" {
		out = append(out, w)
	}
	if sc.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d of %d planned arrivals dropped (%s) because --max-in-flight was reached with --overload drop: the target got less load than planned",
			sc.Dropped, sc.Planned, format.Percent(share(sc.Dropped, sc.Planned))))
	}
	if sc.Unsent > 0 {
		out = append(out, fmt.Sprintf("%d of %d planned arrivals were never sent (%s): the run stopped before the schedule ended",
			sc.Unsent, sc.Planned, format.Percent(share(sc.Unsent, sc.Planned))))
	}
	for _, g := range r.Groups {
		if g.Group == results.OtherGroup {
			out = append(out, fmt.Sprintf("request %s has more tag groups than the %d a run keeps: %d requests of the others are counted in %s{%s}; a tag that takes a new value per request (seq, uuid, now, a captured value) makes a group per request",
				format.Clean(g.Name), results.MaxGroupsPerRequest, g.Requests, format.Clean(g.Name), results.OtherGroup))
		}
	}
	for _, f := range r.GroupByFolds {
		out = append(out, fmt.Sprintf("request %s is grouped by %s, which took more than the %d distinct values kept: %d requests with the others are counted as %s=%s",
			format.Clean(f.Name), format.Clean(f.Label), f.Limit, r.FoldedRequests(f), format.Clean(f.Label), results.OtherGroup))
	}
	if t := r.Total; t != nil {
		if t.Requests == 0 {
			out = append(out, "no requests were measured")
		} else if t.ErrorRate() >= warnErrorShare {
			out = append(out, fmt.Sprintf("%s of requests failed (%d of %d)%s", format.Percent(t.ErrorRate()), t.Errors, t.Requests, topError(t)))
		}
	}
	return out
}

// stealWarning describes the CPU time the hypervisor took during the run,
// or returns "" when it took less than results.StealWarning of it (or
// none was measured).
func stealWarning(st *results.Steal) string {
	if st.Share() < results.StealWarning {
		return ""
	}
	cpus := "the CPU"
	if st.CPUs != 1 {
		cpus = fmt.Sprintf("the %d CPUs", st.CPUs)
	}
	worst := ""
	if st.Worst > 0 {
		worst = fmt.Sprintf(", %s in its worst second at %s", format.Percent(st.Worst), format.Elapsed(st.WorstAt.D()))
	}
	return fmt.Sprintf("the hypervisor took %s of this machine's CPU time during the run (steal on %s tailgate could run on%s); send lag and latency include those stalls",
		format.Percent(st.Share()), cpus, worst)
}

// behindSchedule describes how far behind schedule an open-model client
// fell, or returns "" when it kept up.
func behindSchedule(r *results.Result) string {
	sc := &r.Schedule
	var lag99, lagMax time.Duration
	if r.Total != nil {
		lag99, lagMax = r.Total.SendLag.Percentile(99), r.Total.SendLag.Max()
	}
	measured := r.MeasuredSent()
	lateShare := share(sc.Late, measured)
	if lag99 <= behindLagP99 && lateShare <= behindLateShare {
		return ""
	}
	return fmt.Sprintf("client behind schedule: send lag p99 %s, max %s; %d of %d arrivals (%s) started more than %s late, and the latency figures include this wait. %s",
		format.Duration(lag99), format.Duration(lagMax), sc.Late, measured, format.Percent(lateShare), format.Duration(results.LateThreshold), LagCause(r))
}

// cpuSaturated is the share of the machine's CPUs above which the client's
// own processor time is blamed for its lag.
const cpuSaturated = 0.9

// LagCause says why an open-model client fell behind schedule, telling
// apart the causes tailgate can measure, each with its figures: the
// client's own CPU was saturated; --max-in-flight was reached; the target
// held every connection (the connections were busy for the whole measured
// time, so service time is about the latency and arrivals waited for a
// free one).
func LagCause(r *results.Result) string {
	m, sc := &r.Meta, &r.Schedule
	var causes []string
	if share := r.CPUShare(); share >= cpuSaturated {
		causes = append(causes, fmt.Sprintf("the client's CPU was saturated (%s CPU-s in %s on %d CPUs, %s busy)",
			format.Number(m.CPU.Total().Seconds()), format.Elapsed(m.End.Sub(m.Start)), m.NumCPU, format.Percent(min(share, 1))))
	}
	if st := m.Steal; st.Share() >= results.StealWarning {
		causes = append(causes, fmt.Sprintf("the hypervisor took %s of the CPUs' time (steal)", format.Percent(st.Share())))
	}
	if m.MaxInFlight > 0 && sc.MaxInFlight >= int64(m.MaxInFlight) {
		causes = append(causes, fmt.Sprintf("--max-in-flight was reached (%d arrivals running or queued)", m.MaxInFlight))
	}
	busy := busyConnections(r)
	if m.Connections > 0 && busy >= 0.9*float64(m.Connections) {
		causes = append(causes, fmt.Sprintf("the target held every connection (%s of %d busy on average: service time ≈ latency), so arrivals waited for a free one; "+
			"more connections (-c) would send on time, a faster target would too", format.Number(busy), m.Connections))
	}
	if len(causes) == 0 {
		hypervisor := ""
		if m.Steal != nil {
			hypervisor = fmt.Sprintf(", the hypervisor (%s stolen)", format.Percent(m.Steal.Share()))
		}
		return fmt.Sprintf("Not the CPU (%s busy)%s, --max-in-flight (peak %d of %d) or the connections (%s of %d busy): look for other load on this machine",
			format.Percent(r.CPUShare()), hypervisor, sc.MaxInFlight, m.MaxInFlight, format.Number(busy), m.Connections)
	}
	return "The cause: " + strings.Join(causes, "; ") + "."
}

// busyConnections is the mean number of connections busy with a request
// during the measured time (Little's law: the summed service time of every
// request over the measured duration). A failed request counts its whole
// latency.
func busyConnections(r *results.Result) float64 {
	t := r.Total
	secs := r.Measured().Seconds()
	if t == nil || secs <= 0 {
		return 0
	}
	sum := t.Service.Mean().Seconds() * float64(t.Service.Count())
	if t.FailedLatency != nil {
		sum += t.FailedLatency.Mean().Seconds() * float64(t.FailedLatency.Count())
	}
	return sum / secs
}

func topError(s *results.Stats) string {
	kinds := sortedErrorKinds(s.ErrorKinds)
	if len(kinds) == 0 {
		return ""
	}
	k := kinds[0]
	out := fmt.Sprintf(", mostly %s", k)
	if msg := s.ErrorSamples[k]; msg != "" {
		out += ": " + format.Truncate(format.Clean(msg), 120)
	}
	return out
}
