package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
