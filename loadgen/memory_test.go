package loadgen

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// liveHeap returns the bytes of heap still reachable after a full
// collection: unlike resident memory, it does not depend on when the
// collector last ran, so it compares exactly between two moments.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle also empties the sync.Pool victim caches
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestLiveHeapDoesNotGrowWithRunLength runs at a steady rate with
// checkpoints to a file and an observer, as the CLI does, on a fake clock
// (so the machine's speed changes nothing), and compares the live heap
// after 20 and after 200 one-second intervals of the same run. Recording
// keeps histograms, not samples, and the timeline keeps one minute at full
// resolution and 10 s intervals before it, so what the run may add in
// those 180 s is about 80 intervals (44–57 KiB measured): the budget,
// 128 KiB, is less than a leak of one byte per request (180,000 requests)
// would take, where the wall-clock test this replaces allowed 8 bytes.
func TestLiveHeapDoesNotGrowWithRunLength(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 210 seconds at 1000/s")
	}
	const (
		rate   = 1000
		length = 210 * time.Second
		early  = 20 // snapshots, one per second
		late   = 200
		budget = 128 << 10
	)
	var heapEarly, heapLate uint64
	var res *results.Result
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: rate, Length: length})
		plan.Connections = 16
		var snaps int
		observe := ObserverFunc(func(*results.Snapshot) {
			switch snaps++; snaps {
			case early:
				heapEarly = liveHeap()
			case late:
				heapLate = liveHeap()
			}
		})
		var err error
		res, err = Run(context.Background(), plan, WithClock(FakeClock),
			WithCheckpoint(filepath.Join(t.TempDir(), "r.json"), 2*time.Second), WithObserver(observe))
		if err != nil {
			t.Fatal(err)
		}
		if snaps < late {
			t.Fatalf("%d snapshots, want at least %d", snaps, late)
		}
	})
	if want := uint64(rate * length.Seconds()); res.Total.Requests != want {
		t.Fatalf("%d requests, want %d", res.Total.Requests, want)
	}
	growth := int64(heapLate) - int64(heapEarly)
	t.Logf("live heap %d KiB after %d s, %d KiB after %d s: %+d KiB (budget %d KiB); %d intervals kept",
		heapEarly>>10, early, heapLate>>10, late, growth>>10, budget>>10, len(res.Timeline))
	if growth > budget {
		t.Fatalf("live heap grew %d KiB from %d s to %d s of a steady run (%.2f bytes per request); budget %d KiB",
			growth>>10, early, late, float64(growth)/(rate*(late-early)), budget>>10)
	}
}
