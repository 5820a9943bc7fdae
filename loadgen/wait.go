package loadgen

import (
	"runtime"
	"time"
)

// The scheduler sleeps until each arrival's intended time. A time.Timer is
// no good for that at high rates: when the Go runtime is idle it waits for
// the next timer in epoll_wait, whose timeout has millisecond resolution,
// so a timer due in 100µs fires about 1 ms late and a 10k/s schedule goes
// out in 1 ms bursts (send lag p50 ≈ 0.6 ms measured on Linux). The waiter
// uses the coarse timer only to get within coarseMargin of the intended
// time, then a fine timer (timerfd on Linux, polled by the runtime's
// netpoller, microsecond precision), and yields the processor instead of
// sleeping for the last spinBelow, which no kernel timer can hit.
const (
	coarseMargin = 2 * time.Millisecond
	spinBelow    = 20 * time.Microsecond
)

// fineTimer sleeps for short durations with microsecond precision. The
// sleep is not interruptible, which is why it is only used for the last
// coarseMargin.
type fineTimer interface {
	sleep(d time.Duration) error
	close() error
}

// waiter sleeps the scheduler until intended times. It is used by one
// goroutine.
type waiter struct {
	timer *time.Timer
	fine  fineTimer // nil where the platform has none: coarse timer only
}

// newWaiter returns a waiter; precise asks for the fine timer where the
// platform has one.
func newWaiter(precise bool) *waiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	w := &waiter{timer: t}
	if precise {
		if f, err := newFineTimer(); err == nil {
			w.fine = f
		}
	}
	return w
}

// until returns when due has come (true) or done is closed (false). With a
// fine timer it returns within a few microseconds after due unless the
// machine is overloaded; it never returns before due.
func (w *waiter) until(due time.Time, done <-chan struct{}) bool {
	for {
		wait := time.Until(due)
		switch {
		case wait <= 0:
			return true
		case w.fine == nil || wait > coarseMargin:
			d := wait
			if w.fine != nil {
				d -= coarseMargin
			}
			w.timer.Reset(d)
			select {
			case <-w.timer.C:
			case <-done:
				w.timer.Stop()
				return false
			}
		case wait < spinBelow:
			// Let workers run meanwhile; with nothing else to run this
			// spins for at most spinBelow.
			runtime.Gosched()
		default:
			if err := w.fine.sleep(wait); err != nil {
				// A broken fine timer: fall back to the coarse one for good.
				_ = w.fine.close()
				w.fine = nil
			}
		}
	}
}

func (w *waiter) close() {
	w.timer.Stop()
	if w.fine != nil {
		_ = w.fine.close()
	}
}
