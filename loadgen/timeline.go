package loadgen

import (
	"runtime"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// closeInterval ends the current timeline interval at now, publishes a
// snapshot, and starts the next interval.
func (rec *recorder) closeInterval(now time.Time, last bool) {
	cfg := &rec.cfg
	end := now.Sub(cfg.start)
	length := end - rec.ivStart
	if length <= 0 && !last {
		return
	}
	// Read before the snapshot: the last one builds the run's results.
	steal := rec.steal.tick(end)
	// A snapshot costs a few summaries of dense histograms per series;
	// without an observer (--quiet, a library run) nobody reads it.
	var snap *results.Snapshot
	if len(cfg.observers) > 0 {
		snap = rec.snapshot(now, end, length, last)
	}
	if snap != nil {
		snap.Steal = steal.Share()
	}
	cpu := processCPU()
	if snap != nil && length > 0 {
		used := (cpu.user + cpu.system) - (rec.lastCPU.user + rec.lastCPU.system)
		snap.CPU = used.Seconds() / length.Seconds() / float64(runtime.NumCPU())
	}
	rec.lastCPU = cpu

	iv := results.Interval{
		Start:  results.Duration(rec.ivStart),
		Length: results.Duration(length),
		Warmup: cfg.plan.Warmup > 0 && rec.ivStart < cfg.plan.Warmup,
		Total:  results.IntervalStats{Requests: rec.ivTotal.Requests, Errors: rec.ivTotal.Errors, Latency: rec.freeze(rec.ivTotal.Latency)},
		Quota:  rec.ivQuota,
		Steal:  steal,
	}
	rec.ivQuota = nil
	yield()
	iv.Total.SendLag = rec.freeze(rec.ivTotal.SendLag)
	yield()
	if cfg.plan.Pacer != nil {
		iv.PlannedRate = cfg.plan.Pacer.Rate(rec.ivStart)
	}
	sent := cfg.counts.sent.Load()
	iv.Arrivals = sent - rec.ivSent
	rec.ivSent = sent
	for _, n := range rec.sortedNames() {
		ns := rec.names[n].interval
		is := results.IntervalStats{Name: n, Requests: ns.Requests, Errors: ns.Errors, Latency: rec.freeze(ns.Latency)}
		iv.Series = append(iv.Series, is)
		ns.Requests, ns.Errors = 0, 0
		ns.Latency.Reset()
		yield()
	}
	if length > 0 || iv.Total.Requests > 0 {
		rec.timeline = rec.coarse.Add(rec.timeline, iv)
	}
	rec.ivTotal.Requests, rec.ivTotal.Errors = 0, 0
	rec.ivTotal.Latency.Reset()
	rec.ivTotal.SendLag.Reset()
	rec.resetFlowIntervals()
	rec.ivStart = end
	rec.compactIdleGroups()

	for _, o := range cfg.observers {
		o.Observe(snap)
	}
}
