//go:build !linux

package specialfile

import "testing"

// FIFO makes a named pipe at path (Linux only: skips elsewhere).
func FIFO(t testing.TB, path string) {
	t.Helper()
	t.Skip("named pipes are made on Linux only")
}

// NullDevice makes a character device node at path (Linux only: skips
// elsewhere).
func NullDevice(t testing.TB, path string) {
	t.Helper()
	t.Skip("device nodes are made on Linux only")
}
