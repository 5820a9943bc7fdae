package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The hot path, piece by piece. bench/peers.sh runs these with -benchmem and
// puts the medians in BENCHMARKS.md; "record" must stay at 0 allocs/op.

// nopTransport answers every request at once without a network, so the
// engine benchmarks measure tailgate's own cost per request.
type nopTransport struct{}

func (nopTransport) NewClient() (Client, error) { return nopClient{}, nil }
func (nopTransport) Close() error               { return nil }

type nopClient struct{}

func (nopClient) Close() error { return nil }
func (nopClient) Do(_ context.Context, req *Request, res *Response) error {
	res.Status = 200
	res.BytesIn = 128
	res.BytesOut = int64(len(req.URL))
	return nil
}

// BenchmarkSchedulerTick is the scheduler's cost per arrival: computing the
// intended time, the in-flight accounting and the hand-off to a worker. Every
// arrival is already due (a rate far above what can be sent), so no timer
// fires and only the per-arrival work is timed.
func BenchmarkSchedulerTick(b *testing.B) {
	plan := fakePlan(nil, ConstantPacer{PerSecond: 1e9, Length: time.Duration(b.N)})
	plan.Transport = nopTransport{}
	r, err := NewRunner(plan)
	if err != nil {
		b.Fatal(err)
	}
	r.start = time.Now()
	tickets := make(chan ticket, 1024)
	done := make(chan struct{})
	go func() {
		for range tickets {
			r.inFlight.Add(-1)
		}
		close(done)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	r.schedule(context.Background(), tickets)
	close(tickets)
	<-done
	if got := r.issued.Load(); got != uint64(b.N) {
		b.Fatalf("issued %d arrivals, want %d", got, b.N)
	}
}

// BenchmarkRecord is what a worker pays to record one finished request:
// writing the sample into its ring. A stand-in collector frees the ring
// whenever the worker wakes it, as the real one does.
func BenchmarkRecord(b *testing.B) {
	rec := newRecorder(recorderConfig{plan: &Plan{}, interval: time.Second, counts: &runCounters{}}, 1)
	buf := rec.buffers[0]
	done := make(chan struct{})
	go func() {
		for range rec.kick {
			buf.consume(func(*sample) {}, sampleBufferSize)
		}
		close(done)
	}()
	s := sample{intended: time.Millisecond, sent: 1100 * time.Microsecond, done: 2 * time.Millisecond, status: 200, bytesIn: 128}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.done += time.Microsecond
		buf.add(s)
	}
	b.StopTimer()
	close(rec.kick)
	<-done
}

// BenchmarkCollectSample is the collector's cost per sample: the HDR
// histogram updates (latency, service time, send lag, per series and for the
// interval), off the workers' path.
func BenchmarkCollectSample(b *testing.B) {
	rec := newRecorder(recorderConfig{plan: &Plan{Name: "bench"}, interval: time.Second, counts: &runCounters{}}, 1)
	id, _ := rec.registerSeries(seriesKey{name: "get"})
	s := sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, status: 200, bytesIn: 128}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.done = 2*time.Millisecond + time.Duration(i%5000)*time.Microsecond
		rec.add(&s)
	}
}

// BenchmarkEngineNoNetwork runs whole closed-model iterations through the
// engine against a client that answers at once: everything tailgate does per
// request except the HTTP exchange.
func BenchmarkEngineNoNetwork(b *testing.B) {
	plan := fakePlan(nil, nil)
	plan.Transport = nopTransport{}
	plan.VUs = 1
	plan.Connections = 1
	plan.Iterations = uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res.Total.Requests != uint64(b.N) {
		b.Fatalf("recorded %d requests, want %d", res.Total.Requests, b.N)
	}
}

// BenchmarkEngineNoNetworkFlow is BenchmarkEngineNoNetwork with a timed
// flow of two steps: one op is an iteration, two requests and the flow's
// sample.
func BenchmarkEngineNoNetworkFlow(b *testing.B) {
	plan := fakePlan(nil, nil)
	plan.Transport = nopTransport{}
	st := plan.Flows[0].Steps[0]
	plan.Flows[0] = Flow{Name: "two", Weight: 1, Timed: true, Steps: []Step{st, st}}
	plan.VUs = 1
	plan.Connections = 1
	plan.Iterations = uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if len(res.Flows) != 1 || res.Flows[0].Requests != uint64(b.N) {
		b.Fatalf("recorded %+v flows, want %d iterations of one", res.Flows, b.N)
	}
}

// BenchmarkEngineRequest is one full request per op through the engine and
// the default HTTP/1.1 client against an in-process server on loopback.
// The server shares the CPU with the client, so compare it only with itself.
func BenchmarkEngineRequest(b *testing.B) {
	body := []byte("ok\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	plan := staticPlan(srv.URL+"/", nil)
	plan.VUs = 4
	plan.Connections = 4
	plan.Iterations = uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res.Total.Requests != uint64(b.N) || res.Total.Errors != 0 {
		b.Fatalf("recorded %d requests, %d errors; want %d, 0", res.Total.Requests, res.Total.Errors, b.N)
	}
}
