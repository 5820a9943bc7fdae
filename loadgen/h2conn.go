package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is one HTTP/2 connection: the streams open on it, its writer
// shared by the workers, and its reader goroutine; or, when solo, the one
// worker that holds its only stream slot, which writes and reads itself
// (h2solo.go).
type h2Conn struct {
	t   *h2Transport
	nc  net.Conn
	w   io.Writer // nc, or raw writes to its socket (rawIO)
	br  *bufio.Reader
	fr  *http2.Framer
	tls bool

	// solo says the connection has one stream slot and a raw socket: no
	// reader or writer goroutine, the slot's holder does both (h2solo.go).
	solo bool
	rio  *rawIO          // the reads' rawIO; a solo request is written through it
	raw  syscall.RawConn // for peek
	peek peeker
	// dl is the deadline set on nc (solo; the slot holder's); kicked says
	// a cancellation replaced it.
	dl     time.Time
	kicked atomic.Bool

	// The write side, guarded by wmu. The framer writes into out (see
	// Write); the writer goroutine writes out to nc. Workers that queue
	// frames while it runs, or before it gets to run, share its next
	// write: one system call for a batch of requests, as h2load makes.
	wmu     sync.Mutex
	out     []byte
	spare   []byte
	pending bool          // the writer has been told to write
	kick    chan struct{} // tells the writer to write
	henc    *hpack.Encoder
	hbuf    bytes.Buffer
	nextID  uint32

	// The shared state, guarded by mu.
	mu      sync.Mutex
	streams map[uint32]*h2Stream
	active  int         // streams holding a slot
	limit   int         // min(t.streams, the server's SETTINGS_MAX_CONCURRENT_STREAMS)
	waiters []*h2Stream // workers waiting for a slot or for send window
	dead    error       // why the connection ended; nil while it runs
	goAway  bool        // no new streams (GOAWAY, or replaced)
	sendWin int32       // the connection's send window, for request bodies
	initWin int32       // the server's initial stream window
	maxSend uint32      // the server's SETTINGS_MAX_FRAME_SIZE
	served  int         // responses completed
	// recvUnacked is the DATA received since the last connection-level
	// WINDOW_UPDATE.
	recvUnacked uint32

	// The reader's header-block state (the reader goroutine's, or a solo
	// connection's slot holder's; mu passes it from holder to holder).
	hpay     []byte // the payload of the last HEADERS or CONTINUATION frame
	hdec     *hpack.Decoder
	cur      *h2Stream // the stream the header block in progress is for
	hdrBytes int       // size of the header block in progress
	hdrErr   error

	takesNew   atomic.Bool // usable: no GOAWAY and not dead
	lastRead   atomic.Int64
	readerDone chan struct{}
	writerDone chan struct{}
	closing    chan struct{} // closed when the connection ends
	closeOnce  sync.Once
	idleClose  atomic.Bool // close once the last stream ends
}

// h2Stream is a worker's request in flight; the worker reuses it.
type h2Stream struct {
	id   uint32
	done chan struct{} // the response is complete or failed
	wake chan struct{} // a slot or send window may have come free
	res  *Response
	req  *Request
	// Filled by the reader, under conn.mu.
	status    int
	final     bool // the final (non-1xx) head arrived
	trailers  bool // a header block after the final head
	err       error
	loc       []byte
	follow    bool
	keepHdr   bool
	groupHdr  string // the header whose value joins the request's group
	gotFrame  bool   // any frame of the response arrived
	sendWin   int32
	recvUnack uint32
	wantWin   bool
}

// Write implements io.Writer for the framer: frames queue in out until
// the writer flushes them. Called with wmu held.
func (c *h2Conn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	return len(p), nil
}

// dial opens a connection to tg, sends the preface and waits for the
// server's first SETTINGS, so the stream limit is known before the first
// request goes out.
func (t *h2Transport) dial(ctx context.Context, tg *h1Target, deadline time.Time) (*h2Conn, error) {
	addr := tg.dialAddr()
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, canceledError(cerr, "connect")
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("connect to %s: no connection within %s: %w", addr, t.timeout, err)}
		}
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if tg.tls {
		cfg := tlsConfigFor(t.tlsConf, tg)
		tc := tls.Client(nc, cfg)
		_ = tc.SetDeadline(deadline)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			if cerr := ctx.Err(); cerr != nil {
				return nil, canceledError(cerr, "TLS handshake")
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, &StepError{Kind: KindTimeout, Name: "timeout",
					Err: fmt.Errorf("TLS handshake with %s: not done within %s", addr, t.timeout)}
			}
			return nil, tlsError(fmt.Errorf("TLS handshake with %s: %w", addr, err), cfg.ServerName)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			_ = nc.Close()
			return nil, &StepError{Kind: KindTLS, Name: "TLS: the server does not offer HTTP/2 (no ALPN h2; drop --http2)",
				Err: fmt.Errorf("TLS handshake with %s: ALPN chose %q", addr, p)}
		}
		nc = tc
	}
	// A plain TCP connection is read and written with raw system calls,
	// as the HTTP/1.1 client's (h1_raw_linux.go): without them, with one
	// processor, the runtime hands the processor to another thread during
	// long loopback writes. Reader and writer get a rawIO each.
	var rd io.Reader = nc
	var w io.Writer = nc
	var rio *rawIO
	if !tg.tls {
		if rio = newRawIO(nc); rio != nil {
			rd, w = rio, newRawIO(nc)
		}
	}
	c := &h2Conn{
		t: t, nc: nc, w: w, tls: tg.tls, br: bufio.NewReaderSize(rd, 32<<10),
		streams: map[uint32]*h2Stream{}, nextID: 1, limit: t.streams,
		sendWin: 65535, initWin: 65535, maxSend: 16384, readerDone: make(chan struct{}),
		writerDone: make(chan struct{}), closing: make(chan struct{}), kick: make(chan struct{}, 1),
	}
	c.fr = http2.NewFramer(c, c.br)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(1 << 20)
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.hdec = hpack.NewDecoder(4096, c.emit)
	c.hdec.SetMaxStringLength(h2MaxHeaderList)
	if err := c.start(ctx, deadline, addr); err != nil {
		_ = nc.Close()
		return nil, err
	}
	c.takesNew.Store(true)
	c.lastRead.Store(time.Now().UnixNano())
	if c.soloMode(rio) {
		close(c.readerDone)
		close(c.writerDone)
		return c, nil
	}
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

// start writes the client preface and reads the server's SETTINGS.
func (c *h2Conn) start(ctx context.Context, deadline time.Time, addr string) error {
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	defer stop()
	_ = c.nc.SetDeadline(deadline)
	c.out = append(c.out, http2.ClientPreface...)
	err := errors.Join(
		c.fr.WriteSettings(
			http2.Setting{ID: http2.SettingEnablePush, Val: 0},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaderList},
		),
		c.fr.WriteWindowUpdate(0, h2ConnWindow-65535),
	)
	if err == nil {
		_, err = c.nc.Write(c.out)
	}
	c.out = c.out[:0]
	if err == nil {
		var head []byte
		if head, err = c.br.Peek(9); err == nil && bytes.HasPrefix(head, []byte("HTTP/1.")) {
			return &StepError{Kind: KindProtocol, Name: "HTTP/2: the server answered in HTTP/1.1 (it does not accept h2c with prior knowledge; drop --http2)",
				Err: fmt.Errorf("connection to %s: %q", addr, head)}
		}
	}
	var f http2.Frame
	if err == nil {
		f, err = c.fr.ReadFrame()
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return canceledError(cerr, "HTTP/2 preface")
		}
		return c.connError(fmt.Errorf("HTTP/2 preface with %s: %w", addr, err), true)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2: the server's first frame is not SETTINGS",
			Err: fmt.Errorf("connection to %s: got %s", addr, f.Header().Type)}
	}
	if err := c.applySettings(sf); err != nil {
		return err
	}
	c.wmu.Lock()
	err = c.fr.WriteSettingsAck()
	c.wmu.Unlock()
	if err == nil {
		_, err = c.nc.Write(c.out)
		c.out = c.out[:0]
	}
	if err != nil {
		return c.connError(fmt.Errorf("HTTP/2 preface with %s: %w", addr, err), true)
	}
	return c.nc.SetDeadline(time.Time{})
}

// usable reports whether the connection takes new streams.
func (c *h2Conn) usable() bool { return c.takesNew.Load() }

// closeWhenIdle stops new streams and closes the connection once its last
// stream ends.
func (c *h2Conn) closeWhenIdle() {
	c.takesNew.Store(false)
	c.idleClose.Store(true)
	c.mu.Lock()
	c.goAway = true
	idle := c.active == 0
	c.mu.Unlock()
	if idle {
		c.close(errConnReplaced)
	}
}

// close ends the connection: every stream still open fails with err.
func (c *h2Conn) close(err error) {
	c.takesNew.Store(false)
	c.mu.Lock()
	if c.dead == nil {
		c.dead = err
	}
	c.failAll(c.dead)
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.closing) })
	_ = c.nc.Close()
}

// failAll ends every open stream and wakes every waiter. Called with mu
// held.
func (c *h2Conn) failAll(err error) {
	for id, st := range c.streams {
		c.finish(id, st, c.streamConnError(st, err))
	}
	for _, w := range c.waiters {
		signal(w.wake)
	}
	c.waiters = c.waiters[:0]
}

// finish ends stream st with err (nil: the response is complete). Called
// with mu held.
func (c *h2Conn) finish(id uint32, st *h2Stream, err error) {
	delete(c.streams, id)
	c.active--
	if err == nil {
		c.served++
	}
	st.err = err
	signal(st.done)
	c.wakeOne()
	if c.active == 0 && c.idleClose.Load() && c.dead == nil {
		c.dead = errConnReplaced
		go func() { _ = c.nc.Close() }()
	}
}

// wakeOne tells the first waiter that a slot came free. Called with mu
// held.
func (c *h2Conn) wakeOne() {
	if len(c.waiters) > 0 {
		w := c.waiters[0]
		copy(c.waiters, c.waiters[1:])
		c.waiters = c.waiters[:len(c.waiters)-1]
		signal(w.wake)
	}
}

// signal makes a non-blocking send on a channel of capacity one.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// drain empties a channel of capacity one.
func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// flush has the writer write the queued frames. Called with wmu held;
// returns with it released.
func (c *h2Conn) flush() {
	if c.solo {
		c.writeNow(false)
		return
	}
	kick := !c.pending
	c.pending = true
	c.wmu.Unlock()
	if kick {
		signal(c.kick)
	}
}

// writeLoop is the connection's writer goroutine.
func (c *h2Conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.kick:
		case <-c.closing:
			return
		}
		// The worker that kicked the writer made it the next goroutine to
		// run; yielding once lets the other workers made runnable by the
		// same read queue their requests first, into the same write.
		runtime.Gosched()
		c.wmu.Lock()
		buf := c.out
		c.out = c.spare[:0]
		c.pending = false
		c.wmu.Unlock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.t.timeout))
		_, err := c.w.Write(buf)
		c.wmu.Lock()
		c.spare = buf[:0]
		c.wmu.Unlock()
		if err != nil {
			c.close(c.connError(fmt.Errorf("write: %w", err), false))
			return
		}
	}
}

// writeControl queues a frame written by the reader (a SETTINGS or PING
// acknowledgement, a WINDOW_UPDATE, a RST_STREAM) and flushes it.
func (c *h2Conn) writeControl(write func(fr *http2.Framer) error) {
	c.wmu.Lock()
	if err := write(c.fr); err != nil {
		c.wmu.Unlock()
		c.close(c.connError(err, false))
		return
	}
	c.flush()
}

// connError turns a connection-level failure into a classified error.
// During the preface (early) a TLS alert is a TLS error: it is how a TLS
// 1.3 server rejects a missing client certificate.
func (c *h2Conn) connError(err error, early bool) error {
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	if c.tls && c.served == 0 {
		if e := c.t.probe.explain(err); e != nil {
			return e
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return tlsError(err, "")
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) || errors.Is(err, http2.ErrFrameTooLarge) {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: err}
	}
	var de hpack.DecodingError
	if errors.As(err, &de) {
		return &StepError{Kind: KindProtocol, Name: "HTTP/2 protocol error", Err: fmt.Errorf("header block: %w", err)}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if early {
			return &StepError{Kind: KindTimeout, Name: "timeout", Err: fmt.Errorf("%w: no SETTINGS within %s", err, c.t.timeout)}
		}
		return &StepError{Kind: KindTimeout, Name: "timeout", Err: err}
	}
	switch Classify(err) {
	case KindEOF:
		return &StepError{Kind: KindEOF, Name: "connection closed", Err: fmt.Errorf("server closed the HTTP/2 connection: %w", err)}
	case KindReset:
		return &StepError{Kind: KindReset, Name: "connection reset", Err: err}
	}
	return err
}

// streamConnError is what a stream gets when its connection ends: a
// request the server cannot have started (after a GOAWAY that excludes
// it) or an idempotent one on a connection that served before and died
// before any of its response arrived is tried again.
func (c *h2Conn) streamConnError(st *h2Stream, err error) error {
	if errors.Is(err, errTransportClosed) {
		return canceledError(context.Canceled, "transport closed")
	}
	if !st.gotFrame && c.served > 0 && st.req != nil && isIdempotent(methodOf(st.req), st.req.Header) && !errors.Is(err, os.ErrDeadlineExceeded) {
		return &h2RetryError{err: err}
	}
	return err
}

func methodOf(r *Request) string {
	if r.Method == "" {
		return "GET"
	}
	return r.Method
}

// h2RetryError marks a request to send again; err is its outcome when
// the retries run out.
type h2RetryError struct{ err error }

func (e *h2RetryError) Error() string { return e.err.Error() }
func (e *h2RetryError) Unwrap() error { return e.err }

var (
	errTransportClosed = errors.New("transport closed")
	errConnReplaced    = errors.New("connection replaced")
)
