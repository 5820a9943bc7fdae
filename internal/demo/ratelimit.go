package demo

import (
	"time"
)

// The rate-limit lab's three algorithms. Each allows on average limit
// requests per window, and each fails differently at the edges:
//
//   - fixed window: a window opens with a client's first request and counts
//     up to limit; the next request after it ends opens the next one (as
//     GitHub's API does). A client quiet for most of a window can send its
//     whole quota just before the boundary and a whole new one just after:
//     up to 2×limit in a moment.
//   - sliding window (a log of the admitted requests' times): never more
//     than limit in any span of one window, wherever it starts; it keeps a
//     time per admitted request.
//   - token bucket: tokens refill at limit/window up to burst; a request
//     takes one. Traffic passes at the refill rate, after a first burst.

// limitPolicy is what a limiter allows.
type limitPolicy struct {
	limit  int
	window time.Duration
	// burst is the token bucket's capacity.
	burst int
}

// rate is the average rate the policy allows, per second.
func (p limitPolicy) rate() float64 { return float64(p.limit) / p.window.Seconds() }

// decision is a limiter's answer to one request.
type decision struct {
	allowed bool
	// remaining is how many more requests would be allowed right now.
	remaining int
	// reset is how long until the quota is whole again (fixed window: the
	// window's end; sliding window: until the oldest counted request leaves
	// it; token bucket: until the bucket is full).
	reset time.Duration
	// retryAfter, when denied, is how long until a request would be
	// allowed.
	retryAfter time.Duration
}

// limiter is the state of one client under one algorithm and policy.
type limiter interface {
	allow(p limitPolicy, now time.Time) decision
	// idle reports whether the state says nothing any more at now (the
	// client has been quiet long enough that a fresh state would answer
	// the same), so the store may drop it.
	idle(p limitPolicy, now time.Time) bool
}

// fixedWindow counts the requests of the current window.
type fixedWindow struct {
	start time.Time
	count int
}

func (s *fixedWindow) allow(p limitPolicy, now time.Time) decision {
	if s.start.IsZero() || now.Sub(s.start) >= p.window {
		s.start, s.count = now, 0
	}
	reset := s.start.Add(p.window).Sub(now)
	if s.count < p.limit {
		s.count++
		return decision{allowed: true, remaining: p.limit - s.count, reset: reset}
	}
	return decision{reset: reset, retryAfter: reset}
}

func (s *fixedWindow) idle(p limitPolicy, now time.Time) bool {
	return now.Sub(s.start) >= p.window
}

// slidingLog keeps the times of the requests admitted in the last window,
// oldest first, in a ring of limit entries.
type slidingLog struct {
	times []time.Time
	head  int
	n     int
}

// expire drops the admitted times that are a window or more old.
func (s *slidingLog) expire(p limitPolicy, now time.Time) {
	for s.n > 0 && now.Sub(s.times[s.head]) >= p.window {
		s.head = (s.head + 1) % len(s.times)
		s.n--
	}
}

func (s *slidingLog) allow(p limitPolicy, now time.Time) decision {
	if s.times == nil {
		s.times = make([]time.Time, p.limit)
	}
	s.expire(p, now)
	if s.n < p.limit {
		s.times[(s.head+s.n)%len(s.times)] = now
		s.n++
		return decision{allowed: true, remaining: p.limit - s.n, reset: s.times[s.head].Add(p.window).Sub(now)}
	}
	wait := s.times[s.head].Add(p.window).Sub(now)
	return decision{reset: wait, retryAfter: wait}
}

func (s *slidingLog) idle(p limitPolicy, now time.Time) bool {
	s.expire(p, now)
	return s.n == 0
}

// tokenBucket holds up to burst tokens, refilled continuously.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (s *tokenBucket) refill(p limitPolicy, now time.Time) {
	if s.last.IsZero() {
		s.tokens, s.last = float64(p.burst), now
		return
	}
	if dt := now.Sub(s.last); dt > 0 {
		s.tokens = min(float64(p.burst), s.tokens+dt.Seconds()*p.rate())
		s.last = now
	}
}

func (s *tokenBucket) allow(p limitPolicy, now time.Time) decision {
	s.refill(p, now)
	if s.tokens >= 1 {
		s.tokens--
		return decision{allowed: true, remaining: int(s.tokens), reset: s.untilFull(p)}
	}
	wait := time.Duration((1 - s.tokens) / p.rate() * float64(time.Second))
	return decision{reset: s.untilFull(p), retryAfter: wait}
}

func (s *tokenBucket) untilFull(p limitPolicy) time.Duration {
	return time.Duration((float64(p.burst) - s.tokens) / p.rate() * float64(time.Second))
}

func (s *tokenBucket) idle(p limitPolicy, now time.Time) bool {
	s.refill(p, now)
	return s.tokens >= float64(p.burst)
}
