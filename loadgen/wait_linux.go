package loadgen

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd is a fineTimer on Linux: a non-blocking timerfd registered with
// the runtime's netpoller, so a sleep parks the goroutine (no thread
// blocks) and wakes as soon as the timer fires.
//
// A sleep costs one system call. The timer is armed from inside the raw
// read callback, after the poller has reset the descriptor's readiness, so
// an expiry can never fall between arming and waiting; the expiration count
// is never read (timerfd_settime resets it), and a stale readiness only
// ends a sleep early, which waiter.until absorbs by sleeping again.
type timerfd struct {
	f    *os.File
	rc   syscall.RawConn
	fd   uintptr
	spec itimerspec
	err  error
	// arm is the raw read callback: it arms the timer on its first call
	// of a sleep and reports readiness on the next.
	arm   func(uintptr) bool
	armed bool
}

// itimerspec is struct itimerspec of timerfd_settime(2).
type itimerspec struct {
	interval, value syscall.Timespec
}

const clockMonotonic = 1

func newFineTimer() (fineTimer, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("timerfd_create: %w", errno)
	}
	f := os.NewFile(fd, "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	t := &timerfd{f: f, rc: rc, fd: fd}
	t.arm = func(uintptr) bool {
		if t.armed {
			return true
		}
		t.armed = true
		if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0, uintptr(unsafe.Pointer(&t.spec)), 0, 0, 0); errno != 0 {
			t.err = fmt.Errorf("timerfd_settime: %w", errno)
			return true
		}
		return false
	}
	return t, nil
}

func (t *timerfd) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t.spec.value = syscall.NsecToTimespec(int64(d))
	t.armed, t.err = false, nil
	if err := t.rc.Read(t.arm); err != nil {
		return fmt.Errorf("timerfd wait: %w", err)
	}
	return t.err
}

func (t *timerfd) close() error { return t.f.Close() }
