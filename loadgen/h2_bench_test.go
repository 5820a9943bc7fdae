package loadgen

import (
	"context"
	"testing"
	"time"
)

// BenchmarkH2ClientDo measures the HTTP/2 client on one connection against
// a raw h2c server in the process (whose own cost, about one allocation per
// request for the HEADERS frame it reads, is included).
func BenchmarkH2ClientDo(b *testing.B) {
	s := newGoAwayServer(b, 0)
	tr, err := NewTransport(ClientOptions{HTTP2: true, Connections: 1, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	defer c.Close()
	req := Request{Method: "GET", URL: s.url + "/a?b=c", Header: []Header{{"Accept", "*/*"}}, KeepBody: 4}
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
}

// TestH2ClientDoAllocs pins the HTTP/2 client's allocations for a static
// request at zero, as TestH1ClientDoAllocs does for HTTP/1.1 (the raw
// server in the process allocates nothing either).
func TestH2ClientDoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := newGoAwayServer(t, 0)
	tr, err := NewTransport(ClientOptions{HTTP2: true, Connections: 1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c, _ := tr.NewClient()
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := Request{Method: "GET", URL: s.url + "/a?b=c", Header: []Header{{"Accept", "*/*"}}, KeepBody: 4}
	var res Response
	allocs := testing.AllocsPerRun(500, func() {
		res.Reset()
		if err := c.Do(ctx, &req, &res); err != nil || res.Status != 200 {
			t.Fatalf("%d %v", res.Status, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per request, want 0", allocs)
	}
}
