package loadgen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer is a TCP listener on 127.0.0.1 that runs handle on every
// connection; it is how the tests play servers that net/http would never
// be (resetting, hanging, lying, writing garbage).
type rawServer struct {
	ln    net.Listener
	URL   string
	Addr  string
	conns atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  map[net.Conn]struct{}
}

func newRawServer(t testing.TB, handle func(c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), open: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.mu.Lock()
			s.open[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.open, c)
					s.mu.Unlock()
					c.Close()
				}()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops the listener, closes open connections and waits for the
// handlers.
func (s *rawServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// readReqHead reads one request head (and a Content-Length body) from br.
func readReqHead(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return req, err
}

// serveScript answers every request on the connection with the next
// response of the script; the connection is closed after the last one.
func serveScript(responses ...string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for _, r := range responses {
			if _, err := readReqHead(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, r); err != nil {
				return
			}
		}
	}
}

// serveOKOrHang answers every request with an empty 200, except one for
// /hang: the connection is then handed to hang and closed when it returns.
func serveOKOrHang(hang func(c net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := readReqHead(br)
			if err != nil {
				return
			}
			if req.URL.Path == "/hang" {
				hang(c)
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	}
}

// newTestH1 builds a raw client with the options.
func newTestH1(t testing.TB, o ClientOptions) *h1Client {
	t.Helper()
	tr, err := NewTransport(o)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := tr.(*h1Transport)
	if !ok {
		t.Fatalf("NewTransport(%+v) = %T, want the raw HTTP/1.1 transport", o, tr)
	}
	c := newH1Client(h)
	t.Cleanup(func() { c.Close() })
	return c
}

// pipeClient returns a raw client whose every connection is one end of a
// net.Pipe, the other end served by serve.
func pipeClient(t testing.TB, o ClientOptions, serve func(net.Conn)) (*h1Client, *sync.WaitGroup) {
	c := newTestH1(t, o)
	var wg sync.WaitGroup
	c.t.dial = func(ctx context.Context, addr string, deadline time.Time) (net.Conn, error) {
		cli, srv := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer srv.Close()
			serve(srv)
		}()
		return cli, nil
	}
	t.Cleanup(func() {
		c.Close()
		wg.Wait()
	})
	return c, &wg
}

// tdo runs one GET (or the given method) with a fresh Request/Response.
func tdo(c Client, ctx context.Context, method, url string, mod func(*Request)) (*Response, error) {
	req := &Request{Method: method, URL: url}
	if mod != nil {
		mod(req)
	}
	res := &Response{}
	err := c.Do(ctx, req, res)
	return res, err
}

func wantKind(t *testing.T, err error, want ErrorKind) {
	t.Helper()
	if got := Classify(err); got != want {
		t.Fatalf("Classify(%v) = %s, want %s", err, got, want)
	}
}

// staticResponse is what the allocation-free benchmark server sends.
const staticResponse = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"

var staticResponseBytes = []byte(staticResponse)

// serveStatic answers every request with staticResponse without
// allocating, so -benchmem shows the client's allocations only. It
// understands pipelining-free keep-alive GETs without bodies.
func serveStatic(c net.Conn) {
	var buf [4096]byte
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			i := indexHeadEnd(buf[:n])
			if i < 0 {
				break
			}
			if _, err := c.Write(staticResponseBytes); err != nil {
				return
			}
			n = copy(buf[:], buf[i:n])
		}
		if n == len(buf) {
			return
		}
	}
}

func indexHeadEnd(b []byte) int {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' && b[i+2] == '\r' && b[i+3] == '\n' {
			return i + 4
		}
	}
	return -1
}

func TestSplitURL(t *testing.T) {
	tests := []struct {
		in                      string
		tls                     bool
		authority, path, userin string
		dial, origin            string
		err                     bool
	}{
		{in: "http://example.com", authority: "example.com", dial: "example.com:80", origin: "http://example.com:80"},
		{in: "https://Example.com/a?b=c#frag", tls: true, authority: "Example.com", path: "/a?b=c", dial: "Example.com:443", origin: "https://example.com:443"},
		{in: "http://u:p%40ss@h:8080?x", authority: "h:8080", path: "?x", userin: "u:p%40ss", dial: "h:8080", origin: "http://h:8080"},
		{in: "HTTP://[::1]:9000/p", authority: "[::1]:9000", path: "/p", dial: "[::1]:9000", origin: "http://[::1]:9000"},
		{in: "http://[::1]/", authority: "[::1]", path: "/", dial: "[::1]:80", origin: "http://[::1]:80"},
		{in: "ftp://h/", err: true},
		{in: "http:///path", err: true},
		{in: "example.com/path", err: true},
		{in: "http://bad host/", err: true},
		{in: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitURL(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("splitURL(%q) = %+v, want an error", tt.in, got)
				}
				wantKind(t, err, KindClient)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.tls != tt.tls || got.authority != tt.authority || got.path != tt.path || got.userinfo != tt.userin {
				t.Fatalf("splitURL(%q) = %+v", tt.in, got)
			}
			if d := got.dialAddr(); d != tt.dial {
				t.Errorf("dialAddr = %q, want %q", d, tt.dial)
			}
			if o := got.origin(); o != tt.origin {
				t.Errorf("origin = %q, want %q", o, tt.origin)
			}
		})
	}
}

func TestAppendRequest(t *testing.T) {
	c := newTestH1(t, ClientOptions{})
	tests := []struct {
		name, method, url string
		hdr               []Header
		body              string
		want              string
		err               bool
	}{
		{name: "get", method: "GET", url: "http://h:1/p?q=1",
			want: "GET /p?q=1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: tailgate/" + Version + "\r\n\r\n"},
		{name: "query only and escapes", method: "GET", url: "http://h?a b\x01é",
			want: "GET /?a%20b%01%C3%A9 HTTP/1.1\r\nHost: h\r\nUser-Agent: tailgate/" + Version + "\r\n\r\n"},
		{name: "user headers win", method: "POST", url: "http://h/",
			hdr:  []Header{{"Host", "virtual"}, {"user-agent", "me"}, {"Content-Length", "99"}, {"X-A", "1"}},
			body: "abc",
			want: "POST / HTTP/1.1\r\nHost: virtual\r\nuser-agent: me\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n"},
		{name: "empty post has length", method: "POST", url: "http://h/",
			want: "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: tailgate/" + Version + "\r\nContent-Length: 0\r\n\r\n"},
		{name: "userinfo", method: "GET", url: "http://al%40ice:s3cret@h/",
			want: "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: tailgate/" + Version + "\r\nAuthorization: Basic YWxAaWNlOnMzY3JldA==\r\n\r\n"},
		{name: "user asks for close", method: "GET", url: "http://h/", hdr: []Header{{"Connection", "close"}},
			want: "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: tailgate/" + Version + "\r\nConnection: close\r\n\r\n"},
		{name: "user keep-alive is implied", method: "GET", url: "http://h/", hdr: []Header{{"Connection", "keep-alive"}},
			want: "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: tailgate/" + Version + "\r\n\r\n"},
		{name: "header injection", method: "GET", url: "http://h/", hdr: []Header{{"X", "a\r\nEvil: 1"}}, err: true},
		{name: "bad header name", method: "GET", url: "http://h/", hdr: []Header{{"X Y", "a"}}, err: true},
		{name: "bad method", method: "GE T", url: "http://h/", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := splitURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.appendRequest(nil, tt.method, &tg, tt.hdr, []byte(tt.body))
			if tt.err {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				wantKind(t, err, KindClient)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("request head\n got %q\nwant %q", got, tt.want)
			}
			if _, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(got) + tt.body))); err != nil {
				t.Fatalf("net/http cannot read our request: %v", err)
			}
		})
	}
}
