package results

import (
	"fmt"
	"math"
)

// MaxShards bounds the shard count a result may declare. Kubernetes
// Indexed Jobs stop at 100000 completions; a count beyond it is a broken
// or hostile file, and merge would otherwise build its list of missing
// shards from it.
const MaxShards = 100000

// Check reports the first figure of r that no run can produce: more errors
// than requests, a negative duration, a rate that is negative or not
// finite, a shard outside its count. A results file is data from
// elsewhere (a pull request, another machine): its figures feed thresholds
// that gate merges, so an impossible one is refused instead of reported.
func (r *Result) Check() error {
	m := &r.Meta
	for _, d := range []struct {
		name string
		v    Duration
	}{{"meta.timeout", m.Timeout}, {"meta.planned_duration", m.PlannedDuration}, {"meta.warmup", m.Warmup},
		{"meta.stopped_at", m.StoppedAt}, {"meta.cpu.user", m.CPU.User}, {"meta.cpu.system", m.CPU.System},
		{"schedule.last_sent", r.Schedule.LastSent}} {
		if d.v < 0 {
			return fmt.Errorf("%s is negative (%s)", d.name, d.v.D())
		}
	}
	if err := checkRate("meta.planned_rate", m.PlannedRate); err != nil {
		return err
	}
	if !m.Start.IsZero() && !m.End.IsZero() && m.End.Before(m.Start) {
		return fmt.Errorf("meta.end (%s) is before meta.start (%s)", m.End.Format("2006-01-02T15:04:05Z07:00"), m.Start.Format("2006-01-02T15:04:05Z07:00"))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"meta.vus", m.VUs}, {"meta.connections", m.Connections}, {"meta.max_in_flight", m.MaxInFlight}, {"meta.num_cpu", m.NumCPU}} {
		if n.v < 0 {
			return fmt.Errorf("%s is negative (%d)", n.name, n.v)
		}
	}
	if err := m.Steal.check(); err != nil {
		return err
	}
	if sh := m.Shard; sh.Count < 0 || sh.Count > MaxShards || sh.Index < 0 || (sh.Count > 1 && sh.Index >= sh.Count) {
		return fmt.Errorf("meta.shard %d/%d: want an index in [0, count) and a count of at most %d", sh.Index, sh.Count, MaxShards)
	}
	if sc := &r.Schedule; sc.WarmupSent > sc.Sent || sc.WarmupPlanned > sc.Planned {
		return fmt.Errorf("schedule: more warmup arrivals (%d sent, %d planned) than arrivals (%d, %d)", sc.WarmupSent, sc.WarmupPlanned, sc.Sent, sc.Planned)
	}
	if r.Schedule.MaxInFlight < 0 {
		return fmt.Errorf("schedule.max_in_flight is negative (%d)", r.Schedule.MaxInFlight)
	}
	stats := func(where string, s *Stats) error {
		if s == nil {
			return nil
		}
		if s.Errors > s.Requests {
			return fmt.Errorf("%s: %d errors in %d requests", where, s.Errors, s.Requests)
		}
		if s.Retries > s.Requests-s.Errors || s.Retried > s.Requests-s.Retries {
			return fmt.Errorf("%s: %d retried attempts and %d retried requests do not fit %d requests with %d errors", where, s.Retries, s.Retried, s.Requests, s.Errors)
		}
		if len(s.NotSentReasons) > 0 {
			var n uint64
			over := false
			for _, c := range s.NotSentReasons {
				over = over || n+c < n
				n += c
			}
			if over || n != s.NotSent {
				return fmt.Errorf("%s: not_sent_reasons add up to %d, not_sent is %d", where, n, s.NotSent)
			}
		}
		return nil
	}
	if err := stats("total", r.Total); err != nil {
		return err
	}
	if err := stats("warmup", r.Warmup); err != nil {
		return err
	}
	for i, s := range r.Requests {
		if err := stats(fmt.Sprintf("requests[%d]", i), s); err != nil {
			return err
		}
	}
	for i, s := range r.Groups {
		if err := stats(fmt.Sprintf("groups[%d]", i), s); err != nil {
			return err
		}
	}
	for i, s := range r.Flows {
		if s == nil {
			return fmt.Errorf("flows[%d] is null", i)
		}
		if err := stats(fmt.Sprintf("flows[%d]", i), s); err != nil {
			return err
		}
	}
	for i := range r.Timeline {
		iv := &r.Timeline[i]
		where := fmt.Sprintf("timeline[%d]", i)
		if iv.Start < 0 || iv.Length < 0 {
			return fmt.Errorf("%s: negative start or length (%s, %s)", where, iv.Start.D(), iv.Length.D())
		}
		if err := checkRate(where+".planned_rate", iv.PlannedRate); err != nil {
			return err
		}
		if iv.Total.Errors > iv.Total.Requests {
			return fmt.Errorf("%s.total: %d errors in %d requests", where, iv.Total.Errors, iv.Total.Requests)
		}
		if st := iv.Steal; st.Stolen < 0 || st.Stolen > st.Time {
			return fmt.Errorf("%s.steal: stolen %s of %s", where, st.Stolen.D(), st.Time.D())
		}
		for j := range iv.Series {
			if s := &iv.Series[j]; s.Errors > s.Requests {
				return fmt.Errorf("%s.series[%d]: %d errors in %d requests", where, j, s.Errors, s.Requests)
			}
		}
	}
	return nil
}

func checkRate(name string, v float64) error {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s is %v: want a finite rate ≥ 0", name, v)
	}
	return nil
}
