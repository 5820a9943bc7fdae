package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// soloClient makes an HTTP/2 client with one stream per connection, the
// shape in which a connection is solo on Linux.
func soloClient(t *testing.T, timeout time.Duration) (*h2Transport, Client) {
	t.Helper()
	tr, err := NewTransport(ClientOptions{HTTP2: true, Connections: 1, Streams: 1, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	c, _ := tr.NewClient()
	t.Cleanup(func() { c.Close() })
	return tr.(*h2Transport), c
}

// wantSolo fails unless the transport's connection is solo where it can
// be (plain TCP on Linux).
func wantSolo(t *testing.T, tr *h2Transport) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	for _, p := range tr.pools {
		if c := p.slots[0].conn.Load(); c == nil || !c.solo {
			t.Fatal("the connection is not solo")
		}
	}
}

// TestH2SoloBodyBeyondWindows: a body larger than the server's stream and
// connection windows goes out as WINDOW_UPDATEs arrive, which the solo
// connection's worker reads itself while it sends.
func TestH2SoloBodyBeyondWindows(t *testing.T) {
	srv := h2cServer(t, http.HandlerFunc(echoRequest))
	tr, c := soloClient(t, 10*time.Second)
	body := bytes.Repeat([]byte("x"), 3<<20)
	for i := range 2 {
		res, err := tdo(c, context.Background(), "POST", srv.URL+"/", func(r *Request) {
			r.Body = body
			r.KeepBody = 100
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("POST HTTP/2.0 body=%d headers=", len(body)); res.Status != 200 || string(res.Body) != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i, res.Status, res.Body, want)
		}
	}
	wantSolo(t, tr)
}

// TestH2SoloStops: a request on a solo connection whose server never
// answers ends at its timeout, or at once when its context is canceled,
// though its worker is blocked reading the connection.
func TestH2SoloStops(t *testing.T) {
	url := hostileH2Server(t, func(io.Writer, uint32) error { return nil })
	t.Run("timeout", func(t *testing.T) {
		tr, c := soloClient(t, 100*time.Millisecond)
		for range 2 {
			_, err := tdo(c, context.Background(), "GET", url+"/", nil)
			wantKind(t, err, KindTimeout)
		}
		wantSolo(t, tr)
	})
	t.Run("cancel", func(t *testing.T) {
		tr, c := soloClient(t, time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Most likely once the request is in flight; a cancellation
		// before it is found before the send, with the same outcome.
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := tdo(c, ctx, "GET", url+"/", nil)
		wantKind(t, err, KindCanceled)
		wantSolo(t, tr)
	})
}

// TestH2SoloShared: workers sharing a solo connection's one slot take
// turns, each reading its own response.
func TestH2SoloShared(t *testing.T) {
	h := newH2Counter(0)
	url := h2TestServer(t, h, false, 0)
	res, err := Run(context.Background(), h2Plan(url, 1, 1, 6, 300))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.maxStreams(); got > 1 {
		t.Errorf("%d streams in flight, want 1", got)
	}
	if res.Total.Requests != 300 || res.Total.Errors != 0 || h.requests.Load() != 300 || h.conns.Load() != 1 {
		t.Errorf("result %d requests (%d errors %v), server %d on %d connections: want 300, none, 300 on 1",
			res.Total.Requests, res.Total.Errors, res.Total.ErrorKinds, h.requests.Load(), h.conns.Load())
	}
}

// TestH2SoloLimitZero: a server that lowers its stream limit to 0 on a
// solo connection, which nobody reads while no stream holds its slot,
// gets its later requests on a new connection instead of leaving them to
// wait out their timeout.
func TestH2SoloLimitZero(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	var conns atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			first := conns.Add(1) == 1
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveLimitZero(c, first)
			}()
		}
	}()
	tr, c := soloClient(t, 2*time.Second)
	url := "http://" + ln.Addr().String() + "/"
	for i := range 3 {
		if _, err := tdo(c, context.Background(), "GET", url, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
	wantSolo(t, tr)
}

// serveLimitZero answers every request on c; on the first connection it
// sets SETTINGS_MAX_CONCURRENT_STREAMS to 0 after the first answer.
func serveLimitZero(c net.Conn, first bool) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings() != nil {
		return
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	for answered := 0; ; {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && fr.WriteSettingsAck() != nil {
				return
			}
		case *http2.HeadersFrame:
			if fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: true}) != nil {
				return
			}
			answered++
			if first && answered == 1 && fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 0}) != nil {
				return
			}
		}
	}
}
