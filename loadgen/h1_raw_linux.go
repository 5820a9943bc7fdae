package loadgen

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a plain TCP connection's socket through its
// syscall.RawConn, for two savings on every request (measured against
// nginx with one CPU; docs/design.md, "HTTP client"):
//
//   - sendAwait writes the request and parks until the response begins to
//     arrive. conn.Write followed by a read always paid one read that
//     failed with EAGAIN (the response is never there right after the
//     write): two reads per request.
//   - The reads and writes are raw system calls, which do not tell the Go
//     scheduler they are in the kernel. They cannot block (the socket is
//     non-blocking, and waiting is the poller's job), so nothing needs the
//     processor meanwhile; and with one processor (GOMAXPROCS=1, as under
//     taskset) the runtime's monitor takes it away from any system call it
//     sees twice, which costs a thread handoff each time. A loopback write
//     runs the receiver's network stack too and often lasts long enough.
//
// The poller (deadlines, cancellation, readiness) works as for net.Conn:
// RawConn.Read parks the goroutine in it when the callback asks to wait.
type rawIO struct {
	rc   syscall.RawConn
	conn net.Conn // for the addresses in error messages

	// Callback state; the callbacks are bound once, so passing them
	// allocates nothing.
	readFn, sendFn, writeFn func(fd uintptr) bool
	p                       []byte
	n                       int
	errno                   syscall.Errno
	sent                    bool
}

// newRawIO returns the raw I/O of a TCP connection, or nil if conn has no
// usable RawConn.
func newRawIO(conn net.Conn) *rawIO {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc, conn: conn}
	r.readFn, r.sendFn, r.writeFn = r.read, r.send, r.write
	return r
}

// Read implements io.Reader for the connection's bufio.Reader.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.errno = p, 0, 0
	err := r.rc.Read(r.readFn)
	r.p = nil
	switch {
	case r.errno != 0:
		return 0, r.opError("read", r.errno)
	case err != nil:
		return 0, err // the deadline, a cancellation, a closed connection
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *rawIO) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			r.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // park until readable
		default:
			r.errno = e
			return true
		}
	}
}

// sendAwait writes b and returns once the socket is readable (the response
// has begun to arrive) or the wait ended (deadline, cancellation: the read
// that follows reports it). It returns the bytes written; if the socket
// took only part of b, the rest is written with conn.Write, and the read
// that follows waits as usual. The poller forgets any readiness from
// before the callback's first run, and the write comes after that, so the
// response's readiness cannot be lost.
func (r *rawIO) sendAwait(b []byte) (int, error) {
	r.p, r.n, r.errno, r.sent = b, 0, 0, false
	err := r.rc.Read(r.sendFn)
	r.p = nil
	n := r.n
	switch {
	case r.errno != 0:
		return n, r.opError("write", r.errno)
	case n < len(b) && err != nil:
		return n, err // the wait ended before the callback wrote it all
	case n < len(b):
		m, werr := r.conn.Write(b[n:])
		return n + m, werr
	}
	return n, nil
}

func (r *rawIO) send(fd uintptr) bool {
	if r.sent {
		return true // readable
	}
	r.sent = true
	for r.n < len(r.p) {
		rest := r.p[r.n:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true // the socket buffer is full: sendAwait finishes
		default:
			r.errno = e
			return true
		}
	}
	return false // park until readable
}

// Write implements io.Writer: all of b, waiting in the poller while the
// socket buffer is full. The HTTP/2 writer uses it; its callback state is
// the rawIO's own, so a connection read and written by two goroutines has
// a rawIO for each.
func (r *rawIO) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.p, r.n, r.errno = b, 0, 0
	err := r.rc.Write(r.writeFn)
	r.p = nil
	switch {
	case r.errno != 0:
		return r.n, r.opError("write", r.errno)
	case err != nil:
		return r.n, err
	}
	return r.n, nil
}

func (r *rawIO) write(fd uintptr) bool {
	for r.n < len(r.p) {
		rest := r.p[r.n:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // park until writable
		default:
			r.errno = e
			return true
		}
	}
	return true
}

// opError wraps errno as net.Conn's Read and Write would, so error texts
// and classification do not depend on the path.
func (r *rawIO) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: r.conn.LocalAddr(), Addr: r.conn.RemoteAddr(),
		Err: os.NewSyscallError(op, errno)}
}
