package results

import (
	"testing"
	"time"
)

func TestPercentileString(t *testing.T) {
	for _, tt := range []struct {
		q    Percentile
		want string
	}{{50, "p50"}, {99, "p99"}, {99.9, "p99.9"}, {99.99, "p99.99"}, {100, "p100"}} {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("Percentile(%v) = %q, want %q", float64(tt.q), got, tt.want)
		}
	}
}

// TestSummaryFollowsReported: a summary holds each reported percentile as
// the histogram answers it, so every output reading the summary agrees with
// a direct query; Of and With address the same slots.
func TestSummaryFollowsReported(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Summary()
	for i, q := range Reported() {
		want := h.Percentile(float64(q))
		if s.At[i] != want || s.Of(q) != want {
			t.Errorf("%s: At %v, Of %v, histogram %v", q, s.At[i], s.Of(q), want)
		}
		if got := (Percentiles{}).With(q, want).Of(q); got != want {
			t.Errorf("%s: With then Of gives %v, want %v", q, got, want)
		}
	}
	if s.Max != h.Max() || s.Mean != h.Mean() {
		t.Errorf("max %v mean %v, histogram %v %v", s.Max, s.Mean, h.Max(), h.Mean())
	}
	if got := s.Of(12.5); got != 0 {
		t.Errorf("a percentile not reported reads %v, want 0", got)
	}
	if got := s.With(12.5, time.Second); got != s {
		t.Errorf("With of a percentile not reported changed the summary")
	}
	if (&Histogram{}).Summary() != (Percentiles{}) {
		t.Errorf("the summary of an empty histogram is not zero")
	}
}
