package loadgen

import (
	"context"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// countingWriter counts what is written through it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// TestDayLongRunInFlatMemory runs a day of one-second intervals on a fake
// clock against a fake target and checks, at each checkpoint, the live
// heap and the size of the checkpoint: old intervals merge into coarser
// ones (results.TimelineCoarsener), so from the first hour to the end the
// heap stays within 2 MiB, a checkpoint within twice its first-hour bytes
// per interval and the timeline within ~2000 intervals (1 s for a minute, 10 s for an hour, 1 min
// for a day, each level with its merge slack), where one interval per second would
// grow 24-fold (≈ 0.8 GB a day at 5k/s).
func TestDayLongRunInFlatMemory(t *testing.T) {
	const maxIntervals = 60 + 60 + 360 + 36 + 1440 + 60
	length := 24 * time.Hour
	if testing.Short() || raceEnabled {
		length = 2 * time.Hour // the same shape in a twelfth of the time
	}
	type sample struct {
		at         time.Duration
		heap, size int64
		intervals  int
	}
	var mu sync.Mutex
	var samples []sample
	sink := func(r *results.Result) error {
		var w countingWriter
		if err := r.Encode(io.MultiWriter(&w)); err != nil {
			return err
		}
		s := sample{at: r.Meta.End.Sub(r.Meta.Start), heap: int64(liveHeap()), size: w.n, intervals: len(r.Timeline)}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		return nil
	}
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		plan := fakePlan(target, ConstantPacer{PerSecond: 2, Length: length})
		res, err := Run(context.Background(), plan, WithClock(FakeClock), WithCheckpointSink(sink, 20*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(2 * length.Seconds()); res.Total.Requests != want {
			t.Fatalf("%d requests, want %d", res.Total.Requests, want)
		}
		var n uint64
		for _, iv := range res.Timeline {
			n += iv.Total.Requests
		}
		if n != res.Total.Requests || res.Timeline[len(res.Timeline)-1].Length > results.Duration(time.Second) {
			t.Fatalf("the timeline holds %d of %d requests", n, res.Total.Requests)
		}
		if max := maxIntervals + int(length/(10*time.Minute)); len(res.Timeline) > max {
			t.Fatalf("%d intervals for %v, want at most %d", len(res.Timeline), length, max)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	var first *sample
	for i := range samples {
		s := &samples[i]
		if s.at < time.Hour {
			continue
		}
		if first == nil {
			first = s
			continue
		}
		t.Logf("%v: %d intervals, checkpoint %d KiB, live heap %d KiB", s.at.Round(time.Minute), s.intervals, s.size>>10, s.heap>>10)
		// The checkpoint is the timeline plus a fixed part: bounded when
		// the intervals are and none of them grows (2 per interval).
		perInterval := float64(s.size) / float64(s.intervals)
		if s.intervals > maxIntervals+int(s.at/(10*time.Minute)) || s.heap > first.heap+2<<20 ||
			perInterval > 2*float64(first.size)/float64(first.intervals) {
			t.Fatalf("at %v: %d intervals, live heap %d KiB and checkpoint %d KiB, against %d and %d KiB at %v",
				s.at, s.intervals, s.heap>>10, s.size>>10, first.heap>>10, first.size>>10, first.at)
		}
	}
	if first == nil || len(samples) < int(length/(20*time.Minute))-2 {
		t.Fatalf("%d checkpoints", len(samples))
	}
}
