package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// h1Conn is a connection with its reader and state: the client's active
// one (embedded in h1Client), or a parked one.
type h1Conn struct {
	conn     net.Conn
	br       *bufio.Reader   // nil until a response is read (see reader)
	lent     bool            // br is the transport's, lent for one response
	rd       io.Reader       // what br reads from
	raw      syscall.RawConn // the TCP socket, for the stale check
	rio      *rawIO          // raw reads and writes of a plain TCP conn; nil for TLS
	tls      bool
	auth     string    // the authority it is connected to
	served   int       // responses read on conn
	lastUsed time.Time // start of the last request on conn
	// deadline is the deadline set on conn; zero when unknown.
	deadline time.Time
}

// switchTo makes the connection to t's origin active: the current one is
// parked for later, and a parked one to t's origin (if any) taken out. The
// longest-parked connection is closed when there are too many.
func (c *h1Client) switchTo(t *h1Target) {
	var found h1Conn
	for i := range c.parked {
		if p := &c.parked[i]; p.tls == t.tls && p.auth == t.authority {
			found = *p
			c.parked = append(c.parked[:i], c.parked[i+1:]...)
			break
		}
	}
	idle := c.br // the reader of a closed connection, for the next dial
	if c.conn != nil {
		if len(c.parked) == h1MaxParked {
			_ = c.parked[0].conn.Close()
			c.parked = append(c.parked[:0], c.parked[1:]...)
		}
		c.parked = append(c.parked, c.h1Conn)
		idle = nil
	}
	if found.conn == nil {
		found = h1Conn{br: idle}
	}
	// The deadline is set again before the next request.
	found.deadline = time.Time{}
	c.mu.Lock()
	c.h1Conn = found
	c.mu.Unlock()
}

func (c *h1Client) closeConn() error {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	// tls and served stay: ioError reads them to explain why the
	// exchange on this connection failed.
	c.raw, c.rio, c.auth, c.deadline = nil, nil, "", time.Time{}
	if conn == nil {
		return nil
	}
	if c.br != nil {
		c.br.Reset(nil)
	}
	c.giveBack()
	return conn.Close()
}

// dialed is what open hands back to the worker that waits for it.
type dialed struct {
	conn net.Conn        // the connection, TLS over tcp for https
	raw  syscall.RawConn // tcp's socket
	err  error
}

// dial connects to the target and, for https, completes the TLS handshake.
// The connecting runs on a goroutine of its own, which exits when done:
// name resolution, the dialer and the handshake are deep call chains, and
// on the worker they grew its stack to 8 KiB, kept for the whole run
// (a stack shrinks only at a collection, and the hot path makes no
// garbage). At most h1DialSlots such goroutines run at once, so their
// stacks are a few MiB however many connections open together: 5000 of
// them at once raised the peak RSS by more than the workers saved. The
// channel that hands the connection over lives for one dial: kept per
// client, it was 0.9 MiB at 5000 connections, and a dial allocates far more
// than it anyway.
func (c *h1Client) dial(ctx context.Context, t *h1Target, deadline time.Time) error {
	select {
	case c.t.dialSlots <- struct{}{}:
	case <-ctx.Done():
		return canceledError(ctx.Err(), "connect")
	}
	target := *t // a copy: t may point at the caller's stack
	done := make(chan dialed, 1)
	go func() {
		d := c.t.open(ctx, &target, deadline)
		<-c.t.dialSlots
		done <- d
	}()
	d := <-done
	if d.err != nil {
		return d.err
	}
	conn, raw := d.conn, d.raw
	var rio *rawIO
	if !t.tls {
		rio = newRawIO(conn)
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.raw, c.rio = raw, rio
	var rd io.Reader = conn
	if rio != nil {
		rd = rio
	}
	if c.br != nil {
		c.br.Reset(rd) // a buffer grown on the last connection
	}
	c.rd = rd
	c.tls, c.auth, c.served = t.tls, t.authority, 0
	return nil
}

// open dials addr and, for https, completes the TLS handshake with t's
// host (see dial for why it runs on a goroutine of its own).
func (tr *h1Transport) open(ctx context.Context, t *h1Target, deadline time.Time) dialed {
	addr := t.dialAddr()
	conn, err := tr.dial(ctx, addr, deadline)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return dialed{err: canceledError(cerr, "connect")}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return dialed{err: &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("connect to %s: no connection within %s: %w", addr, tr.timeout, err)}}
		}
		return dialed{err: fmt.Errorf("connect to %s: %w", addr, err)}
	}
	var raw syscall.RawConn
	if sc, ok := conn.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	if !t.tls {
		return dialed{conn: conn, raw: raw}
	}
	cfg := tlsConfigFor(tr.tlsConf, t)
	tc := tls.Client(conn, cfg)
	if err := tc.SetDeadline(deadline); err != nil {
		_ = conn.Close()
		return dialed{err: fmt.Errorf("set deadline: %w", err)}
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		if cerr := ctx.Err(); cerr != nil {
			return dialed{err: canceledError(cerr, "TLS handshake")}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return dialed{err: &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("TLS handshake with %s: not done within %s", addr, tr.timeout)}}
		}
		return dialed{err: tlsError(fmt.Errorf("TLS handshake with %s: %w", addr, err), cfg.ServerName)}
	}
	return dialed{conn: tc, raw: raw}
}

// stale reports whether an idle keep-alive connection is unusable: the
// server closed it, or sent bytes nobody asked for.
func (c *h1Client) stale() bool {
	if c.br != nil && c.br.Buffered() > 0 {
		return true
	}
	if c.raw == nil {
		return false
	}
	return c.peek.stale(c.raw, c.tls)
}

// reader gives the connection a read buffer before a response is read: a
// connection that has not grown one of its own borrows one of the
// transport's small ones and gives it back (giveBack) once the response is
// read and nothing more is buffered. With a request in flight on every
// connection, most of them are waiting for the first byte, and need no
// buffer yet: the socket is readable before the borrowing, as sendAwait
// waits for it. A buffer each was 3 MiB at 5000 connections.
func (c *h1Client) reader() {
	if c.br == nil {
		c.br = c.t.readers.Get().(*bufio.Reader)
		c.br.Reset(c.rd)
		c.lent = true
	}
}

// giveBack returns a borrowed read buffer if nothing is buffered in it
// (a response read whole; a closed connection's buffer was reset).
func (c *h1Client) giveBack() {
	if c.lent && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		c.t.readers.Put(c.br)
		c.br, c.lent = nil, false
	}
}

// armDeadline makes sure the connection's deadline ends the exchange at
// deadline or a little after: setting a deadline costs two clock reads, a
// lock and a runtime timer update, so consecutive requests share one while
// it falls in [deadline, deadline+c.slack]. The slack is 1% of the timeout,
// at most h1MaxDeadlineSlack, and none for a deadline from the context.
func (c *h1Client) armDeadline(deadline time.Time) error {
	hi := deadline.Add(c.slack)
	if !c.deadline.IsZero() && !c.deadline.Before(deadline) && !c.deadline.After(hi) {
		return nil
	}
	if err := c.conn.SetDeadline(hi); err != nil {
		c.deadline = time.Time{}
		return err
	}
	c.deadline = hi
	return nil
}

// connect implements connector: it opens a connection to rawURL's origin
// unless one is open. The connection then waits idle for the first request,
// which checks it as any idle connection (a server's idle close becomes a
// new dial).
func (c *h1Client) connect(ctx context.Context, rawURL string) error {
	if c.conn != nil {
		return nil
	}
	t, err := splitURL(rawURL)
	if err != nil {
		return err
	}
	if err := c.dial(ctx, &t, time.Now().Add(c.t.timeout)); err != nil {
		return err
	}
	c.lastUsed = time.Now()
	return nil
}
