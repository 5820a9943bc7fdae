package loadgen

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestReadBufferGrowsAfterALargeResponse checks the lazily sized read
// buffer: a connection starts with the small one, keeps it while responses
// fit, and after a response that did not, grows to the power of two that
// would have held it (never beyond h1ReadBuffer, never shrinking), with
// every response read whole on the way.
func TestReadBufferGrowsAfterALargeResponse(t *testing.T) {
	response := func(body int) string {
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", body, strings.Repeat("x", body))
	}
	small := response(2)
	medium := response(3 * h1FirstReadBuffer) // 3 KiB and a head: 4 KiB holds it
	large := response(3 * h1ReadBuffer)
	c, _ := pipeClient(t, ClientOptions{}, serveScript(small, small, medium, small, large, medium, small))
	steps := []struct {
		bytes, size int
	}{
		{len(small), h1FirstReadBuffer},
		{len(small), h1FirstReadBuffer},
		{len(medium), 4 * h1FirstReadBuffer},
		{len(small), 4 * h1FirstReadBuffer},
		{len(large), h1ReadBuffer},
		{len(medium), h1ReadBuffer},
		{len(small), h1ReadBuffer},
	}
	for i, want := range steps {
		res, err := tdo(c, context.Background(), "GET", "http://example.test/", nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if res.BytesIn != int64(want.bytes) {
			t.Errorf("request %d: read %d bytes, want %d", i, res.BytesIn, want.bytes)
		}
		if got := readBufferSize(c); got != want.size {
			t.Errorf("after request %d: read buffer %d bytes, want %d", i, got, want.size)
		}
	}
}

// TestReadBufferIsLent checks that a connection holds no read buffer
// between responses that fit the small one: it borrows one of the
// transport's per response, so thousands of connections waiting for their
// first byte hold none.
func TestReadBufferIsLent(t *testing.T) {
	small := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	c, _ := pipeClient(t, ClientOptions{}, serveScript(small, small, small))
	for i := range 3 {
		res, err := tdo(c, context.Background(), "GET", "http://example.test/", nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if res.BytesIn != int64(len(small)) {
			t.Errorf("request %d: read %d bytes, want %d", i, res.BytesIn, len(small))
		}
		if c.br != nil || c.lent {
			t.Fatalf("after request %d: the connection kept a read buffer (lent %v)", i, c.lent)
		}
	}
}

// readBufferSize is the size of the buffer c reads its next response
// with: its own, or a borrowed small one.
func readBufferSize(c *h1Client) int {
	if c.br == nil || c.lent {
		return h1FirstReadBuffer
	}
	return c.br.Size()
}

// TestGrownReadBuffer checks the sizes a read buffer grows to.
func TestGrownReadBuffer(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want int
	}{
		{h1FirstReadBuffer + 1, 2 * h1FirstReadBuffer},
		{2 * h1FirstReadBuffer, 2 * h1FirstReadBuffer},
		{2*h1FirstReadBuffer + 1, 4 * h1FirstReadBuffer},
		{h1ReadBuffer, h1ReadBuffer},
		{h1ReadBuffer + 1, h1ReadBuffer},
		{1 << 30, h1ReadBuffer},
	} {
		if got := grownReadBuffer(tc.n); got != tc.want {
			t.Errorf("grownReadBuffer(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// TestLongLineBufferIsReleased: a server that sends a header line over the
// 1 MiB limit (a protocol error) grows the buffer that assembles long
// lines to over a MiB; the next response lets it go, so a connection never
// keeps more than h1KeepScratch of it (issue 19 item 8: 223 MB at -c 100).
func TestLongLineBufferIsReleased(t *testing.T) {
	huge := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", h1MaxHeaderBytes+h1MaxHeaderBytes/2) + "\r\nContent-Length: 0\r\n\r\n"
	small := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	var conns atomic.Int32
	c, _ := pipeClient(t, ClientOptions{}, func(nc net.Conn) {
		if conns.Add(1) == 1 {
			serveScript(huge)(nc)
			return
		}
		serveScript(small, small)(nc)
	})
	if _, err := tdo(c, context.Background(), "GET", "http://example.test/", nil); err == nil || !strings.Contains(err.Error(), "line longer than") {
		t.Fatalf("the oversized header line: %v, want a protocol error", err)
	}
	if cap(c.scratch) <= h1MaxHeaderBytes {
		t.Fatalf("scratch %d bytes after the long line; the test needs it over the limit", cap(c.scratch))
	}
	for i := range 2 {
		if _, err := tdo(c, context.Background(), "GET", "http://example.test/", nil); err != nil {
			t.Fatalf("request %d after the long line: %v", i, err)
		}
		if cap(c.scratch) > h1KeepScratch {
			t.Fatalf("after request %d the connection keeps %d bytes of line buffer, want at most %d", i, cap(c.scratch), h1KeepScratch)
		}
	}
}
