package loadgen

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Regression tests of the figures' definitions (docs/metrics.md) on real
// runs of the engine against a fake target on a fake clock.

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// A flow of two steps sends two requests per arrival: iterations/s are
// held against the plan, requests/s are their own figure (issue 12 item 2).
func TestTwoStepFlowRatesIterationsAgainstPlan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 2 * time.Second})
		st := &StaticStep{Request: Request{Name: "get", Method: "GET", URL: "http://fake/"}}
		plan.Flows[0].Steps = []Step{st, st}
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != 400 || res.Schedule.Sent != 200 {
			t.Fatalf("%d requests, %d arrivals; want 400 and 200", res.Total.Requests, res.Schedule.Sent)
		}
		if !near(res.Rate(), 200, 0.5) || !near(res.IterationRate(), 100, 0.5) || !near(res.PlannedRate(), 100, 1e-9) {
			t.Fatalf("requests/s %v, iterations/s %v, planned %v; want 200, 100, 100", res.Rate(), res.IterationRate(), res.PlannedRate())
		}
		if ratio, _ := res.ArrivalRatio(); ratio != 1 {
			t.Fatalf("arrival ratio %v, want 1", ratio)
		}
		var arrivals uint64
		for _, iv := range res.Timeline {
			arrivals += iv.Arrivals
		}
		if arrivals != 200 {
			t.Fatalf("timeline counts %d arrivals, want 200", arrivals)
		}
		if res.Iterations.Completed != 200 {
			t.Fatalf("iterations %+v, want 200 completed", res.Iterations)
		}
	})
}

// A 50/s warmup stage before a 100/s stage: the planned rate, the
// achieved rates and the arrival ratio cover the 100/s part only (item 3).
func TestWarmupStageLeftOutOfRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 3 * time.Second})
		plan.Pacer = NewStagedPacer(
			Stage{Name: "warm", Pacer: ConstantPacer{PerSecond: 50, Length: time.Second}},
			Stage{Pacer: ConstantPacer{PerSecond: 100, Length: 3 * time.Second}},
		)
		plan.Warmup = time.Second
		if m := plan.Meta(); m.PlannedRate != 100 {
			t.Fatalf("planned rate in the metadata %v, want 100 (not 87.5 with the warmup averaged in)", m.PlannedRate)
		}
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Schedule.WarmupPlanned != 50 || res.Schedule.WarmupSent != 50 || res.MeasuredSent() != 300 {
			t.Fatalf("schedule %+v; want 50 warmup arrivals planned and sent, 300 measured", res.Schedule)
		}
		if res.Measured() != 3*time.Second || !near(res.PlannedRate(), 100, 1e-9) || !near(res.IterationRate(), 100, 1e-9) {
			t.Fatalf("measured %v, planned %v/s, achieved %v/s; want 3s, 100, 100", res.Measured(), res.PlannedRate(), res.IterationRate())
		}
	})
}

// The warmup rule: SetWarmup puts the warmup in front of the measured
// load, and a new measured pacer keeps it.
func TestSetWarmupAddsInFront(t *testing.T) {
	plan := Plan{Load: Load{Pacer: ConstantPacer{PerSecond: 100, Length: 5 * time.Second}}}
	if err := plan.SetWarmup(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if plan.PlannedDuration() != 8*time.Second || plan.MeasuredDuration() != 5*time.Second {
		t.Fatalf("planned %v measured %v; want 8s and 5s", plan.PlannedDuration(), plan.MeasuredDuration())
	}
	if err := plan.SetMeasuredPacer(ConstantPacer{PerSecond: 100, Length: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if plan.PlannedDuration() != 5*time.Second || plan.MeasuredDuration() != 2*time.Second || plan.Warmup != 3*time.Second {
		t.Fatalf("after -d 2s: planned %v measured %v warmup %v; want 5s, 2s, 3s", plan.PlannedDuration(), plan.MeasuredDuration(), plan.Warmup)
	}
	if err := plan.SetWarmup(0); err != nil {
		t.Fatal(err)
	}
	if plan.PlannedDuration() != 2*time.Second || plan.Warmup != 0 {
		t.Fatalf("without warmup: planned %v warmup %v", plan.PlannedDuration(), plan.Warmup)
	}
	closed := Plan{Load: Load{VUs: 2, Duration: 5 * time.Second}}
	if err := closed.SetWarmup(time.Second); err != nil {
		t.Fatal(err)
	}
	if closed.PlannedDuration() != 6*time.Second || closed.MeasuredDuration() != 5*time.Second {
		t.Fatalf("closed: planned %v measured %v; want 6s and 5s", closed.PlannedDuration(), closed.MeasuredDuration())
	}
}

// A closed-model run bounded by iterations that ends long before its
// duration: the measured duration is the one it took (item 4).
func TestClosedIterationsMeasuredDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond, failEvery: 10}
		plan := fakePlan(target, nil)
		plan.Pacer, plan.VUs, plan.Iterations, plan.Duration = nil, 4, 200, 30*time.Second
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		// 200 iterations of 1ms on 4 VUs take 50ms.
		if res.Measured() != 50*time.Millisecond {
			t.Fatalf("measured %v, want 50ms", res.Measured())
		}
		if !near(res.Rate(), 4000, 1) {
			t.Fatalf("rate %v/s, want 4000/s", res.Rate())
		}
		if it := res.Iterations; it.Completed != 180 || it.Failed != 20 || it.Aborted != 0 {
			t.Fatalf("iterations %+v, want 180 completed, 20 failed", it)
		}
	})
}

// A closed model with a warmup runs the warmup before the measured
// duration (the warmup rule).
func TestClosedWarmupBeforeDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 100 * time.Millisecond}
		plan := fakePlan(target, nil)
		plan.Pacer, plan.VUs, plan.Duration, plan.Warmup = nil, 1, 2*time.Second, time.Second
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Warmup.Requests != 10 || res.Total.Requests != 20 || res.Measured() != 2*time.Second {
			t.Fatalf("warmup %d, measured %d over %v; want 10, 20 over 2s", res.Warmup.Requests, res.Total.Requests, res.Measured())
		}
	})
}

// A run stopped after a third of its plan keeps a third of it: its ratio
// is held against the whole plan, and it never exceeds 1 (item 5).
func TestStoppedRunHeldAgainstPlan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(3200*time.Millisecond, cancel)
		res, err := Run(ctx, plan, WithClock(FakeClock))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want canceled", err)
		}
		ratio, ok := res.ArrivalRatio()
		if !ok || !near(ratio, 0.32, 0.002) {
			t.Fatalf("arrival ratio %v, want 0.32", ratio)
		}
		if res.Meta.StoppedAt.D() != 3200*time.Millisecond || res.Measured() != 3200*time.Millisecond {
			t.Fatalf("stopped at %v, measured %v; want 3.2s both", res.Meta.StoppedAt.D(), res.Measured())
		}
		if !near(res.IterationRate(), 100, 0.5) {
			t.Fatalf("iteration rate while running %v, want 100", res.IterationRate())
		}
	})
}

// 20/s for 10s against a target that answers in 4s: every arrival is sent
// on time, and the 4s of waiting for the last responses are the drain,
// not part of the measured duration (issue 19 item 10).
func TestDrainNotInArrivalRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 4 * time.Second}
		plan := fakePlan(target, ConstantPacer{PerSecond: 20, Length: 10 * time.Second})
		plan.Connections = 100
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		if res.Schedule.Sent != 200 || res.Schedule.Late != 0 {
			t.Fatalf("schedule %+v, want 200 sent on time", res.Schedule)
		}
		ratio, _ := res.ArrivalRatio()
		if ratio < 0.999 || ratio > 1 {
			t.Fatalf("arrival ratio %v, want 1 (the drain is not in it)", ratio)
		}
		if res.Measured() != 10*time.Second || !near(res.Drain().Seconds(), 3.95, 0.06) {
			t.Fatalf("measured %v drain %v; want 10s and about 3.95s", res.Measured(), res.Drain())
		}
	})
}

// A target answering 500 fast must not make the service look fast: failed
// requests have their own latency; requests that could not be built are
// not sent and have none (item 6).
func TestFailedAndNotSentKeptApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 20 * time.Millisecond, failEvery: 2}
		plan := fakePlan(target, ConstantPacer{PerSecond: 100, Length: time.Second})
		plan.Flows = append(plan.Flows, Flow{Name: "broken", Weight: 1, Steps: []Step{failingStep{}}})
		plan.Connections = 8
		res, err := Run(context.Background(), plan, WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		tot := res.Total
		if tot.NotSent == 0 || tot.NotSentReason == "" {
			t.Fatalf("not sent %d (%q); want some, with the reason", tot.NotSent, tot.NotSentReason)
		}
		if tot.Requests+tot.NotSent != 100 || uint64(target.count.Load()) != tot.Requests {
			t.Fatalf("%d requests + %d not sent, target saw %d; want 100 in all", tot.Requests, tot.NotSent, target.count.Load())
		}
		if tot.Latency.Count() != int64(tot.Successes()) || tot.FailedLatency.Count() != int64(tot.Errors) {
			t.Fatalf("latency counts %d ok / %d failed, want %d / %d", tot.Latency.Count(), tot.FailedLatency.Count(), tot.Successes(), tot.Errors)
		}
		if res.Iterations.Failed != tot.Errors+tot.NotSent {
			t.Fatalf("iterations %+v; want %d failed", res.Iterations, tot.Errors+tot.NotSent)
		}
	})
}

// failingStep cannot build its request, like a template whose data feed
// ran out.
type failingStep struct{}

func (failingStep) Prepare(*Iteration, *Request) error {
	return errors.New("data feed users: the unique rows ran out")
}
func (failingStep) Inspect(*Iteration, *Response) error { return nil }

// The snapshot shows arrivals queued behind a stalled target, and the age
// of the oldest, while the stall lasts (item 8).
func TestSnapshotShowsQueueDuringStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond, stallFrom: 2 * time.Second, stallUntil: 5 * time.Second}
		plan := fakePlan(target, ConstantPacer{PerSecond: 50, Length: 6 * time.Second})
		plan.Connections, plan.MaxInFlight = 2, 1000
		var worst results.Snapshot
		obs := ObserverFunc(func(s *results.Snapshot) {
			if s.Queued >= worst.Queued {
				worst = *s
			}
		})
		if _, err := Run(context.Background(), plan, WithClock(FakeClock), WithObserver(obs)); err != nil {
			t.Fatal(err)
		}
		// At 5s, three seconds into the stall, ~150 arrivals wait, the
		// oldest for about three seconds.
		if worst.Queued < 140 || worst.OldestQueued < 2900*time.Millisecond {
			t.Fatalf("worst snapshot: %d queued, oldest %v; want ~100 and ~2s or more", worst.Queued, worst.OldestQueued)
		}
	})
}

// The last snapshot, the dashboard's final frame, carries the run's
// iterations/s against the planned rate and its requests/s, equal to the
// results' figures, where the drain interval has "0/s of 0/s" (item 2).
// The warmup is left out of both, as in the results.
func TestLastSnapshotHasTheRunsRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: 300 * time.Millisecond}
		plan := fakePlan(target, NewStagedPacer(
			Stage{Pacer: ConstantPacer{PerSecond: 50, Length: 2 * time.Second}},
			Stage{Pacer: ConstantPacer{PerSecond: 100, Length: 5 * time.Second}},
		))
		plan.Warmup = 2 * time.Second
		var last results.Snapshot
		var n int
		obs := ObserverFunc(func(s *results.Snapshot) { last = *s; n++ })
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithObserver(obs))
		if err != nil {
			t.Fatal(err)
		}
		if !last.Done || n < 7 {
			t.Fatalf("%d snapshots, the last done: %v", n, last.Done)
		}
		if last.TargetRate != res.PlannedRate() || last.ArrivalRate != res.IterationRate() || last.Rate != res.RequestRate(res.Total) {
			t.Fatalf("last snapshot: %v/s of %v/s, %v requests/s; results: %v/s of %v/s, %v requests/s",
				last.ArrivalRate, last.TargetRate, last.Rate, res.IterationRate(), res.PlannedRate(), res.RequestRate(res.Total))
		}
		if math.Abs(last.TargetRate-100) > 0.01 || math.Abs(last.ArrivalRate-100) > 1 {
			t.Fatalf("last snapshot: %v/s of %v/s; want ~100/s of 100/s", last.ArrivalRate, last.TargetRate)
		}
	})
}

// Late counts measured arrivals only, like every other figure (item 3): a
// stall in the warmup makes its arrivals late, and none of them is
// counted; the same stall after the warmup is.
func TestLateLeavesTheWarmupOut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		warmup time.Duration
		late   bool
	}{{"stall in the warmup", 3 * time.Second, false}, {"stall measured", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				target := &fakeTarget{start: time.Now(), service: time.Millisecond, stallFrom: time.Second, stallUntil: 2 * time.Second}
				plan := fakePlan(target, ConstantPacer{PerSecond: 50, Length: 6 * time.Second})
				plan.Connections, plan.Warmup = 2, tc.warmup
				res, err := Run(context.Background(), plan, WithClock(FakeClock))
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Schedule.Late > 0; got != tc.late || res.Schedule.Late > res.MeasuredSent() {
					t.Fatalf("%d late of %d measured arrivals (%d in the warmup); want late: %v",
						res.Schedule.Late, res.MeasuredSent(), res.Schedule.WarmupSent, tc.late)
				}
			})
		})
	}
}

// The dashboard's stage line names the running stage, Poisson arrivals or
// uniform: the snapshot takes the name from the stages under the
// PoissonPacer (it showed the whole profile instead).
func TestSnapshotNamesTheStagePoissonOrNot(t *testing.T) {
	staged := NewStagedPacer(
		Stage{Name: "warm", Pacer: ConstantPacer{PerSecond: 50, Length: 2 * time.Second}},
		Stage{Name: "peak", Pacer: RampPacer{From: 50, To: 200, Length: 2 * time.Second}},
	)
	poisson, err := NewPoissonPacer(staged, 5)
	if err != nil {
		t.Fatal(err)
	}
	for name, pc := range map[string]Pacer{"uniform": staged, "poisson": poisson} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				target := &fakeTarget{start: time.Now(), service: time.Millisecond}
				var stages []string
				obs := ObserverFunc(func(s *results.Snapshot) {
					if !s.Done {
						stages = append(stages, s.Stage)
					}
				})
				if _, err := Run(context.Background(), fakePlan(target, pc), WithClock(FakeClock), WithObserver(obs)); err != nil {
					t.Fatal(err)
				}
				// A snapshot closes the second before it: at 1s and 2s
				// warm is over or running, at 3s peak.
				if len(stages) < 3 || stages[0] != "warm" || stages[2] != "peak" {
					t.Fatalf("stages seen %q; want warm, …, peak", stages)
				}
			})
		})
	}
}
