package loadgen

import (
	"runtime"
	"time"
)

// The scheduler sleeps until each arrival's intended time. time.Timer alone
// is no good for that at high rates: when the Go runtime is idle it waits for
// the next timer in epoll_wait, whose timeout has millisecond resolution, so
// a timer due in 100µs fires about 1 ms late and a 10k/s schedule goes out
// in 1 ms bursts (send lag p50 ≈ 0.6 ms measured on Linux). When the runtime
// is busy the timer is precise: it is checked at every scheduling round.
//
// So the waiter waits on an ordinary time.Timer (cancellable, checked
// promptly under load) and, where the platform has one, also arms a fine
// timer for the same instant: a timerfd registered with the netpoller that
// nothing waits on. Its only job is to end an idle epoll_wait on time, after
// which the runtime checks its timers and the time.Timer fires. The last
// spinBelow before an arrival, shorter than any kernel timer can hit, the
// waiter yields the processor instead.
const spinBelow = 20 * time.Microsecond

// wakeQuantum is the scheduler's shortest time between two wake-ups. Each
// wake-up of an idle process costs more than sending five requests (about
// 40 µs of CPU on a virtual machine: the timer's arming, the halt and the
// interrupt are exits to the hypervisor), so arrivals that fall due within
// a quantum of the last wake-up wait for its end and go out together. An
// arrival is never sent early; the wait is send lag, at most a quantum
// plus the timer's own lateness: 500 µs keeps the send-lag p99 at 10k/s
// near 0.6 ms, under the 1 ms goal, at two thirds of 250 µs's CPU per
// request (docs/design.md, Engine). Below one arrival per quantum
// (2000/s) every arrival keeps its own wake-up.
const wakeQuantum = 500 * time.Microsecond

// fineSlack makes the fine timer fire just after the time.Timer is due, so
// the runtime, woken by it, finds the timer expired rather than sleeping
// another millisecond.
const fineSlack = 2 * time.Microsecond

// fineTimer wakes the runtime's poller after d with microsecond precision.
type fineTimer interface {
	wakeAfter(d time.Duration) error
	close() error
}

// waiter sleeps the scheduler until intended times. It is used by one
// goroutine.
type waiter struct {
	timer *time.Timer
	fine  fineTimer // nil where the platform has none: time.Timer only
	// quantum is the shortest time between two wake-ups: an arrival due
	// sooner after the last one waits for the quantum to pass, and goes
	// out with the others due by then, in one wake-up.
	quantum time.Duration
	woke    time.Time // when the last sleep ended
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
	now := time.Now()
	if !now.Before(due) {
		return true
	}
	due = wakeAt(due, w.woke, w.quantum)
	defer func() { w.woke = time.Now() }()
	for {
		wait := time.Until(due)
		if wait <= 0 {
			return true
		}
		if w.fine != nil && wait < spinBelow {
			// Let workers run meanwhile; with nothing else to run this
			// spins for at most spinBelow.
			runtime.Gosched()
			continue
		}
		w.timer.Reset(wait)
		if w.fine != nil {
			if err := w.fine.wakeAfter(wait + fineSlack); err != nil {
				// A broken fine timer: the time.Timer alone from now on.
				_ = w.fine.close()
				w.fine = nil
			}
		}
		select {
		case <-w.timer.C:
		case <-done:
			w.timer.Stop()
			return false
		}
	}
}

// wakeAt is when a waiter whose last sleep ended at woke wakes for an
// arrival due at due: at due, or at the end of the quantum after woke if
// that is later. Never before due.
func wakeAt(due, woke time.Time, quantum time.Duration) time.Time {
	if end := woke.Add(quantum); end.After(due) {
		return end
	}
	return due
}

func (w *waiter) close() {
	w.timer.Stop()
	if w.fine != nil {
		_ = w.fine.close()
	}
}
