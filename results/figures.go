package results

import "time"

// The figures every output shows are defined here, once: the text and
// Markdown summaries, the JSON summary, the charts, the dashboard and the
// thresholds call these methods instead of dividing counts themselves.
// docs/metrics.md lists each with its formula.

// loadEnd is the offset from the run start at which the load ended: where
// the measured duration stops and the drain of requests in flight begins.
//   - a run stopped early: the stop;
//   - an open-model run: the end of the schedule as kept, the planned
//     duration or the send of the last arrival if that came later;
//   - a closed-model run bounded by a duration: the planned duration;
//   - a closed-model run bounded by iterations only: the end of the run.
func (r *Result) loadEnd() time.Duration {
	m := &r.Meta
	elapsed := m.End.Sub(m.Start)
	if elapsed < 0 {
		elapsed = 0
	}
	planned := m.PlannedDuration.D()
	switch {
	case m.StoppedAt > 0:
		return min(elapsed, m.StoppedAt.D())
	case m.Model == ClosedModel:
		if planned > 0 {
			return min(elapsed, planned)
		}
		return elapsed
	case r.Schedule.LastSent > 0:
		// Not cut to the elapsed time: the last arrival of a 10s plan is
		// due just before 10s and may finish sooner, and the rates are
		// still per planned second.
		return max(planned, r.Schedule.LastSent.D())
	case !m.Partial && elapsed < planned:
		// A results file of an older build: no record of the schedule's end.
		return planned
	}
	return elapsed
}

// Measured returns the measured duration: from the end of the warmup to
// the end of the load (see loadEnd). The time spent afterwards waiting for
// requests in flight is Drain, not part of it, so a slow target does not
// lower the achieved rates of a client that kept to its schedule.
func (r *Result) Measured() time.Duration {
	d := r.loadEnd() - r.Meta.Warmup.D()
	if d < 0 {
		return 0
	}
	return d
}

// Drain returns how long the run waited for requests in flight after the
// load ended.
func (r *Result) Drain() time.Duration {
	d := r.Meta.End.Sub(r.Meta.Start) - r.loadEnd()
	if d < 0 {
		return 0
	}
	return d
}

// perSecond divides n by the measured duration.
func (r *Result) perSecond(n uint64) float64 {
	secs := r.Measured().Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// RequestRate returns the requests of st per second of the measured
// duration (requests/s): every request of every flow step, failed ones
// included.
func (r *Result) RequestRate(st *Stats) float64 {
	if st == nil {
		return 0
	}
	return r.perSecond(st.Requests)
}

// Rate returns the request rate of the whole run (RequestRate of Total).
func (r *Result) Rate() float64 { return r.RequestRate(r.Total) }

// MeasuredSent returns the arrivals (flow iterations) sent after the warmup.
func (r *Result) MeasuredSent() uint64 {
	return r.Schedule.Sent - min(r.Schedule.WarmupSent, r.Schedule.Sent)
}

// MeasuredPlanned returns the arrivals the plan has after the warmup.
func (r *Result) MeasuredPlanned() uint64 {
	return r.Schedule.Planned - min(r.Schedule.WarmupPlanned, r.Schedule.Planned)
}

// IterationRate returns the arrivals (flow iterations) sent per second of
// the measured duration (iterations/s): the figure to hold against
// PlannedRate, whatever the number of steps per flow.
func (r *Result) IterationRate() float64 { return r.perSecond(r.MeasuredSent()) }

// PlannedSpan returns the planned length of the measured part.
func (r *Result) PlannedSpan() time.Duration {
	d := r.Meta.PlannedDuration.D() - r.Meta.Warmup.D()
	if d < 0 {
		return 0
	}
	return d
}

// PlannedRate returns the planned arrival rate of the measured part for
// the arrivals this result covers (one shard's share in a shard's result),
// 0 for the closed model, which plans no rate.
func (r *Result) PlannedRate() float64 {
	if r.Meta.Model == ClosedModel {
		return 0
	}
	secs := r.PlannedSpan().Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(r.MeasuredPlanned()) / secs
}

// ArrivalRatio returns the share of the plan the client kept, in [0, 1]:
// the arrivals sent after the warmup over those planned, scaled down by
// how far the schedule overran its planned span (the send of the last
// arrival after the planned end):
//
//	(sent / planned) × planned span / max(planned span, last send − warmup)
//
// A stopped run is held against its whole plan, so it shows the share it
// sent; a client that sent everything but late shows the stretch. The
// drain of requests in flight plays no part. ok is false for a run that
// planned no arrivals (the closed model).
func (r *Result) ArrivalRatio() (ratio float64, ok bool) {
	if r.Meta.Model == ClosedModel {
		return 0, false
	}
	planned := r.MeasuredPlanned()
	span := r.PlannedSpan()
	if planned == 0 || span <= 0 {
		return 0, false
	}
	sent := min(r.MeasuredSent(), planned)
	kept := span
	if last := r.Schedule.LastSent.D() - r.Meta.Warmup.D(); last > kept {
		kept = last
	}
	return float64(sent) / float64(planned) * (span.Seconds() / kept.Seconds()), true
}

// CPUShare returns the process's CPU time over the run's elapsed time
// divided by the processors it could use: 1 means the client was busy on
// every CPU the whole run.
func (r *Result) CPUShare() float64 {
	elapsed := r.Meta.End.Sub(r.Meta.Start).Seconds()
	if elapsed <= 0 || r.Meta.NumCPU <= 0 {
		return 0
	}
	return r.Meta.CPU.Total().Seconds() / elapsed / float64(r.Meta.NumCPU)
}
