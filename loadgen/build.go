package loadgen

import (
	"maps"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// build assembles a Result from the collector's state. With a freeze
// function, which returns frozen copies of histograms, the result shares
// nothing mutable with the running collector; with nil it shares all.
func (rec *recorder) build(partial bool, reason string, freeze func(*results.Histogram) *results.Histogram) *results.Result {
	p := rec.cfg.plan
	cnt := rec.cfg.counts
	cp := func(s *results.Stats) *results.Stats {
		if freeze == nil {
			return s
		}
		c := *s
		c.Status = maps.Clone(s.Status)
		c.ErrorKinds = maps.Clone(s.ErrorKinds)
		c.Checks = maps.Clone(s.Checks)
		c.ErrorSamples = map[string]string{}
		c.NotSentReasons = maps.Clone(s.NotSentReasons)
		c.Latency = freeze(s.Latency)
		yield()
		c.Service = freeze(s.Service)
		yield()
		c.SendLag = freeze(s.SendLag)
		yield()
		if s.FailedLatency != nil {
			c.FailedLatency = freeze(s.FailedLatency)
		}
		return &c
	}
	res := &results.Result{Version: results.ResultVersion, Total: cp(rec.total)}
	for _, ns := range rec.names {
		res.Requests = append(res.Requests, cp(ns.cum))
	}
	for _, gs := range rec.groups {
		res.Groups = append(res.Groups, cp(gs.cum))
	}
	res.GroupByFolds = rec.resp.foldList()
	if p.Warmup > 0 {
		res.Warmup = cp(rec.warmTotal)
	}
	res.Flows = rec.flowStats(cp)
	rec.errMu.Lock()
	for _, st := range append([]*results.Stats{res.Total}, res.Requests...) {
		if st.NotSent > 0 {
			st.NotSentSamples = map[string]string{}
			for r := range numNotSentReasons {
				if msg, ok := rec.notSentSamples[r]; ok && st.NotSentReasons[r.String()] > 0 {
					st.NotSentSamples[r.String()] = msg
				}
			}
			st.NotSentReason = st.MainNotSentSample()
		}
		for k := range st.ErrorKinds {
			kind, _ := ParseErrorKind(k)
			if msg, ok := rec.errSamples[kind]; ok {
				st.ErrorSamples[k] = msg
			}
		}
	}
	rec.errMu.Unlock()
	res.Sort()
	// Share the timeline instead of copying it: closed intervals never
	// change, the collector only appends, which the capacity limit keeps
	// out of this slice, and merging old intervals makes a new slice
	// (results.TimelineCoarsener). A checkpoint of a long run copies
	// nothing.
	res.Timeline = rec.timeline[:len(rec.timeline):len(rec.timeline)]

	planned := rec.shard.plannedTotal(p.Pacer)
	issued := cnt.issued.Load()
	res.Schedule = results.Schedule{
		Planned:     planned,
		Sent:        cnt.sent.Load(),
		Dropped:     cnt.dropped.Load(),
		Late:        cnt.late.Load(),
		MaxInFlight: cnt.maxInFlight.Load(),
		WarmupSent:  cnt.sentWarm.Load(),
		LastSent:    results.Duration(cnt.lastSent.Load()),
	}
	if p.Pacer != nil && p.Warmup > 0 {
		res.Schedule.WarmupPlanned = rec.shard.plannedBy(p.Pacer, p.Warmup)
	}
	res.Iterations = results.Iterations{
		Completed: cnt.itCompleted.Load(), Failed: cnt.itFailed.Load(), Aborted: cnt.itAborted.Load(),
	}
	if p.Pacer == nil {
		res.Schedule.Planned = issued
	} else if issued < planned {
		res.Schedule.Unsent = planned - issued
	}
	if res.Schedule.Sent+res.Schedule.Dropped < issued {
		// Arrivals issued but never started because the run stopped.
		res.Schedule.Unsent += issued - res.Schedule.Sent - res.Schedule.Dropped
	}

	res.Meta = p.Meta()
	res.Meta.Start, res.Meta.End = rec.cfg.start, time.Now()
	if !rec.cfg.startAt.IsZero() {
		res.Meta.PlannedStart, res.Meta.ActualStart = rec.cfg.startAt, rec.cfg.actualStart
	}
	res.Meta.RunID = runID(p, res.Meta.PlanHash, rec.cfg.startAt, rec.cfg.start)
	res.Meta.Host = hostname()
	res.Meta.Partial, res.Meta.StopReason = partial, reason
	if p.Pacer != nil {
		res.Meta.PlannedRequests = planned
	}
	if stop := time.Duration(cnt.stopAt.Load()); stop > 0 && rec.cutShort(stop, issued, planned) {
		res.Meta.StoppedAt = results.Duration(stop)
	}
	cpu := processCPU()
	res.Meta.CPU = results.CPU{User: results.Duration(cpu.user - cnt.cpuStart.user), System: results.Duration(cpu.system - cnt.cpuStart.system)}
	res.Meta.Steal = rec.steal.result()
	return res
}

// cutShort reports whether a stop at offset stop ended the load before
// the plan did: a stop while only requests in flight were left (the
// drain) leaves the measured part whole.
func (rec *recorder) cutShort(stop time.Duration, issued, planned uint64) bool {
	p := rec.cfg.plan
	if p.Pacer != nil {
		return issued < planned
	}
	if p.Iterations > 0 && issued >= p.Iterations {
		return false
	}
	return p.Duration == 0 || stop < p.PlannedDuration()
}
