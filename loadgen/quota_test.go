package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

func TestQuotaHeader(t *testing.T) {
	tests := []struct {
		headers [][2]string
		want    Quota
	}{
		{nil, noQuota},
		{[][2]string{{"X-RateLimit-Limit", "100"}, {"X-RateLimit-Remaining", "42"}}, Quota{100, 42}},
		{[][2]string{{"x-ratelimit-remaining", " 0"}}, Quota{-1, 0}},
		{[][2]string{{"RateLimit-Limit", "10"}, {"RateLimit-Remaining", "3"}}, Quota{10, 3}},
		{[][2]string{{"RateLimit", "limit=100, remaining=7, reset=30"}}, Quota{100, 7}},
		{[][2]string{{"RateLimit", "remaining=7;limit=9"}}, Quota{9, 7}},
		{[][2]string{{"RateLimit", "reset=5"}}, noQuota},
		{[][2]string{{"X-RateLimit-Limit", "100, 100;w=60"}}, Quota{100, -1}},
		{[][2]string{{"X-RateLimit-Limit", "lots"}, {"X-RateLimit-Reset", "5"}, {"Content-Length", "12"}}, noQuota},
		{[][2]string{{"X-RateLimit-Remaining", "99999999999999999999999"}}, noQuota},
	}
	for _, tt := range tests {
		qs, qb := noQuota, noQuota
		for _, h := range tt.headers {
			quotaHeader(&qs, h[0], h[1])
			quotaHeader(&qb, []byte(h[0]), []byte(h[1]))
		}
		if qs != tt.want || qb != tt.want {
			t.Errorf("%v: quota %+v (string), %+v (bytes); want %+v", tt.headers, qs, qb, tt.want)
		}
	}
}

// TestQuotaInTimeline runs a second of requests against a limiter that
// counts its quota down and checks that each interval of the timeline
// keeps the lowest remaining and the limit, through both clients.
func TestQuotaInTimeline(t *testing.T) {
	for _, header := range []string{"x-ratelimit", "ietf"} {
		t.Run(header, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int64
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					left := max(20-n.Add(1), 0)
					if header == "ietf" {
						w.Header().Set("RateLimit", fmt.Sprintf("limit=20, remaining=%d, reset=1", left))
					} else {
						w.Header().Set("X-RateLimit-Limit", "20")
						w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(left))
					}
				})
				ln := newMemListener()
				res := runMem(t, ln, h, Plan{Load: Load{Pacer: ConstantPacer{PerSecond: 10, Length: 3 * time.Second}}})
				var got []results.Quota
				for _, iv := range res.Timeline {
					if iv.Quota != nil {
						got = append(got, *iv.Quota)
					}
				}
				// The first second's ten requests leave 10 (9 when the
				// arrival due at 1s is collected before the interval
				// closes); the quota is out from the third second on.
				first := results.Quota{Limit: 20, Remaining: 10}
				if len(got) > 0 && got[0].Remaining == 9 {
					first.Remaining = 9
				}
				want := []results.Quota{first, {Limit: 20, Remaining: 0}, {Limit: 20, Remaining: 0}}
				if fmt.Sprint(got) != fmt.Sprint(want) || !res.HasQuota() {
					t.Errorf("quota per second %v, want %v", got, want)
				}
			})
		})
	}
}

// runMem runs plan's load of one GET against h, served in memory.
func runMem(t *testing.T, ln *memListener, h http.Handler, plan Plan) *results.Result {
	t.Helper()
	srv := newMemServer(ln, h)
	defer srv.Close()
	tr, err := NewTransport(ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.(*h1Transport).dial = ln.dial
	plan.Name, plan.Target, plan.Transport = "mem", srv.URL, tr
	plan.Flows = []Flow{{Name: "get", Weight: 1, Steps: []Step{&StaticStep{Request: Request{Name: "get", Method: "GET", URL: srv.URL + "/"}}}}}
	res, err := Run(context.Background(), plan, WithClock(FakeClock))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestQuotaBothClients reads the quota headers of a real local server
// through the HTTP/1.1 and the HTTP/2 client, and resets it between
// responses. The HTTP/2 client decodes header values only for a request
// that keeps its headers (see Quota).
func TestQuotaBothClients(t *testing.T) {
	var n atomic.Int64
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("RateLimit", "limit=60, remaining=59, reset=60")
		}
	}))
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			n.Store(0)
			tr, err := NewTransport(ClientOptions{HTTP2: h2, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, err := tr.NewClient()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var res Response
			for i, want := range []Quota{{60, 59}, noQuota} {
				res.Reset()
				if err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/", KeepHeaders: h2}, &res); err != nil {
					t.Fatal(err)
				}
				if res.Quota != want {
					t.Errorf("response %d: quota %+v, want %+v", i+1, res.Quota, want)
				}
			}
		})
	}
}
