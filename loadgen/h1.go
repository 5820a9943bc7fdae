package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// The raw HTTP/1.1 client. It exists because net/http costs 2–4× the CPU of
// wrk per request (DESIGN.md, "Library choices"), and a load generator whose
// client saturates first measures itself. Each engine worker owns one
// h1Client with one connection, so nothing on the request path is shared or
// locked; a static request allocates nothing (BenchmarkH1ClientDo).

const (
	// h1ReadBuffer is the largest per-connection read buffer; response
	// heads and lines longer than it are assembled in a scratch buffer.
	h1ReadBuffer = 32 << 10
	// h1FirstReadBuffer is the read buffer a connection starts with. Most
	// responses of a load test fit it (nginx's head and a 128-byte body
	// are ~370 bytes), and the buffers are a large part of the heap of a
	// run with thousands of connections: 32 KiB each were 156 of 200 MiB
	// of heap at 5000 connections, 4 KiB each 20 of 62 MiB, 1 KiB 5 of
	// 41 MiB. A client grows its buffer after a response larger than it
	// to the power of two that would have held it (at most h1ReadBuffer),
	// so big bodies still take few reads.
	h1FirstReadBuffer = 512
	// h1MaxHeaderBytes bounds a response head (status line and headers)
	// and a trailer block, as net/http's default does.
	h1MaxHeaderBytes = 1 << 20
	// h1KeepScratch is the most a client keeps of the buffer that
	// assembled a long line between responses: a connection holds at
	// most its read buffer and this much once a response is read, however
	// long the lines a server sent.
	h1KeepScratch = 64 << 10
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
	// h1DialSlots bounds the connections a transport opens at once (see
	// dial): enough that 5000 connections to a host 50 ms away open in
	// about a second, few enough that their goroutines' stacks stay small.
	h1DialSlots = 256
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
	// dialSlots holds a token per connection being opened (see dial).
	dialSlots chan struct{}
	// readers lends read buffers to connections for one response each
	// (see h1Client.reader).
	readers sync.Pool
	// watches holds the clients watching each context (h1watch.go).
	watchMu sync.Mutex
	watches map[<-chan struct{}]*ctxWatch
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
		dialSlots: make(chan struct{}, h1DialSlots),
		dial:      dialTCP,
	}
	t.readers.New = func() any { return bufio.NewReaderSize(nil, h1FirstReadBuffer) }
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

// h1Client is one worker's HTTP/1.1 client: one connection at a time,
// reused, and a few parked ones to other origins.
type h1Client struct {
	t *h1Transport

	// mu guards conn (in h1Conn) and watchGen against onCancel, which runs
	// on another goroutine when the context of a request in flight is
	// canceled.
	mu sync.Mutex
	h1Conn
	// parked holds idle keep-alive connections to other origins.
	parked []h1Conn
	peek   peeker
	// slack is how much later than its deadline the current request may
	// time out (see armDeadline).
	slack time.Duration

	// The context whose cancellation is being watched, and the watch
	// this client is in (nil for a context that cannot be canceled); see
	// watch.
	watchedDone <-chan struct{}
	watching    *ctxWatch
	watchGen    uint64 // guarded by mu

	h1WriteState
	h1ReadState
}

// h1WriteState is the request writer's state (h1write.go), kept across
// requests so that a static request is split and encoded once.
type h1WriteState struct {
	url     urlCache // the last URL split
	wbuf    []byte
	authKey string // the userinfo authVal encodes
	authVal []byte
	// reqClose says the request being sent asked for Connection: close
	// (DisableKeepAlive, or the user's own header).
	reqClose bool
	hdr      []Header // a redirect's follow-up headers
}

// h1ReadState is the response reader's state (h1read.go).
type h1ReadState struct {
	scratch   []byte // long lines
	loc       []byte // Location of the last response, when following redirects
	lineBytes int64  // bytes consumed by readLine since the last reset
}

func newH1Client(t *h1Transport) *h1Client {
	// The write buffer grows on the first request to what it needs (a
	// GET is ~100 bytes): 1 KiB up front was 5 MiB at 5000 connections.
	// The read buffer is borrowed per response (see reader).
	c := &h1Client{t: t}
	c.peek.init()
	return c
}

// Close implements Client.
func (c *h1Client) Close() error {
	if c.watching != nil {
		c.t.leave(c.watching, c)
		c.watching = nil
	}
	c.watchedDone = nil
	err := c.closeConn()
	for _, p := range c.parked {
		err = errors.Join(err, p.conn.Close())
	}
	c.parked = c.parked[:0]
	return err
}

// watch arranges for the connection to be unblocked when ctx is canceled.
// The engine passes the same run context to every request, so the
// registration is made once and reused: no allocation per request, and
// one registration for all the transport's clients (h1watch.go).
func (c *h1Client) watch(ctx context.Context) {
	done := ctx.Done()
	if done == c.watchedDone {
		return
	}
	if c.watching != nil {
		c.t.leave(c.watching, c)
		c.watching = nil
	}
	c.watchedDone = done
	// The old context may have been canceled, which left an immediate
	// deadline on the connection: set it again before the next request.
	c.deadline = time.Time{}
	// The generation tells a late callback of a context no longer watched
	// (canceled just as it was replaced) to leave the connection alone.
	c.mu.Lock()
	c.watchGen++
	gen := c.watchGen
	c.mu.Unlock()
	if done != nil {
		c.watching = c.t.join(ctx, c, gen)
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

// Do implements Client.
func (c *h1Client) Do(ctx context.Context, req *Request, res *Response) error {
	var call h1Call
	var send h1Send
	ctxBound, err := beginCall(ctx, req, res, c.t.timeout, c.t.opts.FollowRedirects > 0, &c.url, &call, &send)
	if err != nil {
		return err
	}
	c.watch(ctx)
	c.slack = c.t.slack
	if ctxBound {
		c.slack = 0
	}
	st, err := c.exchange(&call, send)
	if err != nil || !call.follow || !st.location || !isRedirect(st.status) {
		return err
	}
	return followFrom(c, call, send.method)
}
