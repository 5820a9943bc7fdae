package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The cache lab: an expensive aggregate (the ten most active authors of the
// last three days, a GROUP BY over some 8,000 posts) served three ways:
//
//   - uncached: every request runs the query;
//   - cached with a TTL: a hit is a copy of stored bytes, a miss runs the
//     query; when the entry expires, every request that arrives before the
//     first recomputation finishes runs the query too (a stampede), and they
//     compete for the same CPUs;
//   - cached with single flight: on a miss one request computes and the
//     others that arrive meanwhile wait for its result, so the query runs
//     once per expiry.
//
// Responses carry X-Cache: HIT or MISS (the uncached endpoint none) and Age.
// A request that waited for another's computation is a HIT, as in nginx's
// proxy_cache_lock: it was served from the entry, not from the database,
// though its latency includes the wait.

// Bounds of the ttl parameter, and its default.
const (
	defaultCacheTTL = 2 * time.Second
	minCacheTTL     = 100 * time.Millisecond
	maxCacheTTL     = time.Minute
	// maxCacheEntries bounds the entries (one per ttl value a client asked
	// for); past it the cache starts over.
	maxCacheEntries = 64
	// aggregateWindow is how far back from the newest post the aggregate
	// looks.
	aggregateWindow = 3 * 24 * time.Hour
	// aggregateTimeout bounds a computation that no request waits for any
	// more.
	aggregateTimeout = 30 * time.Second
)

// The aggregate. INDEXED BY pins the plan to a range scan of the newest
// posts: on a small table, ANALYZE's statistics make the planner prefer a
// full scan, and the cost of a miss would then depend on the table's size
// instead of on the window.
const topAuthorsSQL = `SELECT p.user_id, u.name, count(*) AS posts, sum(p.published), sum(length(p.body))
FROM posts p INDEXED BY posts_created_at_id JOIN users u ON u.id = p.user_id
WHERE p.created_at >= ?
GROUP BY p.user_id ORDER BY posts DESC, p.user_id LIMIT 10`

// AuthorStats is one row of the top-authors aggregate.
type AuthorStats struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Posts     int64  `json:"posts"`
	Published int64  `json:"published"`
	Chars     int64  `json:"chars"`
}

// TopAuthors is the body of the /api/stats/top-authors endpoints.
type TopAuthors struct {
	Authors []AuthorStats `json:"authors"`
	// Since is the start of the window (the newest post's time minus three
	// days).
	Since string `json:"since"`
	// ComputedAt is when the aggregate was computed; ComputeMS how long it
	// took.
	ComputedAt string  `json:"computed_at"`
	ComputeMS  float64 `json:"compute_ms"`
}

// topAuthors runs the aggregate.
func (d *DB) topAuthors(ctx context.Context) (TopAuthors, error) {
	start := time.Now()
	d.mu.Lock()
	since := d.newestTime - int64(aggregateWindow/time.Second)
	d.mu.Unlock()
	rows, err := d.reader.QueryContext(ctx, topAuthorsSQL, since)
	if err != nil {
		return TopAuthors{}, fmt.Errorf("top authors: %w", err)
	}
	defer rows.Close()
	out := TopAuthors{Authors: make([]AuthorStats, 0, 10), Since: time.Unix(since, 0).UTC().Format(time.RFC3339)}
	for rows.Next() {
		var a AuthorStats
		if err := rows.Scan(&a.ID, &a.Name, &a.Posts, &a.Published, &a.Chars); err != nil {
			return TopAuthors{}, fmt.Errorf("top authors: %w", err)
		}
		out.Authors = append(out.Authors, a)
	}
	if err := rows.Err(); err != nil {
		return TopAuthors{}, fmt.Errorf("top authors: %w", err)
	}
	out.ComputedAt = time.Now().UTC().Format(time.RFC3339Nano)
	out.ComputeMS = float64(time.Since(start).Microseconds()) / 1000
	return out, nil
}

// aggregateCache holds the encoded aggregate per TTL, and the computations
// in flight for the single-flight endpoint.
type aggregateCache struct {
	// compute produces the body of a miss; tests replace it.
	compute func(ctx context.Context) ([]byte, error)
	now     func() time.Time
	// computations counts every run of compute, for tests and /health.
	computations atomic.Int64

	mu      sync.Mutex
	entries map[entryKey]cacheEntry
	flights map[time.Duration]*flight
}

// entryKey separates the two cached endpoints, so that one's misses never
// fill the other's entry.
type entryKey struct {
	ttl          time.Duration
	singleFlight bool
}

type cacheEntry struct {
	body     []byte
	computed time.Time
}

// flight is one computation that requests of the single-flight endpoint
// wait for.
type flight struct {
	done chan struct{}
	body []byte
	err  error
}

func newAggregateCache(compute func(context.Context) ([]byte, error)) *aggregateCache {
	return &aggregateCache{
		compute: compute,
		now:     time.Now,
		entries: map[entryKey]cacheEntry{},
		flights: map[time.Duration]*flight{},
	}
}

// lookup returns a fresh entry.
func (c *aggregateCache) lookup(k entryKey) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.now().Sub(e.computed) >= k.ttl {
		return cacheEntry{}, false
	}
	return e, true
}

// store keeps a computed body. c.mu must be held.
func (c *aggregateCache) storeLocked(k entryKey, body []byte, computed time.Time) {
	if _, ok := c.entries[k]; !ok && len(c.entries) >= maxCacheEntries {
		clear(c.entries)
	}
	c.entries[k] = cacheEntry{body: body, computed: computed}
}

func (c *aggregateCache) run(ctx context.Context) ([]byte, error) {
	c.computations.Add(1)
	return c.compute(ctx)
}

// getOrCompute is the TTL cache without protection: every request that
// finds no fresh entry computes one.
func (c *aggregateCache) getOrCompute(ctx context.Context, ttl time.Duration) (cacheEntry, bool, error) {
	k := entryKey{ttl: ttl}
	if e, ok := c.lookup(k); ok {
		return e, true, nil
	}
	body, err := c.run(ctx)
	if err != nil {
		return cacheEntry{}, false, err
	}
	e := cacheEntry{body: body, computed: c.now()}
	c.mu.Lock()
	c.storeLocked(k, body, e.computed)
	c.mu.Unlock()
	return e, false, nil
}

// getOrJoin is the TTL cache with single flight: the first request to find
// the entry stale starts the one computation, and it and every request
// arriving before it ends wait for that computation. The computation runs
// on a context of its own, so that the first request going away does not
// fail the others. hit is false only for the request that started it.
func (c *aggregateCache) getOrJoin(ctx context.Context, ttl time.Duration) (e cacheEntry, hit bool, err error) {
	k := entryKey{ttl: ttl, singleFlight: true}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok && c.now().Sub(e.computed) < ttl {
		c.mu.Unlock()
		return e, true, nil
	}
	f, joined := c.flights[ttl]
	if !joined {
		f = &flight{done: make(chan struct{})}
		c.flights[ttl] = f
		go c.fly(k, f, context.WithoutCancel(ctx))
	}
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return cacheEntry{}, false, fmt.Errorf("waiting for the aggregate: %w", ctx.Err())
	}
	if f.err != nil {
		return cacheEntry{}, false, f.err
	}
	c.mu.Lock()
	e = c.entries[k]
	c.mu.Unlock()
	return cacheEntry{body: f.body, computed: e.computed}, joined, nil
}

// fly runs one single-flight computation and publishes its result.
func (c *aggregateCache) fly(k entryKey, f *flight, ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, aggregateTimeout)
	defer cancel()
	f.body, f.err = c.run(ctx)
	c.mu.Lock()
	if f.err == nil {
		c.storeLocked(k, f.body, c.now())
	}
	delete(c.flights, k.ttl)
	c.mu.Unlock()
	close(f.done)
}

// ttlParam reads the optional ttl query parameter.
func ttlParam(q url.Values) (time.Duration, error) {
	vs, ok := q["ttl"]
	if !ok {
		return defaultCacheTTL, nil
	}
	if len(vs) != 1 {
		return 0, fmt.Errorf("ttl given %d times", len(vs))
	}
	d, err := time.ParseDuration(vs[0])
	if err != nil || d < minCacheTTL || d > maxCacheTTL {
		return 0, fmt.Errorf("ttl=%.20q: want a duration from %v to %v, such as 2s", vs[0], minCacheTTL, maxCacheTTL)
	}
	return d, nil
}

// encodeTopAuthors computes the aggregate and encodes it once, so that a
// hit costs a copy of bytes and no encoding.
func (h *Handler) encodeTopAuthors(ctx context.Context) ([]byte, error) {
	v, err := h.db.topAuthors(ctx)
	if err != nil {
		return nil, err
	}
	return encodeJSON(v)
}

func (h *Handler) topAuthorsUncached(w http.ResponseWriter, r *http.Request, _ url.Values) {
	start := time.Now()
	body, err := h.cache.run(r.Context())
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	serverTiming(w, start)
	h.replyBytes(w, http.StatusOK, body)
}

func (h *Handler) topAuthorsCached(w http.ResponseWriter, r *http.Request, q url.Values) {
	h.serveCached(w, r, q, h.cache.getOrCompute)
}

func (h *Handler) topAuthorsSingleFlight(w http.ResponseWriter, r *http.Request, q url.Values) {
	h.serveCached(w, r, q, h.cache.getOrJoin)
}

func (h *Handler) serveCached(w http.ResponseWriter, r *http.Request, q url.Values,
	get func(context.Context, time.Duration) (cacheEntry, bool, error)) {
	ttl, err := ttlParam(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	e, hit, err := get(r.Context(), ttl)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	if hit {
		w.Header().Set("X-Cache", "HIT")
	} else {
		w.Header().Set("X-Cache", "MISS")
	}
	age := max(h.cache.now().Sub(e.computed), 0)
	w.Header().Set("Age", strconv.FormatInt(int64(age/time.Second), 10))
	h.replyBytes(w, http.StatusOK, e.body)
}
