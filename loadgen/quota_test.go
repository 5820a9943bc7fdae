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

		// The current draft's structured fields, from its examples.
		{[][2]string{{"RateLimit", `"default";r=50;t=30`}}, Quota{-1, 50}},
		{[][2]string{{"RateLimit-Policy", `"default";q=100;w=10`}, {"RateLimit", `"default";r=50;t=5`}}, Quota{100, 50}},
		{[][2]string{{"RateLimit", `"default";r=50;t=5`}, {"RateLimit-Policy", `"default";q=100;w=10`}}, Quota{100, 50}},
		{[][2]string{{"RateLimit-Policy", `"default";q=100;w=10`}}, Quota{100, -1}},
		{[][2]string{{"RateLimit", `"default";r=999;pk=:dHJpYWwxMjEzMjM=:`}}, Quota{-1, 999}},
		{[][2]string{{"ratelimit-policy", `"peruser";q=65535;qu="content-bytes";w=10;pk=:sdfjLJUOUH==:`}, {"ratelimit", `"peruser";r=300;t=60;pk=:sdfjLJUOUH==:`}}, Quota{65535, 300}},
		// Drafts 07 and 08 named policies with tokens.
		{[][2]string{{"RateLimit-Policy", "burst;q=100;w=60,daily;q=1000;w=86400"}, {"RateLimit", `"daily";r=10;t=600`}}, Quota{1000, 10}},
		// Several policies: the least remaining, with its own policy's quota.
		{[][2]string{
			{"RateLimit-Policy", `"permin";q=50;w=60, "perhr";q=1000;w=3600`},
			{"RateLimit", `"permin";r=40;t=20, "perhr";r=12;t=1800`},
		}, Quota{1000, 12}},
		{[][2]string{{"RateLimit", `"a";r=7, "b";r=7, "c";r=9`}, {"RateLimit-Policy", `"c";q=1, "b";q=2, "a";q=3`}}, Quota{3, 7}},
		// A List split over two fields folds as one.
		{[][2]string{{"RateLimit", `"perhr";r=12`}, {"RateLimit-Policy", `"permin";q=50`}, {"RateLimit", `"permin";r=3`}, {"RateLimit-Policy", `"perhr";q=1000`}}, Quota{50, 3}},
		// Policies alone: the least quota.
		{[][2]string{{"RateLimit-Policy", `"daily";q=1000;w=86400, "burst";q=100;w=60`}}, Quota{100, -1}},
		// A remaining whose policy the response does not describe keeps the older forms' limit.
		{[][2]string{{"RateLimit-Policy", `"other";q=5`}, {"RateLimit", `"default";r=1`}}, Quota{-1, 1}},
		{[][2]string{{"X-RateLimit-Limit", "60"}, {"RateLimit", `"default";r=1`}}, Quota{60, 1}},
		{[][2]string{{"X-RateLimit-Remaining", "60"}, {"RateLimit", `"default";r=1`}}, Quota{-1, 1}},
		// Items the quota cannot use, in well-formed fields.
		{[][2]string{{"RateLimit", `"default";t=30, 5;r=1, ("a" "b");r=2, "x";r=-1, "y";r=1.5, "z";r="3", "w";r`}}, noQuota},
		{[][2]string{{"RateLimit", `"default";r=4;r=?1`}}, noQuota},
		{[][2]string{{"RateLimit", `"a\"b";r=4, @1700000000;r=1, %"caf%c3%a9";r=1, ?1;r=1, :AQ==:;r=1, "n";r=8;acme-burst=1.25`}}, Quota{-1, 4}},
		// Malformed fields are ignored, whole.
		{[][2]string{{"RateLimit", `"default";r=50,`}}, noQuota},
		{[][2]string{{"RateLimit", `"default";r=50 "x"`}}, noQuota},
		{[][2]string{{"RateLimit", `"default;r=50`}}, noQuota},
		{[][2]string{{"RateLimit", `"a";r=1, "b";R=0`}}, noQuota},
		{[][2]string{{"RateLimit", `"a";r=1234567890123456`}}, noQuota},
		{[][2]string{{"RateLimit", `"a";r=1, "b";r=0`}, {"RateLimit-Policy", `"b";q=5, "a";q=`}}, Quota{-1, 0}},
	}
	for _, tt := range tests {
		var rs, rb Response
		rs.Reset()
		rb.Reset()
		for _, h := range tt.headers {
			quotaHeader(&rs, h[0], h[1])
			quotaHeader(&rb, []byte(h[0]), []byte(h[1]))
		}
		if rs.Quota != tt.want || rb.Quota != tt.want {
			t.Errorf("%v: quota %+v (string), %+v (bytes); want %+v", tt.headers, rs.Quota, rb.Quota, tt.want)
		}
	}
}

// BenchmarkQuotaHeader reads a response's headers as the HTTP/1.1 client
// does: a few that are not about the quota, then the current draft's two
// fields with two policies each. It must not allocate.
func BenchmarkQuotaHeader(b *testing.B) {
	headers := [][2][]byte{
		{[]byte("Content-Type"), []byte("application/json")},
		{[]byte("Content-Length"), []byte("512")},
		{[]byte("RateLimit-Policy"), []byte(`"permin";q=50;w=60, "perhr";q=1000;w=3600`)},
		{[]byte("RateLimit"), []byte(`"permin";r=40;t=20, "perhr";r=12;t=1800`)},
	}
	var res Response
	b.ReportAllocs()
	for b.Loop() {
		res.Reset()
		for _, h := range headers {
			quotaHeader(&res, h[0], h[1])
		}
	}
	if res.Quota != (Quota{1000, 12}) {
		b.Fatalf("quota %+v", res.Quota)
	}
}

// TestQuotaInTimeline runs a second of requests against a limiter that
// counts its quota down and checks that each interval of the timeline
// keeps the lowest remaining and the limit, through both clients.
func TestQuotaInTimeline(t *testing.T) {
	for _, header := range []string{"x-ratelimit", "ietf", "structured"} {
		t.Run(header, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int64
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					left := max(20-n.Add(1), 0)
					switch header {
					case "ietf":
						w.Header().Set("RateLimit", fmt.Sprintf("limit=20, remaining=%d, reset=1", left))
					case "structured":
						w.Header().Set("RateLimit-Policy", `"second";q=20;w=1, "hour";q=72000;w=3600`)
						w.Header().Set("RateLimit", fmt.Sprintf(`"hour";r=%d;t=3600, "second";r=%d;t=1`, 72000-20+left, left))
					default:
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

// TestQuotaBothClients reads the quota headers of a real local server,
// in each form, through the HTTP/1.1 client and the HTTP/2 one (solo, one
// stream per connection, and multiplexed), and resets it between
// responses. The HTTP/2 client decodes header values only for a
// request that keeps its headers or groups by one (see Quota); without
// either it reads no quota.
func TestQuotaBothClients(t *testing.T) {
	forms := []struct {
		name    string
		headers [][2]string
		want    Quota
	}{
		{"x-ratelimit", [][2]string{{"X-RateLimit-Limit", "60"}, {"X-RateLimit-Remaining", "59"}}, Quota{60, 59}},
		{"draft-06", [][2]string{{"RateLimit", "limit=60, remaining=59, reset=60"}}, Quota{60, 59}},
		{"structured", [][2]string{
			{"RateLimit-Policy", `"permin";q=60;w=60, "perhr";q=1000;w=3600`},
			{"RateLimit", `"permin";r=59;t=60`},
			{"RateLimit", `"perhr";r=999;t=3600`},
		}, Quota{60, 59}},
	}
	var n atomic.Int64
	var form atomic.Int64
	srv := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			for _, h := range forms[form.Load()].headers {
				w.Header().Add(h[0], h[1])
			}
		}
	}))
	requests := []struct {
		name       string
		req        Request
		readsHTTP2 bool
	}{
		{"plain", Request{}, false},
		{"keep-headers", Request{KeepHeaders: true}, true},
		{"group-by-header", Request{GroupBy: &GroupBy{Label: "x-cache", Header: "X-Cache"}}, true},
	}
	for i, fm := range forms {
		for _, rq := range requests {
			for _, streams := range []int{0, 1, 8} {
				h2 := streams > 0
				t.Run(fmt.Sprintf("%s/%s/http2=%v/streams=%d", fm.name, rq.name, h2, streams), func(t *testing.T) {
					n.Store(0)
					form.Store(int64(i))
					tr, err := NewTransport(ClientOptions{HTTP2: h2, Streams: streams, Timeout: 5 * time.Second})
					if err != nil {
						t.Fatal(err)
					}
					defer tr.Close()
					c, err := tr.NewClient()
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					want := fm.want
					if h2 && !rq.readsHTTP2 {
						want = noQuota
					}
					var res Response
					for j, want := range []Quota{want, noQuota} {
						res.Reset()
						req := rq.req
						req.Method, req.URL = "GET", srv.URL+"/"
						if err := c.Do(context.Background(), &req, &res); err != nil {
							t.Fatal(err)
						}
						if res.Quota != want {
							t.Errorf("response %d: quota %+v, want %+v", j+1, res.Quota, want)
						}
					}
				})
			}
		}
	}
}

// FuzzQuotaHeader feeds arbitrary values to the rate-limit headers and
// checks that the string and the byte readers agree, that a quota is
// never below -1, and that a RateLimit field can only lower a remaining
// already read, as folding by the least remaining promises. The values
// r1, r2, q1 and q2 make a well-formed pair of fields with two policies
// whose fold is known.
func FuzzQuotaHeader(f *testing.F) {
	f.Add(`"default";r=50;t=30`, uint32(5), uint32(9), uint32(10), uint32(100))
	f.Add(`"burst";q=100;w=60,"daily";q=1000;w=86400`, uint32(0), uint32(0), uint32(0), uint32(0))
	f.Add(`limit=100, remaining=7, reset=30`, uint32(7), uint32(3), uint32(1), uint32(1))
	f.Add(`"peruser";q=65535;qu="content-bytes";w=10;pk=:sdfjLJUOUH==:`, uint32(1), uint32(2), uint32(3), uint32(4))
	f.Add(`("a" "b";x=?1);r=1, %"caf%c3%a9";r=2, @1700000000, -1.5;r=3`, uint32(1), uint32(1), uint32(1), uint32(1))
	f.Add(`"a\"b";r=1,`, uint32(8), uint32(9), uint32(1), uint32(2))
	f.Fuzz(func(t *testing.T, value string, r1, r2, q1, q2 uint32) {
		for _, name := range []string{"RateLimit", "RateLimit-Policy", "X-RateLimit-Remaining"} {
			var rs, rb Response
			rs.Reset()
			rb.Reset()
			quotaHeader(&rs, name, value)
			quotaHeader(&rb, []byte(name), []byte(value))
			if rs.Quota != rb.Quota || rs.Quota.Limit < -1 || rs.Quota.Remaining < -1 {
				t.Fatalf("%s: %q: quota %+v (string), %+v (bytes)", name, value, rs.Quota, rb.Quota)
			}
		}

		var res Response
		res.Reset()
		quotaHeader(&res, "RateLimit", fmt.Sprintf(`"a";r=%d;t=1, b;r=%d`, r1, r2))
		quotaHeader(&res, "ratelimit-policy", fmt.Sprintf(`b;q=%d, "a";q=%d;w=60`, q2, q1))
		want := Quota{int64(q1), int64(r1)}
		if r2 < r1 {
			want = Quota{int64(q2), int64(r2)}
		}
		if res.Quota != want {
			t.Fatalf("r=%d,%d q=%d,%d: quota %+v, want %+v", r1, r2, q1, q2, res.Quota, want)
		}
		quotaHeader(&res, "RateLimit", value)
		if res.Quota.Remaining > want.Remaining || res.Quota.Remaining < 0 {
			t.Fatalf("%q after %+v: quota %+v", value, want, res.Quota)
		}
	})
}
