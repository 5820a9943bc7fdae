//go:build !unix

package cli

import "runtime/debug"

// crashBySignal makes a crash end the process through the system's abort
// path instead of exit status 2 (see crash_unix.go).
func crashBySignal() { debug.SetTraceback("crash") }
