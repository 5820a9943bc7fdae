package demo

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// timingTest skips a test whose assertions are about wall-clock time unless
// TAILGATE_TIMING_TESTS=1 and the race detector is off: .ci/run runs these
// alone, in its timing step, where the machine is not busy with the rest of
// the suite.
func timingTest(t *testing.T) {
	t.Helper()
	if raceEnabled || os.Getenv("TAILGATE_TIMING_TESTS") == "" {
		t.Skip("timing test: set TAILGATE_TIMING_TESTS=1 and run it without -race")
	}
}

// interleavedMedians calls each target of h rounds times, round-robin so that
// machine noise hits every target alike, after one unmeasured warm-up call
// each, and returns each target's median handler time.
func interleavedMedians(t *testing.T, h http.Handler, rounds int, targets ...string) []time.Duration {
	t.Helper()
	call := func(target string) time.Duration {
		req := httptest.NewRequest("GET", target, nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return d
	}
	times := make([][]time.Duration, len(targets))
	for _, target := range targets {
		call(target)
	}
	for range rounds {
		for i, target := range targets {
			times[i] = append(times[i], call(target))
		}
	}
	out := make([]time.Duration, len(targets))
	for i, ts := range times {
		slices.Sort(ts)
		out[i] = ts[len(ts)/2]
	}
	return out
}

// TestNPlusOneShape checks the N+1 lab's picture on a small table: a page
// of 50 posts that loads each author with a query of its own takes at least
// 5× as long as the same page read with one JOIN.
func TestNPlusOneShape(t *testing.T) {
	timingTest(t)
	_, h := openTest(t, 20_000)
	m := interleavedMedians(t, h, 40, "/api/feed/n-plus-one?per_page=50", "/api/feed/join?per_page=50")
	ratio := float64(m[0]) / float64(m[1])
	t.Logf("median page of 50: one query per post %v, one JOIN %v (%.1f×)", m[0], m[1], ratio)
	if ratio < 5 {
		t.Errorf("N+1 is only %.1f× the JOIN, want ≥ 5×", ratio)
	}
}

// TestCacheShape checks the cache lab's picture: a hit of the cached
// aggregate is at least 10× faster than a miss. The cache's clock is moved
// past the TTL to make each miss, so the misses run the real query.
func TestCacheShape(t *testing.T) {
	timingTest(t)
	_, h := openTest(t, 20_000)
	clock := time.Now()
	h.cache.now = func() time.Time { return clock }
	const target = "/api/stats/top-authors/cached?ttl=1s"
	call := func(want string) time.Duration {
		start := time.Now()
		rec := get(h, "GET", target)
		d := time.Since(start)
		if rec.Code != http.StatusOK || rec.Header().Get("X-Cache") != want {
			t.Fatalf("%d X-Cache %q, want 200 %s: %s", rec.Code, rec.Header().Get("X-Cache"), want, rec.Body)
		}
		return d
	}
	call("MISS") // warm the page cache
	var hits, misses []time.Duration
	for range 15 {
		clock = clock.Add(time.Second)
		misses = append(misses, call("MISS"))
		for range 3 {
			hits = append(hits, call("HIT"))
		}
	}
	slices.Sort(hits)
	slices.Sort(misses)
	hit, miss := hits[len(hits)/2], misses[len(misses)/2]
	ratio := float64(miss) / float64(hit)
	t.Logf("median: miss %v, hit %v (%.0f×)", miss, hit, ratio)
	if ratio < 10 {
		t.Errorf("a miss is only %.1f× a hit, want ≥ 10×", ratio)
	}
}

// TestRateLimitShape checks the rate-limit lab's picture on the real clock:
// a client quiet for most of a 1 s window that then sends 40 requests
// spread over the 400 ms around the window's end gets 1.5× the limit of 20
// through the fixed window, and at most the limit through the sliding one.
func TestRateLimitShape(t *testing.T) {
	timingTest(t)
	_, h := openTest(t, 10)
	admitted := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, alg := range []string{"fixed-window", "sliding-window", "token-bucket"} {
		wg.Go(func() {
			target := "/api/limited/" + alg + "?limit=20&window=1s"
			start := time.Now()
			n := 0
			send := func(at time.Duration) {
				time.Sleep(time.Until(start.Add(at)))
				if get(h, "GET", target, "X-Client-Id", "shape").Code == http.StatusOK {
					n++
				}
			}
			send(0) // opens the fixed window
			for i := range 40 {
				send(800*time.Millisecond + time.Duration(i)*10*time.Millisecond)
			}
			mu.Lock()
			admitted[alg] = n - 1
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("admitted of 40 around the boundary: %v", admitted)
	if admitted["fixed-window"] < 30 {
		t.Errorf("fixed window: %d of 40 through around its boundary, want ≥ 30 (1.5× its limit of 20)", admitted["fixed-window"])
	}
	if admitted["sliding-window"] > 20 {
		t.Errorf("sliding window: %d of 40 through in 400ms, want at most its limit of 20", admitted["sliding-window"])
	}
	if admitted["token-bucket"] > 4+10 {
		t.Errorf("token bucket: %d of 40 through in 400ms, want at most its burst of 4 and 8 refilled (+2 for timer slack)", admitted["token-bucket"])
	}
}

// TestJobsShape checks the jobs lab's picture: the synchronous export takes
// the job's duration, while with 202 + poll every request stays fast
// whatever the job's duration and the whole flow (submit, then poll until
// done) takes the job's duration plus at most one poll interval.
func TestJobsShape(t *testing.T) {
	timingTest(t)
	_, h := openTest(t, 2_000)
	const every = 50 * time.Millisecond
	const slack = 60 * time.Millisecond
	timed := func(method, target string) (*httptest.ResponseRecorder, time.Duration) {
		start := time.Now()
		rec := get(h, method, target)
		return rec, time.Since(start)
	}
	var slowest time.Duration
	for _, d := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond} {
		q := "?user=5&duration=" + d.String()
		rec, sync := timed("POST", "/api/exports/sync"+q)
		if rec.Code != http.StatusOK || sync < d || sync > d+slack {
			t.Errorf("sync %v: %d after %v, want 200 after %v…%v", d, rec.Code, sync, d, d+slack)
		}
		flowStart := time.Now()
		rec, took := timed("POST", "/api/exports"+q)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("async %v: %d %s", d, rec.Code, rec.Body)
		}
		slowest = max(slowest, took)
		loc := rec.Header().Get("Location")
		for {
			time.Sleep(every)
			rec, took := timed("GET", loc)
			slowest = max(slowest, took)
			if decode[JobStatus](t, rec).Status == jobDone {
				break
			}
			if time.Since(flowStart) > 10*d {
				t.Fatalf("async %v: not done after %v", d, time.Since(flowStart))
			}
		}
		flow := time.Since(flowStart)
		t.Logf("job %v: sync request %v; 202 + poll: flow %v", d, sync, flow)
		if flow < d || flow > d+every+slack {
			t.Errorf("async %v: the flow took %v, want %v…%v", d, flow, d, d+every+slack)
		}
	}
	t.Logf("slowest request of the 202 + poll flows: %v", slowest)
	if slowest > 20*time.Millisecond {
		t.Errorf("a request of the 202 + poll flows took %v, want every one under 20ms whatever the job's duration", slowest)
	}
}
