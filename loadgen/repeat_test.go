package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// memListener is an in-memory listener for an httptest.Server inside a
// synctest bubble: its connections are net.Pipes, so a server waiting for
// a request and a client waiting out a backoff are both durably blocked and
// the fake clock moves on at once. The raw client reaches it through dial.
type memListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func (l *memListener) dial(ctx context.Context, _ string, _ time.Time) (net.Conn, error) {
	cli, srv := net.Pipe()
	select {
	case l.conns <- srv:
		return cli, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newMemServer starts an httptest.Server for h on ln.
func newMemServer(ln *memListener, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	return srv
}

// repeatStep is a static request that retries or polls.
type repeatStep struct {
	StaticStep
	rep *Repeat
}

func (s *repeatStep) Repeat() *Repeat { return s.rep }

// runRepeat runs one iteration of step against h, served in memory on the
// bubble's fake clock, and returns the result and how long the run took.
func runRepeat(t *testing.T, ctx context.Context, h http.Handler, rep *Repeat, timeout time.Duration) (*results.Result, time.Duration) {
	t.Helper()
	ln := newMemListener()
	srv := newMemServer(ln, h)
	defer srv.Close()
	tr, err := NewTransport(ClientOptions{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	tr.(*h1Transport).dial = ln.dial
	step := &repeatStep{StaticStep: StaticStep{Request: Request{Name: "job", Method: "GET", URL: srv.URL + "/job", KeepBody: 1024}}, rep: rep}
	plan := Plan{
		Name: "repeat", Target: srv.URL, Load: Load{VUs: 1, Iterations: 1}, Transport: tr,
		Client: ClientOptions{Timeout: timeout},
		Flows:  []Flow{{Name: "job", Weight: 1, Steps: []Step{step}}},
	}
	start := time.Now()
	res, err := Run(ctx, plan, WithClock(FakeClock))
	if err != nil && (ctx.Err() == nil || res == nil) {
		t.Fatal(err)
	}
	return res, time.Since(start)
}

// answers serves the statuses in order (the last one from then on), each
// with the headers hdr returns for it.
func answers(statuses []int, hdr func(n int, h http.Header)) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if hdr != nil {
			hdr(i, w.Header())
		}
		w.WriteHeader(statuses[min(i, len(statuses)-1)])
	}), &n
}

func TestRetry(t *testing.T) {
	retryAfter := func(v string) func(int, http.Header) {
		return func(_ int, h http.Header) { h.Set("Retry-After", v) }
	}
	tests := []struct {
		name     string
		statuses []int
		hdr      func(int, http.Header)
		retry    Retry
		timeout  time.Duration
		// want: attempts sent, the retried ones, the final kind, and how
		// long the iteration took on the fake clock.
		requests, retries uint64
		kind              ErrorKind
		took              time.Duration
	}{
		{"retry-after seconds", []int{429, 429, 200}, retryAfter("2"),
			Retry{On: []int{429}, Max: 3, Backoff: Backoff{Kind: BackoffRetryAfter}}, 0, 3, 2, KindNone, 4 * time.Second},
		{"retry-after date", []int{503, 200}, func(_ int, h http.Header) {
			// The bubble's clock starts on a whole second, so the date is exact.
			h.Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
		}, Retry{On: []int{429, 503}, Max: 1, Backoff: Backoff{Kind: BackoffRetryAfter}}, 0, 2, 1, KindNone, 3 * time.Second},
		{"no retry-after header waits the default", []int{429, 200}, nil,
			Retry{On: []int{429}, Max: 1, Backoff: Backoff{Kind: BackoffRetryAfter}}, 0, 2, 1, KindNone, RetryAfterDefault},
		{"exhausted", []int{429}, nil,
			Retry{On: []int{429}, Max: 2, Backoff: Backoff{Kind: BackoffFixed, Base: 100 * time.Millisecond}}, 0, 3, 2, KindRateLimited, 200 * time.Millisecond},
		{"exponential", []int{503, 503, 503, 200}, nil,
			Retry{On: []int{503}, Max: 3, Backoff: Backoff{Kind: BackoffExponential, Base: 100 * time.Millisecond}}, 0, 4, 3, KindNone, 700 * time.Millisecond},
		{"retry-after beyond the request timeout", []int{429, 200}, retryAfter("60"),
			Retry{On: []int{429}, Max: 3, Backoff: Backoff{Kind: BackoffRetryAfter}}, 5 * time.Second, 1, 0, KindRateLimited, 0},
		{"a status not retried", []int{500, 200}, nil,
			Retry{On: []int{429}, Max: 3, Backoff: Backoff{Kind: BackoffFixed, Base: time.Second}}, 0, 1, 0, KindHTTP5xx, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, _ := answers(tt.statuses, tt.hdr)
				retry := tt.retry
				res, took := runRepeat(t, context.Background(), h, &Repeat{Retry: &retry}, tt.timeout)
				tot := res.Total
				if tot.Requests != tt.requests || tot.Retries != tt.retries {
					t.Errorf("requests %d, retries %d; want %d, %d", tot.Requests, tot.Retries, tt.requests, tt.retries)
				}
				if want := uint64(min(tt.retries, 1)); tot.Retried != want {
					t.Errorf("retried requests %d, want %d", tot.Retried, want)
				}
				wantErrors := uint64(0)
				if tt.kind != KindNone {
					wantErrors = 1
				}
				if tot.Errors != wantErrors || tot.ErrorKinds[tt.kind.String()] != wantErrors {
					t.Errorf("errors %d %v, want %d of %s", tot.Errors, tot.ErrorKinds, wantErrors, tt.kind)
				}
				if tot.Outcomes() != 1 || tot.Successes()+tot.Errors != 1 {
					t.Errorf("outcomes %d, successes %d, errors %d: want one request's outcome", tot.Outcomes(), tot.Successes(), tot.Errors)
				}
				if took != tt.took {
					t.Errorf("the iteration took %v, want %v", took, tt.took)
				}
				// Each attempt's latency runs from its own intended time
				// (after the backoff): no wait is in it.
				if m := max(tot.Latency.Max(), tot.FailedLatency.Max()); m > time.Millisecond {
					t.Errorf("an attempt's latency is %v, want none of the backoff in it", m)
				}
				if tot.Latency.Count()+tot.FailedLatency.Count() != 1 {
					t.Errorf("%d latencies recorded, want the final attempt's only", tot.Latency.Count()+tot.FailedLatency.Count())
				}
				wantIt := results.Iterations{Completed: 1}
				if tt.kind != KindNone {
					wantIt = results.Iterations{Failed: 1}
				}
				if res.Iterations != wantIt {
					t.Errorf("iterations %+v, want %+v", res.Iterations, wantIt)
				}
			})
		})
	}
}

// jobHandler answers {"state":"running"} until its n-th request, then
// {"state":"done"} (never when n is 0).
func jobHandler(n int32) http.Handler {
	var count atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := "running"
		if c := count.Add(1); n > 0 && c >= n {
			state = "done"
		}
		fmt.Fprintf(w, `{"state":%q}`, state)
	})
}

func jobDone(res *Response) bool { return bytes.Contains(res.Body, []byte(`"done"`)) }

func TestUntil(t *testing.T) {
	tests := []struct {
		name     string
		doneAt   int32
		until    Until
		requests uint64
		kind     ErrorKind
		took     time.Duration
	}{
		{"succeeds on the fourth poll", 4, Until{Holds: jobDone, Every: time.Second, Timeout: 10 * time.Second}, 4, KindNone, 3 * time.Second},
		{"done at once", 1, Until{Holds: jobDone, Every: time.Second, Timeout: 10 * time.Second}, 1, KindNone, 0},
		// Polls at 0, 1, 2 and 3s; the next would start past the timeout.
		{"times out", 0, Until{Holds: jobDone, Every: time.Second, Timeout: 3 * time.Second}, 4, KindTimeout, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := tt.until
				res, took := runRepeat(t, context.Background(), jobHandler(tt.doneAt), &Repeat{Until: &u}, 0)
				tot := res.Total
				if tot.Requests != tt.requests || tot.Retries != 0 {
					t.Errorf("requests %d, retries %d; want %d polls", tot.Requests, tot.Retries, tt.requests)
				}
				if took != tt.took {
					t.Errorf("polling took %v, want %v", took, tt.took)
				}
				if tt.kind == KindNone {
					if tot.Errors != 0 || tot.Latency.Count() != int64(tt.requests) || res.Iterations.Completed != 1 {
						t.Errorf("errors %d, %d latencies, iterations %+v: want every poll a success", tot.Errors, tot.Latency.Count(), res.Iterations)
					}
					return
				}
				if tot.Errors != 1 || tot.ErrorKinds["timeout"] != 1 || res.Iterations.Failed != 1 {
					t.Errorf("errors %v, iterations %+v: want the last poll failed with timeout", tot.ErrorKinds, res.Iterations)
				}
				if msg := tot.ErrorSamples["timeout"]; msg == "" {
					t.Error("no message for the timeout")
				}
			})
		})
	}
}

// TestUntilStatusAboveFourHundred polls until a deleted resource answers
// 404: the awaited status is the success, not an http_4xx.
func TestUntilStatusAboveFourHundred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := answers([]int{200, 200, 404}, nil)
		u := Until{Status: 404, Holds: func(res *Response) bool { return res.Status == 404 }, Every: 500 * time.Millisecond, Timeout: 5 * time.Second}
		res, took := runRepeat(t, context.Background(), h, &Repeat{Until: &u}, 0)
		if res.Total.Requests != 3 || res.Total.Errors != 0 || res.Total.Status[404] != 1 || took != time.Second {
			t.Errorf("requests %d errors %d statuses %v took %v; want 3 polls, the last a 404 success, after 1s", res.Total.Requests, res.Total.Errors, res.Total.Status, took)
		}
	})
}

// TestRetryWhilePolling retries a poll refused with a 429 and goes on
// polling: each poll's retries are counted apart.
func TestRetryWhilePolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch n.Add(1) {
			case 1, 3:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			case 2:
				fmt.Fprint(w, `{"state":"running"}`)
			default:
				fmt.Fprint(w, `{"state":"done"}`)
			}
		})
		rep := &Repeat{
			Retry: &Retry{On: []int{429}, Max: 1, Backoff: Backoff{Kind: BackoffRetryAfter}},
			Until: &Until{Holds: jobDone, Every: time.Second, Timeout: 10 * time.Second},
		}
		res, took := runRepeat(t, context.Background(), h, rep, 0)
		tot := res.Total
		// 429, 1s, running, 1s, 429, 1s, done.
		if tot.Requests != 4 || tot.Retries != 2 || tot.Retried != 2 || tot.Errors != 0 || took != 3*time.Second {
			t.Errorf("requests %d retries %d retried %d errors %d took %v; want 4, 2, 2, 0, 3s", tot.Requests, tot.Retries, tot.Retried, tot.Errors, took)
		}
	})
}

// TestStopDuringBackoff stops a run while a retry waits out a long
// Retry-After: the run ends at once, the iteration aborted, not failed.
func TestStopDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h, _ := answers([]int{429}, func(_ int, h http.Header) { h.Set("Retry-After", "20") })
		go func() {
			time.Sleep(time.Second) // the bubble's clock: the stop comes during the 20s wait
			cancel()
		}()
		rep := &Repeat{Retry: &Retry{On: []int{429}, Max: 3, Backoff: Backoff{Kind: BackoffRetryAfter}}}
		res, took := runRepeat(t, ctx, h, rep, 0)
		if took > time.Second+100*time.Millisecond {
			t.Errorf("the run took %v after the stop at 1s", took)
		}
		if res.Iterations.Aborted != 1 || res.Total.Requests != 1 || res.Total.Retries != 1 {
			t.Errorf("iterations %+v, requests %d, retries %d; want one aborted iteration after one retried attempt", res.Iterations, res.Total.Requests, res.Total.Retries)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"120", 2 * time.Minute, true}, {" 5 ", 5 * time.Second, true},
		{"Wed, 02 Dec 2026 01:00:30 GMT", 30 * time.Second, true},
		{"Wed, 02 Dec 2026 00:59:00 GMT", 0, true},
		{"Wednesday, 02-Dec-26 01:01:00 GMT", time.Minute, true},
		{"-1", 0, false}, {"1.5", 0, false}, {"soon", 0, false}, {"", 0, false},
		{"99999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
