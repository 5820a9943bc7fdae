package loadgen

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// deltaSink is a DeltaObserver keeping every snapshot.
type deltaSink struct{ snaps []*results.Snapshot }

func (d *deltaSink) Observe(s *results.Snapshot) { d.snaps = append(d.snaps, s) }
func (d *deltaSink) IntervalDeltas() bool        { return true }

// TestDeltasSumToTheResult checks that the interval deltas a metrics
// exporter adds up give the run's totals: requests by status and error
// kind, histogram counts by outcome, iterations.
func TestDeltasSumToTheResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 2 * time.Millisecond, failEvery: 10}
		plan := fakePlan(target, ConstantPacer{PerSecond: 200, Length: 3 * time.Second})
		plan.Warmup = time.Second
		sink := &deltaSink{}
		res, err := Run(context.Background(), plan, WithObserver(sink))
		if err != nil {
			t.Fatal(err)
		}
		var ok200, reset, failedKind uint64
		var hist [numDeltaHists][results.NumOutcomes]uint64
		var iterations uint64
		for _, s := range sink.snaps {
			for _, d := range s.Deltas {
				if d.Name != "get" || d.Group != "" {
					t.Fatalf("delta for series %q{%q}", d.Name, d.Group)
				}
				ok200 += d.Status[200]
				reset += d.NoResponse["reset"]
				failedKind += d.Errors["reset"]
				for o := range results.NumOutcomes {
					for i, bs := range [][]results.Bucket{d.Latency[o], d.Service[o], d.SendLag[o]} {
						for _, b := range bs {
							hist[i][o] += b.Count
						}
					}
				}
			}
			iterations += s.Iterations["get"]
		}
		all := res.Total.Requests + res.Warmup.Requests
		errs := res.Total.Errors + res.Warmup.Errors
		if all != 600 || errs != 60 {
			t.Fatalf("run: %d requests, %d errors; want 600 and 60", all, errs)
		}
		if ok200 != all-errs || reset != errs || failedKind != errs {
			t.Errorf("deltas: %d × 200, %d resets (%d as errors); want %d and %d", ok200, reset, failedKind, all-errs, errs)
		}
		for i := range hist {
			if hist[i][results.OutcomeOK] != all-errs || hist[i][results.OutcomeFailed] != errs {
				t.Errorf("histogram %d counts ok %d failed %d; want %d and %d", i, hist[i][results.OutcomeOK], hist[i][results.OutcomeFailed], all-errs, errs)
			}
		}
		if iterations != all {
			t.Errorf("%d iterations in the deltas, want %d", iterations, all)
		}
	})
}

// TestNoDeltasWithoutDeltaObserver: a plain observer gets no deltas, and
// the collector keeps no delta state.
func TestNoDeltasWithoutDeltaObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		var got int
		_, err := Run(context.Background(), fakePlan(target, ConstantPacer{PerSecond: 100, Length: 2 * time.Second}),
			WithObserver(ObserverFunc(func(s *results.Snapshot) { got += len(s.Deltas) })))
		if err != nil {
			t.Fatal(err)
		}
		if got != 0 {
			t.Fatalf("%d deltas for an observer that did not ask", got)
		}
	})
}

// TestDeltasShortenTheCollectorsPieces: with a delta observer a sample
// costs the collector three histogram records more, and it records fewer
// samples between two yields.
func TestDeltasShortenTheCollectorsPieces(t *testing.T) {
	for _, c := range []struct {
		observers []Observer
		want      int
	}{
		{nil, drainPiece},
		{[]Observer{ObserverFunc(func(*results.Snapshot) {})}, drainPiece},
		{[]Observer{&deltaSink{}}, drainPieceDeltas},
	} {
		rec := newRecorder(recorderConfig{plan: &Plan{Name: "pieces"}, interval: time.Second, counts: &runCounters{}, observers: c.observers}, 1)
		if rec.piece() != c.want {
			t.Errorf("%d observers: pieces of %d samples, want %d", len(c.observers), rec.piece(), c.want)
		}
	}
}

// TestIdleSeriesDropTheirDeltaHistograms: a series without requests for an
// interval holds no delta histograms (a tag with a value per iteration
// makes many series used about once), and one that comes back counts from
// zero.
func TestIdleSeriesDropTheirDeltaHistograms(t *testing.T) {
	rec := newRecorder(recorderConfig{plan: &Plan{Name: "idle"}, interval: time.Second, counts: &runCounters{}, observers: []Observer{&deltaSink{}}}, 1)
	id, _ := rec.registerSeries(seriesKey{name: "get", group: "user=1"})
	s := sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, done: 3 * time.Millisecond, status: 200}
	histograms := func() int {
		n := 0
		for _, hs := range rec.deltas.series[id].hist {
			for _, h := range hs {
				if h != nil {
					n++
				}
			}
		}
		return n
	}
	rec.add(&s)
	if got := rec.deltas.take(rec.keys); len(got) != 1 || histograms() != 3 {
		t.Fatalf("first interval: %d deltas, %d histograms; want 1 and 3 (no failures)", len(got), histograms())
	}
	if got := rec.deltas.take(rec.keys); len(got) != 0 || histograms() != 0 {
		t.Fatalf("idle interval: %d deltas, %d histograms kept; want 0 and 0", len(got), histograms())
	}
	rec.add(&s)
	rec.add(&s)
	got := rec.deltas.take(rec.keys)
	if len(got) != 1 || len(got[0].Latency[results.OutcomeOK]) != 1 || got[0].Latency[results.OutcomeOK][0].Count != 2 {
		t.Fatalf("after coming back: %+v, want one latency bucket counting 2", got)
	}
}

// BenchmarkCollectSampleDeltas is BenchmarkCollectSample with a delta
// observer attached: the collector's extra cost per sample when metrics
// are exported (three sparse-histogram records and a status count).
func BenchmarkCollectSampleDeltas(b *testing.B) {
	rec := newRecorder(recorderConfig{plan: &Plan{Name: "bench"}, interval: time.Second, counts: &runCounters{}, observers: []Observer{&deltaSink{}}}, 1)
	id, _ := rec.registerSeries(seriesKey{name: "get"})
	s := sample{series: id, intended: time.Millisecond, sent: 1100 * time.Microsecond, status: 200, bytesIn: 128}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.done = 2*time.Millisecond + time.Duration(i%5000)*time.Microsecond
		rec.add(&s)
		if i%10000 == 9999 {
			// An interval closes about every 10000 requests at 10k/s.
			rec.deltas.take(rec.keys)
		}
	}
}

// BenchmarkEngineNoNetworkMetrics is BenchmarkEngineNoNetwork with a delta
// observer attached, as --metrics-addr attaches one: the workers' path must
// still allocate nothing per request.
func BenchmarkEngineNoNetworkMetrics(b *testing.B) {
	plan := fakePlan(nil, nil)
	plan.Transport = nopTransport{}
	plan.VUs = 1
	plan.Connections = 1
	plan.Iterations = uint64(b.N)
	sink := &countingDeltaSink{}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan, WithObserver(sink))
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if res.Total.Requests != uint64(b.N) || sink.requests != uint64(b.N) {
		b.Fatalf("recorded %d requests, %d in deltas; want %d", res.Total.Requests, sink.requests, b.N)
	}
}

// countingDeltaSink counts the requests in the deltas it observes.
type countingDeltaSink struct{ requests uint64 }

func (c *countingDeltaSink) Observe(s *results.Snapshot) {
	for _, d := range s.Deltas {
		for _, n := range d.Status {
			c.requests += n
		}
	}
}
func (c *countingDeltaSink) IntervalDeltas() bool { return true }
