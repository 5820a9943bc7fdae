package loadgen

import (
	"runtime"
	"sync"
	"testing"
)

// TestNoteInFlightKeepsTheMaximum has VUs report in-flight counts at once:
// whatever the interleaving, the maximum never goes down, so every VU finds
// it at least as high as the count it just reported, and the highest count
// survives. With a load and then a store, a VU that loaded the old maximum
// overwrites a higher count stored meanwhile, which the VU that stored it
// sees at its next check. The window is a few nanoseconds; under -race,
// which slows every atomic, the rounds below hit it (the load-and-store
// version failed 9 of 11 runs with -race).
func TestNoteInFlightKeepsTheMaximum(t *testing.T) {
	const vus, reports, rounds = 8, 64, 300
	for round := 0; round < rounds; round++ {
		var c runCounters
		var ready, done sync.WaitGroup
		ready.Add(1)
		for v := 0; v < vus; v++ {
			done.Add(1)
			go func() {
				defer done.Done()
				ready.Wait()
				// Counts interleave across VUs, so each VU's report can be
				// lower than one another VU just stored.
				for k := 0; k < reports; k++ {
					n := int64(k*vus + v + 1)
					c.noteInFlight(n)
					if m := c.maxInFlight.Load(); m < n {
						t.Errorf("max in flight %d after a VU reported %d", m, n)
						return
					}
					if k%2 == 0 {
						runtime.Gosched()
					}
				}
			}()
		}
		ready.Done()
		done.Wait()
		if t.Failed() {
			return
		}
		if got, want := c.maxInFlight.Load(), int64(vus*reports); got != want {
			t.Fatalf("round %d: max in flight %d, want %d", round, got, want)
		}
	}
}
