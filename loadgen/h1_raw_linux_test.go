package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestRawSendAwaitLargeWrite sends more than the socket buffers hold while
// the peer is not reading: the raw write stops short (EAGAIN) and
// sendAwait must finish the rest with a blocking write, in order, before
// the response is read.
func TestRawSendAwaitLargeWrite(t *testing.T) {
	cli, srv := tcpPair(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // let the client's buffers fill
		b := make([]byte, len(payload))
		if _, err := io.ReadFull(srv, b); err != nil {
			got <- nil
			return
		}
		got <- b
		srv.Write([]byte("ok"))
	}()
	rio := newRawIO(cli)
	if rio == nil {
		t.Fatal("no raw I/O for a TCP connection")
	}
	cli.SetDeadline(time.Now().Add(10 * time.Second))
	n, err := rio.sendAwait(payload)
	if err != nil || n != len(payload) {
		t.Fatalf("sendAwait = %d, %v; want %d, nil", n, err, len(payload))
	}
	if b := <-got; !bytes.Equal(b, payload) {
		t.Fatal("the server did not receive the payload intact")
	}
	buf := make([]byte, 16)
	m, err := io.ReadAtLeast(rio, buf, 2)
	if err != nil || string(buf[:m]) != "ok" {
		t.Fatalf("read %q, %v; want \"ok\"", buf[:m], err)
	}
}

// TestRawReadEnds checks the three ways a raw read ends besides data: the
// peer's close is io.EOF, a reset is ECONNRESET worded as net.Conn words
// it, and the deadline is os.ErrDeadlineExceeded.
func TestRawReadEnds(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		cli, srv := tcpPair(t)
		srv.Close()
		if _, err := newRawIO(cli).Read(make([]byte, 8)); err != io.EOF {
			t.Fatalf("read after close: %v, want io.EOF", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		cli, srv := tcpPair(t)
		srv.SetLinger(0)
		srv.Close()
		_, err := newRawIO(cli).Read(make([]byte, 8))
		if !errors.Is(err, syscall.ECONNRESET) || !strings.Contains(err.Error(), "read tcp 127.0.0.1:") {
			t.Fatalf("read after reset: %v, want ECONNRESET as \"read tcp 127.0.0.1:…\"", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		cli, _ := tcpPair(t)
		cli.SetDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := newRawIO(cli).Read(make([]byte, 8))
		if !isDeadline(err) {
			t.Fatalf("read past the deadline: %v, want a deadline error", err)
		}
	})
}

func isDeadline(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestH1ReuseAfterIdleCancel: canceling a request's context while its
// connection sits idle leaves an immediate deadline on that connection.
// The next request, under another context, must reuse the connection with
// a fresh deadline rather than time out at once (the client keeps one
// deadline across requests, see armDeadline).
func TestH1ReuseAfterIdleCancel(t *testing.T) {
	srv := newRawServer(t, serveOKOrHang(nil))
	c := newTestH1(t, ClientOptions{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := tdo(c, ctx, "GET", srv.URL+"/", nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The cancellation callback runs on its own goroutine; wait until its
	// deadline is on the socket (a raw read reports it without blocking).
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if c.raw == nil {
			t.Fatal("the idle connection was closed")
		}
		if err := c.raw.Read(func(uintptr) bool { return true }); isDeadline(err) {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the cancellation never reached the idle connection")
		}
	}
	for i := 0; i < 3; i++ {
		if res, err := tdo(c, context.Background(), "GET", srv.URL+"/", nil); err != nil || res.Status != 200 {
			t.Fatalf("request %d after an idle cancellation: %v", i, err)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want the first one reused", n)
	}
}

// TestH1TimeoutWithSharedDeadline: requests on a kept-alive connection
// share one deadline while it stays within the slack; a request that hangs
// after several quick ones must still time out within timeout + slack.
func TestH1TimeoutWithSharedDeadline(t *testing.T) {
	srv := newRawServer(t, serveOKOrHang(func(c net.Conn) {
		io.Copy(io.Discard, c) // until the client gives up
	}))
	const timeout = 300 * time.Millisecond
	c := newTestH1(t, ClientOptions{Timeout: timeout})
	for i := 0; i < 20; i++ {
		if _, err := tdo(c, context.Background(), "GET", srv.URL+"/", nil); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	_, err := tdo(c, context.Background(), "GET", srv.URL+"/hang", nil)
	took := time.Since(start)
	wantKind(t, err, KindTimeout)
	slack := timeout / h1DeadlineSlack
	if took < timeout || took > timeout+slack+time.Second {
		t.Fatalf("timed out after %v, want %v to %v (+ scheduling)", took, timeout, timeout+slack)
	}
}
