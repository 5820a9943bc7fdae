package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestTargetKilledMidRun: the planned rate is held after the target dies,
// errors are classified, and the run ends on schedule.
func TestTargetKilledMidRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	time.AfterFunc(time.Second, func() {
		srv.Listener.Close()
		srv.CloseClientConnections()
	})
	begin := time.Now()
	res, err := Run(context.Background(), staticPlan(srv.URL, ConstantPacer{PerSecond: 200, Length: 3 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(begin); el > 5*time.Second {
		t.Fatalf("run took %v for a 3s plan", el)
	}
	if res.Total.Requests != 600 {
		t.Fatalf("%d requests recorded, want all 600 planned", res.Total.Requests)
	}
	ok := res.Total.Status[200]
	if ok < 150 || ok > 250 || res.Total.Errors != 600-ok {
		t.Fatalf("%d ok, %d errors (%v); want about 200 ok and the rest failed", ok, res.Total.Errors, res.Total.ErrorKinds)
	}
	for kind := range res.Total.ErrorKinds {
		switch kind {
		case "refused", "reset", "eof":
		default:
			t.Errorf("error kind %q (%s); want refused, reset or eof", kind, res.Total.ErrorSamples[kind])
		}
	}
	// Errors show up in the timeline second by second.
	var errs uint64
	for _, iv := range res.Timeline {
		errs += iv.Total.Errors
	}
	if errs != res.Total.Errors {
		t.Fatalf("timeline errors %d, total %d", errs, res.Total.Errors)
	}
}

// TestSlowTargetBounded: responses slower than the timeout are counted as
// timeouts; in-flight arrivals, goroutines and memory stay bounded.
func TestSlowTargetBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	plan := staticPlan(srv.URL, ConstantPacer{PerSecond: 200, Length: 2 * time.Second})
	plan.Client.Timeout = 300 * time.Millisecond
	plan.Connections = 10
	plan.MaxInFlight = 20
	plan.Overload = OverloadDrop
	base := runtime.NumGoroutine()
	var maxG atomic.Int64
	res, err := Run(context.Background(), plan, WithInterval(200*time.Millisecond), WithObserver(ObserverFunc(func(*results.Snapshot) {
		if g := int64(runtime.NumGoroutine()); g > maxG.Load() {
			maxG.Store(g)
		}
	})))
	if err != nil {
		t.Fatal(err)
	}
	s := res.Schedule
	if s.MaxInFlight > 20 {
		t.Fatalf("max in flight %d above --max-in-flight 20", s.MaxInFlight)
	}
	if s.Sent+s.Dropped != 400 || s.Dropped == 0 {
		t.Fatalf("sent %d dropped %d; want 400 accounted for, some dropped", s.Sent, s.Dropped)
	}
	if res.Total.ErrorKinds["timeout"] != res.Total.Requests || res.Total.Requests == 0 {
		t.Fatalf("%d requests, kinds %v; want every one a timeout", res.Total.Requests, res.Total.ErrorKinds)
	}
	// Workers, the scheduler, the collector and the server side of 10
	// connections: nothing grows with the number of arrivals.
	if g := maxG.Load() - int64(base); g > 80 {
		t.Fatalf("goroutines grew by %d during the run", g)
	}
}

// TestNoGoroutineLeakAcrossRuns runs the library API repeatedly; the
// goroutine count must come back to where it started.
func TestNoGoroutineLeakAcrossRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	run := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, _ = Run(ctx, staticPlan(srv.URL, ConstantPacer{PerSecond: 500, Length: 300 * time.Millisecond}), WithInterval(50*time.Millisecond))
	}
	run()
	srv.CloseClientConnections()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		run()
	}
	srv.CloseClientConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines: %d before, %d after 10 runs\n%s", before, after, buf[:n])
	}
}
