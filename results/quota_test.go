package results

import (
	"testing"
	"time"
)

func TestNoteQuota(t *testing.T) {
	var q *Quota
	if q = NoteQuota(q, -1, -1); q != nil {
		t.Fatalf("a response that reported nothing made %+v", q)
	}
	q = NoteQuota(q, -1, 7)
	q = NoteQuota(q, 100, 9)
	q = NoteQuota(q, 50, 3)
	if *q != (Quota{Limit: 100, Remaining: 3}) {
		t.Errorf("quota %+v, want the highest limit and the lowest remaining", *q)
	}
	if got := mergeQuota(&Quota{Limit: -1, Remaining: 5}, &Quota{Limit: 10, Remaining: -1}); *got != (Quota{Limit: 10, Remaining: 5}) {
		t.Errorf("merged %+v", *got)
	}
}

// TestCoarsenedQuota runs an hour of one-second intervals whose quota
// counts down from 99 to 0 every 100 s through the coarsener: each coarse
// interval keeps the lowest remaining of the seconds it covers.
func TestCoarsenedQuota(t *testing.T) {
	c := NewTimelineCoarsener(time.Second, NewEncoder())
	var tl []Interval
	remaining := func(s int) int64 { return int64(99 - s%100) }
	for s := range 3600 {
		tl = c.Add(tl, Interval{
			Start: Duration(time.Duration(s) * time.Second), Length: Duration(time.Second),
			Total: IntervalStats{Requests: 1, Latency: NewHistogram()},
			Quota: &Quota{Limit: 100, Remaining: remaining(s)},
		})
	}
	coarse := false
	for _, iv := range tl {
		from, n := int(iv.Start.D()/time.Second), int(iv.Length.D()/time.Second)
		coarse = coarse || n > 1
		want := remaining(from)
		for s := from; s < from+n; s++ {
			want = min(want, remaining(s))
		}
		if iv.Quota == nil || *iv.Quota != (Quota{Limit: 100, Remaining: want}) {
			t.Fatalf("interval at %ds (%ds long): quota %+v, want limit 100, remaining %d", from, n, iv.Quota, want)
		}
	}
	if !coarse {
		t.Error("nothing was coarsened in an hour")
	}
}
