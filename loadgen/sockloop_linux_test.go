//go:build linux && (amd64 || arm64)

package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// The package's tests load servers of their own process, and run with
// more than one processor; TestSocketLoopLeavesOwnServers checks what
// happens without this.
func init() { loopAllowsOwnServer = true }

// TestSocketLoopLeavesOwnServers: a plan whose target listens in this
// process runs on the goroutine engine, whose goroutines park and leave
// the processor to the server's.
func TestSocketLoopLeavesOwnServers(t *testing.T) {
	loopAllowsOwnServer = false
	defer func() { loopAllowsOwnServer = true }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r, err := NewRunner(loopPlan(srv.URL, 100, 50*time.Millisecond, 1))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil || res.Total.Requests != 5 {
		t.Fatalf("%v, %s", err, outcome(res))
	}
	if r.socketLoop {
		t.Fatal("the socket loop ran a plan against a server of its own process")
	}
	other := closedPort(t)
	if servesItself([]netip.Addr{netip.MustParseAddr("127.0.0.1")}, other) {
		t.Fatal("a port this process does not listen on counted as its own")
	}
}

// closedPort returns a loopback port nobody in this process
// listens on (one that was listened on and closed).
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// runBothEngines runs plan on the socket loop and on the goroutine engine
// and returns both results (loop first).
func runBothEngines(t *testing.T, plan Plan) (loop, goroutines *results.Result) {
	t.Helper()
	loop = runOn(t, plan, true)
	t.Setenv(socketLoopEnv, "off")
	return loop, runOn(t, plan, false)
}

// runOnLoop runs plan and fails t unless the socket loop ran it.
func runOnLoop(t *testing.T, plan Plan) *results.Result {
	t.Helper()
	return runOn(t, plan, true)
}

// runOn runs plan and fails t unless the socket loop ran it (loop) or
// did not.
func runOn(t *testing.T, plan Plan, loop bool) *results.Result {
	t.Helper()
	r, err := NewRunner(plan)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.socketLoop != loop {
		t.Fatalf("socket loop ran: %v, want %v", r.socketLoop, loop)
	}
	return res
}

// serveRaw accepts connections on a loopback port and hands each to
// handle on a goroutine of its own, closing it after; it returns the
// address.
func serveRaw(t testing.TB, handle func(c net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// loopPlan is an open-model plan of one static request to url.
func loopPlan(url string, rate float64, d time.Duration, conns int) Plan {
	req := Request{Name: "get", Method: "GET", URL: url}
	return Plan{
		Name: "loop", Target: url,
		Load:  Load{Pacer: ConstantPacer{PerSecond: rate, Length: d}, Connections: conns},
		Flows: []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: req}}}},
	}
}

// outcome is what two engines must agree on for one plan against one
// server: counts, statuses, error kinds and bytes.
func outcome(r *results.Result) string {
	tot := r.Total
	return fmt.Sprintf("requests %d errors %d sent %d status %v kinds %v in %d out %d",
		tot.Requests, tot.Errors, r.Schedule.Sent, tot.Status, tot.ErrorKinds, tot.BytesIn, tot.BytesOut)
}

// TestSocketLoopAgreesWithGoroutineEngine runs plans the socket loop takes
// against servers that answer, fail, close, stall and frame their
// responses in every way, on both engines: counts, statuses, error kinds
// and bytes must be the same.
func TestSocketLoopAgreesWithGoroutineEngine(t *testing.T) {
	big := strings.Repeat("x", 200_000)
	handlers := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }},
		{"status 503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "part one ")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part two")
		}},
		{"large body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		}},
		{"connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}},
		{"rate limited", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("RateLimit-Limit", "100")
			w.Header().Set("RateLimit-Remaining", "7")
			w.WriteHeader(429)
		}},
		{"interim", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(103)
			io.WriteString(w, "after early hints")
		}},
	}
	for _, tc := range handlers {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			loop, gor := runBothEngines(t, loopPlan(srv.URL+"/x", 400, 250*time.Millisecond, 4))
			if a, b := outcome(loop), outcome(gor); a != b {
				t.Fatalf("socket loop: %s\ngoroutine engine: %s", a, b)
			}
			if loop.Total.Requests != 100 {
				t.Fatalf("%d requests, want 100", loop.Total.Requests)
			}
		})
	}
}

// TestSocketLoopServerFailures: a target that refuses, stalls past the
// timeout or resets mid-response fails every request with the kind the
// goroutine engine names, and the count stays exact.
func TestSocketLoopServerFailures(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + ln.Addr().String() + "/"
		ln.Close()
		loop, gor := runBothEngines(t, loopPlan(url, 200, 100*time.Millisecond, 2))
		if a, b := outcome(loop), outcome(gor); a != b {
			t.Fatalf("socket loop: %s\ngoroutine engine: %s", a, b)
		}
		if loop.Total.ErrorKinds[KindRefused.String()] != 20 {
			t.Fatalf("kinds %v, want 20 refused", loop.Total.ErrorKinds)
		}
		if msg := loop.Total.ErrorSamples[KindRefused.String()]; !strings.Contains(msg, "connect to") || !strings.Contains(msg, "connection refused") {
			t.Fatalf("refused sample %q", msg)
		}
	})
	t.Run("stall", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		plan := loopPlan(srv.URL, 100, 100*time.Millisecond, 10)
		plan.Client.Timeout = 150 * time.Millisecond
		loop, gor := runBothEngines(t, plan)
		if a, b := outcome(loop), outcome(gor); a != b {
			t.Fatalf("socket loop: %s\ngoroutine engine: %s", a, b)
		}
		if loop.Total.ErrorKinds[KindTimeout.String()] != 10 {
			t.Fatalf("kinds %v, want 10 timeouts", loop.Total.ErrorKinds)
		}
	})
	t.Run("reset mid-response", func(t *testing.T) {
		addr := serveRaw(t, func(c net.Conn) {
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
			c.(*net.TCPConn).SetLinger(0) // the close resets
		})
		url := "http://" + addr + "/"
		loop, gor := runBothEngines(t, loopPlan(url, 200, 100*time.Millisecond, 2))
		if loop.Total.Requests != 20 || loop.Total.Errors != 20 || gor.Total.Errors != 20 {
			t.Fatalf("socket loop: %s\ngoroutine engine: %s", outcome(loop), outcome(gor))
		}
		if !maps.Equal(loop.Total.ErrorKinds, gor.Total.ErrorKinds) {
			t.Fatalf("kinds: loop %v, goroutine engine %v", loop.Total.ErrorKinds, gor.Total.ErrorKinds)
		}
	})
}

// TestSocketLoopIdleServerClose: a server that closes idle keep-alive
// connections after 20 ms gets every request of a slow schedule, each on a
// new connection, and none fails (the loop sees the close while the
// connection waits, where the raw client checks before reusing it).
func TestSocketLoopIdleServerClose(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	res := runOnLoop(t, loopPlan(srv.URL, 10, 500*time.Millisecond, 1))
	if res.Total.Requests != 5 || res.Total.Errors != 0 {
		t.Fatalf("%s, want 5 requests and no error", outcome(res))
	}
	if n := conns.Load(); n != 5 {
		t.Fatalf("%d connections, want 5 (the server closed each while idle)", n)
	}
}

// TestSocketLoopClosedModel: a closed-model run of a fixed iteration count
// sends exactly that many requests over its VUs' connections.
func TestSocketLoopClosedModel(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	plan := loopPlan(srv.URL, 1, time.Second, 4)
	plan.Load = Load{VUs: 4, Iterations: 500}
	loop, gor := runBothEngines(t, plan)
	if a, b := outcome(loop), outcome(gor); a != b {
		t.Fatalf("socket loop: %s\ngoroutine engine: %s", a, b)
	}
	if loop.Total.Requests != 500 {
		t.Fatalf("%d requests, want 500", loop.Total.Requests)
	}
	if n := conns.Load(); n != 8 {
		t.Fatalf("%d connections over both runs, want 8 (4 VUs each)", n)
	}
}

// TestSocketLoopStop: a run stopped half way keeps what it measured, marks
// itself partial, and its requests in flight finish.
func TestSocketLoopStop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	r, err := NewRunner(loopPlan(srv.URL, 100, 10*time.Second, 4))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := r.Run(ctx)
	if err == nil || res == nil || !res.Meta.Partial {
		t.Fatalf("stopped run: err %v, result %v", err, res != nil && res.Meta.Partial)
	}
	if res.Total.Requests == 0 || res.Total.Requests > 40 || res.Total.Errors != 0 {
		t.Fatalf("stopped after 300 ms: %s", outcome(res))
	}
	if res.Schedule.Sent != res.Total.Requests {
		t.Fatalf("sent %d, finished %d: a request in flight was lost", res.Schedule.Sent, res.Total.Requests)
	}
}

// TestSocketLoopQueueAndDrop: with more arrivals due than connections and
// --max-in-flight allow, the queue policy sends them all late and the drop
// policy counts the excess as dropped, as the goroutine engine does.
func TestSocketLoopQueueAndDrop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
	}))
	defer srv.Close()
	for _, policy := range []Overload{OverloadQueue, OverloadDrop} {
		t.Run(string(policy), func(t *testing.T) {
			plan := loopPlan(srv.URL, 400, 250*time.Millisecond, 2)
			plan.MaxInFlight, plan.Overload = 6, policy
			res := runOnLoop(t, plan)
			if res.Schedule.MaxInFlight > 6 {
				t.Fatalf("max in flight %d above 6", res.Schedule.MaxInFlight)
			}
			switch policy {
			case OverloadQueue:
				if res.Total.Requests != 100 || res.Schedule.Dropped != 0 {
					t.Fatalf("queue: %s, dropped %d; want 100 requests", outcome(res), res.Schedule.Dropped)
				}
			case OverloadDrop:
				if res.Schedule.Dropped == 0 || res.Total.Requests+res.Schedule.Dropped != 100 {
					t.Fatalf("drop: %s, dropped %d; want 100 in all", outcome(res), res.Schedule.Dropped)
				}
			}
		})
	}
}

// rawResponder answers every request head on its connections with a fixed
// response, allocating nothing per request, so that a test counting the
// process's allocations counts the client's.
func rawResponder(t testing.TB) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	return "http://" + serveRaw(t, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		tail := 0 // bytes of a head end cut by the last read
		for {
			n, err := c.Read(buf[tail:])
			if err != nil {
				return
			}
			data := buf[:tail+n]
			for {
				i := bytes.Index(data, []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				if _, err := c.Write(resp); err != nil {
					return
				}
				data = data[i+4:]
			}
			tail = copy(buf, data[max(len(data)-3, 0):])
		}
	}) + "/"
}

// TestSocketLoopAllocatesNothingPerRequest counts the process's
// allocations over two closed-model runs of different lengths: the
// difference per extra request is the loop's hot path (send, read, frame,
// record), which must allocate nothing. A count, not a time.
func TestSocketLoopAllocatesNothingPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	url := rawResponder(t)
	mallocs := func(n uint64) uint64 {
		plan := loopPlan(url, 1, time.Second, 4)
		plan.Load = Load{VUs: 4, Iterations: n}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := Run(context.Background(), plan)
		runtime.ReadMemStats(&after)
		if err != nil || res.Total.Requests != n || res.Total.Errors != 0 {
			t.Fatalf("run of %d: %v, %s", n, err, outcome(res))
		}
		return after.Mallocs - before.Mallocs
	}
	mallocs(1000) // warm up whatever is made once per process
	small, large := mallocs(2000), mallocs(22000)
	per := (float64(large) - float64(small)) / 20000
	t.Logf("%d and %d allocations for runs of 2000 and 22000 requests: %.4f per request", small, large, per)
	if per > 0.01 {
		t.Fatalf("%.4f allocations per request, want none", per)
	}
}

// BenchmarkSocketLoopRequest is one request per op through the socket loop
// (closed model, 4 VUs) against a server that allocates nothing, so the
// allocs/op are the loop's. The server shares the CPU with the client:
// compare it only with itself (or with TAILGATE_SOCKET_LOOP=off, which
// runs the same on the goroutine engine).
func BenchmarkSocketLoopRequest(b *testing.B) {
	url := rawResponder(b)
	plan := loopPlan(url, 1, time.Second, 4)
	plan.Load = Load{VUs: 4, Iterations: uint64(b.N)}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Run(context.Background(), plan)
	b.StopTimer()
	if err != nil || res.Total.Requests != uint64(b.N) || res.Total.Errors != 0 {
		b.Fatalf("%v, %s; want %d requests", err, outcome(res), b.N)
	}
}

// TestSocketLoopConnectGivesUpCleanly: when a connect fails before the
// run, the connections still connecting are closed, so none of them later
// writes a request that no arrival sent.
func TestSocketLoopConnectGivesUpCleanly(t *testing.T) {
	url := "http://127.0.0.1:" + fmt.Sprint(closedPort(t)) + "/"
	r, err := NewRunner(loopPlan(url, 10, time.Second, 50))
	if err != nil {
		t.Fatal(err)
	}
	e := newLoopEngine(context.Background(), r)
	if e == nil {
		t.Fatal("no socket loop for a plain plan")
	}
	l := e.(*sockLoop)
	defer l.close()
	if open := l.connectSome(context.Background(), time.Now().Add(time.Second), len(l.conns)); open != 0 {
		t.Fatalf("%d connections open to a closed port", open)
	}
	for i := range l.conns {
		if s := l.conns[i].state; s != connDown {
			t.Fatalf("connection %d left in state %d", i, s)
		}
	}
	if l.waitingOut != 0 {
		t.Fatalf("%d connections still counted as waiting to write", l.waitingOut)
	}
}

// TestSocketLoopSettingIsChecked: a value of TAILGATE_SOCKET_LOOP other
// than on or off is refused before the run, naming the variable.
func TestSocketLoopSettingIsChecked(t *testing.T) {
	t.Setenv(socketLoopEnv, "no")
	_, err := NewRunner(loopPlan("http://127.0.0.1:1/", 1, time.Second, 1))
	if err == nil || !strings.Contains(err.Error(), socketLoopEnv+`="no": want on or off`) {
		t.Fatalf("NewRunner with %s=no: %v", socketLoopEnv, err)
	}
}
