package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

// The raw HTTP/1.1 client. It exists because net/http costs 2–4× the CPU of
// wrk per request (DESIGN.md, "Library choices"), and a load generator whose
// client saturates first measures itself. Each engine worker owns one
// h1Client with one connection, so nothing on the request path is shared or
// locked; a static request allocates nothing (BenchmarkH1ClientDo).

const (
	// h1ReadBuffer is the per-connection read buffer; response heads and
	// lines longer than it are assembled in a scratch buffer.
	h1ReadBuffer = 32 << 10
	// h1MaxHeaderBytes bounds a response head (status line and headers)
	// and a trailer block, as net/http's default does.
	h1MaxHeaderBytes = 1 << 20
	// h1MaxInformational bounds the 1xx responses skipped before the final
	// one, so a server cannot keep the client in the head loop forever.
	h1MaxInformational = 16
	// h1InlineBody is the largest body copied into the head's write buffer
	// so head and body go out in one write.
	h1InlineBody = 16 << 10
	// h1StaleAfter is how long a keep-alive connection may sit idle before
	// the client checks, with a non-blocking peek (one syscall), that the
	// server has not closed it. Servers close idle connections (Node.js
	// after 5 s), and a request sent into a closed connection fails after
	// the fact. Below this gap a connection serves more than 50 requests a
	// second and the syscall would cost; above it, it costs nothing that
	// matters.
	h1StaleAfter = 20 * time.Millisecond
	// h1MaxParked is how many idle connections to other origins a client
	// keeps, so a flow that alternates between a few hosts (an auth server
	// and an API) reuses connections instead of dialing per request.
	h1MaxParked = 4
	// h1DeadlineSlack bounds how late, as a fraction of the timeout, a
	// request may time out so that consecutive requests on a connection
	// can share one deadline (see armDeadline); h1MaxDeadlineSlack caps it.
	h1DeadlineSlack    = 100
	h1MaxDeadlineSlack = 50 * time.Millisecond
)

// aLongTimeAgo is a deadline in the past: setting it makes every blocked
// read and write on the connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

// h1Transport makes raw HTTP/1.1 clients.
type h1Transport struct {
	opts      ClientOptions
	timeout   time.Duration
	slack     time.Duration // how late a request may time out; see armDeadline
	tlsConf   *tls.Config
	userAgent string
	probe     certProbe
	// dial opens a TCP connection; tests replace it.
	dial func(ctx context.Context, addr string, deadline time.Time) (net.Conn, error)
}

func newH1Transport(o ClientOptions, tlsConf *tls.Config) *h1Transport {
	cfg := tlsConf.Clone()
	// Offer only HTTP/1.1, so a server that prefers h2 does not pick it.
	cfg.NextProtos = []string{"http/1.1"}
	t := &h1Transport{
		opts:      o,
		timeout:   o.TimeoutOrDefault(),
		slack:     min(o.TimeoutOrDefault()/h1DeadlineSlack, h1MaxDeadlineSlack),
		tlsConf:   cfg,
		userAgent: "tailgate/" + Version,
		dial:      dialTCP,
	}
	t.probe.install(cfg)
	return t
}

func dialTCP(ctx context.Context, addr string, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	return d.DialContext(ctx, "tcp", addr)
}

// NewClient implements Transport.
func (t *h1Transport) NewClient() (Client, error) { return newH1Client(t), nil }

// Close implements Transport; the transport holds no connections (its
// clients do, and the engine closes them).
func (t *h1Transport) Close() error { return nil }

// h1Client is one worker's HTTP/1.1 client: one connection, reused.
type h1Client struct {
	t *h1Transport

	// mu guards conn and watchGen against onCancel, which runs on another
	// goroutine when the context of a request in flight is canceled.
	mu   sync.Mutex
	conn net.Conn

	br       *bufio.Reader
	raw      syscall.RawConn // the TCP socket, for the stale check
	rio      *rawIO          // raw reads and writes of a plain TCP conn; nil for TLS
	connTLS  bool
	connAuth string
	served   int       // responses read on conn
	lastUsed time.Time // start of the last request on conn
	peek     peeker
	// connDeadline is the deadline set on conn; zero when unknown.
	connDeadline time.Time
	// slack is how much later than its deadline the current request may
	// time out (see armDeadline).
	slack time.Duration

	// The last URL split and its parts: a static request is split once.
	lastURL    string
	lastTarget h1Target

	wbuf    []byte
	scratch []byte // long lines
	loc     []byte // Location of the last response, when following redirects
	hdr     []Header

	// The context whose cancellation is being watched; see watch.
	watchedDone <-chan struct{}
	stopWatch   func() bool
	watchGen    uint64 // guarded by mu

	authKey string
	authVal []byte

	// parked holds idle keep-alive connections to other origins.
	parked []h1Conn

	lineBytes int64 // bytes consumed by readLine since the last reset
	// reqClose says the request being sent asked for Connection: close
	// (DisableKeepAlive, or the user's own header).
	reqClose bool
}

func newH1Client(t *h1Transport) *h1Client {
	c := &h1Client{
		t:    t,
		br:   bufio.NewReaderSize(nil, h1ReadBuffer),
		wbuf: make([]byte, 0, 1024),
	}
	c.peek.init()
	return c
}

// h1Conn is a parked connection with its reader and state.
type h1Conn struct {
	conn     net.Conn
	br       *bufio.Reader
	raw      syscall.RawConn
	rio      *rawIO
	tls      bool
	auth     string
	served   int
	lastUsed time.Time
}

// Close implements Client.
func (c *h1Client) Close() error {
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
		c.watchedDone = nil
	}
	err := c.closeConn()
	for _, p := range c.parked {
		err = errors.Join(err, p.conn.Close())
	}
	c.parked = c.parked[:0]
	return err
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
	if c.conn != nil {
		if len(c.parked) == h1MaxParked {
			_ = c.parked[0].conn.Close()
			c.parked = append(c.parked[:0], c.parked[1:]...)
		}
		c.parked = append(c.parked, h1Conn{conn: c.conn, br: c.br, raw: c.raw, rio: c.rio, tls: c.connTLS, auth: c.connAuth, served: c.served, lastUsed: c.lastUsed})
		c.br = nil
	}
	c.mu.Lock()
	c.conn = found.conn
	c.mu.Unlock()
	c.raw, c.rio, c.connAuth, c.connDeadline = nil, nil, "", time.Time{}
	if found.conn != nil {
		c.br, c.raw, c.rio, c.connTLS, c.connAuth, c.served, c.lastUsed = found.br, found.raw, found.rio, found.tls, found.auth, found.served, found.lastUsed
	}
}

func (c *h1Client) closeConn() error {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	c.raw, c.rio = nil, nil
	c.connAuth = ""
	c.connDeadline = time.Time{}
	if conn == nil {
		return nil
	}
	if c.br != nil {
		c.br.Reset(nil)
	}
	return conn.Close()
}

// watch arranges for the connection to be unblocked when ctx is canceled.
// The engine passes the same run context to every request, so the
// registration is made once and reused: no allocation per request.
func (c *h1Client) watch(ctx context.Context) {
	done := ctx.Done()
	if done == c.watchedDone {
		return
	}
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
	c.watchedDone = done
	// The old context may have been canceled, which left an immediate
	// deadline on the connection: set it again before the next request.
	c.connDeadline = time.Time{}
	// The generation tells a late callback of a context no longer watched
	// (canceled just as it was replaced) to leave the connection alone.
	c.mu.Lock()
	c.watchGen++
	gen := c.watchGen
	c.mu.Unlock()
	if done != nil {
		c.stopWatch = context.AfterFunc(ctx, func() { c.onCancel(gen) })
	}
}

// onCancel runs when the watched context is canceled: an immediate deadline
// ends whatever read or write the worker is blocked in.
func (c *h1Client) onCancel(gen uint64) {
	c.mu.Lock()
	if c.conn != nil && gen == c.watchGen {
		_ = c.conn.SetDeadline(aLongTimeAgo)
	}
	c.mu.Unlock()
}

// h1Status is what the head of a response said about framing and what to do
// next.
type h1Status struct {
	status   int
	close    bool // the connection ends after this response
	location bool // a Location header was copied into c.loc
}

// Do implements Client.
func (c *h1Client) Do(ctx context.Context, req *Request, res *Response) error {
	if err := ctx.Err(); err != nil {
		return canceledError(err, "before sending")
	}
	c.watch(ctx)
	now := time.Now()
	deadline := now.Add(c.t.timeout)
	c.slack = c.t.slack
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, c.slack = d, 0
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	if req.URL != c.lastURL || c.lastURL == "" {
		t, err := splitURL(req.URL)
		if err != nil {
			return err
		}
		c.lastURL, c.lastTarget = req.URL, t
	}
	target := c.lastTarget
	follow := c.t.opts.FollowRedirects
	st, err := c.exchange(ctx, now, deadline, method, &target, req.Header, req.Body, req, res, follow > 0)
	if err != nil || follow <= 0 || !st.location || !isRedirect(st.status) {
		return err
	}
	return c.followRedirects(ctx, now, deadline, method, req, res)
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// followRedirects follows the Location of the response in res, up to the
// configured number of hops. It is off the fast path: redirects allocate.
func (c *h1Client) followRedirects(ctx context.Context, now, deadline time.Time, method string, req *Request, res *Response) error {
	limit := c.t.opts.FollowRedirects
	first, _ := splitURL(req.URL)
	origin0 := first.origin()
	cur := req.URL
	body := req.Body
	for hop := 1; ; hop++ {
		base, err := url.Parse(cur)
		if err != nil {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("base URL %q: %w", cur, err)}
		}
		loc := string(c.loc)
		next, err := base.Parse(loc)
		if err != nil {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("bad Location %q: %w", loc, err)}
		}
		if hop > limit {
			return &StepError{Kind: KindRedirect, Name: "too many redirects",
				Err: fmt.Errorf("stopped after %d redirects (next: %s)", limit, redactURL(next))}
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			return &StepError{Kind: KindRedirect, Name: "redirect", Err: fmt.Errorf("unsupported Location scheme in %q", loc)}
		}
		switch res.Status {
		case 301, 302, 303:
			// As browsers and net/http do: the follow-up is a GET without
			// body (HEAD stays HEAD).
			if method != "HEAD" {
				method = "GET"
			}
			body = nil
		}
		cur = next.String()
		target, err := splitURL(cur)
		if err != nil {
			return err
		}
		sameOrigin := target.origin() == origin0
		c.hdr = c.hdr[:0]
		for _, h := range req.Header {
			if !sameOrigin && (equalFold(h.Name, "Authorization") || equalFold(h.Name, "Cookie") ||
				equalFold(h.Name, "Proxy-Authorization") || equalFold(h.Name, "Host")) {
				continue
			}
			if body == nil && equalFold(h.Name, "Content-Type") {
				continue
			}
			c.hdr = append(c.hdr, h)
		}
		if !sameOrigin {
			// Credentials in the first URL's userinfo stay with that origin.
			target.userinfo = ""
		}
		res.Status = 0
		res.Header = res.Header[:0]
		res.Body = res.Body[:0]
		st, err := c.exchange(ctx, now, deadline, method, &target, c.hdr, body, req, res, true)
		if err != nil || !st.location || !isRedirect(st.status) {
			return err
		}
	}
}

// redactURL drops userinfo from a URL shown in an error.
func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	v := *u
	v.User = nil
	return v.String()
}

// exchange sends one request and reads its response, on the current
// connection if it can, else on a new one. A request that found a reused
// connection closed by the server before any byte of the response arrived
// is sent once more on a fresh connection, if that is safe.
func (c *h1Client) exchange(ctx context.Context, now, deadline time.Time, method string, t *h1Target,
	hdr []Header, body []byte, req *Request, res *Response, wantLocation bool) (h1Status, error) {
	var err error
	c.wbuf, err = c.appendRequest(c.wbuf[:0], method, t, hdr, body)
	if err != nil {
		return h1Status{}, err
	}
	inline := len(body) <= h1InlineBody
	if inline {
		c.wbuf = append(c.wbuf, body...)
	}
	idempotent := isIdempotent(method, hdr)
	for attempt := 0; ; attempt++ {
		fresh := false
		if (c.conn != nil && (c.connTLS != t.tls || c.connAuth != t.authority)) || (c.conn == nil && len(c.parked) > 0) {
			c.switchTo(t)
		}
		if c.conn != nil && now.Sub(c.lastUsed) > h1StaleAfter && c.stale() {
			_ = c.closeConn()
		}
		if c.conn == nil {
			if err := c.dial(ctx, t, deadline); err != nil {
				return h1Status{}, err
			}
			fresh = true
		}
		c.lastUsed = now
		if err := c.armDeadline(deadline); err != nil {
			// Only a connection closed under us refuses a deadline.
			_ = c.closeConn()
			if !fresh {
				continue
			}
			return h1Status{}, c.ioError(ctx, err, "set deadline", deadline)
		}
		// Checked after the deadline is set: a cancellation from here on
		// runs onCancel, which overrides it.
		if err := ctx.Err(); err != nil {
			_ = c.closeConn()
			return h1Status{}, canceledError(err, "before sending")
		}
		var n int
		var werr error
		if inline && c.rio != nil && c.br.Buffered() == 0 {
			n, werr = c.rio.sendAwait(c.wbuf)
		} else {
			n, werr = c.conn.Write(c.wbuf)
			if werr == nil && !inline {
				var m int
				m, werr = c.conn.Write(body)
				n += m
			}
		}
		res.BytesOut += int64(n)
		if werr != nil {
			_ = c.closeConn()
			if !fresh && attempt == 0 && (n == 0 || idempotent) && !c.interrupted(ctx, werr) {
				continue
			}
			return h1Status{}, c.ioError(ctx, werr, "write request", deadline)
		}
		before := res.BytesIn
		st, rerr := c.readResponse(method, req, res, wantLocation)
		if rerr != nil {
			_ = c.closeConn()
			if !fresh && attempt == 0 && idempotent && res.BytesIn == before && isConnDrop(rerr) && !c.interrupted(ctx, rerr) {
				continue
			}
			return h1Status{}, c.ioError(ctx, rerr, "read response", deadline)
		}
		c.served++
		if st.close || c.reqClose {
			_ = c.closeConn()
		}
		return st, nil
	}
}

// armDeadline makes sure the connection's deadline ends the exchange at
// deadline or a little after: setting a deadline costs two clock reads, a
// lock and a runtime timer update, so consecutive requests share one while
// it falls in [deadline, deadline+c.slack]. The slack is 1% of the timeout,
// at most h1MaxDeadlineSlack, and none for a deadline from the context.
func (c *h1Client) armDeadline(deadline time.Time) error {
	hi := deadline.Add(c.slack)
	if !c.connDeadline.IsZero() && !c.connDeadline.Before(deadline) && !c.connDeadline.After(hi) {
		return nil
	}
	if err := c.conn.SetDeadline(hi); err != nil {
		c.connDeadline = time.Time{}
		return err
	}
	c.connDeadline = hi
	return nil
}

// interrupted reports whether err came from the deadline or a cancellation
// rather than from the server.
func (c *h1Client) interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)
}

// isConnDrop reports whether err means the server closed or reset the
// connection.
func isConnDrop(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

func canceledError(err error, phase string) error {
	kind := KindCanceled
	if errors.Is(err, context.DeadlineExceeded) {
		kind = KindTimeout
	}
	return &StepError{Kind: kind, Name: kind.String(), Err: fmt.Errorf("%s: %w", phase, err)}
}

// ioError names what failed during phase. Deadline errors become timeouts
// (or cancellations, when the run's context ended); the rest keep their
// cause for Classify.
func (c *h1Client) ioError(ctx context.Context, err error, phase string, deadline time.Time) error {
	if cerr := ctx.Err(); cerr != nil {
		return canceledError(cerr, phase)
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &StepError{Kind: KindTimeout, Name: "timeout",
			Err: fmt.Errorf("%s: no complete response within %s", phase, c.t.timeout)}
	}
	if c.connTLS && c.served == 0 && isConnDrop(err) {
		// The first exchange on a new TLS connection died: with TLS 1.3
		// that is how a server rejects a missing client certificate.
		if e := c.t.probe.explain(fmt.Errorf("%s: %w", phase, err)); e != nil {
			return e
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		return &StepError{Kind: KindEOF, Name: "connection closed",
			Err: fmt.Errorf("%s: server closed the connection before responding: %w", phase, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &StepError{Kind: KindEOF, Name: "connection closed",
			Err: fmt.Errorf("%s: server closed the connection mid-response: %w", phase, err)}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		// A TLS alert after the handshake, e.g. a TLS 1.3 server that
		// rejects the client certificate only once it has checked it.
		err = fmt.Errorf("%s: %w", phase, err)
		if e := c.t.probe.explain(err); e != nil {
			return e
		}
		return tlsError(err, "")
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// dial connects to the target and, for https, completes the TLS handshake.
func (c *h1Client) dial(ctx context.Context, t *h1Target, deadline time.Time) error {
	addr := t.dialAddr()
	conn, err := c.t.dial(ctx, addr, deadline)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return canceledError(cerr, "connect")
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &StepError{Kind: KindTimeout, Name: "timeout",
				Err: fmt.Errorf("connect to %s: no connection within %s: %w", addr, c.t.timeout, err)}
		}
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	var raw syscall.RawConn
	if sc, ok := conn.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	var rio *rawIO
	if !t.tls {
		rio = newRawIO(conn)
	}
	if t.tls {
		host, _ := t.hostPort()
		cfg := c.t.tlsConf
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			return fmt.Errorf("set deadline: %w", err)
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			if cerr := ctx.Err(); cerr != nil {
				return canceledError(cerr, "TLS handshake")
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return &StepError{Kind: KindTimeout, Name: "timeout",
					Err: fmt.Errorf("TLS handshake with %s: not done within %s", addr, c.t.timeout)}
			}
			return tlsError(fmt.Errorf("TLS handshake with %s: %w", addr, err), host)
		}
		conn = tc
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.raw, c.rio = raw, rio
	var rd io.Reader = conn
	if rio != nil {
		rd = rio
	}
	if c.br == nil {
		c.br = bufio.NewReaderSize(rd, h1ReadBuffer)
	}
	c.br.Reset(rd)
	c.connTLS = t.tls
	c.connAuth = t.authority
	c.served = 0
	return nil
}

// stale reports whether an idle keep-alive connection is unusable: the
// server closed it, or sent bytes nobody asked for.
func (c *h1Client) stale() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	if c.raw == nil {
		return false
	}
	return c.peek.stale(c.raw, c.connTLS)
}

// readLine returns the next line without its line ending. The slice is
// valid until the next read. Lines longer than the read buffer are
// assembled in c.scratch, up to limit bytes.
func (c *h1Client) readLine(limit int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.scratch = append(c.scratch[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(c.scratch) > limit {
				c.lineBytes += int64(len(c.scratch))
				return nil, protocolErrorf("line longer than %d bytes", limit)
			}
			line, err = c.br.ReadSlice('\n')
			c.scratch = append(c.scratch, line...)
		}
		line = c.scratch
	}
	c.lineBytes += int64(len(line))
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > limit {
		return nil, protocolErrorf("line longer than %d bytes", limit)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readResponse reads one response (skipping 1xx interim responses) and its
// whole body into res.
func (c *h1Client) readResponse(method string, req *Request, res *Response, wantLocation bool) (h1Status, error) {
	c.lineBytes = 0
	var st h1Status
	var clen int64
	var chunked bool
	var err error
	for interim := 0; ; interim++ {
		st, clen, chunked, err = c.readHead(req, res, wantLocation)
		if err != nil {
			res.BytesIn += c.lineBytes
			return st, err
		}
		if st.status >= 200 || st.status == 101 {
			break
		}
		if interim >= h1MaxInformational {
			res.BytesIn += c.lineBytes
			return st, protocolErrorf("more than %d informational (1xx) responses", h1MaxInformational)
		}
		res.Header = res.Header[:0]
	}
	res.Status = st.status
	res.BytesIn += c.lineBytes
	c.lineBytes = 0
	switch {
	case method == "HEAD" || st.status == 204 || st.status == 304:
		return st, nil
	case st.status == 101:
		// The server switched protocols we never asked for; nothing on the
		// connection is HTTP/1.1 any more.
		st.close = true
		return st, nil
	case chunked:
		err = c.readChunked(req, res)
	case clen >= 0:
		err = c.readBody(clen, req, res, false)
	default:
		st.close = true
		err = c.readBody(-1, req, res, true)
	}
	res.BytesIn += c.lineBytes
	c.lineBytes = 0
	return st, err
}

// readHead reads a status line and headers. clen is -1 when the response
// has no Content-Length.
func (c *h1Client) readHead(req *Request, res *Response, wantLocation bool) (st h1Status, clen int64, chunked bool, err error) {
	clen = -1
	line, err := c.readLine(h1MaxHeaderBytes)
	if err != nil {
		return st, clen, false, err
	}
	// "HTTP/1.x SSS[ reason]"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return st, clen, false, protocolErrorf("bad status line %q", clip(line))
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return st, clen, false, protocolErrorf("bad status code in %q", clip(line))
		}
	}
	st.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if st.status < 100 {
		return st, clen, false, protocolErrorf("bad status code in %q", clip(line))
	}
	http10 := line[7] == '0'
	keepAlive := false
	size := len(line)
	var te bool
	c.loc = c.loc[:0]
	for {
		line, err = c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return st, clen, false, err
		}
		if len(line) == 0 {
			break
		}
		size += len(line)
		if size > h1MaxHeaderBytes {
			return st, clen, false, protocolErrorf("response head larger than %d bytes", h1MaxHeaderBytes)
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding continues the previous value; only
			// kept headers need it.
			if req.KeepHeaders && len(res.Header) > 0 {
				h := &res.Header[len(res.Header)-1]
				h.Value += " " + string(trimOWS(line))
			}
			continue
		}
		colon := -1
		for i, b := range line {
			if b == ':' {
				colon = i
				break
			}
		}
		if colon <= 0 {
			return st, clen, false, protocolErrorf("bad header line %q", clip(line))
		}
		name := line[:colon]
		if b := name[len(name)-1]; b == ' ' || b == '\t' {
			return st, clen, false, protocolErrorf("space before colon in header %q", clip(name))
		}
		value := trimOWS(line[colon+1:])
		switch len(name) {
		case 14:
			if equalFoldBytes(name, "content-length") {
				n, ok := parseDecimal(value)
				if !ok || (clen >= 0 && n != clen) {
					return st, clen, false, protocolErrorf("bad Content-Length %q", clip(value))
				}
				clen = n
			}
		case 17:
			if equalFoldBytes(name, "transfer-encoding") {
				te = true
				chunked = lastTokenIs(value, "chunked")
			}
		case 10:
			if equalFoldBytes(name, "connection") {
				if hasToken(value, "close") {
					st.close = true
				}
				if hasToken(value, "keep-alive") {
					keepAlive = true
				}
			}
		case 8:
			if wantLocation && equalFoldBytes(name, "location") {
				c.loc = append(c.loc[:0], value...)
				st.location = true
			}
		}
		if req.KeepHeaders {
			res.Header = append(res.Header, Header{Name: string(name), Value: string(value)})
		}
	}
	if http10 && !keepAlive {
		st.close = true
	}
	if te {
		// Transfer-Encoding overrides Content-Length (RFC 9112 6.3); a body
		// not framed by chunked runs to the end of the connection, and a
		// message with both is suspect, so the connection is not reused.
		if clen >= 0 {
			st.close = true
		}
		clen = -1
		if !chunked {
			st.close = true
		}
	}
	return st, clen, chunked, nil
}

// clip shortens a slice of a malformed response for an error message.
func clip(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// readBody reads n body bytes (or up to EOF when untilEOF), keeping the
// first req.KeepBody of them in res.Body and counting all of them. It reads
// from the bufio buffer in place, so a discarded body is never copied.
func (c *h1Client) readBody(n int64, req *Request, res *Response, untilEOF bool) error {
	for untilEOF || n > 0 {
		if c.br.Buffered() == 0 {
			if _, err := c.br.Peek(1); err != nil {
				if untilEOF && err == io.EOF {
					return nil
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		k := c.br.Buffered()
		if !untilEOF && int64(k) > n {
			k = int(n)
		}
		if room := req.KeepBody - len(res.Body); room > 0 {
			p, _ := c.br.Peek(min(k, room))
			res.Body = append(res.Body, p...)
		}
		_, _ = c.br.Discard(k)
		res.BytesIn += int64(k)
		n -= int64(k)
	}
	return nil
}

// readChunked reads a chunked body and its trailers.
func (c *h1Client) readChunked(req *Request, res *Response) error {
	for {
		line, err := c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return protocolErrorf("bad chunk size line %q", clip(line))
		}
		if size == 0 {
			break
		}
		if err := c.readBody(size, req, res, false); err != nil {
			return err
		}
		line, err = c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		if len(line) != 0 {
			return protocolErrorf("chunk data longer than its size")
		}
	}
	trailers := 0
	for {
		line, err := c.readLine(h1MaxHeaderBytes)
		if err != nil {
			return chunkEOF(err)
		}
		if len(line) == 0 {
			return nil
		}
		trailers += len(line)
		if trailers > h1MaxHeaderBytes {
			return protocolErrorf("trailers larger than %d bytes", h1MaxHeaderBytes)
		}
	}
}

// chunkEOF turns a clean EOF inside a chunked body into an unexpected one.
func chunkEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
