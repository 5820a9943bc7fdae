package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
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

// TestRealServerFlowLatency is flow timing against a real local server
// whose endpoints take known times: /cart 20ms, /pay 30ms. A flow's latency
// is the end of its last step − the arrival's intended time, so each
// iteration's equals its steps' spans from the intended time: cart's
// latency (from the intended time), the think time as slept, pay's latency
// (from the end of the think time). Without a think time the two sides are
// the same instants and agree to the histograms' resolution; with one, the
// flow is longer by the think time and by what the timer overslept.
func TestRealServerFlowLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cart":
			time.Sleep(20 * time.Millisecond)
		case "/pay":
			time.Sleep(30 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	for _, think := range []time.Duration{0, 25 * time.Millisecond} {
		t.Run("think "+think.String(), func(t *testing.T) {
			cart := &thinkStep{StaticStep: StaticStep{Request: Request{Name: "cart", Method: "GET", URL: srv.URL + "/cart"}}, think: think}
			pay := &StaticStep{Request: Request{Name: "pay", Method: "GET", URL: srv.URL + "/pay"}}
			plan := Plan{
				Name: "checkout", Target: srv.URL,
				// Fewer connections than iterations in flight: some arrivals
				// wait for one, and the wait is in both sides.
				Load:  Load{Pacer: ConstantPacer{PerSecond: 40, Length: time.Second}, Connections: 2},
				Flows: []Flow{{Name: "checkout", Weight: 1, Timed: true, Steps: []Step{cart, pay}}},
			}
			res, err := Run(context.Background(), plan)
			if err != nil {
				t.Fatal(err)
			}
			f, c, p := res.LookupFlow("checkout"), res.Lookup("cart", ""), res.Lookup("pay", "")
			if f == nil || f.Requests != 40 || f.Errors != 0 || c.Requests != 40 || p.Requests != 40 {
				t.Fatalf("flow %+v, cart %d, pay %d requests; want 40 iterations without errors", f, c.Requests, p.Requests)
			}
			least := 50*time.Millisecond + think
			if m := f.Latency.Min(); m < least-least/1000 {
				t.Errorf("flow min latency %v, below the server's %v and the think time", m, least)
			}
			flow, steps := sum(f.Latency), sum(c.Latency)+sum(p.Latency)+40*float64(think)
			// Three histograms of three significant digits.
			res3 := 0.003 * flow
			if flow < steps-res3 {
				t.Errorf("Σ flow latency %v < Σ cart + Σ pay + think %v", time.Duration(flow), time.Duration(steps))
			}
			if think == 0 && flow > steps+res3 {
				t.Errorf("Σ flow latency %v, Σ cart + Σ pay %v: without a think time they are the same spans", time.Duration(flow), time.Duration(steps))
			}
			over := time.Duration((flow - steps) / 40)
			t.Logf("think %v: flow mean %v, p99 %v; steps' mean %v; think overslept %v on average",
				think, f.Latency.Mean(), f.Latency.Percentile(99), time.Duration(steps/40), over)
			if think > 0 && !raceEnabled && os.Getenv("TAILGATE_TIMING_TESTS") != "" && over > 2*time.Millisecond {
				t.Errorf("the think time overslept %v on average: the flow is longer than its steps by more than its think time", over)
			}
		})
	}
}
