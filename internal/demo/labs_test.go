package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// get sends one request to h and returns the recorder.
func get(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// bubbleHandler returns a handler made inside the synctest bubble of t, so
// that its background jobs and its clocks belong to the bubble.
func bubbleHandler(t *testing.T, db *DB) *Handler {
	t.Helper()
	h, err := NewHandler(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("status %d, body is not the JSON expected: %v\n%s", rec.Code, err, rec.Body)
	}
	return v
}

func TestFeedNPlusOneAndJoinAgree(t *testing.T) {
	db, h := openTest(t, 500)
	for _, page := range []string{"1", "3"} {
		n1 := get(h, "GET", "/api/feed/n-plus-one?per_page=25&page="+page)
		join := get(h, "GET", "/api/feed/join?per_page=25&page="+page)
		if n1.Code != 200 || join.Code != 200 {
			t.Fatalf("page %s: %d %s / %d %s", page, n1.Code, n1.Body, join.Code, join.Body)
		}
		a, b := decode[FeedPage](t, n1), decode[FeedPage](t, join)
		if len(a.Posts) != 25 || len(b.Posts) != 25 {
			t.Fatalf("page %s: %d and %d posts, want 25", page, len(a.Posts), len(b.Posts))
		}
		for i := range a.Posts {
			if a.Posts[i] != b.Posts[i] {
				t.Fatalf("page %s post %d: n+1 %+v, join %+v", page, i, a.Posts[i], b.Posts[i])
			}
			var name string
			if err := db.reader.QueryRow("SELECT u.name FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = ?", a.Posts[i].ID).Scan(&name); err != nil {
				t.Fatal(err)
			}
			if a.Posts[i].Author.Name != name {
				t.Errorf("post %d: author %q, want %q", a.Posts[i].ID, a.Posts[i].Author.Name, name)
			}
		}
		if a.Queries != 26 || n1.Header().Get("X-DB-Queries") != "26" {
			t.Errorf("n+1: %d queries, X-DB-Queries %q; want 26", a.Queries, n1.Header().Get("X-DB-Queries"))
		}
		if b.Queries != 1 || join.Header().Get("X-DB-Queries") != "1" {
			t.Errorf("join: %d queries, X-DB-Queries %q; want 1", b.Queries, join.Header().Get("X-DB-Queries"))
		}
	}
	offsetPage := decode[OffsetPage](t, get(h, "GET", "/api/posts?per_page=25"))
	feed := decode[FeedPage](t, get(h, "GET", "/api/feed/join?per_page=25"))
	for i := range feed.Posts {
		if feed.Posts[i].ID != offsetPage.Posts[i].ID {
			t.Fatalf("the feed is not the newest posts: %d at %d, /api/posts has %d", feed.Posts[i].ID, i, offsetPage.Posts[i].ID)
		}
	}
	for _, target := range []string{"/api/feed/join?per_page=0", "/api/feed/n-plus-one?page=101", "/api/feed/join?per_page=x"} {
		if rec := get(h, "GET", target); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", target, rec.Code)
		}
	}
}

// fakeAggregate stands in for the aggregate: each computation blocks until
// the test releases it, and says which computation it was.
type fakeAggregate struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
	fail    error
}

func (f *fakeAggregate) compute(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	select {
	case <-f.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.fail != nil {
		return nil, f.fail
	}
	return []byte(`{"computation":` + strconv.Itoa(n) + "}\n"), nil
}

// TestCacheHitMissAndExpiry: the first request misses, the next ones hit
// until the TTL passes, and each ttl and each endpoint has its own entry.
func TestCacheHitMissAndExpiry(t *testing.T) {
	db, h := openTest(t, 10)
	synctest.Test(t, func(t *testing.T) {
		h := bubbleHandler(t, db)
		f := &fakeAggregate{release: make(chan struct{})}
		close(f.release)
		h.cache = newAggregateCache(f.compute)
		steps := []struct {
			target, xcache, body string
			wait                 time.Duration
		}{
			{"/api/stats/top-authors/cached", "MISS", `{"computation":1}`, 0},
			{"/api/stats/top-authors/cached", "HIT", `{"computation":1}`, 1500 * time.Millisecond},
			{"/api/stats/top-authors/cached?ttl=2s", "HIT", `{"computation":1}`, 0},
			{"/api/stats/top-authors/cached", "MISS", `{"computation":2}`, 500 * time.Millisecond},
			{"/api/stats/top-authors/cached?ttl=5s", "MISS", `{"computation":3}`, 0},
			{"/api/stats/top-authors/single-flight", "MISS", `{"computation":4}`, 0},
			{"/api/stats/top-authors/single-flight", "HIT", `{"computation":4}`, 0},
			{"/api/stats/top-authors", "", `{"computation":5}`, 0},
			{"/api/stats/top-authors", "", `{"computation":6}`, 0},
			{"/api/stats/top-authors/cached", "HIT", `{"computation":2}`, 0},
		}
		for i, s := range steps {
			time.Sleep(s.wait)
			rec := get(h, "GET", s.target)
			if rec.Code != 200 || rec.Header().Get("X-Cache") != s.xcache || rec.Body.String() != s.body+"\n" {
				t.Errorf("step %d %s: %d X-Cache %q %s; want X-Cache %q %s", i, s.target, rec.Code, rec.Header().Get("X-Cache"), rec.Body, s.xcache, s.body)
			}
		}
		if age := get(h, "GET", "/api/stats/top-authors/cached?ttl=5s").Header().Get("Age"); age != "0" {
			t.Errorf("Age %q, want 0", age)
		}
		time.Sleep(3 * time.Second)
		if age := get(h, "GET", "/api/stats/top-authors/cached?ttl=5s").Header().Get("Age"); age != "3" {
			t.Errorf("Age %q after 3s, want 3", age)
		}
	})
	for _, target := range []string{"/api/stats/top-authors/cached?ttl=1ms", "/api/stats/top-authors/single-flight?ttl=2m", "/api/stats/top-authors/cached?ttl=x", "/api/stats/top-authors/cached?ttl=1s&ttl=2s"} {
		if rec := get(h, "GET", target); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", target, rec.Code)
		}
	}
}

// TestCacheStampedeAndSingleFlight: requests that arrive while the entry is
// being recomputed each recompute it on the plain cache (the stampede), and
// share one computation with single flight.
func TestCacheStampedeAndSingleFlight(t *testing.T) {
	db, _ := openTest(t, 10)
	for _, tc := range []struct {
		path         string
		computations int
		misses       int
	}{
		{"/api/stats/top-authors/cached", 8, 8},
		{"/api/stats/top-authors/single-flight", 1, 1},
	} {
		t.Run(tc.path, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := bubbleHandler(t, db)
				f := &fakeAggregate{release: make(chan struct{})}
				h.cache = newAggregateCache(f.compute)
				recs := make([]*httptest.ResponseRecorder, 8)
				var wg sync.WaitGroup
				for i := range recs {
					wg.Go(func() { recs[i] = get(h, "GET", tc.path) })
				}
				synctest.Wait() // all eight are in: computing, or waiting for the one computation
				if int(h.cache.computations.Load()) != tc.computations {
					t.Errorf("%d computations running, want %d", h.cache.computations.Load(), tc.computations)
				}
				close(f.release)
				wg.Wait()
				misses := 0
				for _, rec := range recs {
					if rec.Code != 200 {
						t.Fatalf("%d %s", rec.Code, rec.Body)
					}
					if rec.Header().Get("X-Cache") == "MISS" {
						misses++
					}
				}
				if misses != tc.misses {
					t.Errorf("%d misses, want %d", misses, tc.misses)
				}
			})
		})
	}
}

// TestSingleFlightSurvivesItsLeader: the request that started the
// computation going away does not fail the ones waiting for it; a failed
// computation fails them all and stores nothing.
func TestSingleFlightSurvivesItsLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAggregate{release: make(chan struct{})}
		c := newAggregateCache(f.compute)
		leaderCtx, cancel := context.WithCancel(context.Background())
		var leaderErr error
		var wg sync.WaitGroup
		wg.Go(func() { _, _, leaderErr = c.getOrJoin(leaderCtx, time.Second) })
		synctest.Wait()
		var follower cacheEntry
		var followerErr error
		wg.Go(func() { follower, _, followerErr = c.getOrJoin(context.Background(), time.Second) })
		synctest.Wait()
		cancel()
		synctest.Wait()
		close(f.release)
		wg.Wait()
		if !errors.Is(leaderErr, context.Canceled) {
			t.Errorf("leader: %v, want its own cancellation", leaderErr)
		}
		if followerErr != nil || string(follower.body) != "{\"computation\":1}\n" {
			t.Errorf("follower: %q %v", follower.body, followerErr)
		}

		f2 := &fakeAggregate{release: make(chan struct{}), fail: errors.New("disk on fire")}
		c2 := newAggregateCache(f2.compute)
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = c2.getOrJoin(context.Background(), time.Second) })
		}
		synctest.Wait()
		close(f2.release)
		wg.Wait()
		for i, err := range errs {
			if err == nil || err.Error() != "disk on fire" {
				t.Errorf("request %d: %v, want the computation's error", i, err)
			}
		}
		if _, ok := c2.lookup(entryKey{ttl: time.Second, singleFlight: true}); ok {
			t.Error("a failed computation was stored")
		}
	})
}

func TestTopAuthorsIsTheAggregate(t *testing.T) {
	db, h := openTest(t, 5000)
	rec := get(h, "GET", "/api/stats/top-authors")
	if rec.Code != 200 || rec.Header().Get("X-Cache") != "" || rec.Header().Get("Server-Timing") == "" {
		t.Fatalf("%d X-Cache %q Server-Timing %q %s", rec.Code, rec.Header().Get("X-Cache"), rec.Header().Get("Server-Timing"), rec.Body)
	}
	got := decode[TopAuthors](t, rec)
	since, err := time.Parse(time.RFC3339, got.Since)
	if err != nil {
		t.Fatal(err)
	}
	// The same figures, counted the slow and obvious way.
	counts := map[int64]int64{}
	rows, err := db.reader.Query("SELECT user_id FROM posts WHERE created_at >= ?", since.Unix())
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var uid int64
		if err := rows.Scan(&uid); err != nil {
			t.Fatal(err)
		}
		counts[uid]++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got.Authors) != 10 {
		t.Fatalf("%d authors, want 10", len(got.Authors))
	}
	for i, a := range got.Authors {
		if counts[a.ID] != a.Posts {
			t.Errorf("author %d: %d posts, counted %d", a.ID, a.Posts, counts[a.ID])
		}
		if i > 0 && a.Posts > got.Authors[i-1].Posts {
			t.Errorf("not sorted by posts: %+v", got.Authors)
		}
		delete(counts, a.ID)
	}
	for uid, n := range counts {
		if n > got.Authors[9].Posts {
			t.Errorf("user %d has %d posts, more than the tenth of the top ten", uid, n)
		}
	}
}

func TestRateLimitEndpoint(t *testing.T) {
	db, h := openTest(t, 10)
	synctest.Test(t, func(t *testing.T) {
		h := bubbleHandler(t, db)
		target := "/api/limited/fixed-window?limit=3&window=10s"
		for i := range 3 {
			rec := get(h, "GET", target, "X-Client-Id", "a")
			if rec.Code != 200 {
				t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
			}
			want := map[string]string{
				"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": strconv.Itoa(2 - i), "X-RateLimit-Reset": "10",
				"RateLimit-Policy": `"fixed-window";q=3;w=10`, "RateLimit": `"fixed-window";r=` + strconv.Itoa(2-i) + ";t=10",
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("request %d: %s %q, want %q", i, k, got, v)
				}
			}
		}
		time.Sleep(2500 * time.Millisecond)
		rec := get(h, "GET", target, "X-Client-Id", "a")
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "8" || rec.Header().Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("over the limit: %d Retry-After %q Remaining %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("X-RateLimit-Remaining"), rec.Body)
		}
		if rec := get(h, "GET", target, "X-Client-Id", "b"); rec.Code != 200 {
			t.Errorf("another client shares the first one's quota: %d", rec.Code)
		}
		if rec := get(h, "GET", "/api/limited/fixed-window?limit=4&window=10s", "X-Client-Id", "a"); rec.Code != 200 {
			t.Errorf("another policy shares the first one's state: %d", rec.Code)
		}
		time.Sleep(7500 * time.Millisecond)
		if rec := get(h, "GET", target, "X-Client-Id", "a"); rec.Code != 200 {
			t.Errorf("a new window: %d %s", rec.Code, rec.Body)
		}

		tb := "/api/limited/token-bucket?limit=10&window=1s&burst=2"
		for i, want := range []int{200, 200, 429} {
			rec := get(h, "GET", tb)
			if rec.Code != want {
				t.Fatalf("token bucket request %d: %d, want %d", i, rec.Code, want)
			}
			if i == 0 && rec.Header().Get("RateLimit-Policy") != `"token-bucket";q=2;w=1` {
				t.Errorf("token bucket policy %q", rec.Header().Get("RateLimit-Policy"))
			}
			if want == 429 && rec.Header().Get("Retry-After") != "1" {
				t.Errorf("token bucket Retry-After %q, want 1 (rounded up from 100ms)", rec.Header().Get("Retry-After"))
			}
		}
	})
	for target, want := range map[string]int{
		"/api/limited/leaky-bucket":              404,
		"/api/limited/fixed-window?limit=0":      400,
		"/api/limited/fixed-window?limit=1001":   400,
		"/api/limited/sliding-window?window=1ms": 400,
		"/api/limited/token-bucket?burst=x":      400,
	} {
		if rec := get(h, "GET", target); rec.Code != want {
			t.Errorf("%s: %d, want %d", target, rec.Code, want)
		}
	}
	if rec := get(h, "GET", "/api/limited/fixed-window", "X-Client-Id", string(make([]byte, 65))); rec.Code != 400 {
		t.Errorf("a 65-byte X-Client-Id: %d, want 400", rec.Code)
	}
}

// TestLimitersAtTheBoundary drives each algorithm with the same traffic on
// a fake clock: quiet for most of a window, then a burst across its end.
// The fixed window lets two quotas through in a moment, the sliding window
// never more than one quota per window, the token bucket its burst plus its
// refill.
func TestLimitersAtTheBoundary(t *testing.T) {
	p := limitPolicy{limit: 100, window: 10 * time.Second, burst: 20}
	start := time.Unix(1_700_000_000, 0)
	type arrival struct {
		at      time.Duration
		allowed bool
	}
	// 2/s for 8s (the first request opens the fixed window at 0), then 40/s
	// from 8s to 12s.
	var times []time.Duration
	for i := range 16 {
		times = append(times, time.Duration(i)*500*time.Millisecond)
	}
	for i := range 160 {
		times = append(times, 8*time.Second+time.Duration(i)*25*time.Millisecond)
	}
	inSpan := func(arr []arrival, from, to time.Duration) int {
		n := 0
		for _, a := range arr {
			if a.allowed && a.at >= from && a.at < to {
				n++
			}
		}
		return n
	}
	maxInWindow := func(arr []arrival) int {
		best := 0
		for _, a := range arr {
			best = max(best, inSpan(arr, a.at, a.at+p.window))
		}
		return best
	}
	for _, tc := range []struct {
		algorithm        string
		burst, maxWindow int // admitted in [8s, 12s), and in any 10 s
	}{
		{"fixed-window", 160, 172},  // two whole quotas: 80 before the boundary at 10s, 80 after
		{"sliding-window", 88, 100}, // 4 left at 8s, and 4 more as the requests of 0s…1.5s leave the window
		{"token-bucket", 59, 71},    // a full bucket of 20, then 10/s
	} {
		l := algorithms[tc.algorithm]()
		var arr []arrival
		for _, at := range times {
			d := l.allow(p, start.Add(at))
			arr = append(arr, arrival{at, d.allowed})
			if !d.allowed && d.retryAfter <= 0 {
				t.Errorf("%s: denied at %v with Retry-After %v", tc.algorithm, at, d.retryAfter)
			}
		}
		if got := inSpan(arr, 8*time.Second, 12*time.Second); got != tc.burst {
			t.Errorf("%s: %d admitted from 8s to 12s, want %d", tc.algorithm, got, tc.burst)
		}
		if got := maxInWindow(arr); got != tc.maxWindow {
			t.Errorf("%s: at most %d admitted in 10s, want %d", tc.algorithm, got, tc.maxWindow)
		}
	}
}

func TestLimiterIdleAndEviction(t *testing.T) {
	p := limitPolicy{limit: 2, window: time.Second, burst: 2}
	t0 := time.Unix(1_700_000_000, 0)
	for name, mk := range algorithms {
		l := mk()
		l.allow(p, t0)
		if l.idle(p, t0.Add(100*time.Millisecond)) {
			t.Errorf("%s: idle right after a request", name)
		}
		if !l.idle(p, t0.Add(2*time.Second)) {
			t.Errorf("%s: not idle after two quiet windows", name)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		ls := newLimiters()
		for i := range maxLimiters + 10 {
			ls.allow(limiterKey{algorithm: "sliding-window", client: strconv.Itoa(i), policy: p})
		}
		if n := len(ls.state); n > maxLimiters {
			t.Errorf("%d states kept, want at most %d", n, maxLimiters)
		}
		ls = newLimiters()
		for i := range maxLimiters {
			ls.allow(limiterKey{algorithm: "token-bucket", client: strconv.Itoa(i), policy: p})
		}
		time.Sleep(2 * time.Second)
		ls.allow(limiterKey{algorithm: "fixed-window", client: "late", policy: p})
		if n := len(ls.state); n != 1 {
			t.Errorf("%d states kept after the store filled up with idle ones, want only the new one", n)
		}
	})
}

func TestExportJobs(t *testing.T) {
	db, h := openTest(t, 200)
	synctest.Test(t, func(t *testing.T) {
		h := bubbleHandler(t, db)
		h.jobs = newJobQueue(func(ctx context.Context, uid int64, d time.Duration) (Export, error) {
			time.Sleep(d)
			return Export{UserID: uid, Posts: 7, DurationMS: float64(d.Milliseconds())}, nil
		})
		t.Cleanup(h.jobs.close)
		start := time.Now()
		rec := get(h, "POST", "/api/exports/sync?user=3&duration=2s")
		if rec.Code != 200 || time.Since(start) < 2*time.Second {
			t.Fatalf("sync: %d after %v: %s", rec.Code, time.Since(start), rec.Body)
		}

		start = time.Now()
		rec = get(h, "POST", "/api/exports?user=3&duration=2s")
		if rec.Code != 202 || time.Since(start) != 0 {
			t.Fatalf("async: %d after %v: %s", rec.Code, time.Since(start), rec.Body)
		}
		st := decode[JobStatus](t, rec)
		if st.Status != jobQueued || st.StatusURL != "/api/exports/"+st.ID || rec.Header().Get("Location") != st.StatusURL {
			t.Fatalf("accepted: %+v, Location %q", st, rec.Header().Get("Location"))
		}
		synctest.Wait()
		rec = get(h, "GET", st.StatusURL)
		if s := decode[JobStatus](t, rec); rec.Code != 200 || s.Status != jobRunning || rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("while running: %d %+v Retry-After %q", rec.Code, s, rec.Header().Get("Retry-After"))
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		rec = get(h, "GET", st.StatusURL)
		s := decode[JobStatus](t, rec)
		if rec.Code != 200 || s.Status != jobDone || s.Result == nil || s.Result.UserID != 3 || rec.Header().Get("Retry-After") != "" {
			t.Fatalf("done: %d %+v Retry-After %q", rec.Code, s, rec.Header().Get("Retry-After"))
		}
	})
	for target, want := range map[string]int{
		"/api/exports?user=0":                 400,
		"/api/exports?user=51":                400,
		"/api/exports?duration=11s":           400,
		"/api/exports/sync?duration=1ms":      400,
		"/api/exports?user=1&duration=1s&x=1": 202,
	} {
		if rec := get(h, "POST", target); rec.Code != want {
			t.Errorf("POST %s: %d, want %d", target, rec.Code, want)
		}
	}
	if rec := get(h, "GET", "/api/exports/nope"); rec.Code != 404 {
		t.Errorf("unknown job: %d", rec.Code)
	}
}

// TestExportQueueBounds: at most jobWorkers jobs run at once, the rest wait
// queued; close cancels them all and later submissions get 503.
func TestExportQueueBounds(t *testing.T) {
	db, _ := openTest(t, 10)
	synctest.Test(t, func(t *testing.T) {
		h := bubbleHandler(t, db)
		var mu sync.Mutex
		running, most := 0, 0
		h.jobs = newJobQueue(func(ctx context.Context, uid int64, d time.Duration) (Export, error) {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			select {
			case <-time.After(d):
				return Export{UserID: uid}, nil
			case <-ctx.Done():
				return Export{}, ctx.Err()
			}
		})
		var ids []string
		for range jobWorkers + 5 {
			ids = append(ids, decode[JobStatus](t, get(h, "POST", "/api/exports?duration=1s")).ID)
		}
		synctest.Wait()
		mu.Lock()
		if most != jobWorkers {
			t.Errorf("%d jobs ran at once, want %d", most, jobWorkers)
		}
		mu.Unlock()
		states := map[string]int{}
		for _, id := range ids {
			states[decode[JobStatus](t, get(h, "GET", jobURL(id))).Status]++
		}
		if states[jobRunning] != jobWorkers || states[jobQueued] != 5 {
			t.Errorf("jobs by state: %v, want %d running and 5 queued", states, jobWorkers)
		}
		h.Close()
		for _, id := range []string{ids[0], ids[len(ids)-1]} {
			if s := decode[JobStatus](t, get(h, "GET", jobURL(id))); s.Status != jobFailed || s.Error == "" {
				t.Errorf("after close: %+v, want failed", s)
			}
		}
		if rec := get(h, "POST", "/api/exports"); rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
			t.Errorf("after close: %d Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
}

func TestExportReadsTheDatabase(t *testing.T) {
	db, _ := openTest(t, 300)
	start := time.Now()
	e, err := db.export(context.Background(), 7, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := db.reader.QueryRow("SELECT count(*) FROM posts WHERE user_id = 7").Scan(&want); err != nil {
		t.Fatal(err)
	}
	if e.Posts != want || e.UserID != 7 || e.Chars <= 0 {
		t.Errorf("export %+v, want %d posts", e, want)
	}
	if took := time.Since(start); took < 20*time.Millisecond || e.DurationMS < 20 {
		t.Errorf("took %v (%.1f ms reported), want at least the job's 20ms", took, e.DurationMS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.export(ctx, 7, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
}
