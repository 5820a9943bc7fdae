package results

import (
	"testing"
	"time"
)

// Thresholds read the figures of docs/metrics.md (results/figures.go):
// these are the defects of issue 12 items 3, 5 and 6 and issue 19 item 10.
func TestThresholdFigures(t *testing.T) {
	base := func() *Result {
		r := testResult()
		r.Meta.Model = OpenModel
		r.Schedule = Schedule{Planned: 1000, Sent: 1000, LastSent: Duration(9990 * time.Millisecond)}
		return r
	}
	tests := []struct {
		name   string
		edit   func(r *Result)
		expr   string
		pass   bool
		actual string
	}{
		{"stopped at 32% fails", func(r *Result) {
			r.Schedule.Sent, r.Schedule.Unsent = 320, 680
			r.Meta.Partial, r.Meta.StoppedAt = true, Duration(3200*time.Millisecond)
			r.Meta.End = r.Meta.Start.Add(3300 * time.Millisecond)
		}, "rate >= 95%", false, "32.0% (100/s achieved of 100/s planned; 320 of 1000 arrivals sent)"},
		{"all sent never above 100%", func(r *Result) {
			r.Meta.End = r.Meta.Start.Add(9995 * time.Millisecond)
		}, "rate <= 100%", true, "100% (100/s achieved of 100/s planned; 1000 of 1000 arrivals sent)"},
		{"a 4s drain is not in the ratio", func(r *Result) {
			r.Meta.End = r.Meta.Start.Add(14 * time.Second)
		}, "rate >= 95%", true, "100% (100/s achieved of 100/s planned; 1000 of 1000 arrivals sent)"},
		{"sent late stretches the schedule", func(r *Result) {
			r.Schedule.LastSent = Duration(12500 * time.Millisecond)
			r.Meta.End = r.Meta.Start.Add(12600 * time.Millisecond)
		}, "rate >= 95%", false, "80.0% (80.0/s achieved of 100/s planned; 1000 of 1000 arrivals sent)"},
		{"warmup arrivals are not counted", func(r *Result) {
			r.Meta.PlannedDuration = Duration(12 * time.Second)
			r.Meta.Warmup = Duration(2 * time.Second)
			r.Meta.End = r.Meta.Start.Add(12 * time.Second)
			r.Schedule = Schedule{Planned: 1100, Sent: 1000, WarmupPlanned: 100, WarmupSent: 100, LastSent: Duration(11990 * time.Millisecond), Unsent: 100}
		}, "rate >= 95%", false, "90.0% (90.0/s achieved of 100/s planned; 900 of 1000 arrivals sent)"},
		{"failed latency by name", func(r *Result) {
			r.Total.FailedLatency = NewHistogram()
			r.Total.FailedLatency.Record(259 * time.Microsecond)
		}, "failed_latency.max < 1ms", true, "259µs"},
		{"no failures pass a bound on failures", nil, "failed_latency.p99 < 1ms", true, "none (no request failed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			if tt.edit != nil {
				tt.edit(r)
			}
			got := mustThreshold(t, tt.expr).Evaluate(r)
			th := mustThreshold(t, tt.expr)
			if want := th.Metric.String() + " = " + tt.actual; got.Pass != tt.pass || got.Detail != want {
				t.Errorf("%q: pass %v detail %q, want %v %q", tt.expr, got.Pass, got.Detail, tt.pass, want)
			}
		})
	}
}
