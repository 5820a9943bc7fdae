//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package loadgen

import "syscall"

// peeker checks an idle socket without blocking and without allocating:
// the callback is bound once, and its results travel through the struct.
type peeker struct {
	fn  func(fd uintptr)
	buf [1]byte
	n   int
	err error
}

// stale reports whether the peer closed the socket (EOF or an error) or
// left unread bytes on a connection that should be silent. With tls the
// bytes may be a TLS record the TLS layer handles, so only a close counts.
func (p *peeker) stale(rc syscall.RawConn, tls bool) bool {
	if err := rc.Control(p.fn); err != nil {
		return true
	}
	switch {
	case p.err == syscall.EAGAIN || p.err == syscall.EWOULDBLOCK || p.err == syscall.EINTR:
		return false
	case p.err != nil:
		return true
	case p.n == 0:
		return true // orderly shutdown by the server
	}
	return !tls
}
