package loadgen

import (
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// shardSchedule is a shard's view of the plan's arrivals: shard i of N
// takes arrivals i, i+N, i+2N… (DESIGN.md, "Exact sharding"). The scheduler
// walks it to send, the collector to count what was planned.
type shardSchedule struct{ first, step uint64 }

func newShardSchedule(sh results.Shard) shardSchedule {
	if sh.Count > 1 {
		return shardSchedule{first: uint64(sh.Index), step: uint64(sh.Count)}
	}
	return shardSchedule{step: 1}
}

// global is the plan's number of this shard's k-th arrival.
func (s shardSchedule) global(k uint64) uint64 { return s.first + k*s.step }

// count is how many of the plan's first n arrivals are this shard's.
func (s shardSchedule) count(n uint64) uint64 {
	if n <= s.first {
		return 0
	}
	return (n - s.first + s.step - 1) / s.step
}

// plannedTotal is the number of arrivals this shard's part of p asks for
// (zero without a pacer: a closed-model run plans none).
func (s shardSchedule) plannedTotal(p Pacer) uint64 {
	if p == nil {
		return 0
	}
	return s.count(p.Count())
}

// plannedBy counts this shard's arrivals planned before elapsed.
func (s shardSchedule) plannedBy(p Pacer, elapsed time.Duration) uint64 {
	// Binary search over the shard's own arrival indices.
	lo, hi := uint64(0), s.plannedTotal(p)
	for lo < hi {
		mid := (lo + hi) / 2
		at, ok := p.Arrival(s.global(mid))
		if ok && at < elapsed {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
