package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// fakeTarget is an in-memory server for engine tests on a fake clock: every
// request takes service time, and requests that arrive during a stall wait
// until the stall ends. It can also serve only one request at a time, like a
// single-threaded server.
type fakeTarget struct {
	start      time.Time
	service    time.Duration
	stallFrom  time.Duration // offset from start
	stallUntil time.Duration
	serial     bool
	failEvery  int // every n-th request fails with a reset

	mu    sync.Mutex
	count atomic.Int64
}

func (f *fakeTarget) NewClient() (Client, error) { return &fakeClient{f: f}, nil }
func (f *fakeTarget) Close() error               { return nil }

type fakeClient struct{ f *fakeTarget }

func (c *fakeClient) Close() error { return nil }

var errFakeReset = &StepError{Kind: KindReset, Name: "reset", Err: errors.New("connection reset by peer")}

func (c *fakeClient) Do(ctx context.Context, req *Request, res *Response) error {
	f := c.f
	n := f.count.Add(1)
	if f.serial {
		f.mu.Lock()
		defer f.mu.Unlock()
	}
	now := time.Since(f.start)
	if f.stallUntil > 0 && now >= f.stallFrom && now < f.stallUntil {
		time.Sleep(f.stallUntil - now)
	}
	time.Sleep(f.service)
	if f.failEvery > 0 && n%int64(f.failEvery) == 0 {
		return errFakeReset
	}
	res.Status = 200
	res.BytesIn = 100
	res.BytesOut = int64(len(req.URL))
	return nil
}

func fakePlan(target *fakeTarget, p Pacer) Plan {
	return Plan{
		Name: "test", Target: "fake://", Load: Load{Pacer: p}, Transport: target,
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: "http://fake/"}}}}},
	}
}

// TestStallShowsInLatency is the coordinated-omission test: a target that
// stalls for one second must show that second in the latency of every
// request scheduled during it, not just of the one request that was in flight.
func TestStallShowsInLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond, stallFrom: 3 * time.Second, stallUntil: 4 * time.Second}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 10 * time.Second})
		plan.Connections = 4 // far fewer than the 100 requests that pile up in the stall
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != 1000 || target.count.Load() != 1000 {
			t.Fatalf("%d requests recorded, %d sent; want 1000", res.Total.Requests, target.count.Load())
		}
		// 100 of 1000 requests (10%) were scheduled during the stall; their
		// latencies are spread evenly from ~1s down to ~10ms. So p90 is about
		// the service time, p95 is about half the stall and max is the stall.
		lat := res.Total.Latency
		if p := lat.Percentile(50); p > 5*time.Millisecond {
			t.Errorf("p50 = %v, want about the 1ms service time", p)
		}
		if p := lat.Percentile(95); p < 400*time.Millisecond || p > 600*time.Millisecond {
			t.Errorf("p95 = %v, want about 500ms", p)
		}
		if p := lat.Percentile(99.9); p < 980*time.Millisecond {
			t.Errorf("p99.9 = %v, want about 1s: the stall is hidden", p)
		}
		if m := lat.Max(); m < time.Second || m > 1010*time.Millisecond {
			t.Errorf("max = %v, want 1s + service time", m)
		}
		// Service time alone hides the stall for every request but the ones
		// sent into it; latency must not.
		if res.Total.Service.Percentile(50) > 2*time.Millisecond {
			t.Errorf("service p50 = %v", res.Total.Service.Percentile(50))
		}
	})
}

// TestSaturatedClientQueues checks the client side of coordinated omission:
// with one connection and a target slower than the rate, arrivals queue, the
// delay shows up in send lag and latency, and nothing is silently skipped.
func TestSaturatedClientQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 100 * time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 20, Length: time.Second})
		plan.Connections = 1
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != 20 || res.Schedule.Sent != 20 || res.Schedule.Dropped != 0 {
			t.Fatalf("requests %d sent %d dropped %d; want all 20 sent", res.Total.Requests, res.Schedule.Sent, res.Schedule.Dropped)
		}
		// The last arrival is due at 0.95s but its connection frees up only at
		// 1.9s: 0.95s of send lag, 1.05s of latency.
		if m := res.Total.SendLag.Max(); m < 940*time.Millisecond || m > 960*time.Millisecond {
			t.Errorf("max send lag = %v, want 0.95s", m)
		}
		if m := res.Total.Latency.Max(); m < 1040*time.Millisecond || m > 1060*time.Millisecond {
			t.Errorf("max latency = %v, want 1.05s", m)
		}
		if res.Schedule.Late == 0 {
			t.Error("no late arrivals counted")
		}
	})
}

func TestDropPolicyCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Second}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: time.Second})
		plan.Connections = 2
		plan.MaxInFlight = 5
		plan.Overload = OverloadDrop
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		s := res.Schedule
		if s.Sent+s.Dropped != 100 || s.Dropped == 0 {
			t.Fatalf("sent %d + dropped %d, want 100 with some dropped", s.Sent, s.Dropped)
		}
		if res.Total.Requests != s.Sent {
			t.Fatalf("recorded %d, sent %d", res.Total.Requests, s.Sent)
		}
		if s.MaxInFlight > 5 {
			t.Fatalf("max in flight %d above the cap of 5", s.MaxInFlight)
		}
	})
}

func TestClosedModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 10 * time.Millisecond}
		plan := fakePlan(target, nil)
		plan.VUs = 4
		plan.Duration = time.Second
		plan.Think = 40 * time.Millisecond
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		// Each VU loops every 50ms (10ms service + 40ms think): 20 per VU.
		if res.Total.Requests != 80 {
			t.Fatalf("%d requests, want 80", res.Total.Requests)
		}
		if res.Meta.Model != results.ClosedModel {
			t.Fatalf("model %q", res.Meta.Model)
		}
		if p := res.Total.Latency.Percentile(99); p < 10*time.Millisecond || p > 10020*time.Microsecond {
			t.Fatalf("p99 = %v, want the 10ms service time", p)
		}
	})
}

func TestClosedModelIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, nil)
		plan.VUs = 3
		plan.Iterations = 10
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != 10 || target.count.Load() != 10 {
			t.Fatalf("%d requests, want exactly 10", res.Total.Requests)
		}
	})
}

func TestErrorsAreClassifiedAndCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond, failEvery: 4}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: time.Second})
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Errors != 25 || res.Total.ErrorKinds["reset"] != 25 {
			t.Fatalf("errors %d kinds %v, want 25 resets", res.Total.Errors, res.Total.ErrorKinds)
		}
		if res.Total.ErrorSamples["reset"] == "" {
			t.Fatal("no sample message for resets")
		}
		if res.Total.Status[200] != 75 {
			t.Fatalf("status %v", res.Total.Status)
		}
	})
}

func TestWarmupIsSeparate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: 3 * time.Second})
		plan.Warmup = time.Second
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Warmup == nil || res.Warmup.Requests != 10 || res.Total.Requests != 20 {
			t.Fatalf("warmup %v total %d; want 10 and 20", res.Warmup, res.Total.Requests)
		}
		if r := res.Rate(); r < 9.9 || r > 10.1 {
			t.Fatalf("rate after warmup = %v, want 10/s", r)
		}
	})
}

func TestShardsPartitionThePlan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var total uint64
		seen := map[uint64]bool{}
		var mu sync.Mutex
		for i := 0; i < 3; i++ {
			target := &fakeTarget{start: time.Now(), service: time.Millisecond}
			plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: time.Second})
			plan.Shard = results.Shard{Index: i, Count: 3}
			plan.Flows[0].Steps = []Step{seqRecorder{seen: seen, mu: &mu}}
			res, err := Run(context.Background(), plan, WithClock(FakeClock))
			if err != nil {
				t.Fatal(err)
			}
			total += res.Total.Requests
			if res.Schedule.Planned != res.Total.Requests {
				t.Fatalf("shard %d planned %d, ran %d", i, res.Schedule.Planned, res.Total.Requests)
			}
		}
		if total != 100 || len(seen) != 100 {
			t.Fatalf("shards ran %d requests covering %d arrivals, want 100", total, len(seen))
		}
	})
}

type seqRecorder struct {
	seen map[uint64]bool
	mu   *sync.Mutex
}

func (s seqRecorder) Prepare(it *Iteration, req *Request) error {
	s.mu.Lock()
	s.seen[it.Seq] = true
	s.mu.Unlock()
	req.Name, req.Method, req.URL = "seq", "GET", "http://fake/"
	return nil
}
func (s seqRecorder) Inspect(*Iteration, *Response) error { return nil }

func TestCancelKeepsMeasurements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second+5*time.Millisecond, cancel)
		res, err := Run(ctx, plan, WithClock(FakeClock))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
		if res == nil || res.Total.Requests != 201 {
			t.Fatalf("result %v; want the 201 requests sent before the stop", res)
		}
		if !res.Meta.Partial || res.Schedule.Unsent != 799 {
			t.Fatalf("partial %v unsent %d", res.Meta.Partial, res.Schedule.Unsent)
		}
	})
}

func TestObserverGetsSnapshots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 3 * time.Second})
		var snaps []*results.Snapshot
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithObserver(ObserverFunc(func(s *results.Snapshot) { snaps = append(snaps, s) })))
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) < 3 || !snaps[len(snaps)-1].Done {
			t.Fatalf("%d snapshots, last done=%v", len(snaps), len(snaps) > 0 && snaps[len(snaps)-1].Done)
		}
		s := snaps[1]
		if s.TargetRate != 100 || s.Rate < 95 || s.Rate > 105 || s.Total.Interval.Of(50) == 0 {
			t.Fatalf("snapshot 2: target %v rate %v p50 %v", s.TargetRate, s.Rate, s.Total.Interval.Of(50))
		}
		var sum uint64
		for _, iv := range res.Timeline {
			sum += iv.Total.Requests
		}
		if sum != res.Total.Requests {
			t.Fatalf("timeline sums to %d, total %d", sum, res.Total.Requests)
		}
	})
}

func TestRecordAllocatesNothing(t *testing.T) {
	h := results.NewHistogram()
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234 * time.Microsecond) }); n != 0 {
		t.Fatalf("Histogram.Record allocates %v times per call", n)
	}
	rec := newRecorder(recorderConfig{plan: &Plan{}, interval: time.Second, counts: &runCounters{}}, 1)
	b := rec.buffers[0]
	go func() {
		for range rec.kick {
			b.consume(func(*sample) {}, sampleBufferSize)
		}
	}()
	defer close(rec.kick)
	s := sample{done: time.Millisecond}
	if n := testing.AllocsPerRun(10*sampleBufferSize, func() { b.add(s) }); n != 0 {
		t.Fatalf("sampleBuffer.add allocates %v times per call", n)
	}
}
