package loadgen

import (
	"sort"

	"github.com/tailgate-dev/tailgate/results"
)

// Flow timings: each timed flow's iterations are a series of their own. A
// worker records one sample per iteration that ended (flowSeries), from
// the arrival's intended time to the end of its last step, so think times
// and the queueing of every step are in it; the collector counts it here,
// apart from the request series.

// newFlowSeries sets up the collector's state per flow of the plan: flows
// has an entry per flow (nil when it is not timed), flowList each series
// once, by name (flows of one name share one).
func (rec *recorder) newFlowSeries() {
	rec.flows = make([]*seriesStats, len(rec.cfg.plan.Flows))
	byName := map[string]*seriesStats{}
	for i, f := range rec.cfg.plan.Flows {
		if !f.Timed {
			continue
		}
		fs := byName[f.Name]
		if fs == nil {
			fs = &seriesStats{
				cum: results.NewStats(f.Name, ""), warm: rec.newWarmStats(f.Name, ""),
				interval: &results.IntervalStats{Name: f.Name, Latency: results.NewHistogram()},
			}
			byName[f.Name] = fs
			rec.flowList = append(rec.flowList, fs)
		}
		rec.flows[i] = fs
	}
	sort.Slice(rec.flowList, func(i, j int) bool { return rec.flowList[i].cum.Name < rec.flowList[j].cum.Name })
}

// addFlow counts an iteration's sample into its flow's series: the same
// rule as requests (addSample), a warmup iteration apart.
func (rec *recorder) addFlow(s *sample) {
	fs := rec.flows[-1-s.series]
	if s.warmup {
		addSample(fs.warm, s, "")
		return
	}
	addSample(fs.cum, s, "")
	fs.interval.Requests++
	if s.kind != KindNone {
		fs.interval.Errors++
		return
	}
	fs.interval.Latency.Record(s.done - s.intended)
}

// flowStats returns the timed flows' stats, one per name, copied with cp.
func (rec *recorder) flowStats(cp func(*results.Stats) *results.Stats) []*results.Stats {
	var out []*results.Stats
	for _, fs := range rec.flowList {
		out = append(out, cp(fs.cum))
	}
	return out
}

// flowSnapshots returns the flows' figures for a snapshot: cumulative (the
// warmup's while it runs) and of the interval, whose rate is rate(count).
func (rec *recorder) flowSnapshots(warmup bool, rate func(uint64) float64) []results.SeriesSnapshot {
	var out []results.SeriesSnapshot
	for _, fs := range rec.flowList {
		st := fs.cum
		if warmup {
			st = fs.warm
		}
		iv := fs.interval
		out = append(out, results.SeriesSnapshot{
			Name: st.Name, Flow: true, Requests: st.Requests, Errors: st.Errors,
			IntervalRequests: iv.Requests, IntervalErrors: iv.Errors,
			Rate: rate(iv.Requests), Interval: iv.Latency.Summary(), Cumulative: st.Latency.Summary(),
		})
		yield()
	}
	return out
}

// resetFlowIntervals starts the flows' next interval.
func (rec *recorder) resetFlowIntervals() {
	for _, fs := range rec.flowList {
		fs.interval.Requests, fs.interval.Errors = 0, 0
		fs.interval.Latency.Reset()
	}
}
