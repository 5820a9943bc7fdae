package demo

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Defaults and bounds of the rate-limit endpoint's parameters. Clients
// choose the policy so that the lab can show an edge in seconds; the
// bounds keep every client's state small.
const (
	defaultLimit  = 100
	defaultWindow = 10 * time.Second
	maxLimit      = 1000
	minWindow     = 100 * time.Millisecond
	maxWindow     = time.Hour
	// maxLimiters bounds the states kept (one per client, algorithm and
	// policy): past it the idle ones are dropped, and if none is idle the
	// store starts over.
	maxLimiters = 1024
	// maxClientID bounds the X-Client-Id a client names itself with.
	maxClientID = 64
)

// algorithms are the rate-limit endpoint's {algorithm} values.
var algorithms = map[string]func() limiter{
	"fixed-window":   func() limiter { return new(fixedWindow) },
	"sliding-window": func() limiter { return new(slidingLog) },
	"token-bucket":   func() limiter { return new(tokenBucket) },
}

type limiterKey struct {
	algorithm string
	client    string
	policy    limitPolicy
}

// limiters is the state of every client of the rate-limit endpoint.
type limiters struct {
	now func() time.Time

	mu    sync.Mutex
	state map[limiterKey]limiter
}

func newLimiters() *limiters {
	return &limiters{now: time.Now, state: map[limiterKey]limiter{}}
}

// allow decides one request of k's client.
func (l *limiters) allow(k limiterKey) decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s, ok := l.state[k]
	if !ok {
		if len(l.state) >= maxLimiters {
			for key, st := range l.state {
				if st.idle(key.policy, now) {
					delete(l.state, key)
				}
			}
			if len(l.state) >= maxLimiters {
				clear(l.state)
			}
		}
		s = algorithms[k.algorithm]()
		l.state[k] = s
	}
	return s.allow(k.policy, now)
}

// limitParams reads the policy from the query: limit, window and (token
// bucket) burst.
func limitParams(q url.Values) (limitPolicy, error) {
	p := limitPolicy{window: defaultWindow}
	var err error
	if p.limit, err = intParam(q, "limit", defaultLimit, maxLimit); err != nil {
		return p, err
	}
	if vs, ok := q["window"]; ok {
		d, perr := time.ParseDuration(vs[0])
		if len(vs) != 1 || perr != nil || d < minWindow || d > maxWindow {
			return p, fmt.Errorf("window=%.20q: want one duration from %v to %v, such as 10s", vs[0], minWindow, maxWindow)
		}
		p.window = d
	}
	if p.burst, err = intParam(q, "burst", max(1, p.limit/5), maxLimit); err != nil {
		return p, err
	}
	return p, nil
}

// clientOf names the client a limit applies to: its X-Client-Id, else its
// address.
func clientOf(r *http.Request) (string, error) {
	if id := r.Header.Get("X-Client-Id"); id != "" {
		if len(id) > maxClientID {
			return "", fmt.Errorf("X-Client-Id longer than %d bytes", maxClientID)
		}
		return "id:" + id, nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "addr:" + r.RemoteAddr, nil
	}
	return "addr:" + host, nil
}

// limited answers GET /api/limited/{algorithm}: 200 while the client is
// within its quota, else 429 with Retry-After. Every answer says where the
// client stands, in the X-RateLimit-* headers that most APIs send and in
// the IETF draft's RateLimit-Policy and RateLimit fields.
func (h *Handler) limited(w http.ResponseWriter, r *http.Request, q url.Values) {
	alg := r.PathValue("algorithm")
	if _, ok := algorithms[alg]; !ok {
		h.fail(w, http.StatusNotFound, "no rate-limit algorithm %.40q (fixed-window, sliding-window or token-bucket)", alg)
		return
	}
	p, err := limitParams(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	client, err := clientOf(r)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if alg != "token-bucket" {
		p.burst = 0 // one state per policy that matters
	}
	d := h.limits.allow(limiterKey{algorithm: alg, client: client, policy: p})
	// A token bucket's quota is its burst, refilled in burst/rate.
	quota, per := p.limit, p.window
	if alg == "token-bucket" {
		quota, per = p.burst, time.Duration(float64(p.burst)/p.rate()*float64(time.Second))
	}
	hd := w.Header()
	reset := ceilSeconds(d.reset)
	hd.Set("X-RateLimit-Limit", strconv.Itoa(quota))
	hd.Set("X-RateLimit-Remaining", strconv.Itoa(d.remaining))
	hd.Set("X-RateLimit-Reset", strconv.Itoa(reset))
	hd.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", alg, quota, ceilSeconds(per)))
	hd.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", alg, d.remaining, reset))
	if !d.allowed {
		wait := max(ceilSeconds(d.retryAfter), 1)
		hd.Set("Retry-After", strconv.Itoa(wait))
		h.fail(w, http.StatusTooManyRequests, "%s: over %d requests per %v; retry in %ds", alg, p.limit, p.window, wait)
		return
	}
	h.reply(w, http.StatusOK, map[string]any{"algorithm": alg, "remaining": d.remaining})
}

// ceilSeconds rounds up to whole seconds, the unit of Retry-After and the
// rate-limit fields: a client that waits that long is never early.
func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
