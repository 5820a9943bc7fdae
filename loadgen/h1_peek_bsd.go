//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package loadgen

import "syscall"

func (p *peeker) init() {
	p.fn = func(fd uintptr) {
		p.n, _, p.err = syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}
}
