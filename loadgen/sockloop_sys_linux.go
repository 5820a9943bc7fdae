//go:build linux && (amd64 || arm64)

package loadgen

import (
	"encoding/binary"
	"syscall"
	"time"
	"unsafe"
)

// The socket loop's system calls. All are raw (syscall.RawSyscall): none of
// them blocks but the loop's sleep, and the runtime must not hand the
// loop's processor to another thread around each one (see
// docs/design.md, "The socket loop").

// sysEpollPwait2 is epoll_pwait2(2) (Linux 5.11), the same number on every
// architecture.
const sysEpollPwait2 = 441

// epollPwait2 waits on epfd for at most timeout (forever when negative),
// to the nanosecond. EINTR (the runtime's preemption signal) is a wake-up
// with no events.
func epollPwait2(epfd int, evs []syscall.EpollEvent, timeout time.Duration) (int, syscall.Errno) {
	var ts syscall.Timespec
	tsp := unsafe.Pointer(nil)
	if timeout >= 0 {
		ts = syscall.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	n, _, errno := syscall.RawSyscall6(sysEpollPwait2, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), uintptr(tsp), 0, 0)
	if errno == syscall.EINTR {
		return 0, 0
	}
	return int(n), errno
}

// epollCtl adds, changes or removes fd in epfd's interest list.
func epollCtl(epfd, op, fd int, events uint32) syscall.Errno {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	return errno
}

// rawWrite writes p to the non-blocking fd once.
func rawWrite(fd int, p []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}

// recvBuffer is the socket loop's one receive buffer, with the message
// header and control buffer that recvmsg fills, reused for every read.
type recvBuffer struct {
	buf []byte
	oob [64]byte
	iov syscall.Iovec
	msg syscall.Msghdr
}

func newRecvBuffer(size int) *recvBuffer {
	b := &recvBuffer{buf: make([]byte, size)}
	b.iov.Base = &b.buf[0]
	b.iov.SetLen(size)
	b.msg.Iov = &b.iov
	b.msg.Iovlen = 1
	return b
}

// recv reads what fd has without waiting, and the kernel's receive time of
// its last bytes (SO_TIMESTAMPNS, CLOCK_REALTIME nanoseconds; 0 if none
// came).
func (b *recvBuffer) recv(fd int) (n int, stamp int64, errno syscall.Errno) {
	b.msg.Control = &b.oob[0]
	b.msg.SetControllen(len(b.oob))
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msg)), syscall.MSG_DONTWAIT)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, e
		}
		return int(r), b.stamp(), 0
	}
}

// stamp parses the SO_TIMESTAMPNS control message recvmsg left, if any,
// without allocating (syscall.ParseSocketControlMessage would).
func (b *recvBuffer) stamp() int64 {
	const hdr = int(unsafe.Sizeof(syscall.Cmsghdr{}))
	const ts = int(unsafe.Sizeof(syscall.Timespec{}))
	ctl := b.oob[:b.msg.Controllen]
	for len(ctl) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		l := int(h.Len)
		if l < hdr || l > len(ctl) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_TIMESTAMPNS && l >= hdr+ts {
			sec := int64(binary.NativeEndian.Uint64(ctl[hdr:]))
			nsec := int64(binary.NativeEndian.Uint64(ctl[hdr+8:]))
			return sec*1e9 + nsec
		}
		a := cmsgAlign(l)
		if a >= len(ctl) {
			return 0
		}
		ctl = ctl[a:]
	}
	return 0
}

func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}
