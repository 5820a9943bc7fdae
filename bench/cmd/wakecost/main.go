//go:build linux && amd64

// Command wakecost measures what one sleep and wake-up of a thread costs in
// CPU time on this machine, for the three ways a load generator can sleep
// until its next arrival: epoll_pwait2 with a nanosecond timeout, epoll_wait
// with a millisecond one (wrk2's event loop, Go's netpoller) and nanosleep.
// On a virtual machine each cycle is paid in exits to the hypervisor, and
// that price, not the sender's own work, sets the CPU per request of an open
// model that wakes once per arrival. Linux on amd64 only.
//
//	taskset -c 0 go run ./bench/cmd/wakecost
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// sysEpollPwait2 is epoll_pwait2(2) on amd64 and arm64 (Linux 5.11).
const sysEpollPwait2 = 441

const cycles = 2000

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wakecost:", err)
		os.Exit(1)
	}
}

func run() error {
	runtime.LockOSThread()
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(epfd)
	sleeps := []struct {
		name  string
		sleep func(time.Duration) error
	}{
		{"epoll_pwait2", func(d time.Duration) error { return epollPwait2(epfd, d) }},
		{"epoll_wait (ms)", func(d time.Duration) error { return epollWaitMs(epfd, d) }},
		{"nanosleep", nanosleep},
	}
	fmt.Printf("%-10s %-16s %12s %12s %12s\n", "sleep", "how", "wall µs", "user µs", "sys µs")
	for _, d := range []time.Duration{100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond} {
		for _, s := range sleeps {
			wall, user, sys, err := measure(s.sleep, d)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			fmt.Printf("%-10v %-16s %12.1f %12.2f %12.2f\n", d, s.name, perCycle(wall), perCycle(user), perCycle(sys))
		}
	}
	return nil
}

// measure sleeps d cycles times and returns the wall, user and system time
// the calling thread spent.
func measure(sleep func(time.Duration) error, d time.Duration) (wall, user, sys time.Duration, err error) {
	var r0, r1 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &r0); err != nil {
		return 0, 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	start := time.Now()
	for range cycles {
		if err := sleep(d); err != nil {
			return 0, 0, 0, err
		}
	}
	wall = time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &r1); err != nil {
		return 0, 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	user = time.Duration(r1.Utime.Nano() - r0.Utime.Nano())
	sys = time.Duration(r1.Stime.Nano() - r0.Stime.Nano())
	return wall, user, sys, nil
}

func perCycle(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / cycles }

// The sleeps are raw system calls: the thread is locked and nothing else
// runs in the process, so the runtime need not hand its processor off.

func epollPwait2(epfd int, d time.Duration) error {
	var ev [1]syscall.EpollEvent
	ts := syscall.NsecToTimespec(int64(d))
	_, _, e := syscall.RawSyscall6(sysEpollPwait2, uintptr(epfd), uintptr(unsafe.Pointer(&ev[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0)
	if e != 0 && e != syscall.EINTR {
		return e
	}
	return nil
}

func epollWaitMs(epfd int, d time.Duration) error {
	var ev [1]syscall.EpollEvent
	ms := max(int(d/time.Millisecond), 1)
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&ev[0])), 1, uintptr(ms), 0, 0)
	if e != 0 && e != syscall.EINTR {
		return e
	}
	return nil
}

func nanosleep(d time.Duration) error {
	ts := syscall.NsecToTimespec(int64(d))
	_, _, e := syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
	if e != 0 && e != syscall.EINTR {
		return e
	}
	return nil
}
