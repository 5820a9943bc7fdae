package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRealServerStallInLatency runs against a real local server that sleeps
// 200ms for every request arriving during one second of the run. Every
// request scheduled in that second must show at least the wait it suffered,
// including those that queued in the client for a free connection.
func TestRealServerStallInLatency(t *testing.T) {
	var start atomic.Int64
	var stalled, total atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		since := time.Duration(time.Now().UnixNano() - start.Load())
		if since >= time.Second && since < 2*time.Second {
			stalled.Add(1)
			time.Sleep(200 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	plan := Plan{
		Name: "stall", Target: srv.URL, Load: Load{Pacer: ConstantPacer{PerSecond: 200, Length: 3 * time.Second}, Connections: 8},

		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: srv.URL}}}}},
	}
	start.Store(time.Now().UnixNano())
	res, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if total.Load() != 600 || res.Total.Requests != 600 {
		t.Fatalf("server saw %d, result has %d; want 600", total.Load(), res.Total.Requests)
	}
	if p := res.Total.Latency.Percentile(99.9); p < 200*time.Millisecond {
		t.Fatalf("p99.9 latency %v hides the 200ms stall", p)
	}
	// Every stalled request has a latency of at least 200ms: the slowest
	// `stalled` recorded values all are, so the first of them (rank n−s+1
	// from the bottom; the half keeps the rank off a float boundary) is.
	n, s := res.Total.Latency.Count(), stalled.Load()
	firstSlow := res.Total.Latency.Percentile(100 * (float64(n-s) + 0.5) / float64(n))
	if s > 0 && firstSlow < 199*time.Millisecond {
		t.Fatalf("the server stalled %d requests, but the %d-th slowest latency is %v", s, s, firstSlow)
	}
	t.Logf("stalled %d, the slowest %d from %v, p99.9 %v, send lag max %v", s, s, firstSlow, res.Total.Latency.Percentile(99.9), res.Total.SendLag.Max())
}

func TestRealServerRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	url := "http://" + addr + "/"
	plan := Plan{
		Name: "refused", Target: url, Load: Load{Pacer: ConstantPacer{PerSecond: 100, Length: time.Second}},
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: url}}}}},
	}
	begin := time.Now()
	res, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 100 || res.Total.ErrorKinds["refused"] != 100 {
		t.Fatalf("requests %d kinds %v; want 100 refused", res.Total.Requests, res.Total.ErrorKinds)
	}
	if el := time.Since(begin); el > 5*time.Second {
		t.Fatalf("run took %v; a refused target must not stall it", el)
	}
}
