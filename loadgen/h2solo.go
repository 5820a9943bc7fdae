package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// A solo connection has one stream slot (--streams 1) and a raw socket
// (plain TCP on Linux). It has no reader or writer goroutine: the worker
// holding the slot writes its request, waits in the poller until the
// response begins to arrive (rawIO.sendAwait), and reads and handles
// frames itself until its stream ends. A request then costs no goroutine
// switch and one read, where the shared design's writer and reader
// goroutines cost three switches and a read that found nothing first
// (docs/design.md has the A/B). Nobody reads an idle solo connection, so
// what the server said meanwhile (a GOAWAY, SETTINGS, a PING, its close)
// is read before the next request goes out: what is left in the buffer,
// and what the socket holds after the connection idled h1StaleAfter, as
// the HTTP/1.1 client peeks. The connection's deadline is the request's
// (shared by consecutive requests within the slack, as HTTP/1.1's), and a
// cancellation kicks it (h2Client.watch).

// soloMode makes the connection solo if it can be. Called by dial.
func (c *h2Conn) soloMode(rio *rawIO) bool {
	if c.t.streams != 1 || rio == nil || c.limit == 0 {
		return false // a server allowing no stream yet needs a reader
	}
	c.solo, c.rio, c.raw = true, rio, rio.rc
	c.peek.init()
	return true
}

// retireLocked takes no more streams on a solo connection whose server
// now allows none: nobody would read the SETTINGS that allowed them again,
// so its waiters go to a new connection, and it closes once its stream
// ends. Called with mu held.
func (c *h2Conn) retireLocked() {
	c.takesNew.Store(false)
	c.idleClose.Store(true)
	c.goAway = true
	for _, w := range c.waiters {
		signal(w.wake)
	}
	c.waiters = c.waiters[:0]
	if c.active == 0 && c.dead == nil {
		c.dead = errConnReplaced
		go func() { _ = c.nc.Close() }()
	}
}

// errTorn says a solo read stopped inside a frame: the connection cannot
// be read on.
var errTorn = errors.New("stopped inside a frame")

// writeNow writes the queued frames on the caller's goroutine. With await
// it returns once the response has begun to arrive, so that the read that
// follows finds it instead of failing with EAGAIN first. Called with wmu
// held; returns with it released.
func (c *h2Conn) writeNow(await bool) {
	buf := c.out
	var err error
	switch {
	case len(buf) == 0:
	case await:
		_, err = c.rio.sendAwait(buf)
	default:
		_, err = c.w.Write(buf)
	}
	c.out = buf[:0]
	c.wmu.Unlock()
	if err != nil {
		c.close(c.connError(fmt.Errorf("write: %w", err), false))
	}
}

// flushRequest writes the frames of a request: solo, waiting for the
// response to begin, unless some of it is in the buffer already (then the
// socket may have nothing more to say). Called with wmu held; returns
// with it released.
func (c *h2Conn) flushRequest() {
	if c.solo && c.br.Buffered() == 0 {
		c.writeNow(true)
		return
	}
	c.flush()
}

// soloRead reads and handles frames on the caller's goroutine, the slot's
// holder, until st ends or, with window, until st may send more of its
// body. It returns errStopped when the connection's deadline passed or a
// cancellation kicked it between frames, errTorn inside one.
func (c *h2Conn) soloRead(st *h2Stream, window bool) error {
	for {
		if len(st.done) > 0 {
			return nil
		}
		if window {
			c.mu.Lock()
			want := st.wantWin
			c.mu.Unlock()
			if !want {
				return nil
			}
		}
		if _, err := c.br.Peek(9); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return errStopped
			}
			if c.readFailed(err) {
				return nil // st failed with the connection
			}
			continue
		}
		if err := c.readOne(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return errTorn
			}
			if c.readFailed(err) {
				return nil
			}
		}
	}
}

// readOne reads and handles one frame.
func (c *h2Conn) readOne() error {
	f, err := c.readFrame()
	if err == nil && f != nil {
		c.lastRead.Store(time.Now().UnixNano())
		err = c.handle(f)
	}
	return err
}

// soloCatchUp reads what the server sent to the idle connection before a
// request goes on it. Called by the slot's holder with the deadline armed.
func (c *h2Conn) soloCatchUp(now time.Time) {
	if c.br.Buffered() == 0 && (now.UnixNano()-c.lastRead.Load() < int64(h1StaleAfter) || !c.peek.stale(c.raw, false)) {
		return
	}
	for {
		if err := c.readOne(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.close(&StepError{Kind: KindTimeout, Name: "timeout", Err: fmt.Errorf("read an idle HTTP/2 connection: %w", err)})
				return
			}
			if c.readFailed(err) {
				return
			}
		}
		if c.br.Buffered() == 0 && !c.peek.stale(c.raw, false) {
			return
		}
	}
}

// arm makes sure the connection's deadline ends the request at deadline or
// at most slack after (see h1Client.armDeadline), and anew after a
// cancellation kicked it. Called by the slot's holder.
func (c *h2Conn) arm(deadline time.Time, slack time.Duration) {
	hi := deadline.Add(slack)
	if !c.kicked.Load() && !c.dl.IsZero() && !c.dl.Before(deadline) && !c.dl.After(hi) {
		return
	}
	c.kicked.Store(false)
	c.dl = hi
	if c.nc.SetDeadline(hi) != nil {
		c.dl = time.Time{} // closed: the request finds it dead
	}
}

// rearm gives the connection a fresh timeout's deadline, for the frames
// a stopped request still writes.
func (c *h2Conn) rearm() {
	c.kicked.Store(false)
	c.dl = time.Now().Add(c.t.timeout)
	if c.nc.SetDeadline(c.dl) != nil {
		c.dl = time.Time{}
	}
}

// kickRead makes the slot holder's blocked read or write return at once.
func (c *h2Conn) kickRead() {
	c.kicked.Store(true)
	_ = c.nc.SetDeadline(aLongTimeAgo)
}

// watch arranges for the solo connection being read to be kicked when ctx
// is canceled; as the HTTP/1.1 client's, one registration serves every
// request of a context.
func (cl *h2Client) watch(ctx context.Context) {
	done := ctx.Done()
	if done == cl.watchedDone {
		return
	}
	if cl.stopWatch != nil {
		cl.stopWatch()
		cl.stopWatch = nil
	}
	cl.watchedDone = done
	cl.mu.Lock()
	cl.watchGen++
	gen := cl.watchGen
	cl.mu.Unlock()
	if done != nil {
		cl.stopWatch = context.AfterFunc(ctx, func() { cl.onCancel(gen) })
	}
}

// onCancel kicks the connection the client is reading, if the canceled
// context is still the one watched.
func (cl *h2Client) onCancel(gen uint64) {
	cl.mu.Lock()
	if cl.reading != nil && gen == cl.watchGen {
		cl.reading.kickRead()
	}
	cl.mu.Unlock()
}

// setReading records the solo connection the client reads (nil: none).
func (cl *h2Client) setReading(c *h2Conn) {
	cl.mu.Lock()
	cl.reading = c
	cl.mu.Unlock()
}
