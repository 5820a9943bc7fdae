package loadgen

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestSampleRingDeliversEverySampleInOrder pushes many rings' worth of
// samples through one ring while a collector drains it whenever woken, in
// pieces of at most 7 samples as drain does with drainPiece: every sample
// must arrive once, in order, whatever the interleaving.
func TestSampleRingDeliversEverySampleInOrder(t *testing.T) {
	for _, size := range []int{ringFloor, 64, 1024} {
		kick := make(chan struct{}, 1)
		var dirty atomic.Uint64
		b := newSampleBuffer(size, kick, &dirty, 1)
		const n = 50_000
		// check runs on the collector goroutine, then on this one after
		// done: never both at once.
		var next time.Duration
		var wrong int
		check := func(s *sample) {
			if s.done != next {
				wrong++
				next = s.done
			}
			next++
		}
		done := make(chan struct{})
		go func() {
			for range kick {
				for b.consume(check, 7) == 7 {
				}
			}
			close(done)
		}()
		for i := 0; i < n; i++ {
			b.add(sample{done: time.Duration(i)})
		}
		close(kick)
		<-done
		for b.consume(check, 7) == 7 { // what was published after the last wake-up
		}
		if wrong > 0 || next != n {
			t.Fatalf("size %d: %d samples out of order; last %d, want %d", size, wrong, next-1, n-1)
		}
	}
}

func TestRingSize(t *testing.T) {
	tests := []struct{ workers, want int }{
		{1, 1024}, {50, 1024}, {64, 1024}, {65, 512}, {1000, 64}, {2048, 32}, {4096, 16}, {4097, 8}, {5000, 8}, {100_000, 8},
	}
	for _, tt := range tests {
		if got := ringSize(tt.workers); got != tt.want {
			t.Errorf("ringSize(%d) = %d, want %d", tt.workers, got, tt.want)
		}
	}
}

func TestConsumeStopsAtMax(t *testing.T) {
	var dirty atomic.Uint64
	b := newSampleBuffer(64, make(chan struct{}, 1), &dirty, 1)
	for i := 0; i < 10; i++ {
		b.add(sample{done: time.Duration(i)})
	}
	var got []time.Duration
	f := func(s *sample) { got = append(got, s.done) }
	for _, tt := range []struct{ max, want int }{{4, 4}, {4, 4}, {4, 2}, {4, 0}} {
		if n := b.consume(f, tt.max); n != tt.want {
			t.Fatalf("consume(max %d) = %d, want %d", tt.max, n, tt.want)
		}
	}
	if len(got) != 10 || got[0] != 0 || got[9] != 9 {
		t.Fatalf("consumed %v, want 0..9 in order", got)
	}
}

// TestDrainDirtyDrainsTheRingsThatWoke fills half of three rings of 130 (in
// three words of dirty bits), which wakes the collector: a wake-up's drain
// takes their samples and leaves the other rings' for a tick's drain.
func TestDrainDirtyDrainsTheRingsThatWoke(t *testing.T) {
	const workers, size = 130, 8
	rec := &recorder{kick: make(chan struct{}, 1), dirty: make([]atomic.Uint64, (workers+63)/64)}
	for i := range workers {
		rec.buffers = append(rec.buffers, newSampleBuffer(size, rec.kick, &rec.dirty[i/64], 1<<(i%64)))
	}
	got := map[int32]int{}
	rec.addFn = func(s *sample) { got[s.series]++ }
	woke := []int{0, 65, 129}
	for _, i := range woke {
		for range size / 2 {
			rec.buffers[i].add(sample{series: int32(i)})
		}
	}
	rec.buffers[7].add(sample{series: 7}) // less than half: no wake-up
	<-rec.kick
	rec.drainDirty()
	for _, i := range woke {
		if got[int32(i)] != size/2 {
			t.Errorf("ring %d: %d samples drained, want %d", i, got[int32(i)], size/2)
		}
	}
	if got[7] != 0 || len(got) != len(woke) {
		t.Errorf("drained %v: only the rings that woke the collector should be", got)
	}
	for w := range rec.dirty {
		if d := rec.dirty[w].Load(); d != 0 {
			t.Errorf("dirty word %d is %b after the drain", w, d)
		}
	}
	rec.drain()
	if got[7] != 1 {
		t.Errorf("a full drain took %d samples of ring 7, want 1", got[7])
	}
}
