package loadgen

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// The client benchmarks send a static GET over one keep-alive connection
// to serveStatic, a server that allocates nothing, so allocs/op is the
// client's own. The context is cancelable, like the engine's run context,
// so the cost of watching it is included. Run side by side with
//
//	go test -run '^$' -bench 'ClientDo' -benchmem ./loadgen/

func benchClientDo(b *testing.B, tr Transport) {
	srv := newRawServer(b, serveStatic)
	c, err := tr.NewClient()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	step := &StaticStep{Request: Request{Method: "GET", URL: srv.URL + "/bench?x=1", Header: []Header{{"Accept", "*/*"}}}}
	var req Request
	var res Response
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		res.Reset()
		_ = step.Prepare(nil, &req)
		if err := c.Do(ctx, &req, &res); err != nil {
			b.Fatal(err)
		}
		if res.Status != 200 {
			b.Fatalf("status %d", res.Status)
		}
	}
	reportRate(b, start, cpu0)
	if n := srv.conns.Load(); n != 1 {
		b.Fatalf("%d connections, want 1 (keep-alive)", n)
	}
}

// reportRate adds req/s and the process CPU time per request (client and
// server together; the server is the same for every client, so the
// difference between two benchmarks is the clients' difference). On a
// shared machine CPU per request is steadier than ns/op, which mostly
// measures scheduler wake-ups in a one-connection ping-pong.
func reportRate(b *testing.B, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// benchClientDoParallel runs 8 connections at once, each with its own
// client, as engine workers do; throughput is then bound by CPU.
func benchClientDoParallel(b *testing.B, tr Transport) {
	srv := newRawServer(b, serveStatic)
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		c, err := tr.NewClient()
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		req := Request{Method: "GET", URL: srv.URL + "/bench?x=1", Header: []Header{{"Accept", "*/*"}}}
		var res Response
		for pb.Next() {
			res.Reset()
			if err := c.Do(ctx, &req, &res); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, start, cpu0)
}

// BenchmarkH1ClientDoParallel is BenchmarkH1ClientDo over 8 connections.
func BenchmarkH1ClientDoParallel(b *testing.B) {
	tr, err := NewTransport(ClientOptions{Connections: 8})
	if err != nil {
		b.Fatal(err)
	}
	benchClientDoParallel(b, tr)
}

// BenchmarkStdClientDoParallel is BenchmarkStdClientDo over 8 connections.
func BenchmarkStdClientDoParallel(b *testing.B) {
	benchClientDoParallel(b, newStdTransport(ClientOptions{Connections: 8}, nil))
}

// BenchmarkH1ClientDo measures the raw HTTP/1.1 client (the default path).
func BenchmarkH1ClientDo(b *testing.B) {
	tr, err := NewTransport(ClientOptions{Connections: 1})
	if err != nil {
		b.Fatal(err)
	}
	benchClientDo(b, tr)
}

// BenchmarkStdClientDo measures net/http's HTTP/1.1 client on the same
// server, for comparison.
func BenchmarkStdClientDo(b *testing.B) {
	benchClientDo(b, newStdTransport(ClientOptions{Connections: 1}, nil))
}

// TestH1ClientDoAllocs pins the raw client's allocation count for a
// static request at zero (the benchmark shows it; this test enforces it).
func TestH1ClientDoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	srv := newRawServer(t, serveStatic)
	c := newTestH1(t, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := Request{Method: "GET", URL: srv.URL + "/a?b=c", Header: []Header{{"Accept", "*/*"}}, KeepBody: 4}
	var res Response
	allocs := testing.AllocsPerRun(200, func() {
		res.Reset()
		if err := c.Do(ctx, &req, &res); err != nil || res.Status != 200 {
			t.Fatalf("%d %v", res.Status, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per request, want 0", allocs)
	}
}

var redirectResponse = []byte("HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n")

// serveRedirect answers GET /r with a redirect to /final, and anything else
// like serveStatic.
func serveRedirect(c net.Conn) {
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
			resp := staticResponseBytes
			if bytes.HasPrefix(buf[:n], []byte("GET /r ")) {
				resp = redirectResponse
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
			n = copy(buf[:], buf[i:n])
		}
		if n == len(buf) {
			return
		}
	}
}

// BenchmarkRedirect follows one same-origin redirect per op with each
// transport (h1: the raw client's own redirect code; std: net/http).
func BenchmarkRedirect(b *testing.B) {
	for _, name := range []string{"h1", "std"} {
		b.Run(name, func(b *testing.B) {
			srv := newRawServer(b, serveRedirect)
			o := ClientOptions{Connections: 1, FollowRedirects: 1}
			var tr Transport
			if name == "h1" {
				tr, _ = NewTransport(o)
			} else {
				tr = newStdTransport(o, nil)
			}
			defer tr.Close()
			c, _ := tr.NewClient()
			defer c.Close()
			req := Request{Method: "GET", URL: srv.URL + "/r"}
			var res Response
			b.ReportAllocs()
			start, cpu0 := time.Now(), cpuTime()
			for b.Loop() {
				res.Reset()
				if err := c.Do(context.Background(), &req, &res); err != nil || res.Status != 200 {
					b.Fatalf("%d %v", res.Status, err)
				}
			}
			reportRate(b, start, cpu0)
		})
	}
}
