//go:build unix

package cli

import (
	"runtime/debug"
	"syscall"
)

// crashBySignal makes a crash of the process end it with SIGABRT instead
// of the exit status 2 that the Go runtime gives both an unrecovered panic
// and a fatal error such as running out of memory: status 2 means bad
// input here, and a CI job must never read a crash as a usage error (a
// shell sees 134). Core dumps are turned off first (the soft limit, which
// a process may always lower), so a crash never writes the memory of a
// run, tokens included, to disk.
func crashBySignal() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_CORE, &lim) == nil {
		lim.Cur = 0
		// Lowering the soft limit cannot fail; if it somehow did, the
		// crash would still not exit 2, only leave a core dump where the
		// system keeps them.
		_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &lim)
	}
	debug.SetTraceback("crash")
}
