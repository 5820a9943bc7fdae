package results

import (
	"runtime"
	"testing"
	"time"
)

// TestTimelineCoarsenerDay appends a day of one-second intervals, as the
// collector does, and checks that the timeline stays short, covers the
// run without gap or overlap, loses no count and no histogram value, and
// that the live heap stays bounded.
func TestTimelineCoarsenerDay(t *testing.T) {
	secs := 24 * 3600
	if testing.Short() || raceEnabled {
		secs = 3 * 3600 // every level but the last, in a tenth of the time
	}
	enc := NewEncoder()
	c := NewTimelineCoarsener(time.Second, enc)
	var tl []Interval
	want := NewHistogram()
	var requests uint64
	live := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var heapHour uint64
	// Intervals cycle through a few distinct histograms, encoded once: the
	// test's time goes to what it tests.
	var variants []*Histogram
	value := func(v, k int) time.Duration { return time.Duration(1+(v*7+k*13)%500) * time.Millisecond }
	for v := range 61 {
		h := NewHistogram()
		for k := range 3 {
			h.Record(value(v, k))
		}
		variants = append(variants, enc.Freeze(h))
	}
	for v := range variants {
		uses := int64((secs - v + len(variants) - 1) / len(variants))
		for k := range 3 {
			if err := want.hist().RecordValues(int64(value(v, k)/time.Microsecond), uses); err != nil {
				t.Fatal(err)
			}
		}
	}
	for s := range secs {
		frozen := variants[s%len(variants)]
		requests += 3
		iv := Interval{
			Start:  Duration(time.Duration(s)*time.Second + time.Duration(s%3)*time.Microsecond), // tick jitter
			Length: Duration(time.Second), PlannedRate: 3, Warmup: s < 5,
			Total:  IntervalStats{Requests: 3, Errors: 1, Latency: frozen, SendLag: frozen},
			Series: []IntervalStats{{Name: "get", Requests: 3, Errors: 1, Latency: frozen}},
		}
		tl = c.Add(tl, iv)
		if s == 3600 {
			heapHour = live()
		}
	}
	heapEnd := live()
	t.Logf("%d seconds in %d intervals; live heap %d KiB after an hour, %d KiB at the end", secs, len(tl), heapHour>>10, heapEnd>>10)
	max := secs / 600
	for _, lv := range coarseLevels {
		max += lv.keep + coarseSlack*lv.merge
	}
	if len(tl) > max {
		t.Fatalf("%d intervals for %d seconds, want at most %d", len(tl), secs, max)
	}
	if heapEnd > heapHour+4<<20 {
		t.Fatalf("live heap grew from %d KiB to %d KiB", heapHour>>10, heapEnd>>10)
	}
	got := NewHistogram()
	var gotRequests, gotErrors, series uint64
	var planned float64
	end := Duration(0)
	for i := range tl {
		iv := &tl[i]
		if d := iv.Start - end; d < -Duration(time.Millisecond) || d > Duration(time.Millisecond) {
			t.Fatalf("interval %d starts at %s, the one before ends at %s", i, iv.Start.D(), end.D())
		}
		end = iv.Start + iv.Length
		if err := got.Merge(iv.Total.Latency); err != nil {
			t.Fatal(err)
		}
		gotRequests += iv.Total.Requests
		gotErrors += iv.Total.Errors
		planned += iv.PlannedRate * iv.Length.D().Seconds()
		if iv.Total.SendLag.Count() != int64(iv.Total.Requests) || len(iv.Series) != 1 || iv.Series[0].Latency.Count() != int64(iv.Series[0].Requests) {
			t.Fatalf("interval %d: %d requests, send lag of %d, series %+v", i, iv.Total.Requests, iv.Total.SendLag.Count(), iv.Series)
		}
		series += iv.Series[0].Requests
	}
	if gotRequests != requests || gotErrors != requests/3 || series != requests || !got.Equal(want) {
		t.Fatalf("merged timeline: %d requests, %d errors, %d in the series; want %d, %d; histograms equal %v", gotRequests, gotErrors, series, requests, requests/3, got.Equal(want))
	}
	if d := planned - float64(requests); d > 1e-6*float64(requests) || d < -1e-6*float64(requests) {
		t.Fatalf("planned arrivals %v, want %d", planned, requests)
	}
	for i := range 5 {
		if !tl[i].Warmup || tl[i].Length != Duration(time.Second) {
			t.Fatalf("warmup interval %d was merged: %+v", i, tl[i])
		}
	}
	if l := tl[len(tl)-1].Length; l != Duration(time.Second) {
		t.Fatalf("the newest interval is %s long", l.D())
	}
}
