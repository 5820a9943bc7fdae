package loadgen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestH1ResponseParsing(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	tests := []struct {
		name     string
		method   string
		resp     string // the whole response; the server closes after it
		keepBody int
		status   int
		body     string
		kind     ErrorKind
		// close says the client must not reuse the connection.
		close   bool
		headers map[string]string
	}{
		{name: "content-length", resp: ok + "Content-Length: 5\r\n\r\nhello", keepBody: 100, status: 200, body: "hello"},
		{name: "keep part of body", resp: ok + "Content-Length: 11\r\n\r\nhello world", keepBody: 3, status: 200, body: "hel"},
		{name: "discard body", resp: ok + "Content-Length: 11\r\n\r\nhello world", status: 200},
		{name: "chunked with extensions and trailers", keepBody: 100, status: 200, body: "hello world",
			resp: ok + "Transfer-Encoding: chunked\r\n\r\n5;foo=bar\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n"},
		{name: "chunked upper-case hex", keepBody: 100, status: 200, body: strings.Repeat("x", 26),
			resp: ok + "Transfer-Encoding: Chunked\r\n\r\n1A\r\n" + strings.Repeat("x", 26) + "\r\n0\r\n\r\n"},
		{name: "gzip then chunked", keepBody: 100, status: 200, body: "ab",
			resp: ok + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"},
		{name: "close-delimited", resp: ok + "\r\nuntil the end", keepBody: 100, status: 200, body: "until the end", close: true},
		{name: "transfer-encoding without chunked", resp: ok + "Transfer-Encoding: gzip\r\n\r\nraw", keepBody: 100, status: 200, body: "raw", close: true},
		{name: "http/1.0 close-delimited", resp: "HTTP/1.0 200 OK\r\n\r\nold", keepBody: 100, status: 200, body: "old", close: true},
		{name: "http/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", keepBody: 100, status: 200, body: "ok"},
		{name: "connection close", resp: ok + "Connection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\nok", keepBody: 100, status: 200, body: "ok", close: true},
		{name: "100-continue and 103 skipped", keepBody: 100, status: 201, body: "ok",
			resp:    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
			headers: map[string]string{"Content-Length": "2"}},
		{name: "head ignores content-length", method: "HEAD", resp: ok + "Content-Length: 1000\r\n\r\n", status: 200},
		{name: "204 has no body", resp: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", status: 204},
		{name: "304 has no body", resp: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", status: 304},
		{name: "no reason phrase, bare LF", resp: "HTTP/1.1 404\nContent-Length: 1\n\nx", keepBody: 10, status: 404, body: "x"},
		{name: "identical duplicate content-length", resp: ok + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", keepBody: 10, status: 200, body: "x"},
		{name: "kept headers", resp: ok + "X-Cache: HIT\r\nSet-Cookie: a=1\r\nX-Fold: a\r\n  b\r\nContent-Length: 0\r\n\r\n", status: 200,
			headers: map[string]string{"x-cache": "HIT", "Set-Cookie": "a=1", "X-Fold": "a b"}},
		{name: "long header line", resp: ok + "X-Big: " + strings.Repeat("b", 100<<10) + "\r\nContent-Length: 0\r\n\r\n", status: 200,
			headers: map[string]string{"X-Big": strings.Repeat("b", 100<<10)}},

		{name: "empty response", resp: "", kind: KindEOF},
		{name: "garbage", resp: "hello world\r\n\r\n", kind: KindProtocol},
		{name: "bad status code", resp: "HTTP/1.1 2OO OK\r\n\r\n", kind: KindProtocol},
		{name: "status below 100", resp: "HTTP/1.1 099 Hm\r\n\r\n", kind: KindProtocol},
		{name: "http/2 status line", resp: "HTTP/2 200\r\n\r\n", kind: KindProtocol},
		{name: "header without colon", resp: ok + "Oops\r\n\r\n", kind: KindProtocol},
		{name: "space before colon", resp: ok + "Content-Length : 1\r\n\r\nx", kind: KindProtocol},
		{name: "conflicting content-length", resp: ok + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx", kind: KindProtocol},
		{name: "negative content-length", resp: ok + "Content-Length: -1\r\n\r\n", kind: KindProtocol},
		{name: "huge content-length", resp: ok + "Content-Length: 99999999999999999999\r\n\r\n", kind: KindProtocol},
		{name: "truncated body", resp: ok + "Content-Length: 10\r\n\r\nabc", kind: KindEOF},
		{name: "truncated head", resp: ok + "Content-Len", kind: KindEOF},
		{name: "truncated chunked", resp: ok + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel", kind: KindEOF},
		{name: "chunked without last chunk", resp: ok + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", kind: KindEOF},
		{name: "bad chunk size", resp: ok + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", kind: KindProtocol},
		{name: "chunk overflow", resp: ok + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", kind: KindProtocol},
		{name: "chunk longer than size", resp: ok + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", kind: KindProtocol},
		{name: "too many 1xx", resp: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 20), kind: KindProtocol},
		{name: "head too large", resp: ok + strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\r\n", 1100) + "\r\n", kind: KindProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			c, _ := pipeClient(t, ClientOptions{}, serveScript(tt.resp))
			res, err := tdo(c, context.Background(), method, "http://test/", func(r *Request) {
				r.KeepBody = tt.keepBody
				r.KeepHeaders = tt.headers != nil
			})
			if tt.kind != KindNone {
				if err == nil {
					t.Fatalf("status %d body %q, want a %s error", res.Status, res.Body, tt.kind)
				}
				wantKind(t, err, tt.kind)
				if res.BytesIn > int64(len(tt.resp)) {
					t.Fatalf("BytesIn %d > %d bytes sent", res.BytesIn, len(tt.resp))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || string(res.Body) != tt.body {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Body, tt.status, tt.body)
			}
			if res.BytesIn != int64(len(tt.resp)) {
				t.Fatalf("BytesIn = %d, want %d", res.BytesIn, len(tt.resp))
			}
			if got := c.conn == nil; got != tt.close {
				t.Fatalf("connection closed = %v, want %v", got, tt.close)
			}
			for k, v := range tt.headers {
				if got, ok := res.HeaderValue(k); !ok || got != v {
					t.Fatalf("header %s = %.40q, %v; want %.40q", k, got, ok, v)
				}
			}
		})
	}
}

// TestH1KeepAlive checks that a connection serves many requests, including
// after a HEAD and a 204, and that Connection: close and DisableKeepAlive
// make the client dial again.
func TestH1KeepAlive(t *testing.T) {
	body := func(s string) string { return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + s }
	srv := newRawServer(t, serveScript(body("a"), "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n", body("d"),
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\ne"))
	c := newTestH1(t, ClientOptions{})
	methods := []string{"GET", "HEAD", "DELETE", "GET", "GET"}
	for i, m := range methods {
		res, err := tdo(c, context.Background(), m, srv.URL+"/", nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if res.Status/100 != 2 {
			t.Fatalf("request %d: status %d", i, res.Status)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	if c.conn != nil {
		t.Fatal("connection kept after Connection: close")
	}

	srv2 := newRawServer(t, serveScript(body("a"), body("b")))
	c2 := newTestH1(t, ClientOptions{DisableKeepAlive: true})
	for i := range 3 {
		if _, err := tdo(c2, context.Background(), "GET", srv2.URL, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := srv2.conns.Load(); n != 3 {
		t.Fatalf("DisableKeepAlive: %d connections, want 3", n)
	}

	srv3 := newRawServer(t, serveStatic)
	c3 := newTestH1(t, ClientOptions{})
	for i := range 2 {
		if _, err := tdo(c3, context.Background(), "GET", srv3.URL, func(r *Request) { r.Header = []Header{{"Connection", "close"}} }); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := srv3.conns.Load(); n != 2 {
		t.Fatalf("Connection: close from the user: %d connections, want 2", n)
	}
}

// TestH1StaleConnection plays a server that closes every keep-alive
// connection after one response without saying so.
func TestH1StaleConnection(t *testing.T) {
	var seen []string
	srv := newRawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := readReqHead(br)
		if err != nil {
			return
		}
		seen = append(seen, req.Method)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	c := newTestH1(t, ClientOptions{})
	for i := range 3 {
		// A GET is retried on a fresh connection when the reused one turns
		// out to be closed.
		if _, err := tdo(c, context.Background(), "GET", srv.URL, nil); err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
	}
	// A POST is not retried blindly, but an idle connection is checked
	// before use, so the close is seen before the POST goes out.
	time.Sleep(10 * h1StaleAfter)
	if _, err := tdo(c, context.Background(), "POST", srv.URL, func(r *Request) { r.Body = []byte("x") }); err != nil {
		t.Fatalf("POST after idle: %v", err)
	}
	// Without the idle check (the connection looks freshly used), the POST
	// fails with a named error rather than being sent twice.
	c.lastUsed = time.Now().Add(time.Hour)
	_, err := tdo(c, context.Background(), "POST", srv.URL, func(r *Request) { r.Body = []byte("x") })
	if err == nil {
		t.Fatal("POST on a closed connection succeeded; the server closes after each response")
	}
	if k := Classify(err); k != KindEOF && k != KindReset {
		t.Fatalf("POST on a closed connection: %s (%v), want eof or reset", k, err)
	}
	srv.Close()
	want := "GET GET GET POST"
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("server saw %q, want %q", got, want)
	}
}

// TestH1ManyOrigins alternates requests between origins: up to
// 1+h1MaxParked of them keep one connection each; beyond that the client
// still works, dialing again for the evicted ones.
func TestH1ManyOrigins(t *testing.T) {
	servers := make([]*rawServer, h1MaxParked+2)
	for i := range servers {
		servers[i] = newRawServer(t, serveStatic)
	}
	c := newTestH1(t, ClientOptions{})
	round := func(n int) {
		for r := range 3 {
			for i, s := range servers[:n] {
				res, err := tdo(c, context.Background(), "GET", s.URL+"/", nil)
				if err != nil || res.Status != 200 {
					t.Fatalf("round %d server %d: %d %v", r, i, res.Status, err)
				}
			}
		}
	}
	round(h1MaxParked + 1)
	for i, s := range servers[:h1MaxParked+1] {
		if n := s.conns.Load(); n != 1 {
			t.Fatalf("server %d: %d connections, want 1", i, n)
		}
	}
	round(len(servers))
	if n := servers[len(servers)-1].conns.Load(); n < 2 {
		t.Fatalf("with more origins than parking places, the last server saw %d connections; want evictions and re-dials", n)
	}
	if len(c.parked) > h1MaxParked {
		t.Fatalf("%d parked connections, limit %d", len(c.parked), h1MaxParked)
	}
}

// TestH1ServerIdleTimeout talks to a server that closes idle keep-alive
// connections quickly, as many do: requests after an idle gap, POSTs
// included, go out on a fresh connection instead of failing.
func TestH1ServerIdleTimeout(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestH1(t, ClientOptions{})
	for i, m := range []string{"GET", "POST", "POST", "PATCH"} {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		res, err := tdo(c, context.Background(), m, srv.URL, func(r *Request) { r.Body = []byte("payload") })
		if err != nil || res.Status != 200 {
			t.Fatalf("%s after an idle gap: %d %v", m, res.Status, err)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Fatalf("%d connections, want 4 (the server closed each one while idle)", n)
	}
}

// TestH1IPv6 talks to [::1] when the machine has IPv6 loopback.
func TestH1IPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	var host atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	c := newTestH1(t, ClientOptions{})
	res, err := tdo(c, context.Background(), "GET", srv.URL+"/v6", nil)
	if err != nil || res.Status != 200 {
		t.Fatalf("%d %v", res.Status, err)
	}
	if want := strings.TrimPrefix(srv.URL, "http://"); host.Load() != want {
		t.Fatalf("Host %q, want %q", host.Load(), want)
	}
}
