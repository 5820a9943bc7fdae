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
		c.ErrorSamples = map[string]string{}
		c.Latency = freeze(s.Latency)
		yield()
		c.Service = freeze(s.Service)
		yield()
		c.SendLag = freeze(s.SendLag)
		yield()
		return &c
	}
	res := &results.Result{Version: results.ResultVersion, Total: cp(rec.total)}
	for _, ns := range rec.names {
		res.Requests = append(res.Requests, cp(ns.cum))
	}
	for _, gs := range rec.groups {
		res.Groups = append(res.Groups, cp(gs.cum))
	}
	if p.Warmup > 0 {
		res.Warmup = cp(rec.warmTotal)
	}
	rec.errMu.Lock()
	for _, st := range append([]*results.Stats{res.Total}, res.Requests...) {
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
	return res
}
