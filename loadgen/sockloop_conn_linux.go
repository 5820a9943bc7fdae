//go:build linux && (amd64 || arm64)

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// connect implements loopEngine: it opens every connection, at most
// h1DialSlots at once, before the first arrival. The first connection
// tries each address the name resolved to, and the rest use the one that
// answered. It gives up at the first failure, as the goroutine engine
// does: the requests then connect themselves and report what goes wrong.
func (l *sockLoop) connect(ctx context.Context, until time.Time) {
	if until.IsZero() {
		until = time.Now().Add(l.timeout)
	}
	port := l.netAddr.Port
	for i, ip := range l.resolved {
		l.useAddr(ip, port)
		if l.connectSome(ctx, until, 1) == 1 {
			l.connectSome(ctx, until, len(l.conns))
			return
		}
		if i == len(l.resolved)-1 {
			// None answered: requests go to the first and say so.
			l.useAddr(l.resolved[0], port)
		}
	}
}

// connectSome opens connections until want are open, one fails, ctx ends
// or until passes, and returns how many are open. Connections still
// connecting then are closed: no request waits for them.
func (l *sockLoop) connectSome(ctx context.Context, until time.Time, want int) int {
	open, next, dialing := 0, 0, 0
	for i := range l.conns {
		if l.conns[i].state == connIdle {
			open++
		}
	}
	failed := false
	for !failed && open < want && ctx.Err() == nil && time.Now().Before(until) {
		for ; !failed && next < len(l.conns) && dialing < h1DialSlots && open+dialing < want; next++ {
			c := &l.conns[next]
			if c.state != connDown {
				continue
			}
			switch err := l.openSocket(c); {
			case err != nil:
				l.closeConn(c)
				failed = true
			case c.state == connIdle:
				open++
			default:
				dialing++
			}
		}
		if failed || dialing == 0 {
			break
		}
		n, errno := epollPwait2(l.socks, l.evs, min(time.Until(until), loopMaxSleep))
		failed = errno != 0
		for _, ev := range l.evs[:n] {
			c := &l.conns[l.byFD[ev.Fd]]
			if c.state != connDialing {
				continue
			}
			dialing--
			if l.connected(c) != nil {
				l.closeConn(c)
				failed = true
				continue
			}
			c.state = connIdle
			open++
		}
	}
	for i := range l.conns {
		if c := &l.conns[i]; c.state == connDialing {
			l.closeConn(c)
		}
	}
	return open
}

// openSocket starts a non-blocking connect for c: c ends connected
// (connIdle) or connecting (connDialing), or an error says why neither.
func (l *sockLoop) openSocket(c *loopConn) error {
	fd, err := syscall.Socket(l.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", l.addr, os.NewSyscallError("socket", err))
	}
	c.fd = fd
	for len(l.byFD) <= fd {
		l.byFD = append(l.byFD, -1)
	}
	l.byFD[fd] = c.idx
	// Latency dates a response by its arrival, not by when the loop got
	// to it; TCP_NODELAY as net.Dialer sets it.
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	err = syscall.Connect(fd, l.sa)
	events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP)
	switch {
	case err == nil:
		c.state = connIdle
	case errors.Is(err, syscall.EINPROGRESS):
		c.state, c.outWait = connDialing, true
		l.waitingOut++
		events |= syscall.EPOLLOUT
	default:
		return l.dialError(err)
	}
	if errno := epollCtl(l.socks, syscall.EPOLL_CTL_ADD, fd, events); errno != 0 {
		return fmt.Errorf("connect to %s: %w", l.addr, os.NewSyscallError("epoll_ctl", errno))
	}
	return nil
}

// connected finishes c's connect: nil once it is open.
func (l *sockLoop) connected(c *loopConn) error {
	e, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err == nil && e != 0 {
		err = syscall.Errno(e)
	}
	if err != nil {
		return l.dialError(err)
	}
	return l.watchOut(c, false)
}

// watchOut makes c's socket wake the loop when it can take more bytes (a
// connect, a request the socket buffer took part of), or stop doing so.
func (l *sockLoop) watchOut(c *loopConn, want bool) error {
	if want == c.outWait {
		return nil
	}
	events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP)
	if want {
		events |= syscall.EPOLLOUT
	}
	if errno := epollCtl(l.socks, syscall.EPOLL_CTL_MOD, c.fd, events); errno != 0 {
		return os.NewSyscallError("epoll_ctl", errno)
	}
	c.outWait = want
	if want {
		l.waitingOut++
	} else {
		l.waitingOut--
	}
	return nil
}

// dialError names a failed connect as net.Dialer and the raw client do.
func (l *sockLoop) dialError(err error) error {
	return fmt.Errorf("connect to %s: %w", l.addr,
		&net.OpError{Op: "dial", Net: "tcp", Addr: l.netAddr, Err: os.NewSyscallError("connect", err)})
}

// closeConn closes c's socket, if any; c is then down.
func (l *sockLoop) closeConn(c *loopConn) {
	if c.fd >= 0 {
		l.byFD[c.fd] = -1
		_ = syscall.Close(c.fd) // closing removes it from socks
		c.fd = -1
	}
	if c.outWait {
		l.waitingOut--
		c.outWait = false
	}
	c.state = connDown
}
