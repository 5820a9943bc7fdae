package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestCheckpointFailureIsReported: a checkpoint that cannot be written is
// named in the snapshots, and the run still ends with every measurement.
func TestCheckpointFailureIsReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "missing-dir", "r.json")
	var mu sync.Mutex
	var failures []string
	obs := ObserverFunc(func(s *results.Snapshot) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, s.CheckpointError)
	})
	res, err := Run(context.Background(), staticPlan(srv.URL, ConstantPacer{PerSecond: 200, Length: 2 * time.Second}),
		WithInterval(100*time.Millisecond), WithCheckpoint(path, 100*time.Millisecond), WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 400 {
		t.Fatalf("%d requests, want 400", res.Total.Requests)
	}
	mu.Lock()
	defer mu.Unlock()
	last := failures[len(failures)-1]
	if !strings.Contains(last, "checkpoint: write results "+path) || !strings.Contains(last, "no such file or directory") {
		t.Fatalf("last snapshot's checkpoint error = %q, want the path and the cause", last)
	}
}

// TestCheckpointSinkGetsResultsToKeep: a caller's sink gets a partial
// result every period, and the results it keeps stay as they were when it
// got them while the run goes on.
func TestCheckpointSinkGetsResultsToKeep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 5 * time.Second})
		var mu sync.Mutex
		var kept []*results.Result
		sink := func(r *results.Result) error {
			mu.Lock()
			defer mu.Unlock()
			kept = append(kept, r)
			return nil
		}
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithCheckpointSink(sink, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(kept) < 4 {
			t.Fatalf("%d checkpoints in a 5s run with one a second, want at least 4", len(kept))
		}
		var prev uint64
		for i, r := range kept {
			if !r.Meta.Partial || r.Meta.StopReason != "checkpoint" {
				t.Fatalf("checkpoint %d: partial %v, reason %q", i, r.Meta.Partial, r.Meta.StopReason)
			}
			if n := r.Total.Requests; n < prev || n >= res.Total.Requests {
				t.Fatalf("checkpoint %d has %d requests after %d, of %d in all", i, n, prev, res.Total.Requests)
			}
			prev = r.Total.Requests
			if got := r.Total.Latency.Count(); got != int64(r.Total.Requests) {
				t.Fatalf("checkpoint %d: latency histogram counts %d of its %d requests", i, got, r.Total.Requests)
			}
		}
	})
}
