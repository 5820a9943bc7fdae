package specialfile

import (
	"errors"
	"syscall"
	"testing"
)

// FIFO makes a named pipe at path.
func FIFO(t testing.TB, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// NullDevice makes a character device node at path with the numbers of
// the null device (1, 3): writes to it are discarded and reads return end
// of file, wherever the node is. It skips the test where mknod is not
// permitted (an unprivileged user, a container without CAP_MKNOD).
func NullDevice(t testing.TB, path string) {
	t.Helper()
	const major, minor = 1, 3
	dev := minor&0xff | major<<8 | (minor&^0xff)<<12
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, dev); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("mknod not permitted here: %v", err)
		}
		t.Fatalf("mknod: %v", err)
	}
}
