//go:build linux && (amd64 || arm64)

package loadgen

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// The socket loop: one goroutine owns every connection of a run in epoll
// sets of its own, out of the runtime's netpoller, and sleeps in one
// epoll_pwait2 with the exact timeout of its next arrival (docs/design.md,
// "The socket loop", has the measurements behind each choice):
//
//   - No goroutine per connection: a waiting connection is ~300 bytes of
//     loopConn, not a 4–8 KiB stack and its buffers.
//   - One sleep per wake-up, in a raw system call that keeps the loop's
//     processor: no runtime timer, no fine timer beside it, no netpoller
//     hand-off. The loop yields (runtime.Gosched) before every sleep, so
//     the collector and the runtime's timers run even with one processor.
//   - Responses due while the next arrival is near are not woken for: they
//     are read at that arrival's wake-up and dated by the kernel's receive
//     timestamp of their last bytes (SO_TIMESTAMPNS), so their latency is
//     what it would have been had the loop woken (docs/metrics.md).
//
// Every connection sits in the socks set (level-triggered, for reading).
// The loop sleeps on socks when responses are to wake it, and on an empty
// set when they are not: choosing costs nothing, and no socket is ever
// added or removed for it.

const (
	// loopDeferBelow is the longest sleep before an arrival through which
	// responses are left for the arrival's wake-up; a longer one wakes
	// for them (two sleeps per request, as the goroutine engine).
	loopDeferBelow = 2 * time.Millisecond
	// loopMaxSleep bounds a sleep, so that with one processor the other
	// goroutines (collector, signal handling, the run's stop) run at
	// least this often.
	loopMaxSleep = 10 * time.Millisecond
	// loopReadBuffer is the loop's one receive buffer.
	loopReadBuffer = 64 << 10
	// loopEvents is how many readiness events one epoll call returns.
	loopEvents = 256
	// loopSpin is how long the loop polls before it sleeps while at least
	// loopSpinBusy requests are in flight (see wait). With 5000 closed-loop
	// connections it took throughput from 113k to 123–129k req/s against
	// nginx (vs wrk's 93–131k) for 3–8% more CPU per request; with 50,
	// where responses come a round trip apart, it bought 6% throughput for
	// 20% more CPU, so fewer in flight sleep at once.
	loopSpin     = 50 * time.Microsecond
	loopSpinBusy = 256
)

// socketLoopHere says whether this platform has the socket loop.
const socketLoopHere = true

// connState is where a loop connection is in its request.
type connState uint8

const (
	connDown    connState = iota // no socket
	connIdle                     // connected, no request
	connDialing                  // connecting, its request waiting
	connWriting                  // the socket buffer took part of the request
	connReading                  // the request is out, its response coming
)

// loopConn is one connection of the loop and the request it carries.
type loopConn struct {
	idx   int32 // its index in sockLoop.conns
	fd    int
	state connState
	// fresh says the socket was opened for the request in flight, retried
	// that it is the request's second attempt (after a reused connection
	// died before answering).
	fresh, retried bool
	warm           bool
	// outWait says the socket is watched for writability (and counted in
	// sockLoop.waitingOut).
	outWait bool
	// The request's intended, send and deadline times, from the start.
	due, sent, deadline time.Duration
	written             int // bytes of the request written
	framer              h1Framer
	res                 Response
}

// sockLoop is the socket loop of one run.
type sockLoop struct {
	r      *Runner
	step   *StaticStep
	closed bool // the closed model: every connection a VU

	// The request on the wire, and what the client knows of it.
	req        []byte
	method     string
	idempotent bool
	reqClose   bool
	timeout    time.Duration
	// namer names I/O errors as the raw client does (ioError).
	namer h1Client

	// Where connections go, and how errors name it.
	addr     string // host:port as the URL says
	sa       syscall.Sockaddr
	family   int
	netAddr  *net.TCPAddr
	resolved []netip.Addr

	series    int32
	buf       *sampleBuffer
	seenKinds uint32

	// The epoll sets: every socket, and an empty one to sleep on while
	// responses are left for the next arrival's wake-up.
	socks, sleep int
	conns        []loopConn
	byFD         []int32 // conns index by descriptor
	free         []int32 // connections without a request (idle or down)
	// pending holds the intended times of the arrivals waiting for a
	// connection, a ring of pendLen from pendHead.
	pending      []time.Duration
	pendHead     int
	pendLen      int
	busy         int // connections with a request
	waitingOut   int // connections waiting to be writable (dialing, writing)
	nextDeadline time.Duration
	rb           *recvBuffer
	evs          []syscall.EpollEvent
	hp           *h1HeadParser
	// offset turns a CLOCK_REALTIME receive time into an offset from the
	// run's start: realtime nanoseconds minus the offset, both read at
	// the last wake-up.
	offset int64
	// iterations counts the closed model's started iterations.
	iterations uint64
	stopped    bool
	sched      loopSchedule
	// ready holds the connections whose request ended since the last
	// dispatchReady; spare is the other of the two slices it swaps.
	ready, spare []int32
	abort        context.Context // the run's abort: requests in flight end
}

// newLoopEngine returns the socket loop for r's plan, or nil when the
// goroutine engine must run it (socketLoopRuns), the kernel has no
// epoll_pwait2, or the target's name does not resolve (the goroutine
// engine reports that per request).
func newLoopEngine(ctx context.Context, r *Runner) loopEngine {
	step, t, ok := r.socketLoopRuns()
	if !ok {
		return nil
	}
	opts := r.plan.Client
	tr := newH1Transport(opts, &tls.Config{})
	l := &sockLoop{r: r, step: step, closed: r.plan.Model() == results.ClosedModel,
		timeout: tr.timeout, addr: t.dialAddr(), namer: h1Client{t: tr}}
	req := &step.Request
	l.method = req.Method
	if l.method == "" {
		l.method = "GET"
	}
	var err error
	if l.req, err = l.namer.appendRequest(nil, l.method, &t, req.Header, req.Body); err != nil {
		return nil
	}
	l.req = append(l.req, req.Body...)
	l.reqClose = l.namer.reqClose
	l.idempotent = isIdempotent(l.method, req.Header)
	host, port := t.hostPort()
	portNum, err := net.LookupPort("tcp", port)
	if err != nil {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		l.resolved = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, l.timeout)
		l.resolved, err = net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if err != nil || len(l.resolved) == 0 {
			return nil
		}
	}
	l.useAddr(l.resolved[0], portNum)
	if !loopAllowsOwnServer && servesItself(l.resolved, portNum) {
		// The target runs in this process (a test's server, the demo
		// target): its goroutines need the processor the loop holds
		// while it sleeps, which with one processor they would get only
		// when the loop yields.
		return nil
	}
	if l.sleep, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return nil
	}
	if l.socks, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		_ = syscall.Close(l.sleep)
		return nil
	}
	l.evs = make([]syscall.EpollEvent, loopEvents)
	if _, errno := epollPwait2(l.socks, l.evs, 0); errno != 0 {
		l.close() // ENOSYS: a kernel older than 5.11
		return nil
	}
	n := r.workers()
	l.conns = make([]loopConn, n)
	l.free = make([]int32, 0, n)
	l.hp = newH1HeadParser()
	for i := range l.conns {
		c := &l.conns[i]
		c.idx, c.fd = int32(i), -1
		c.framer.hp = l.hp
		l.free = append(l.free, int32(n-1-i))
	}
	if !l.closed {
		l.pending = make([]time.Duration, max(r.plan.MaxInFlight-n, 1))
	}
	l.rb = newRecvBuffer(loopReadBuffer)
	return l
}

// loopAllowsOwnServer lets the socket loop load a server of its own
// process (the package's tests, whose servers are in-process and which
// run with more than one processor).
var loopAllowsOwnServer = false

// servesItself reports whether this process listens on port at one of
// ips (or on every address): a socket of its own in /proc/self/fd that
// accepts connections there.
func servesItself(ips []netip.Addr, port int) bool {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if on, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || on != 1 {
			continue
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			continue
		}
		var ip netip.Addr
		var p int
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			ip, p = netip.AddrFrom4(a.Addr), a.Port
		case *syscall.SockaddrInet6:
			ip, p = netip.AddrFrom16(a.Addr).Unmap(), a.Port
		default:
			continue
		}
		if p != port {
			continue
		}
		for _, t := range ips {
			if ip.IsUnspecified() || ip == t.Unmap() {
				return true
			}
		}
	}
	return false
}

// useAddr makes ip:port where connections go.
func (l *sockLoop) useAddr(ip netip.Addr, port int) {
	ip = ip.Unmap()
	l.netAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port)))
	if ip.Is4() {
		l.family, l.sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: port, Addr: ip.As4()}
		return
	}
	sa := &syscall.SockaddrInet6{Port: port, Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	l.family, l.sa = syscall.AF_INET6, sa
}

// close implements loopEngine.
func (l *sockLoop) close() {
	for i := range l.conns {
		l.closeConn(&l.conns[i])
	}
	_ = syscall.Close(l.socks)
	_ = syscall.Close(l.sleep)
}

// now is the time since the run's start (one read of the monotonic clock).
func (l *sockLoop) now() time.Duration { return time.Since(l.r.start) }

// run implements loopEngine.
func (l *sockLoop) run(ctx, abort context.Context) {
	r := l.r
	l.series, _ = r.rec.registerSeries(seriesKey{name: l.requestName(), group: l.step.Request.Group})
	l.buf = r.rec.buffers[0]
	l.abort = abort
	s := &l.sched
	// end is when a closed-model run ends (0: when its iterations do).
	var end time.Duration
	if l.closed {
		if r.plan.Duration > 0 {
			end = r.plan.PlannedDuration()
		}
		for range l.conns {
			l.ready = append(l.ready, l.free[len(l.free)-1])
			l.free = l.free[:len(l.free)-1]
		}
	} else {
		s.init(r)
	}
	var woke time.Duration
	harvested := false // the last sleep returned every ready socket
	for {
		t := time.Now()
		now := t.Sub(r.start)
		l.offset = t.UnixNano() - int64(now)
		if !harvested {
			l.harvest(now)
		}
		if now >= l.nextDeadline {
			l.expire(now)
		}
		if !l.stopped && (r.stopping.Load() || ctx.Err() != nil) {
			l.stop()
		}
		if l.stopped && abort.Err() != nil {
			l.abortAll(abort)
		}
		l.dispatchReady()
		if !l.stopped && !l.closed {
			s.issue(l)
		}
		if l.busy == 0 && l.pendLen == 0 && len(l.ready) == 0 && (l.stopped || s.done || l.closed) {
			return
		}
		wake := now + loopMaxSleep
		if len(l.ready) > 0 {
			wake = now
		}
		if !l.stopped && !l.closed && !s.done && !s.blocked {
			wake = min(wake, max(s.next, woke+wakeQuantum))
		}
		responses := l.closed || l.waitingOut > 0 || l.pendLen > 0 || s.blocked || wake-now > loopDeferBelow
		if l.busy > 0 {
			wake = min(wake, l.nextDeadline)
		}
		if end > 0 {
			wake = min(wake, end)
		}
		// Let the collector and the runtime's timers run: with one
		// processor nothing else does while the loop sleeps.
		runtime.Gosched()
		set := l.sleep // nothing in it: a sleep to the instant
		if responses {
			set = l.socks
		}
		n, errno := l.wait(set, wake)
		if errno != 0 {
			// Not expected on a valid epoll set; sleep the runtime's way
			// rather than spin.
			time.Sleep(time.Millisecond)
		}
		woke = l.now()
		harvested = set == l.socks && n < len(l.evs)
		if set == l.socks {
			l.onEvents(n, woke)
		}
		if end > 0 && woke >= end {
			l.stopped = true
		}
	}
}

// requestName is the series name of the loop's request.
func (l *sockLoop) requestName() string {
	if n := l.step.Request.Name; n != "" {
		return n
	}
	return l.r.plan.Flows[0].Name
}

// wait sleeps on set until wake or an event. While hundreds of responses
// are due it first polls for up to loopSpin: the next one is then
// microseconds away, and a sleep and wake-up of the thread costs more
// than that (docs/design.md).
func (l *sockLoop) wait(set int, wake time.Duration) (int, syscall.Errno) {
	if set == l.socks && l.busy >= loopSpinBusy {
		for until := min(l.now()+loopSpin, wake); ; {
			n, errno := epollPwait2(set, l.evs, 0)
			if n > 0 || errno != 0 || l.now() >= until {
				if n > 0 || errno != 0 {
					return n, errno
				}
				break
			}
		}
	}
	return epollPwait2(set, l.evs, max(wake-l.now(), 0))
}

// harvest handles every socket that is ready, without waiting.
func (l *sockLoop) harvest(now time.Duration) {
	for {
		n, errno := epollPwait2(l.socks, l.evs, 0)
		if errno != 0 {
			return
		}
		l.onEvents(n, now)
		if n < len(l.evs) {
			return
		}
	}
}

// onEvents handles the first n events of l.evs.
func (l *sockLoop) onEvents(n int, now time.Duration) {
	for _, ev := range l.evs[:n] {
		if i := l.byFD[ev.Fd]; i >= 0 {
			l.onReady(&l.conns[i], ev.Events, now)
		}
	}
}

// onReady moves c on after its socket became ready.
func (l *sockLoop) onReady(c *loopConn, events uint32, now time.Duration) {
	switch c.state {
	case connDialing:
		if err := l.connected(c); err != nil {
			l.fail(c, err, now)
			return
		}
		c.state = connWriting
		l.write(c, now)
	case connWriting:
		if events&syscall.EPOLLOUT != 0 {
			l.write(c, now)
		} else {
			l.read(c, now)
		}
	case connReading:
		l.read(c, now)
	case connIdle:
		// A connection without a request that became readable: the server
		// closed it, or sent what nobody asked for. Either way it is of
		// no more use; the next request on it connects again.
		l.closeConn(c)
	}
}
