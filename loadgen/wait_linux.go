package loadgen

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd is a fineTimer on Linux: a non-blocking timerfd wrapped in an
// os.File, so Read parks the goroutine in the runtime's netpoller (which
// wakes as soon as the fd fires) instead of blocking a thread.
type timerfd struct {
	f   *os.File
	fd  uintptr
	buf [8]byte
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
	return &timerfd{f: os.NewFile(fd, "timerfd"), fd: fd}, nil
}

func (t *timerfd) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, t.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	if _, err := t.f.Read(t.buf[:]); err != nil {
		return fmt.Errorf("timerfd read: %w", err)
	}
	return nil
}

func (t *timerfd) close() error { return t.f.Close() }
