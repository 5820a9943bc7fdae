package loadgen

import (
	"context"
	"crypto/tls"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP/2 client, built on golang.org/x/net/http2's Framer and hpack.
// It exists for the same reason as the raw HTTP/1.1 client: net/http's
// HTTP/2 reached 0.43–0.52× h2load's throughput at 1.9× its CPU per
// request (docs/design.md has the A/B), and it cannot be told to open
// exactly N connections. Here a run opens ClientOptions.Connections
// connections per origin and runs up to ClientOptions.Streams concurrent
// streams on each (h2load's -c and -m): worker k uses connection k mod N,
// so N×M workers make M streams on every connection. A worker sends one
// request at a time; the connection's reader goroutine hands it the
// response. Writes of all workers on a connection are coalesced: whoever
// finds the connection's writer idle writes everything queued.

const (
	// h2StreamWindow and h2ConnWindow are the receive windows the client
	// advertises: large, as h2load's, so flow control never throttles a
	// response; WINDOW_UPDATEs return what was read.
	h2StreamWindow = 1<<30 - 1
	h2ConnWindow   = 1<<30 - 1
	// h2MaxHeaderList bounds a response's header block, as
	// h1MaxHeaderBytes bounds an HTTP/1.1 head.
	h2MaxHeaderList = 1 << 20
	// h2MaxRetries bounds how often a request the server provably did not
	// process (REFUSED_STREAM, beyond a GOAWAY's last stream) is sent again.
	h2MaxRetries = 2
)

// h2Transport makes HTTP/2 clients that share its connections.
type h2Transport struct {
	opts      ClientOptions
	timeout   time.Duration
	slack     time.Duration // how late a solo request may time out (h2Conn.arm)
	tlsConf   *tls.Config
	userAgent string
	probe     certProbe
	conns     int // connections per origin
	streams   int // concurrent streams wanted per connection

	mu      sync.Mutex
	pools   map[string]*h2Pool // by origin
	clients int                // clients made, for the slot of the next
	closed  bool
}

func newH2Transport(o ClientOptions, tlsConf *tls.Config) *h2Transport {
	cfg := tlsConf.Clone()
	cfg.NextProtos = []string{"h2"}
	t := &h2Transport{
		opts: o, timeout: o.TimeoutOrDefault(), slack: min(o.TimeoutOrDefault()/h1DeadlineSlack, h1MaxDeadlineSlack), tlsConf: cfg, userAgent: "tailgate/" + Version,
		conns: max(o.Connections, 1), streams: max(o.Streams, 1), pools: map[string]*h2Pool{},
	}
	t.probe.install(cfg)
	return t
}

// h2Pool is an origin's connections, one slot each.
type h2Pool struct {
	slots []h2Slot
}

// h2Slot holds one connection; mu is held while it is dialed, so the
// workers that share the slot wait for one dial rather than make many.
type h2Slot struct {
	mu   sync.Mutex
	conn atomic.Pointer[h2Conn]
}

// NewClient implements Transport.
func (t *h2Transport) NewClient() (Client, error) {
	t.mu.Lock()
	slot := t.clients % t.conns
	t.clients++
	t.mu.Unlock()
	c := &h2Client{t: t, slot: slot, timer: time.NewTimer(time.Hour)}
	c.timer.Stop()
	c.st.done = make(chan struct{}, 1)
	c.st.wake = make(chan struct{}, 1)
	return c, nil
}

// Close implements Transport: it closes every connection and waits for
// their readers to end.
func (t *h2Transport) Close() error {
	t.mu.Lock()
	t.closed = true
	pools := t.pools
	t.pools = map[string]*h2Pool{}
	t.mu.Unlock()
	for _, p := range pools {
		for i := range p.slots {
			if c := p.slots[i].conn.Load(); c != nil {
				c.close(errTransportClosed)
				<-c.readerDone
				<-c.writerDone
			}
		}
	}
	return nil
}

// pool returns the connections to t's origin.
func (t *h2Transport) pool(tg *h1Target) (*h2Pool, error) {
	key := tg.origin()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errTransportClosed
	}
	p := t.pools[key]
	if p == nil {
		p = &h2Pool{slots: make([]h2Slot, t.conns)}
		t.pools[key] = p
	}
	return p, nil
}

// conn returns the slot's connection, dialing a new one if it has none
// that takes new streams.
func (t *h2Transport) conn(ctx context.Context, p *h2Pool, slot int, tg *h1Target, deadline time.Time) (*h2Conn, error) {
	s := &p.slots[slot]
	if c := s.conn.Load(); c != nil && c.usable() {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conn.Load(); c != nil && c.usable() {
		return c, nil
	}
	c, err := t.dial(ctx, tg, deadline)
	if err != nil {
		return nil, err
	}
	if old := s.conn.Swap(c); old != nil {
		// A connection after GOAWAY finishes its streams and ends itself;
		// one that failed is closed already.
		old.closeWhenIdle()
	}
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		c.close(errTransportClosed)
		return nil, errTransportClosed
	}
	return c, nil
}

// h2Client is one worker's handle on the transport's connections: the
// slot its streams go on, and the stream state it reuses for every
// request, so that a static request allocates nothing
// (TestH2ClientDoAllocs).
type h2Client struct {
	t    *h2Transport
	slot int
	st   h2Stream
	// timer ends a request's wait at its deadline.
	timer *time.Timer
	// slack is how late the current request may time out on a solo
	// connection: none for a deadline from the context.
	slack time.Duration

	// mu guards reading and watchGen against onCancel (h2solo.go), which
	// kicks the solo connection being read when the watched context is
	// canceled.
	mu          sync.Mutex
	reading     *h2Conn
	watchedDone <-chan struct{}
	stopWatch   func() bool
	watchGen    uint64

	// The last URL and its pool: a static request looks them up once.
	url        urlCache
	lastPool   *h2Pool
	lastOrigin h1Target

	// The request encoder's caches (h2write.go).
	authKey  string
	authVal  string
	lenBody  int
	lenValue string
	lower    map[string]string
	hdr      []Header // a redirect's follow-up headers
}

// Close implements Client; the connections belong to the transport.
func (c *h2Client) Close() error {
	c.timer.Stop()
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
		c.watchedDone = nil
	}
	return nil
}

// Do implements Client.
func (c *h2Client) Do(ctx context.Context, req *Request, res *Response) error {
	var call h1Call
	var send h1Send
	ctxBound, err := beginCall(ctx, req, res, c.t.timeout, c.t.opts.FollowRedirects > 0, &c.url, &call, &send)
	if err != nil {
		return err
	}
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

// exchange sends one request and waits for its response, again on another
// stream or connection when the server provably did not process it.
func (c *h2Client) exchange(call *h1Call, s h1Send) (h1Status, error) {
	p := c.lastPool
	if p == nil || c.lastOrigin.tls != s.target.tls || c.lastOrigin.authority != s.target.authority {
		var err error
		if p, err = c.t.pool(&s.target); err != nil {
			return h1Status{}, err
		}
		c.lastPool, c.lastOrigin = p, s.target
	}
	for attempt := 0; ; attempt++ {
		conn, err := c.t.conn(call.ctx, p, c.slot, &s.target, call.deadline)
		if err != nil {
			return h1Status{}, err
		}
		st, err := conn.roundTrip(c, call, &s)
		if re, ok := err.(*h2RetryError); ok {
			if attempt < h2MaxRetries && call.ctx.Err() == nil && time.Now().Before(call.deadline) {
				continue
			}
			return h1Status{}, re.err
		}
		return st, err
	}
}

// location implements redirector.
func (c *h2Client) location() []byte { return c.st.loc }

// redirectHeaders implements redirector.
func (c *h2Client) redirectHeaders() *[]Header { return &c.hdr }

// options implements redirector.
func (c *h2Client) options() *ClientOptions { return &c.t.opts }

// connect implements connector: it opens the slot's connection to
// rawURL's origin unless it is open.
func (c *h2Client) connect(ctx context.Context, rawURL string) error {
	t, err := splitURL(rawURL)
	if err != nil {
		return err
	}
	p, err := c.t.pool(&t)
	if err != nil {
		return err
	}
	_, err = c.t.conn(ctx, p, c.slot, &t, time.Now().Add(c.t.timeout))
	return err
}
