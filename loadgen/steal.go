package loadgen

import (
	"bytes"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// A virtual machine's hypervisor can take a CPU away for milliseconds at a
// time; Linux counts that time as the CPU's "steal". A load generator
// cannot prevent it, but its send lag and latency include every such
// stall, so the run measures it on the CPUs the process may run on and the
// reports say when it was large (results.Steal, docs/metrics.md).

// userHZ is the unit of /proc/stat's CPU times: USER_HZ, 100 per second on
// every architecture Go runs Linux on.
const userHZ = 100

// stealClock is what /proc/stat says of the watched CPUs at one instant,
// in USER_HZ ticks summed over them.
type stealClock struct {
	stolen uint64 // the steal field
	total  uint64 // every state from user to steal
	cpus   int    // the watched CPUs /proc/stat listed
}

// follows reports whether c can come after prev: the same CPUs, and no
// count went backwards (a CPU taken offline and back restarts nothing, but
// one that left the list would).
func (c stealClock) follows(prev stealClock) bool {
	return c.cpus == prev.cpus && c.stolen >= prev.stolen && c.total >= prev.total
}

// procStatFields is how many leading fields of a per-CPU line of
// /proc/stat add up to its time: user, nice, system, idle, iowait, irq,
// softirq and steal. The guest fields after them are already counted in
// user and nice.
const procStatFields = 8

// parseProcStat sums the steal and the time of the per-CPU lines ("cpu3
// user nice system idle iowait irq softirq steal guest guest_nice") of
// /proc/stat text whose CPU number watch accepts. The all-CPU "cpu" line
// and every other line are skipped.
func parseProcStat(data []byte, watch func(cpu int) bool) (stealClock, error) {
	var c stealClock
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		rest, ok := bytes.CutPrefix(line, []byte("cpu"))
		if !ok || len(rest) == 0 || rest[0] == ' ' {
			continue
		}
		cpu, rest, err := procStatNumber(rest)
		if err != nil || cpu > 1<<20 || (len(rest) > 0 && rest[0] != ' ') {
			return stealClock{}, fmt.Errorf("/proc/stat line %d: %.20q is not a CPU (cpuN)", n, line)
		}
		if !watch(int(cpu)) {
			continue
		}
		var total, v uint64
		for i := range procStatFields {
			rest = bytes.TrimLeft(rest, " ")
			if v, rest, err = procStatNumber(rest); err != nil {
				return stealClock{}, fmt.Errorf("/proc/stat line %d: cpu%d field %d: %w", n, cpu, i+1, err)
			}
			if total+v < total {
				return stealClock{}, fmt.Errorf("/proc/stat line %d: cpu%d: the times add up past 2^64", n, cpu)
			}
			total += v
		}
		if c.total+total < c.total {
			return stealClock{}, fmt.Errorf("/proc/stat line %d: the CPUs' times add up past 2^64", n)
		}
		c.stolen += v // the last field read is steal
		c.total += total
		c.cpus++
	}
	return c, nil
}

// procStatNumber reads the decimal count at the start of b.
func procStatNumber(b []byte) (v uint64, rest []byte, err error) {
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, nil, fmt.Errorf("%.24q is more than 2^64", b)
		}
		v = v*10 + d
	}
	if i == 0 {
		return 0, nil, fmt.Errorf("%.24q is not a count", b)
	}
	return v, b[i:], nil
}

// stealMeter follows the steal of the watched CPUs over a run: the
// collector reads it at every timeline interval and takes the run's
// figures from the latest reading. Only the collector's goroutine uses it;
// a nil meter measures nothing.
type stealMeter struct {
	read        func() (stealClock, error)
	start, last stealClock
	// win is the reading at offset winAt, where the second being
	// measured began.
	win     stealClock
	winAt   time.Duration
	worst   float64
	worstAt time.Duration
}

// newStealMeter starts a meter with its first reading, or returns nil
// when read is nil or fails or watches no CPU.
func newStealMeter(read func() (stealClock, error)) *stealMeter {
	if read == nil {
		return nil
	}
	c, err := read()
	if err != nil || c.cpus == 0 {
		return nil
	}
	return &stealMeter{read: read, start: c, last: c, win: c}
}

// tick reads the CPUs at offset at from the start of the run, the end of
// a timeline interval, and returns the steal since the reading before.
// Once the span since the second being measured began reaches
// results.StealWindow, its stolen share is a candidate for the worst
// second and the next one begins. A failed or inconsistent reading is
// skipped (the interval gets no steal): the span then runs to the next
// good one.
func (m *stealMeter) tick(at time.Duration) results.IntervalSteal {
	if m == nil {
		return results.IntervalSteal{}
	}
	c, err := m.read()
	if err != nil || !c.follows(m.last) {
		return results.IntervalSteal{}
	}
	iv := results.IntervalSteal{Stolen: stealTicks(c.stolen - m.last.stolen), Time: stealTicks(c.total - m.last.total)}
	m.last = c
	if at-m.winAt < results.StealWindow {
		return iv
	}
	if d := c.total - m.win.total; d > 0 {
		if share := float64(c.stolen-m.win.stolen) / float64(d); share > m.worst {
			m.worst, m.worstAt = share, m.winAt
		}
	}
	m.win, m.winAt = c, at
	return iv
}

// stealTicks converts USER_HZ ticks to a duration.
func stealTicks(n uint64) results.Duration {
	return results.Duration(time.Duration(n) * (time.Second / userHZ))
}

// result is the steal from the first reading to the latest.
func (m *stealMeter) result() *results.Steal {
	if m == nil {
		return nil
	}
	return &results.Steal{
		CPUs:   m.start.cpus,
		Stolen: stealTicks(m.last.stolen - m.start.stolen), Time: stealTicks(m.last.total - m.start.total),
		Worst: m.worst, WorstAt: results.Duration(m.worstAt),
	}
}
