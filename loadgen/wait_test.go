package loadgen

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// TestWaiterNeverEarly checks the property the scheduler relies on: until
// returns only once the intended time has come, on every path (coarse timer,
// fine timer, yield loop), and reports a closed done channel.
func TestWaiterNeverEarly(t *testing.T) {
	for _, precise := range []bool{true, false} {
		w := newWaiter(precise)
		for _, d := range []time.Duration{-time.Millisecond, 0, 5 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond} {
			due := time.Now().Add(d)
			if !w.until(due, nil) {
				t.Fatalf("precise=%v: until(+%s) reported done", precise, d)
			}
			if now := time.Now(); now.Before(due) {
				t.Errorf("precise=%v: until(+%s) returned %s early", precise, d, due.Sub(now))
			}
		}
		if precise && runtime.GOOS == "linux" && w.fine == nil {
			t.Errorf("the fine timer failed and the waiter fell back to the coarse one")
		}
		done := make(chan struct{})
		close(done)
		if w.until(time.Now().Add(time.Hour), done) {
			t.Errorf("precise=%v: until returned true with done closed", precise)
		}
		w.close()
	}
}

func TestWakeAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	us := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Microsecond) }
	for _, tc := range []struct {
		name      string
		due, woke time.Time
		quantum   time.Duration
		want      time.Time
	}{
		{"no quantum", us(50), us(0), 0, us(50)},
		{"due inside the quantum waits for its end", us(50), us(0), 200 * time.Microsecond, us(200)},
		{"due at the quantum's end", us(200), us(0), 200 * time.Microsecond, us(200)},
		{"due after the quantum", us(900), us(0), 200 * time.Microsecond, us(900)},
		{"never woke yet", us(10), time.Time{}, 200 * time.Microsecond, us(10)},
	} {
		if got := wakeAt(tc.due, tc.woke, tc.quantum); !got.Equal(tc.want) {
			t.Errorf("%s: wakeAt = %s, want %s", tc.name, got.Sub(t0), tc.want.Sub(t0))
		}
	}
}

// TestWaiterQuantumBatches checks on a fake clock that arrivals falling due
// within one quantum of the last wake-up go out together at its end, none
// before its due time, and that arrivals further apart keep their own times.
func TestWaiterQuantumBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWaiter(false)
		defer w.close()
		w.quantum = 250 * time.Microsecond
		start := time.Now()
		var woke []time.Duration
		// Every 100µs for 1ms, then two arrivals 1ms apart.
		var dues []time.Duration
		for i := 1; i <= 10; i++ {
			dues = append(dues, time.Duration(i)*100*time.Microsecond)
		}
		dues = append(dues, 2*time.Millisecond, 3*time.Millisecond)
		for _, d := range dues {
			if !w.until(start.Add(d), nil) {
				t.Fatal("until reported done")
			}
			got := time.Since(start)
			if got < d {
				t.Fatalf("arrival due at %s went out at %s, early", d, got)
			}
			woke = append(woke, got)
		}
		want := []time.Duration{100, 350, 350, 600, 600, 600, 850, 850, 1100, 1100, 2000, 3000}
		for i, us := range want {
			if woke[i] != us*time.Microsecond {
				t.Errorf("arrival %d (due %s) went out at %s, want %s", i, dues[i], woke[i], us*time.Microsecond)
			}
		}
	})
}
