package cli

import (
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestProgressLine: the line printed every few seconds without a terminal
// carries the rate against plan, the last interval's percentiles, and every
// warning the dashboard would show.
func TestProgressLine(t *testing.T) {
	base := func() *results.Snapshot {
		return &results.Snapshot{
			Elapsed: 10 * time.Second, Planned: time.Minute, Model: results.OpenModel,
			TargetRate: 1000, ArrivalRate: 998, Rate: 998,
			Total: results.SeriesSnapshot{Requests: 9980, Interval: results.Percentiles{}.With(50, 2*time.Millisecond).With(99, 9*time.Millisecond)},
		}
	}
	cases := []struct {
		name string
		edit func(s *results.Snapshot)
		want string
	}{
		{"steady", func(*results.Snapshot) {}, "[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms"},
		{"flows send more requests than arrivals", func(s *results.Snapshot) { s.Rate = 2994 },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 2994 req/s, p50 2.00ms p99 9.00ms"},
		{"a stalled target queues arrivals", func(s *results.Snapshot) { s.Queued, s.OldestQueued = 150, 3*time.Second },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, 150 queued (oldest 3.00s), p50 2.00ms p99 9.00ms, BEHIND SCHEDULE (arrivals queued)"},
		{"errors", func(s *results.Snapshot) { s.Total.Errors = 12 },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms, 12 errors"},
		{"behind", func(s *results.Snapshot) { s.SendLag = s.SendLag.With(99, 40*time.Millisecond) },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms, BEHIND SCHEDULE (send lag p99 40.0ms)"},
		{"steal below 1% is not shown", func(s *results.Snapshot) { s.Steal = 0.009 },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms"},
		{"steal", func(s *results.Snapshot) { s.Steal = 0.28 },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms, hypervisor steal 28.0%"},
		{"warmup", func(s *results.Snapshot) { s.Warmup = true },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms (warmup)"},
		{"checkpoint failed", func(s *results.Snapshot) { s.CheckpointError = "checkpoint: write results r.json: disk full" },
			"[10s/1m0s] 9980 req, 998 it/s of 1000/s, 998 req/s, p50 2.00ms p99 9.00ms, CHECKPOINT FAILED: checkpoint: write results r.json: disk full"},
		{"closed model", func(s *results.Snapshot) { s.Model = results.ClosedModel; s.Rate = 450 },
			"[10s/1m0s] 9980 req, 450 req/s, p50 2.00ms p99 9.00ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.edit(s)
			if got := progressLine(s); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
