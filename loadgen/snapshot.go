package loadgen

import (
	"maps"
	"sort"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// snapshot is what observers see of the interval ending at now: the
// schedule so far, the interval's and the run's figures per series.
func (rec *recorder) snapshot(now time.Time, elapsed, length time.Duration, last bool) *results.Snapshot {
	p := rec.cfg.plan
	cnt := rec.cfg.counts
	s := &results.Snapshot{
		Time: now, Elapsed: elapsed, Planned: p.PlannedDuration(),
		Name: p.Name, Target: Redact(p.Target, p.Redact), Model: p.Model(),
		Warmup:   p.Warmup > 0 && elapsed < p.Warmup,
		InFlight: cnt.inFlight.Load(),
		Sent:     cnt.sent.Load(), Dropped: cnt.dropped.Load(), Late: cnt.late.Load(),
		Done: last,
	}
	// Each summary of a dense histogram is two passes over its counts
	// (tens of µs): the collector yields after each, as between the pieces
	// of the rest of its work. Built in one go, a snapshot held the
	// processor ~300 µs (an execution trace of a run at 10k/s with
	// --metrics-addr).
	s.SendLag = rec.ivTotal.SendLag.Summary()
	yield()
	if rec.runID == "" {
		rec.runID = runID(p, planHash(p), rec.cfg.startAt, rec.cfg.start)
	}
	s.RunID = rec.runID
	if err := rec.checkpointErr.Load(); err != nil {
		s.CheckpointError = (*err).Error()
	}
	if p.Pacer != nil {
		s.Profile = p.Pacer.String()
		s.TargetRate = p.Pacer.Rate(elapsed)
		s.Stage = s.Profile
		// Poisson arrivals run through the stages of their profile.
		if sp, ok := stagedProfile(p.Pacer); ok {
			if i := sp.StageAt(elapsed); i >= 0 {
				st := sp.Stages()[i]
				s.Stage = st.Pacer.String()
				if st.Name != "" {
					s.Stage = st.Name
				}
			}
		}
		s.PlannedArrivals = rec.shard.plannedBy(p.Pacer, elapsed)
	} else {
		s.Profile = closedProfile(&p.Load)
	}
	secs := length.Seconds()
	rate := func(n uint64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	s.Rate = rate(rec.ivTotal.Requests)
	s.ArrivalRate = rate(s.Sent - rec.lastSent)
	rec.lastSent = s.Sent
	if last {
		// The last interval is the drain, when nothing is planned or
		// sent: the final frame shows the run's figures, as the results
		// define them (docs/metrics.md), not "0/s of 0/s".
		res := rec.build(false, "", nil)
		s.ArrivalRate, s.TargetRate, s.Rate = res.IterationRate(), res.PlannedRate(), res.RequestRate(res.Total)
	}
	if cnt.tickets != nil || (cnt.socketLoop && p.Pacer != nil) {
		if cnt.tickets != nil {
			s.Queued = int64(len(cnt.tickets))
		} else {
			s.Queued = cnt.loopQueued.Load()
		}
		if cnt.blocked.Load() {
			s.Queued++
		}
		if taken := time.Duration(cnt.taken.Load()); s.Queued > 0 && taken > 0 && elapsed > taken {
			s.OldestQueued = elapsed - taken
		}
	}
	tot := rec.total
	if s.Warmup {
		tot = rec.warmTotal
	}
	s.Total = results.SeriesSnapshot{
		Requests: tot.Requests, Errors: tot.Errors,
		IntervalRequests: rec.ivTotal.Requests, IntervalErrors: rec.ivTotal.Errors,
		Rate: rate(rec.ivTotal.Requests), Interval: rec.ivTotal.Latency.Summary(),
		Status: maps.Clone(tot.Status),
	}
	yield()
	s.Total.Cumulative = tot.Latency.Summary()
	yield()
	for _, n := range rec.sortedNames() {
		ns := rec.names[n]
		st := ns.cum
		if s.Warmup {
			st = ns.warm
		}
		ss := results.SeriesSnapshot{
			Name: n, Requests: st.Requests, Errors: st.Errors,
			IntervalRequests: ns.interval.Requests, IntervalErrors: ns.interval.Errors,
			Rate: rate(ns.interval.Requests), Interval: ns.interval.Latency.Summary(),
			Status: maps.Clone(st.Status),
		}
		yield()
		ss.Cumulative = st.Latency.Summary()
		s.Series = append(s.Series, ss)
		yield()
	}
	keys := make([]seriesKey, 0, len(rec.groups))
	for k := range rec.groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return results.GroupLess(keys[i].group, keys[j].group)
	})
	for _, k := range keys {
		gs := rec.groups[k]
		st := gs.cum
		if s.Warmup {
			st = gs.warm
		}
		s.Series = append(s.Series, results.SeriesSnapshot{
			Name: k.name, Group: k.group, Requests: st.Requests, Errors: st.Errors,
			Cumulative: gs.groupSummary(st), Status: maps.Clone(st.Status),
		})
		yield()
	}
	s.Flows = rec.flowSnapshots(s.Warmup, rate)
	s.Errors = rec.errorCounts()
	if rec.deltas != nil {
		rec.seriesMu.Lock()
		keys := rec.keys[:len(rec.keys):len(rec.keys)]
		rec.seriesMu.Unlock()
		s.Deltas = rec.deltas.take(keys)
		s.Iterations = rec.iterationDeltas()
	}
	return s
}

func closedProfile(p *Load) string {
	s := strconv.Itoa(p.VUs) + " VUs"
	if p.Iterations > 0 {
		s += ", " + strconv.FormatUint(p.Iterations, 10) + " iterations"
	}
	if p.Duration > 0 {
		s += " for " + p.Duration.String()
	}
	if p.Think > 0 {
		s += ", think " + p.Think.String()
	}
	return s
}
