//go:build linux && amd64

// Command openloop measures what an open model costs in Go when one locked
// thread owns its sockets: no goroutine per connection, no netpoller, no
// channel between a scheduler and workers. It sends GET requests over C
// keep-alive connections at a constant rate, sleeping in epoll_pwait2 with a
// nanosecond timeout until the next arrival (arrivals due within a quantum
// of the last wake-up go out together, as tailgate's scheduler does), and
// prints its own CPU time per request, its context switches and the send
// lag and latency of the requests (from their intended times).
//
// It is a measurement for issue 18, not a load generator: plain HTTP/1.1,
// one static GET, responses framed by Content-Length, an IPv4 address only.
// With -defer it does not wake for responses at all: it reads whatever has
// come at the next arrival's wake-up, and dates each response by the
// kernel's receive timestamp of its last bytes (SO_TIMESTAMPNS), so that a
// response's latency does not include the wait for the wake-up.
//
//	taskset -c 0 go run ./bench/cmd/openloop -addr 127.0.0.1:8080 -rate 1000 -c 50 -d 10s
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// sysEpollPwait2 is epoll_pwait2(2) on amd64 (Linux 5.11).
const sysEpollPwait2 = 441

type config struct {
	addr     netip.AddrPort
	path     string
	rate     float64
	conns    int
	dur      time.Duration
	quantum  time.Duration
	deferred bool
}

func main() {
	var c config
	addr := flag.String("addr", "127.0.0.1:8080", "the server's IPv4 address and port (loopback only)")
	flag.StringVar(&c.path, "path", "/index.html", "the path to GET")
	flag.Float64Var(&c.rate, "rate", 1000, "arrivals per second")
	flag.IntVar(&c.conns, "c", 50, "keep-alive connections")
	flag.DurationVar(&c.dur, "d", 10*time.Second, "how long to send")
	flag.DurationVar(&c.quantum, "quantum", 500*time.Microsecond, "the shortest time between two wake-ups")
	flag.BoolVar(&c.deferred, "defer", false, "read responses at the next arrival's wake-up, dated by the kernel's receive timestamp")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		fmt.Fprintln(os.Stderr, "openloop: -addr must be a loopback IPv4 address and port")
		os.Exit(2)
	}
	c.addr = ap
	if c.rate <= 0 || c.rate > 1e7 || c.conns < 1 || c.dur <= 0 || c.quantum < 0 {
		fmt.Fprintln(os.Stderr, "openloop: want -rate in (0, 1e7], -c ≥ 1, -d > 0 and -quantum ≥ 0")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "openloop:", err)
		os.Exit(1)
	}
}

// conn is one keep-alive connection and the request it has in flight.
type conn struct {
	fd   int
	busy bool
	due  time.Duration // the request's intended time, from the start
	got  []byte        // the response so far
}

type loop struct {
	c        config
	epfd     int
	conns    []*conn
	byFD     []*conn // conns indexed by descriptor
	idle     []*conn
	req      []byte
	buf      []byte
	oob      []byte
	start    time.Time
	lag, lat *hdrhistogram.Histogram
	sent     int64
	done     int64
	queued   int64 // arrivals that found no idle connection and waited for one
	backlog  []time.Duration
	startTS  int64 // the start as CLOCK_REALTIME nanoseconds, for SO_TIMESTAMPNS
}

func run(c config) error {
	runtime.LockOSThread()
	l := &loop{
		c:   c,
		req: fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: openloop\r\n\r\n", c.path, c.addr),
		buf: make([]byte, 64<<10),
		oob: make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{})))),
		lag: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		lat: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
	var err error
	if l.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	defer syscall.Close(l.epfd)
	for range c.conns {
		cn, err := l.dial()
		if err != nil {
			return err
		}
		l.conns = append(l.conns, cn)
		l.idle = append(l.idle, cn)
		for len(l.byFD) <= cn.fd {
			l.byFD = append(l.byFD, nil)
		}
		l.byFD[cn.fd] = cn
	}
	defer func() {
		for _, cn := range l.conns {
			_ = syscall.Close(cn.fd)
		}
	}()
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		return err
	}
	if err := l.send(); err != nil {
		return err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		return err
	}
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	per := float64(cpu.Microseconds()) / float64(max(l.done, 1))
	fmt.Printf("requests %d responses %d queued %d cpu %v (%.1f µs/req) vcsw/req %.2f ivcsw/req %.2f\n",
		l.sent, l.done, l.queued, cpu.Round(time.Millisecond), per,
		float64(after.Nvcsw-before.Nvcsw)/float64(max(l.done, 1)), float64(after.Nivcsw-before.Nivcsw)/float64(max(l.done, 1)))
	fmt.Printf("send lag p50 %dµs p99 %dµs max %dµs; latency p50 %dµs p99 %dµs max %dµs\n",
		l.lag.ValueAtQuantile(50), l.lag.ValueAtQuantile(99), l.lag.Max(),
		l.lat.ValueAtQuantile(50), l.lat.ValueAtQuantile(99), l.lat.Max())
	return nil
}

// dial opens one non-blocking TCP connection and waits until it is
// established.
func (l *loop) dial() (*conn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		return nil, fmt.Errorf("TCP_NODELAY: %w", err)
	}
	if l.c.deferred {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
			return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
		}
	}
	sa := &syscall.SockaddrInet4{Port: int(l.c.addr.Port()), Addr: l.c.addr.Addr().As4()}
	if err := syscall.Connect(fd, sa); err != nil && !errors.Is(err, syscall.EINPROGRESS) {
		return nil, fmt.Errorf("connect: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLOUT, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	evs := make([]syscall.EpollEvent, 1)
	if _, err := syscall.EpollWait(l.epfd, evs, 5000); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if e, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR); err != nil || e != 0 {
		return nil, fmt.Errorf("connect: %v %v", err, syscall.Errno(e))
	}
	if l.c.deferred {
		// Deferred reads wait for no socket: epoll is only the sleep.
		err = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	} else {
		ev.Events = syscall.EPOLLIN
		err = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
	}
	if err != nil {
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &conn{fd: fd, got: make([]byte, 0, 4096)}, nil
}

// send runs the schedule, then waits for the responses still in flight.
func (l *loop) send() error {
	gap := time.Duration(float64(time.Second) / l.c.rate)
	n := int64(l.c.dur / gap)
	l.start = time.Now()
	var rt syscall.Timespec
	if err := clockGettime(&rt); err != nil {
		return err
	}
	l.startTS = rt.Nano()
	evs := make([]syscall.EpollEvent, len(l.conns))
	var woke time.Duration
	for i := int64(0); i < n || l.done < l.sent || len(l.backlog) > 0; {
		now := time.Since(l.start)
		if l.c.deferred {
			if err := l.readAll(now); err != nil {
				return err
			}
		}
		for len(l.backlog) > 0 && len(l.idle) > 0 {
			if err := l.write(l.backlog[0], now); err != nil {
				return err
			}
			l.backlog = l.backlog[1:]
		}
		for ; i < n && time.Duration(i)*gap <= now; i++ {
			if len(l.idle) == 0 {
				l.queued++
				l.backlog = append(l.backlog, time.Duration(i)*gap)
				continue
			}
			if err := l.write(time.Duration(i)*gap, now); err != nil {
				return err
			}
		}
		timeout := time.Duration(-1)
		switch {
		case i < n:
			next := max(time.Duration(i)*gap, woke+l.c.quantum)
			timeout = max(next-time.Since(l.start), 0)
		case l.c.deferred:
			timeout = l.c.quantum // the tail: poll for the last responses
		}
		k, err := epollPwait2(l.epfd, evs, timeout)
		if err != nil {
			return err
		}
		woke = time.Since(l.start)
		for _, ev := range evs[:k] {
			if err := l.read(l.byFD[ev.Fd], woke); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *loop) write(due, now time.Duration) error {
	cn := l.idle[len(l.idle)-1]
	l.idle = l.idle[:len(l.idle)-1]
	if _, err := syscall.Write(cn.fd, l.req); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	cn.busy, cn.due, cn.got = true, due, cn.got[:0]
	l.sent++
	l.lag.RecordValue(max(int64((now-due)/time.Microsecond), 1))
	return nil
}

// readAll reads every busy connection without waiting (deferred mode).
func (l *loop) readAll(now time.Duration) error {
	for _, cn := range l.conns {
		if cn.busy {
			if err := l.read(cn, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// read takes what has come on cn and completes its response when whole.
func (l *loop) read(cn *conn, now time.Duration) error {
	for {
		var n, oobn int
		var err error
		if l.c.deferred {
			n, oobn, _, _, err = syscall.Recvmsg(cn.fd, l.buf, l.oob, syscall.MSG_DONTWAIT)
		} else {
			n, err = syscall.Read(cn.fd, l.buf)
		}
		if errors.Is(err, syscall.EAGAIN) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			return errors.New("the server closed a connection")
		}
		at := now
		if l.c.deferred && oobn > 0 {
			if ts, ok := l.timestamp(oobn); ok {
				at = ts
			}
		}
		cn.got = append(cn.got, l.buf[:n]...)
		if whole(cn.got) {
			cn.busy = false
			l.done++
			l.lat.RecordValue(max(int64((at-cn.due)/time.Microsecond), 1))
			l.idle = append(l.idle, cn)
			return nil
		}
	}
}

// timestamp is the SO_TIMESTAMPNS control message's time, from the start.
func (l *loop) timestamp(oobn int) (time.Duration, bool) {
	msgs, err := syscall.ParseSocketControlMessage(l.oob[:oobn])
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Duration(ts.Nano() - l.startTS), true
		}
	}
	return 0, false
}

// whole reports whether b holds a complete response framed by
// Content-Length (a response without one ends with its head). It
// allocates nothing: it runs once per read.
func whole(b []byte) bool {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return false
	}
	const name = "content-length:"
	for head := b[:end]; len(head) > 0; {
		line := head
		if i := bytes.Index(head, []byte("\r\n")); i >= 0 {
			line, head = head[:i], head[i+2:]
		} else {
			head = nil
		}
		if len(line) > len(name) && bytes.EqualFold(line[:len(name)], []byte(name)) {
			size, err := strconv.Atoi(string(bytes.TrimSpace(line[len(name):])))
			return err == nil && len(b) >= end+4+size
		}
	}
	return true
}

// epollPwait2 waits for events for at most timeout (forever if negative),
// with nanosecond precision. A raw system call: the thread is locked and
// nothing else of this program needs a processor meanwhile.
func epollPwait2(epfd int, evs []syscall.EpollEvent, timeout time.Duration) (int, error) {
	var tsp unsafe.Pointer
	var ts syscall.Timespec
	if timeout >= 0 {
		ts = syscall.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	n, _, errno := syscall.RawSyscall6(sysEpollPwait2, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), uintptr(tsp), 0, 0)
	switch errno {
	case 0:
		return int(n), nil
	case syscall.EINTR: // the runtime's preemption signal: a wake-up like any other
		return 0, nil
	}
	return 0, fmt.Errorf("epoll_pwait2: %w", errno)
}

// clockGettime reads CLOCK_REALTIME, the clock of SO_TIMESTAMPNS.
func clockGettime(ts *syscall.Timespec) error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 0, uintptr(unsafe.Pointer(ts)), 0); errno != 0 {
		return fmt.Errorf("clock_gettime: %w", errno)
	}
	return nil
}
