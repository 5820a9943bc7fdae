package loadgen

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// pathTarget answers each URL after the service time given for it, one
// request at a time per connection; fail, when set, fails the URL's every
// n-th request with a reset.
type pathTarget struct {
	service map[string]time.Duration
	fail    map[string]int64
	counts  map[string]*atomic.Int64
}

func newPathTarget(service map[string]time.Duration) *pathTarget {
	t := &pathTarget{service: service, fail: map[string]int64{}, counts: map[string]*atomic.Int64{}}
	for u := range service {
		t.counts[u] = new(atomic.Int64)
	}
	return t
}

func (t *pathTarget) NewClient() (Client, error) { return pathClient{t}, nil }
func (t *pathTarget) Close() error               { return nil }

type pathClient struct{ t *pathTarget }

func (pathClient) Close() error { return nil }

func (c pathClient) Do(ctx context.Context, req *Request, res *Response) error {
	n := c.t.counts[req.URL].Add(1)
	time.Sleep(c.t.service[req.URL])
	if every := c.t.fail[req.URL]; every > 0 && n%every == 0 {
		return errFakeReset
	}
	res.Status, res.BytesIn, res.BytesOut = 200, 10, 1
	return nil
}

// thinkStep is a static step followed by a think time.
type thinkStep struct {
	StaticStep
	think time.Duration
}

func (s *thinkStep) ThinkTime(*Iteration) time.Duration { return s.think }

// checkoutPlan is a timed flow of two steps with a think time between
// them: cart (10ms), 25ms of thought, pay (40ms).
func checkoutPlan(target Transport, p Pacer) Plan {
	cart := &thinkStep{StaticStep: StaticStep{Request: Request{Name: "cart", Method: "GET", URL: "http://fake/cart"}}, think: 25 * time.Millisecond}
	pay := &StaticStep{Request: Request{Name: "pay", Method: "POST", URL: "http://fake/pay"}}
	return Plan{
		Name: "shop", Target: "http://fake", Load: Load{Pacer: p}, Transport: target,
		Flows: []Flow{{Name: "checkout", Weight: 1, Timed: true, Steps: []Step{cart, pay}}},
	}
}

func checkoutTarget() *pathTarget {
	return newPathTarget(map[string]time.Duration{"http://fake/cart": 10 * time.Millisecond, "http://fake/pay": 40 * time.Millisecond})
}

// sum is the total of the values a histogram holds, from its mean.
func sum(h *results.Histogram) float64 { return float64(h.Mean()) * float64(h.Count()) }

// TestFlowLatencyIsItsStepsFromTheIntendedTime checks the definition of a
// flow's latency on a fake clock: the end of its last step − the arrival's
// intended time, think time included. With one connection and iterations
// of 75ms arriving every 50ms the queue grows; the wait for the connection
// is in the first step's latency and so in the flow's, and every
// iteration's flow latency is exactly cart's latency + the think time +
// pay's latency.
func TestFlowLatencyIsItsStepsFromTheIntendedTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rate  float64
		conns int
	}{{"on time", 5, 4}, {"queueing", 20, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				plan := checkoutPlan(checkoutTarget(), ConstantPacer{PerSecond: tc.rate, Length: 2 * time.Second})
				plan.Connections = tc.conns
				res, err := Run(context.Background(), plan, WithClock(FakeClock))
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Flows) != 1 || res.Flows[0].Name != "checkout" {
					t.Fatalf("flows %+v; want checkout", res.Flows)
				}
				f, cart, pay := res.Flows[0], res.Lookup("cart", ""), res.Lookup("pay", "")
				n := uint64(2 * tc.rate)
				if f.Requests != n || f.Errors != 0 || f.Latency.Count() != int64(n) || res.Iterations.Completed != n {
					t.Fatalf("flow: %d iterations, %d errors, %d latencies, %d completed; want %d, none failed", f.Requests, f.Errors, f.Latency.Count(), res.Iterations.Completed, n)
				}
				if tc.conns > 1 {
					// On time: every iteration takes 10 + 25 + 40 ms.
					for _, p := range []float64{0, 50, 100} {
						if got := f.Latency.Percentile(p); !nearDur(got, 75*time.Millisecond, 0.001) {
							t.Errorf("p%g = %v, want 75ms", p, got)
						}
					}
				} else if f.Latency.Max() < time.Second {
					t.Errorf("queueing: flow max %v, want the queue's wait of seconds in it", f.Latency.Max())
				}
				want := sum(cart.Latency) + float64(n)*float64(25*time.Millisecond) + sum(pay.Latency)
				if got := sum(f.Latency); math.Abs(got-want) > 0.002*want {
					t.Errorf("Σ flow latency %v, Σ cart + think + Σ pay %v", time.Duration(got), time.Duration(want))
				}
				// Service time starts at the first step's send, send lag is
				// the first step's.
				if !nearDur(f.SendLag.Max(), cart.SendLag.Max(), 0.001) || !nearDur(f.Service.Min(), 75*time.Millisecond, 0.001) {
					t.Errorf("flow send lag max %v (cart %v), service min %v (want 75ms)", f.SendLag.Max(), cart.SendLag.Max(), f.Service.Min())
				}
				if f.BytesIn != 20*n || f.BytesOut != 2*n {
					t.Errorf("flow bytes %d in, %d out; want %d, %d", f.BytesIn, f.BytesOut, 20*n, 2*n)
				}
			})
		})
	}
}

func nearDur(got, want time.Duration, tol float64) bool {
	return math.Abs(float64(got-want)) <= tol*float64(want)+float64(time.Microsecond)
}

// TestFlowFailedAndWarmupIterations: a failed iteration counts as a flow
// error with its latency up to the failed step in the failed figures (as a
// failed request's), not in the headline; warmup iterations are left out;
// a flow that is not timed has no series.
func TestFlowFailedAndWarmupIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := checkoutTarget()
		target.fail["http://fake/pay"] = 4
		plan := checkoutPlan(target, ConstantPacer{PerSecond: 10, Length: 3 * time.Second})
		plan.Connections = 4
		health := StaticStep{Request: Request{Name: "health", Method: "GET", URL: "http://fake/cart"}}
		plan.Flows = append(plan.Flows, Flow{Name: "health", Weight: 1, Steps: []Step{&health}})
		if err := plan.SetWarmup(time.Second); err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Flows) != 1 {
			t.Fatalf("%d flow series; want checkout's alone", len(res.Flows))
		}
		f, pay := res.Flows[0], res.Lookup("pay", "")
		if f.Errors == 0 || f.Errors != pay.Errors || f.ErrorKinds["reset"] != f.Errors {
			t.Fatalf("flow errors %d (%v), pay's %d; want pay's failures", f.Errors, f.ErrorKinds, pay.Errors)
		}
		if f.Requests != res.Iterations.Completed+res.Iterations.Failed-healthIterations(res) || f.Errors != res.Iterations.Failed {
			t.Fatalf("flow %d iterations %d failed; iterations %+v", f.Requests, f.Errors, res.Iterations)
		}
		if got := uint64(f.Latency.Count() + f.FailedLatency.Count()); got != f.Requests || f.FailedLatency.Count() != int64(f.Errors) {
			t.Fatalf("flow latencies %d + failed %d for %d iterations, %d failed", f.Latency.Count(), f.FailedLatency.Count(), f.Requests, f.Errors)
		}
		if got := f.FailedLatency.Max(); !nearDur(got, 75*time.Millisecond, 0.001) {
			t.Errorf("failed latency max %v, want 75ms (the failed step ends the iteration)", got)
		}
		// The measured part is 3s of the 4s: its iterations are the
		// checkout arrivals due after the warmup.
		if f.Requests+pay.Requests == 0 || f.Requests != pay.Requests {
			t.Errorf("flow %d iterations, pay %d requests after the warmup; want equal", f.Requests, pay.Requests)
		}
	})
}

// healthIterations counts the iterations of the untimed health flow: its
// single request's.
func healthIterations(res *results.Result) uint64 {
	if h := res.Lookup("health", ""); h != nil {
		return h.Requests
	}
	return 0
}

// TestFlowAbortedIterationsAreNotTimed: iterations the run's stop cuts
// short in their think time (a request timeout after the stop) are
// aborted and leave no flow sample; those that ended are timed.
func TestFlowAbortedIterationsAreNotTimed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := checkoutPlan(checkoutTarget(), ConstantPacer{PerSecond: 10, Length: 10 * time.Second})
		plan.Connections = 16
		plan.Client.Timeout = 200 * time.Millisecond
		// Arrivals at 0, 0.1s … think 500ms after their first step.
		plan.Flows[0].Steps[0].(*thinkStep).think = 500 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(1015 * time.Millisecond)
			cancel()
		}()
		res, err := Run(ctx, plan, WithClock(FakeClock))
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		f := res.Flows[0]
		// The stop at 1.015s aborts at 1.215s the iterations still
		// thinking: those that arrived from 0.8s on.
		if res.Iterations.Aborted != 3 || res.Iterations.Completed != 8 {
			t.Fatalf("iterations %+v; want 8 completed, 3 aborted in their think time", res.Iterations)
		}
		if f.Requests != res.Iterations.Completed+res.Iterations.Failed {
			t.Errorf("flow %d iterations; completed + failed %d", f.Requests, res.Iterations.Completed+res.Iterations.Failed)
		}
	})
}
