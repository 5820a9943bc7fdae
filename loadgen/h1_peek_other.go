//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package loadgen

import "syscall"

// peeker is a no-op where a non-blocking peek is not available: a stale
// connection is then found by the retry of idempotent requests only.
type peeker struct{}

func (p *peeker) init() {}

func (p *peeker) stale(syscall.RawConn, bool) bool { return false }
