//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// procStatMax bounds how much of /proc/stat is read: its per-CPU lines
// come first, and a machine with thousands of interrupts has a long
// "intr" line after them.
const procStatMax = 1 << 20

// procStealReader returns a reader of the steal of the CPUs in the
// process's affinity mask (taken now: taskset, a cgroup's cpuset), or nil
// when the mask cannot be read.
func procStealReader() func() (stealClock, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	buf := make([]byte, 8<<10)
	return func() (stealClock, error) {
		n, err := readProcFile("/proc/stat", &buf)
		if err != nil {
			return stealClock{}, err
		}
		return parseProcStat(buf[:n], set.IsSet)
	}
}

// readProcFile reads the file at path whole into *buf, growing it up to
// procStatMax, in as few reads as fit: a file of /proc is generated at
// each read, and one read keeps its lines of one instant.
func readProcFile(path string, buf *[]byte) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(*buf) {
			if n >= procStatMax {
				return n, nil
			}
			*buf = append(*buf, make([]byte, len(*buf))...)
		}
		m, err := syscall.Read(fd, (*buf)[n:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return 0, fmt.Errorf("read %s: %w", path, err)
		case m == 0:
			return n, nil
		}
		n += m
	}
}
