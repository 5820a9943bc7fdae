package results

import (
	"fmt"
	"math"
	"time"
)

// StealWarning is the share of its CPUs' time the hypervisor may take
// before a report warns. An open-model arrival falls due at a uniformly
// random instant, so about the stolen share of arrivals are due while
// their CPU is taken away, and they are sent only when it comes back.
// p99 leaves out the worst 1% of arrivals: from 1% of the time stolen on,
// the p99 of send lag and latency can be a hypervisor stall rather than the
// tool or the target.
const StealWarning = 0.01

// Steal is the CPU time the hypervisor took from the CPUs the process
// could run on (its affinity mask) during the run: Linux's steal time, read
// from /proc/stat at the start, at every timeline interval and at the end.
// It is nil where it cannot be measured (other systems, /proc not mounted)
// and in files of builds that did not measure it.
type Steal struct {
	// CPUs is how many CPUs were watched (summed over merged shards).
	CPUs int `json:"cpus"`
	// Stolen is the steal time of those CPUs over the run, summed over
	// them.
	Stolen Duration `json:"stolen"`
	// Time is all the time of those CPUs over the run, summed over them
	// and over every state /proc/stat counts (steal included): about the
	// elapsed time × CPUs.
	Time Duration `json:"time"`
	// Worst is the highest stolen share of one second of the run (a
	// timeline interval, or consecutive ones adding up to at least
	// StealWindow); 0 when the run was shorter.
	Worst float64 `json:"worst_second"`
	// WorstAt is the offset from the start of the run at which that
	// second began.
	WorstAt Duration `json:"worst_second_at"`
}

// IntervalSteal is the steal of one timeline interval: the CPU time the
// hypervisor took from the CPUs Meta.Steal watches, and all their time,
// from the reading before the interval's end to that end (the reading
// before is the interval's start unless it failed). Coarsened and merged
// intervals add both up. Zero, and omitted, where steal is not measured.
type IntervalSteal struct {
	Stolen Duration `json:"stolen"`
	Time   Duration `json:"time"`
}

// Share returns the stolen share of the interval's CPU time (0 without
// any).
func (s IntervalSteal) Share() float64 {
	if s.Time <= 0 {
		return 0
	}
	return float64(s.Stolen) / float64(s.Time)
}

func (s IntervalSteal) add(o IntervalSteal) IntervalSteal {
	return IntervalSteal{Stolen: s.Stolen + o.Stolen, Time: s.Time + o.Time}
}

// StealWindow is the shortest span whose stolen share can be the worst
// second: the timeline's one-second intervals close a few microseconds
// early or late, and /proc/stat counts in hundredths of a second, so a
// shorter span (the drain's last interval) would be too coarse to rank.
const StealWindow = 900 * time.Millisecond

// Share returns the stolen share of the watched CPUs' time over the run
// (0 when nothing was measured).
func (s *Steal) Share() float64 {
	if s == nil || s.Time <= 0 {
		return 0
	}
	return float64(s.Stolen) / float64(s.Time)
}

// mergeSteal folds the steal of one more shard into m: times and CPUs add
// up, so the merged share is that of all the shards' CPUs together; the
// worst second is the worst of any shard. A shard that did not measure
// steal adds nothing.
func mergeSteal(m, o *Steal) *Steal {
	if o == nil {
		return m
	}
	if m == nil {
		c := *o
		return &c
	}
	m.CPUs += o.CPUs
	m.Stolen += o.Stolen
	m.Time += o.Time
	if o.Worst > m.Worst {
		m.Worst, m.WorstAt = o.Worst, o.WorstAt
	}
	return m
}

// check reports a steal no run can measure.
func (s *Steal) check() error {
	if s == nil {
		return nil
	}
	switch {
	case s.CPUs < 0 || s.Stolen < 0 || s.Time < 0 || s.WorstAt < 0:
		return fmt.Errorf("meta.steal: a negative figure (%d CPUs, stolen %s, time %s, worst second at %s)", s.CPUs, s.Stolen.D(), s.Time.D(), s.WorstAt.D())
	case s.Stolen > s.Time:
		return fmt.Errorf("meta.steal: stolen %s is more than the CPUs' time %s", s.Stolen.D(), s.Time.D())
	case math.IsNaN(s.Worst) || s.Worst < 0 || s.Worst > 1:
		return fmt.Errorf("meta.steal.worst_second is %v, want a share from 0 to 1", s.Worst)
	}
	return nil
}
