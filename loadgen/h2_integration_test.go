package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Counter is a handler that counts requests, the connections they came
// on, and the most streams in flight at once on any one connection.
type h2Counter struct {
	mu       sync.Mutex
	inFlight map[string]int
	maxPer   int
	requests atomic.Int64
	conns    atomic.Int64
	// barrier, when set, holds every request until that many are in
	// flight together, proving the client opens them concurrently.
	barrier int
	arrived int
	release chan struct{}
	missed  atomic.Bool
}

func newH2Counter(barrier int) *h2Counter {
	return &h2Counter{inFlight: map[string]int{}, barrier: barrier, release: make(chan struct{})}
}

func (h *h2Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	h.mu.Lock()
	h.inFlight[r.RemoteAddr]++
	h.maxPer = max(h.maxPer, h.inFlight[r.RemoteAddr])
	wait := h.barrier > 0 && h.arrived < h.barrier
	if wait {
		h.arrived++
		if h.arrived == h.barrier {
			close(h.release)
		}
	}
	h.mu.Unlock()
	if wait {
		select {
		case <-h.release:
		case <-time.After(10 * time.Second):
			// A failure deadline, not a wait for time to pass: the
			// client never had the streams open together.
			h.missed.Store(true)
		}
	}
	if r.ProtoMajor != 2 {
		http.Error(w, "want HTTP/2", http.StatusHTTPVersionNotSupported)
	} else {
		io.WriteString(w, "ok")
	}
	h.mu.Lock()
	h.inFlight[r.RemoteAddr]--
	h.mu.Unlock()
}

func (h *h2Counter) maxStreams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxPer
}

// h2TestServer starts h over h2c (tlsOn false) or TLS with ALPN h2, with
// the server's stream limit maxStreams (0: its default), counting the
// connections it accepts.
func h2TestServer(t *testing.T, h *h2Counter, tlsOn bool, maxStreams int) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.conns.Add(1)
		}
	}
	if maxStreams > 0 {
		srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	}
	if tlsOn {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &p
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}

func h2Plan(url string, conns, streams, vus int, iterations uint64) Plan {
	return Plan{
		Name: "h2", Target: url, Load: Load{VUs: vus, Iterations: iterations, Connections: conns, Streams: streams},
		Client: ClientOptions{HTTP2: true, Insecure: true, Timeout: 20 * time.Second},
		Flows:  []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: url + "/", KeepBody: 8}}}}},
	}
}

// TestH2ConnectionsTimesStreams runs N connections × M streams against
// real HTTP/2 servers, h2c and TLS: the server sees exactly N connections,
// N×M requests in flight together and never more than M on one
// connection, and counts exactly the requests the result reports.
func TestH2ConnectionsTimesStreams(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		for _, shape := range []struct{ conns, streams int }{{1, 8}, {4, 1}, {3, 4}} {
			t.Run(fmt.Sprintf("tls=%v/%dx%d", tlsOn, shape.conns, shape.streams), func(t *testing.T) {
				vus := shape.conns * shape.streams
				h := newH2Counter(vus)
				url := h2TestServer(t, h, tlsOn, 0)
				res, err := Run(context.Background(), h2Plan(url, shape.conns, shape.streams, vus, 200))
				if err != nil {
					t.Fatal(err)
				}
				if h.missed.Load() {
					t.Fatalf("the server never saw %d requests in flight together", vus)
				}
				if got := h.conns.Load(); got != int64(shape.conns) {
					t.Errorf("server accepted %d connections, want %d", got, shape.conns)
				}
				if got := h.maxStreams(); got > shape.streams {
					t.Errorf("%d streams in flight on one connection, want at most %d", got, shape.streams)
				}
				if res.Total.Requests != 200 || res.Total.Errors != 0 || h.requests.Load() != 200 {
					t.Errorf("result %d requests (%d errors %v), server %d: want 200, none, 200",
						res.Total.Requests, res.Total.Errors, res.Total.ErrorKinds, h.requests.Load())
				}
				if res.Meta.Connections != shape.conns || res.Meta.Streams != shape.streams {
					t.Errorf("meta says %d×%d", res.Meta.Connections, res.Meta.Streams)
				}
			})
		}
	}
}

// TestH2ServerStreamLimit: a server whose SETTINGS_MAX_CONCURRENT_STREAMS
// is below --streams gets no more streams than it allows, and every
// request still succeeds.
func TestH2ServerStreamLimit(t *testing.T) {
	h := newH2Counter(0)
	url := h2TestServer(t, h, false, 2)
	res, err := Run(context.Background(), h2Plan(url, 1, 8, 8, 300))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.maxStreams(); got > 2 {
		t.Errorf("%d streams in flight, the server allows 2", got)
	}
	if h.conns.Load() != 1 {
		t.Errorf("%d connections, want 1", h.conns.Load())
	}
	if res.Total.Requests != 300 || res.Total.Errors != 0 || h.requests.Load() != 300 {
		t.Errorf("result %d requests (%d errors %v), server %d: want 300, none, 300",
			res.Total.Requests, res.Total.Errors, res.Total.ErrorKinds, h.requests.Load())
	}
}

// goAwayServer is a raw h2c server that answers `per` requests on each
// connection (0: any number), then sends GOAWAY naming the last stream it answered and
// closes, leaving the streams beyond it unprocessed, as nginx does at
// keepalive_requests.
type goAwayServer struct {
	url       string
	processed atomic.Int64
	conns     atomic.Int64
}

func newGoAwayServer(t testing.TB, per int) *goAwayServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &goAwayServer{url: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c, per)
			}()
		}
	}()
	return s
}

func (s *goAwayServer) serve(c net.Conn, per int) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}) != nil {
		return
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	answered := 0
	var last uint32
	var payload [16 << 10]byte
	for {
		fh, err := fr.ReadFrameHeader()
		if err != nil {
			return
		}
		if fh.Type == http2.FrameHeaders {
			// Read by hand: the Framer allocates a frame per HEADERS, and
			// TestH2ClientDoAllocs counts the server's allocations too.
			if _, err := io.ReadFull(c, payload[:fh.Length]); err != nil {
				return
			}
			block.Reset()
			_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			// Counted before it is answered: the client may finish its
			// run before this goroutine runs again.
			s.processed.Add(1)
			if fr.WriteHeaders(http2.HeadersFrameParam{StreamID: fh.StreamID, BlockFragment: block.Bytes(), EndHeaders: true}) != nil ||
				fr.WriteData(fh.StreamID, true, []byte("ok")) != nil {
				return
			}
			answered++
			last = fh.StreamID
			if per > 0 && answered == per {
				_ = fr.WriteGoAway(last, http2.ErrCodeNo, nil)
				closeGracefully(c)
				return
			}
			continue
		}
		f, err := fr.ReadFrameForHeader(fh)
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && fr.WriteSettingsAck() != nil {
				return
			}
		}
	}
}

// closeGracefully ends a connection as a server that said GOAWAY should:
// it stops writing, then reads what the client still sends until the client
// closes. Closing at once, with the client's next requests unread, makes
// the kernel answer with a reset, which can destroy the responses already
// sent before the client reads them: a different test (h2_hostile_test.go
// has the abrupt servers).
func closeGracefully(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, c)
}

// TestH2GoAwayMidRun: connections that end with GOAWAY while streams are
// in flight lose no request and count none twice: the streams the server
// did not process go again on a new connection. Shared connections (a
// reader goroutine) and solo ones (one stream, read by its worker) alike.
func TestH2GoAwayMidRun(t *testing.T) {
	for _, tc := range []struct {
		name                string
		conns, streams, vus int
	}{
		{"shared", 2, 4, 8},
		{"solo", 4, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newGoAwayServer(t, 25)
			res, err := Run(context.Background(), h2Plan(s.url, tc.conns, tc.streams, tc.vus, 400))
			if err != nil {
				t.Fatal(err)
			}
			if res.Total.Requests != 400 || res.Total.Errors != 0 {
				t.Fatalf("result %d requests, %d errors %v: want 400, none", res.Total.Requests, res.Total.Errors, res.Total.ErrorKinds)
			}
			if got := s.processed.Load(); got != 400 {
				t.Fatalf("server processed %d requests, want exactly 400", got)
			}
			if s.conns.Load() < 400/25 {
				t.Fatalf("%d connections for 400 requests at 25 per connection", s.conns.Load())
			}
		})
	}
}

// TestH2ALPNRequired: over TLS the client offers h2 only, so a server that
// negotiates no protocol is refused with a TLS error that says why.
func TestH2ALPNRequired(t *testing.T) {
	pki := newTestPKI(t)
	// A plain TLS listener negotiates no application protocol.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.selfSigned}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	tr, err := NewTransport(ClientOptions{HTTP2: true, Insecure: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	_, err = tdo(c, context.Background(), "GET", "https://"+ln.Addr().String()+"/", nil)
	wantKind(t, err, KindTLS)
}
