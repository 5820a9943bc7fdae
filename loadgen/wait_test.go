package loadgen

import (
	"runtime"
	"testing"
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
