//go:build linux && (amd64 || arm64)

package loadgen

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// send starts the request of an arrival (or VU iteration) intended at due
// on c.
func (l *sockLoop) send(c *loopConn, due time.Duration) {
	r := l.r
	sent := l.now()
	warm := r.plan.Warmup > 0 && due < r.plan.Warmup
	r.sent.Add(1)
	if warm {
		r.sentWarm.Add(1)
	}
	r.noteSend(sent)
	if !warm && sent-due > results.LateThreshold {
		r.late.Add(1)
	}
	c.due, c.sent, c.warm = due, sent, warm
	c.deadline = sent + l.timeout
	l.nextDeadline = min(l.nextDeadline, c.deadline)
	if l.busy == 0 {
		l.nextDeadline = c.deadline
	}
	l.busy++
	c.retried = false
	c.res.Reset()
	l.attempt(c, sent)
}

// attempt sends c's request on its connection, or on a new one.
func (l *sockLoop) attempt(c *loopConn, now time.Duration) {
	c.framer.reset(l.method)
	c.written = 0
	c.fresh = c.fd < 0
	if c.fresh {
		if err := l.openSocket(c); err != nil {
			l.fail(c, err, now)
			return
		}
		if c.state == connDialing {
			return
		}
	}
	c.state = connWriting
	l.write(c, now)
}

// write writes what is left of c's request; once it is out, c reads.
func (l *sockLoop) write(c *loopConn, now time.Duration) {
	for c.written < len(l.req) {
		n, errno := rawWrite(c.fd, l.req[c.written:])
		if errno == 0 {
			c.written += n
			c.res.BytesOut += int64(n)
			continue
		}
		var err error
		if errno == syscall.EAGAIN {
			if err = l.watchOut(c, true); err == nil {
				return
			}
		} else {
			err = l.opError(c, "write", errno)
		}
		// The connection died under the request: a reused one is tried
		// once more, fresh, as the raw client does.
		l.closeConn(c)
		if !c.fresh && !c.retried && (c.written == 0 || l.idempotent) {
			c.retried = true
			l.attempt(c, now)
			return
		}
		l.fail(c, l.namer.ioError(context.Background(), err, "write request"), now)
		return
	}
	if err := l.watchOut(c, false); err != nil {
		l.fail(c, l.namer.ioError(context.Background(), err, "write request"), now)
		return
	}
	c.state = connReading
}

// read takes what c's socket has of the response, and finishes the
// request when the response is whole or the connection failed.
func (l *sockLoop) read(c *loopConn, now time.Duration) {
	for {
		n, stamp, errno := l.rb.recv(c.fd)
		if errno == syscall.EAGAIN {
			return
		}
		var err error
		switch {
		case errno != 0:
			err = l.opError(c, "read", errno)
		case n == 0:
			var done bool
			if done, err = c.framer.eof(); done {
				l.closeConn(c)
				l.complete(c, now, nil)
				return
			}
		default:
			used, done, ferr := c.framer.feed(l.rb.buf[:n], &c.res)
			if ferr != nil {
				err = ferr
				break
			}
			if !done {
				if n < len(l.rb.buf) {
					return // the rest is still on its way
				}
				continue
			}
			at := now
			if stamp > 0 {
				// The kernel's receive time of the last bytes, within
				// the request's send and now: a wall clock step between
				// the wake-up and the read cannot move it out.
				at = min(max(time.Duration(stamp-l.offset), c.sent), now)
			}
			if used < n || c.framer.st.close || l.reqClose {
				// Bytes after the response were never asked for: the
				// connection is out of step, as a stale one.
				l.closeConn(c)
			} else {
				c.state = connIdle
			}
			l.complete(c, at, nil)
			return
		}
		l.closeConn(c)
		if !c.fresh && !c.retried && !c.framer.got && l.idempotent && isConnDrop(err) {
			c.retried = true
			l.attempt(c, now)
			return
		}
		l.fail(c, l.namer.ioError(context.Background(), err, "read response"), now)
		return
	}
}

// opError names errno as net.Conn's Read and Write would.
func (l *sockLoop) opError(c *loopConn, op string, errno syscall.Errno) error {
	var local net.Addr
	if sa, err := syscall.Getsockname(c.fd); err == nil {
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			local = &net.TCPAddr{IP: a.Addr[:], Port: a.Port}
		case *syscall.SockaddrInet6:
			local = &net.TCPAddr{IP: a.Addr[:], Port: a.Port}
		}
	}
	return &net.OpError{Op: op, Net: "tcp", Source: local, Addr: l.netAddr, Err: os.NewSyscallError(op, errno)}
}

// fail ends c's request with err at now; c's connection is closed.
func (l *sockLoop) fail(c *loopConn, err error, now time.Duration) {
	l.closeConn(c)
	l.complete(c, now, err)
}

// complete records c's request, which ended at done (with err, if it
// failed), and gives c its next request.
func (l *sockLoop) complete(c *loopConn, done time.Duration, err error) {
	r := l.r
	kind := statusKind(l.step, c.res.Status)
	if err != nil {
		kind = Classify(err)
	}
	if kind != KindNone && l.seenKinds&(1<<kind) == 0 {
		// Each kind's first message is kept, as a worker keeps it.
		l.seenKinds |= 1 << kind
		msg := fmt.Sprintf("HTTP status %d", c.res.Status)
		if err != nil {
			msg = err.Error()
		}
		r.rec.noteError(kind, Redact(msg, r.plan.Redact))
	}
	l.buf.add(sample{
		series: l.series, status: int16(c.res.Status), kind: kind, warmup: c.warm,
		intended: c.due, sent: c.sent, done: done,
		bytesIn: c.res.BytesIn, bytesOut: c.res.BytesOut,
		quota: packQuota(c.res.Quota),
	})
	r.iterations[0].n.Add(1)
	if !c.warm {
		switch {
		case kind == KindCanceled || (kind != KindNone && l.abort.Err() != nil):
			r.itAborted.Add(1)
		case kind != KindNone:
			r.itFailed.Add(1)
		default:
			r.itCompleted.Add(1)
		}
	}
	r.inFlight.Add(-1)
	l.busy--
	if err == nil {
		// A response came (never within a send): the next request goes
		// out at once, so the server has it while the loop reads on.
		l.next(c, l.now())
		return
	}
	// After a failure the next request starts from the loop, not from
	// here: a request that fails at once (a refused connect) would
	// otherwise start the next one inside this call, and so on without
	// end.
	l.ready = append(l.ready, c.idx)
}

// dispatchReady gives every connection that finished a request its next
// one (see next). A request that fails at once puts its connection back
// for the next pass of the loop, so a dead target cannot hold the loop
// here.
func (l *sockLoop) dispatchReady() {
	batch := l.ready
	l.ready = l.spare[:0]
	for _, i := range batch {
		l.next(&l.conns[i], l.now())
	}
	l.spare = batch[:0]
}

// next gives c its next request: the closed model's next iteration, the
// oldest arrival waiting for a connection, or none (c is free).
func (l *sockLoop) next(c *loopConn, now time.Duration) {
	switch {
	case l.stopped:
	case l.closed:
		if l.startOn(c, now) {
			return
		}
	case l.pendLen > 0:
		due := l.pending[l.pendHead]
		l.pendHead = (l.pendHead + 1) % len(l.pending)
		l.pendLen--
		l.r.taken.Store(int64(due))
		l.r.loopQueued.Store(int64(l.pendLen))
		l.send(c, due)
		return
	}
	l.free = append(l.free, c.idx)
}

// startOn starts the closed model's next iteration on c, intended now
// (when the VU's previous one ended), unless the run is over.
func (l *sockLoop) startOn(c *loopConn, now time.Duration) bool {
	r := l.r
	if r.stopping.Load() || (r.plan.Duration > 0 && now >= r.plan.PlannedDuration()) {
		return false
	}
	if r.plan.Iterations > 0 && l.iterations >= r.plan.Iterations {
		return false
	}
	l.iterations++
	r.noteInFlight(r.inFlight.Add(1))
	r.issued.Add(1)
	l.send(c, now)
	return true
}

// expire ends every request whose deadline passed.
func (l *sockLoop) expire(now time.Duration) {
	next := now + l.timeout
	for i := range l.conns {
		c := &l.conns[i]
		if c.state < connDialing {
			continue
		}
		if c.deadline > now {
			next = min(next, c.deadline)
			continue
		}
		var err error
		switch c.state {
		case connDialing:
			err = &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("connect to %s: no connection within %s: %w", l.addr, l.timeout,
					&net.OpError{Op: "dial", Net: "tcp", Addr: l.netAddr, Err: os.ErrDeadlineExceeded})}
		case connWriting:
			err = l.namer.ioError(context.Background(), os.ErrDeadlineExceeded, "write request")
		default:
			err = l.namer.ioError(context.Background(), os.ErrDeadlineExceeded, "read response")
		}
		l.fail(c, err, now)
	}
	l.nextDeadline = next
}

// stop ends the schedule: arrivals waiting for a connection are never sent
// (as the goroutine engine's workers skip the queued tickets); requests in
// flight run on until they end or the run aborts them.
func (l *sockLoop) stop() {
	l.stopped = true
	n := int64(l.pendLen)
	if l.sched.counted {
		n++ // the arrival the scheduler held
		l.sched.counted, l.sched.blocked = false, false
		l.r.blocked.Store(false)
	}
	l.r.inFlight.Add(-n)
	l.pendLen = 0
	l.r.loopQueued.Store(0)
}

// abortAll ends every request in flight as canceled.
func (l *sockLoop) abortAll(abort context.Context) {
	now := l.now()
	for i := range l.conns {
		c := &l.conns[i]
		if c.state < connDialing {
			continue
		}
		phase := "read response"
		switch c.state {
		case connDialing:
			phase = "connect"
		case connWriting:
			phase = "write request"
		}
		l.fail(c, canceledError(abort.Err(), phase), now)
	}
}
