package loadgen

import (
	"syscall"
	"unsafe"
)

// init binds the peek to a raw recvfrom. With MSG_DONTWAIT it cannot block,
// and syscall.Recvfrom would tell the runtime it entered a system call,
// which wakes the runtime's monitor thread from its idle sleep: in the open
// model at 1000/s, where every connection is idle long enough to be peeked,
// that was a futex wake and three context switches per request.
func (p *peeker) init() {
	p.fn = func(fd uintptr) {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p.buf[0])), uintptr(len(p.buf)),
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		p.n, p.err = int(n), nil
		if e != 0 {
			p.n, p.err = 0, e
		}
	}
}
