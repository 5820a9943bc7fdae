package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
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
// checkpoints and an observer, as the CLI does, and compares the live heap
// early and late in the run. Recording keeps histograms, not samples, so
// the only growth allowed is the timeline's: 2–5 KiB per second measured
// here, against a budget of 16 KiB per second, which a leak of 8 bytes per
// request (16 KiB/s at this rate) alone would use up.
func TestLiveHeapDoesNotGrowWithRunLength(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 24 seconds")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	const (
		rate    = 2000
		length  = 24 * time.Second
		early   = 4 * time.Second
		late    = 22 * time.Second
		perSec  = 16 << 10 // the timeline budget per second of run
		measure = late - early
	)
	var snaps atomic.Int64
	plan := staticPlan(srv.URL, ConstantPacer{PerSecond: rate, Length: length})
	plan.Connections = 16
	done := make(chan *results.Result, 1)
	go func() {
		res, err := Run(context.Background(), plan,
			WithCheckpoint(filepath.Join(t.TempDir(), "r.json"), 2*time.Second),
			WithObserver(ObserverFunc(func(*results.Snapshot) { snaps.Add(1) })))
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	start := time.Now()
	time.Sleep(early)
	heapEarly := liveHeap()
	time.Sleep(late - time.Since(start))
	heapLate := liveHeap()
	res := <-done
	if res == nil {
		t.FailNow()
	}
	growth := int64(heapLate) - int64(heapEarly)
	budget := int64(measure.Seconds()) * perSec
	t.Logf("live heap %d KiB at %v, %d KiB at %v: %+d KiB over %v (budget %d KiB); %d requests, %d snapshots",
		heapEarly>>10, early, heapLate>>10, late, growth>>10, measure, budget>>10, res.Total.Requests, snaps.Load())
	if planned := uint64(rate * length.Seconds()); res.Total.Requests < planned/2 {
		// Not a rate test (the machine may be busy): only check that the
		// run did enough work for the comparison to mean something.
		t.Fatalf("%d requests of %d planned: too few to judge memory", res.Total.Requests, planned)
	}
	if growth > budget {
		t.Fatalf("live heap grew %d KiB in %v of a steady run (%.1f bytes per request); budget %d KiB",
			growth>>10, measure, float64(growth)/(rate*measure.Seconds()), budget>>10)
	}
}
