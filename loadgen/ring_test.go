package loadgen

import (
	"testing"
	"time"
)

// TestSampleRingDeliversEverySampleInOrder pushes many rings' worth of
// samples through one ring while a collector drains it whenever woken, in
// pieces of at most 7 samples as drain does with drainPiece: every sample
// must arrive once, in order, whatever the interleaving.
func TestSampleRingDeliversEverySampleInOrder(t *testing.T) {
	for _, size := range []int{64, 1024} {
		kick := make(chan struct{}, 1)
		b := newSampleBuffer(size, kick)
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
		{1, 1024}, {50, 1024}, {64, 1024}, {65, 512}, {1000, 64}, {2048, 32}, {5000, 32}, {100_000, 32},
	}
	for _, tt := range tests {
		if got := ringSize(tt.workers); got != tt.want {
			t.Errorf("ringSize(%d) = %d, want %d", tt.workers, got, tt.want)
		}
	}
}

func TestConsumeStopsAtMax(t *testing.T) {
	b := newSampleBuffer(64, make(chan struct{}, 1))
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
