package loadgen

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// faultServers are real local servers that fail in one way each.
var faultServers = []struct {
	name   string
	handle func(c net.Conn) // nil: a closed port
	kind   ErrorKind
	msg    string // a fragment the error message must carry
}{
	{name: "refused", kind: KindRefused, msg: "connection refused"},
	{name: "reset", kind: KindReset, msg: "reset", handle: func(c net.Conn) {
		readReqHead(bufio.NewReader(c))
		c.(*net.TCPConn).SetLinger(0)
	}},
	{name: "closed before responding", kind: KindEOF, msg: "before responding", handle: func(c net.Conn) {
		readReqHead(bufio.NewReader(c))
	}},
	{name: "closed mid-response", kind: KindEOF, msg: "mid-response", handle: func(c net.Conn) {
		readReqHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
	}},
	{name: "hangs", kind: KindTimeout, msg: "within 200ms", handle: func(c net.Conn) {
		readReqHead(bufio.NewReader(c))
		io.Copy(io.Discard, c) // until the client gives up
	}},
	{name: "garbage", kind: KindProtocol, msg: "malformed HTTP response", handle: func(c net.Conn) {
		readReqHead(bufio.NewReader(c))
		io.WriteString(c, "\x00\x01\x02 SSH-2.0-OpenSSH\r\n\r\n")
	}},
}

func TestH1ErrorClassification(t *testing.T) {
	for _, tt := range faultServers {
		t.Run(tt.name, func(t *testing.T) {
			url := closedPortURL(t)
			if tt.handle != nil {
				url = newRawServer(t, tt.handle).URL
			}
			c := newTestH1(t, ClientOptions{Timeout: 200 * time.Millisecond})
			_, err := tdo(c, context.Background(), "GET", url+"/x", nil)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not say %q", err, tt.msg)
			}
			if c.conn != nil {
				t.Fatal("a failed connection is kept for reuse")
			}
		})
	}
}

// TestStdErrorClassification runs the same faults through the net/http
// path (HTTP/1.1 here, so the raw servers can answer it).
func TestStdErrorClassification(t *testing.T) {
	for _, tt := range faultServers {
		t.Run(tt.name, func(t *testing.T) {
			url := closedPortURL(t)
			if tt.handle != nil {
				url = newRawServer(t, tt.handle).URL
			}
			tr := newStdTransport(ClientOptions{Timeout: 200 * time.Millisecond, Connections: 1}, nil)
			defer tr.Close()
			c, _ := tr.NewClient()
			_, err := tdo(c, context.Background(), "GET", url+"/x", nil)
			if err == nil {
				t.Fatal("no error")
			}
			want := tt.kind
			if tt.name == "closed before responding" || tt.name == "closed mid-response" {
				// net/http reports both as EOF of some form.
				want = KindEOF
			}
			wantKind(t, err, want)
		})
	}
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestH1DNSError resolves through Go's resolver with a DNS "server" that
// fails locally, so no query leaves the machine.
func TestH1DNSError(t *testing.T) {
	c := newTestH1(t, ClientOptions{Timeout: time.Second})
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no DNS server in tests")
	}}
	c.t.dial = func(ctx context.Context, addr string, deadline time.Time) (net.Conn, error) {
		d := net.Dialer{Deadline: deadline, Resolver: res}
		return d.DialContext(ctx, "tcp", addr)
	}
	_, err := tdo(c, context.Background(), "GET", "http://no-such-host.invalid/", nil)
	wantKind(t, err, KindDNS)
}

// TestH1HugeBody streams a 200 MB body: it is counted to the byte and read
// with memory that does not grow with it.
func TestH1HugeBody(t *testing.T) {
	const size = 200 << 20
	for _, chunked := range []bool{false, true} {
		name := map[bool]string{false: "content-length", true: "chunked"}[chunked]
		t.Run(name, func(t *testing.T) {
			head := "HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n"
			if chunked {
				head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			}
			chunk := make([]byte, 64<<10)
			srv := newRawServer(t, func(c net.Conn) {
				readReqHead(bufio.NewReader(c))
				io.WriteString(c, head)
				for sent := 0; sent < size; sent += len(chunk) {
					if chunked {
						io.WriteString(c, "10000\r\n")
					}
					if _, err := c.Write(chunk); err != nil {
						return
					}
					if chunked {
						io.WriteString(c, "\r\n")
					}
				}
				if chunked {
					io.WriteString(c, "0\r\n\r\n")
				}
			})
			c := newTestH1(t, ClientOptions{Timeout: 30 * time.Second})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := tdo(c, context.Background(), "GET", srv.URL, func(r *Request) { r.KeepBody = 1024 })
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			wantBody := int64(size)
			if chunked {
				wantBody += int64(size/len(chunk))*int64(len("10000\r\n\r\n")) + int64(len("0\r\n\r\n"))
			}
			if got := res.BytesIn - int64(len(head)); got != wantBody {
				t.Fatalf("counted %d body bytes, want %d", got, wantBody)
			}
			if len(res.Body) != 1024 {
				t.Fatalf("kept %d bytes, want 1024", len(res.Body))
			}
			// The client reads in place from its 32 KiB buffer; allow the
			// test's own chunk and runtime noise, far below the body size.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
				t.Fatalf("reading a %d MB body allocated %d bytes", size>>20, grew)
			}
		})
	}
}

// TestH1BodyTimeouts checks that the timeout covers the whole body: an
// endless body and a slow-loris body both end in a timeout, with the bytes
// read so far counted.
func TestH1BodyTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		head  string
		write func(c net.Conn) error
	}{
		{name: "endless close-delimited", head: "HTTP/1.1 200 OK\r\n\r\n", write: func(c net.Conn) error {
			_, err := c.Write(make([]byte, 16<<10))
			return err
		}},
		{name: "endless chunked", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", write: func(c net.Conn) error {
			_, err := io.WriteString(c, "4\r\nbody\r\n")
			return err
		}},
		{name: "slow loris", head: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", write: func(c net.Conn) error {
			time.Sleep(20 * time.Millisecond)
			_, err := c.Write([]byte("x"))
			return err
		}},
		{name: "slow head", head: "HTTP/1.1 200 OK\r\n", write: func(c net.Conn) error {
			time.Sleep(20 * time.Millisecond)
			_, err := io.WriteString(c, "X-Drip: 1\r\n")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn) {
				readReqHead(bufio.NewReader(c))
				io.WriteString(c, tt.head)
				for tt.write(c) == nil {
				}
			})
			c := newTestH1(t, ClientOptions{Timeout: 300 * time.Millisecond})
			start := time.Now()
			res, err := tdo(c, context.Background(), "GET", srv.URL, nil)
			wantKind(t, err, KindTimeout)
			if res.BytesIn <= 0 {
				t.Fatalf("BytesIn = %d, want the bytes read before the timeout", res.BytesIn)
			}
			// Generous bound: the timeout must stop it, not the server.
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %s", d)
			}
		})
	}
}

// TestH1Cancel checks that canceling the run's context ends a request
// blocked on a hanging server at once, and that the same client works with
// a new context afterwards.
func TestH1Cancel(t *testing.T) {
	hang := make(chan struct{})
	srv := newRawServer(t, serveOKOrHang(func(net.Conn) {
		select {
		case <-hang:
		case <-time.After(10 * time.Second):
		}
	}))
	defer close(hang)
	c := newTestH1(t, ClientOptions{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := tdo(c, ctx, "GET", srv.URL+"/ok", nil); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	_, err := tdo(c, ctx, "GET", srv.URL+"/hang", nil)
	wantKind(t, err, KindCanceled)
	_, err = tdo(c, ctx, "GET", srv.URL+"/ok", nil)
	wantKind(t, err, KindCanceled)

	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := tdo(c, context.Background(), "GET", srv.URL+"/ok", nil); err != nil {
		t.Fatalf("after a canceled context: %v", err)
	}
	// A context deadline shorter than the timeout is a timeout.
	_, err = tdo(c, ctx2, "GET", srv.URL+"/hang", nil)
	wantKind(t, err, KindTimeout)
}

// TestNewTransportOptions checks that invalid TLS options fail up front
// with the file named.
func TestNewTransportOptions(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t)
	notPEM := writeTestFile(t, dir, "notpem.txt", "hello")
	tests := []struct {
		name string
		o    ClientOptions
		want string
	}{
		{name: "missing CA", o: ClientOptions{CACert: dir + "/nope.pem"}, want: "nope.pem"},
		{name: "CA not PEM", o: ClientOptions{CACert: notPEM}, want: "notpem.txt: no PEM certificate"},
		{name: "missing key", o: ClientOptions{Cert: pki.clientCertFile, Key: dir + "/missing.key"}, want: "missing.key"},
		{name: "mismatched pair", o: ClientOptions{Cert: pki.clientCertFile, Key: pki.serverKeyFile}, want: pki.serverKeyFile},
		{name: "cert without key", o: ClientOptions{Cert: pki.clientCertFile}, want: "no key file"},
		{name: "key without cert", o: ClientOptions{Key: pki.clientKeyFile}, want: "no certificate file"},
		{name: "negative redirects", o: ClientOptions{FollowRedirects: -1}, want: "negative"},
	}
	for _, tt := range tests {
		for _, h2 := range []bool{false, true} {
			tt.o.HTTP2 = h2
			if _, err := NewTransport(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s (http2=%v): error %v, want one containing %q", tt.name, h2, err, tt.want)
			}
		}
	}
	for _, o := range []ClientOptions{{}, {HTTP2: true}, {CACert: pki.caFile, Cert: pki.clientCertFile, Key: pki.clientKeyFile}} {
		tr, err := NewTransport(o)
		if err != nil {
			t.Fatalf("NewTransport(%+v): %v", o, err)
		}
		_, isH2 := tr.(*h2Transport)
		if isH2 != o.HTTP2 {
			t.Errorf("NewTransport(%+v) = %T", o, tr)
		}
		tr.Close()
	}
}

// TestEngineMalformedResponses runs the engine with the default transport
// against a raw server that answers every request with different garbage
// (random bytes, truncated heads and bodies, bad framing): every request is
// recorded, each failure under a named kind, and nothing panics or hangs.
func TestEngineMalformedResponses(t *testing.T) {
	var n atomic.Uint64
	answers := []string{
		"", "\x00\xff\x13garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
	}
	srv := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := readReqHead(br); err != nil {
				return
			}
			i := n.Add(1)
			rng := rand.New(rand.NewPCG(i, 7))
			a := answers[i%uint64(len(answers))]
			if i%3 == 0 {
				b := make([]byte, rng.IntN(200))
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				a = string(b)
			}
			if _, err := io.WriteString(c, a); err != nil {
				return
			}
			if !strings.HasSuffix(a, "\r\n\r\nok") {
				return // anything but the valid answer ends the connection
			}
		}
	})
	plan := Plan{
		Name: "garbage", Target: srv.URL, Load: Load{VUs: 4, Iterations: 300, Connections: 4},
		Client: ClientOptions{Timeout: 2 * time.Second},
		Flows:  []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: srv.URL + "/"}}}}},
	}
	res, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Requests != 300 {
		t.Fatalf("recorded %d requests, want 300", res.Total.Requests)
	}
	if res.Total.Errors == 0 || res.Total.Status[200] == 0 {
		t.Fatalf("errors %d, 200s %d: want both", res.Total.Errors, res.Total.Status[200])
	}
	for kind, count := range res.Total.ErrorKinds {
		if kind != "protocol" && kind != "eof" {
			t.Errorf("%d errors of kind %s; garbage should be protocol or eof", count, kind)
		}
	}
	t.Logf("status %v, errors %v", res.Total.Status, res.Total.ErrorKinds)
}
