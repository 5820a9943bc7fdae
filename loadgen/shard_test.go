package loadgen

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// arrivalLog records the arrival number and the intended offset from the
// start instant of every iteration a run starts.
type arrivalLog struct {
	start time.Time
	mu    sync.Mutex
	due   map[uint64]time.Duration
	dups  int
}

func (l *arrivalLog) Prepare(it *Iteration, req *Request) error {
	l.mu.Lock()
	if _, dup := l.due[it.Seq]; dup {
		l.dups++
	}
	l.due[it.Seq] = it.Intended.Sub(l.start)
	l.mu.Unlock()
	req.Name, req.Method, req.URL = "log", "GET", "http://fake/"
	return nil
}

func (l *arrivalLog) Inspect(*Iteration, *Response) error { return nil }

// runLogged runs shard sh of a plan with pacer p, starting at an instant
// 10ms ahead, and returns the arrivals it started.
func runLogged(t *testing.T, p Pacer, sh results.Shard) *arrivalLog {
	t.Helper()
	start := time.Now().Add(10 * time.Millisecond)
	log := &arrivalLog{start: start, due: map[uint64]time.Duration{}}
	target := &fakeTarget{start: time.Now(), service: 100 * time.Microsecond}
	plan := fakePlan(target, p)
	plan.Flows[0].Steps = []Step{log}
	plan.Shard = sh
	res, err := Run(context.Background(), plan, WithClock(FakeClock), WithStartAt(start, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Schedule.Unsent != 0 || res.Schedule.Dropped != 0 || log.dups != 0 {
		t.Fatalf("shard %v: unsent %d, dropped %d, repeated %d", sh, res.Schedule.Unsent, res.Schedule.Dropped, log.dups)
	}
	return log
}

// TestShardsUnionIsTheSingleRun is the property distributed runs rest on:
// for any shard count and profile, the shards' arrivals are disjoint, each
// shard takes arrivals k ≡ index (mod N), and together they are exactly the
// single run's arrivals with identical intended times.
func TestShardsUnionIsTheSingleRun(t *testing.T) {
	profiles := []struct{ spec, total string }{
		{"333/s", "1s"},        // 333 arrivals: no shard count above 1 divides it
		{"10/s:290/s", "1.3s"}, // a ramp: 195 arrivals, uneven gaps
		{"70/s@0.5s,70/s:130/s@0.7s,47/s", "1.5s"},
	}
	for _, pr := range profiles {
		total, err := format.ParseDuration(pr.total)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseProfile(pr.spec, total)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(pr.spec, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				whole := runLogged(t, p, results.Shard{})
				if uint64(len(whole.due)) != p.Count() {
					t.Fatalf("single run started %d arrivals, the plan has %d", len(whole.due), p.Count())
				}
				for k, due := range whole.due {
					if at, _ := p.Arrival(k); at != due {
						t.Fatalf("arrival %d intended at %s, the pacer says %s", k, due, at)
					}
				}
				for _, n := range []int{1, 2, 3, 7} {
					union := map[uint64]time.Duration{}
					for i := 0; i < n; i++ {
						shard := runLogged(t, p, results.Shard{Index: i, Count: n})
						for k, due := range shard.due {
							if int(k%uint64(n)) != i {
								t.Fatalf("%d shards: shard %d ran arrival %d", n, i, k)
							}
							if _, dup := union[k]; dup {
								t.Fatalf("%d shards: arrival %d ran twice", n, k)
							}
							union[k] = due
						}
					}
					if len(union) != len(whole.due) {
						t.Fatalf("%d shards ran %d arrivals, the single run %d", n, len(union), len(whole.due))
					}
					for k, due := range whole.due {
						if got, ok := union[k]; !ok || got != due {
							t.Fatalf("%d shards: arrival %d intended at %s (ran %v), single run %s", n, k, got, ok, due)
						}
					}
				}
			})
		})
	}
}

func TestStartAtWaitsForTheInstant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now().Add(time.Minute)
		log := &arrivalLog{start: start, due: map[uint64]time.Duration{}}
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: time.Second})
		plan.Flows[0].Steps = []Step{log}
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithStartAt(start, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		m := res.Meta
		if !m.Start.Equal(start) || !m.PlannedStart.Equal(start) || !m.ActualStart.Equal(start) {
			t.Fatalf("start %v planned %v actual %v, want all %v", m.Start, m.PlannedStart, m.ActualStart, start)
		}
		if len(log.due) != 10 || log.due[0] != 0 || log.due[9] != 900*time.Millisecond {
			t.Fatalf("arrivals %v: want 10, from the instant on", log.due)
		}
	})
}

func TestStartAtLateWithinGraceCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now().Add(-300 * time.Millisecond)
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: time.Second})
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithStartAt(start, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// Arrivals 0-3 were due before the run was ready: sent at once, late.
		if res.Total.Requests != 10 || res.Schedule.Late != 3 || !res.Meta.ActualStart.Equal(start.Add(300*time.Millisecond)) {
			t.Fatalf("requests %d late %d actual start %v", res.Total.Requests, res.Schedule.Late, res.Meta.ActualStart)
		}
	})
}

func TestStartAtPastGraceRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: time.Second})
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithStartAt(time.Now().Add(-1500*time.Millisecond), time.Second))
		var late *LateStartError
		if !errors.As(err, &late) || late.Late != 1500*time.Millisecond || res != nil || target.count.Load() != 0 {
			t.Fatalf("err %v, result %v, %d sent; want a LateStartError and nothing sent", err, res, target.count.Load())
		}
	})
}

func TestStopWhileWaitingSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: time.Second})
		cause := errors.New("stopped by a test")
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(time.Second, func() { cancel(cause) })
		res, err := Run(ctx, plan, WithClock(FakeClock), WithStartAt(time.Now().Add(time.Hour), time.Second))
		if !errors.Is(err, cause) || res != nil || target.count.Load() != 0 {
			t.Fatalf("err %v, result %v, %d sent", err, res, target.count.Load())
		}
	})
}

func TestRunIDIsSharedByTheShards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(time.Second)
		ids := map[string]bool{}
		for i := 0; i < 3; i++ {
			target := &fakeTarget{start: time.Now(), service: time.Millisecond}
			plan := fakePlan(target, ConstantPacer{PerSecond: 10, Length: 100 * time.Millisecond})
			plan.Shard = results.Shard{Index: i, Count: 3}
			res, err := Run(context.Background(), plan, WithClock(FakeClock), WithStartAt(at, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			ids[res.Meta.RunID] = true
		}
		if len(ids) != 1 {
			t.Fatalf("shards of one run got run ids %v", ids)
		}
		other := fakePlan(&fakeTarget{start: time.Now()}, ConstantPacer{PerSecond: 10, Length: 100 * time.Millisecond})
		other.Shard = results.Shard{Index: 0, Count: 3}
		res, err := Run(context.Background(), other, WithClock(FakeClock), WithStartAt(time.Now().Add(time.Second), time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if ids[res.Meta.RunID] {
			t.Fatalf("another start instant got the same run id %s", res.Meta.RunID)
		}
		named := fakePlan(&fakeTarget{start: time.Now()}, ConstantPacer{PerSecond: 10, Length: 100 * time.Millisecond})
		named.RunID = "nightly"
		if res, err = Run(context.Background(), named, WithClock(FakeClock)); err != nil || res.Meta.RunID != "nightly" {
			t.Fatalf("given run id: %v, %v", res.Meta.RunID, err)
		}
	})
}
