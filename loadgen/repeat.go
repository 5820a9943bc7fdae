package loadgen

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Repeat says how a step sends its request more than once within one
// iteration: retries of refused attempts, and polls until a condition
// holds. Both may be set (each poll is retried). Every attempt is a
// request of its own in the results; see docs/metrics.md for how they are
// counted.
type Repeat struct {
	// Retry retries an attempt answered with one of its statuses.
	Retry *Retry
	// Until polls until the response satisfies a condition.
	Until *Until
}

// Repeater is implemented by steps that retry or poll. A step without
// either returns nil, and runs exactly one attempt.
type Repeater interface {
	Repeat() *Repeat
}

// Retry retries an attempt whose response status is in On, after a
// backoff, at most Max times per request.
type Retry struct {
	// On lists the retried statuses, e.g. 429 and 503.
	On []int
	// Max is how many retries follow the first attempt (at least 1).
	Max int
	// Backoff is the wait before each retry.
	Backoff Backoff
}

// BackoffKind names how a retry's wait is computed.
type BackoffKind uint8

// The backoff kinds.
const (
	// BackoffRetryAfter waits as the response's Retry-After header says
	// (seconds or an HTTP-date), RetryAfterDefault without one.
	BackoffRetryAfter BackoffKind = iota + 1
	// BackoffFixed waits Backoff.Base before every retry.
	BackoffFixed
	// BackoffExponential waits Base, 2·Base, 4·Base, … before retry 1, 2, 3, ….
	BackoffExponential
)

// RetryAfterDefault is the wait of a retry-after backoff when the response
// carries no usable Retry-After header.
const RetryAfterDefault = time.Second

// Backoff is the wait before a retry.
type Backoff struct {
	Kind BackoffKind
	// Base is the fixed wait, or the first of an exponential backoff.
	Base time.Duration
}

// maxBackoff caps an exponential backoff: past it the doubling would
// overflow, and no request timeout is that long.
const maxBackoff = 24 * time.Hour

// wait returns the backoff before retry n (1 for the first retry) of a
// response res, received at now.
func (b Backoff) wait(n int, res *Response, now time.Time) time.Duration {
	switch b.Kind {
	case BackoffFixed:
		return b.Base
	case BackoffExponential:
		d := b.Base
		for i := 1; i < n && d < maxBackoff; i++ {
			d *= 2
		}
		return min(d, maxBackoff)
	}
	v, ok := res.HeaderValue("Retry-After")
	if !ok {
		return RetryAfterDefault
	}
	if d, ok := ParseRetryAfter(v, now); ok {
		return d
	}
	return RetryAfterDefault
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 10.2.3): a number of
// seconds, or an HTTP-date taken relative to now (a date in the past is no
// wait).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return min(time.Duration(n)*time.Second, maxBackoff), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxBackoff), true
}

// retries reports whether status is one Retry retries.
func (r *Retry) retries(status int) bool {
	for _, s := range r.On {
		if s == status {
			return true
		}
	}
	return false
}

// Until polls a request every Every until Holds says its response is the
// one awaited. The last poll is due Timeout after the first poll's
// intended time (sooner when the cadence lands there); a poll that ends
// at or after that instant without the condition fails the iteration
// with KindTimeout.
type Until struct {
	// Holds reports whether the response satisfies the condition. It is
	// called from many workers and must not keep res.
	Holds func(res *Response) bool
	// Status, when not zero, is the status the condition waits for: a
	// response with it is not an error even at 400 or above (polling
	// until a deleted resource answers 404).
	Status int
	// Every is the wait after a poll's response before the next poll.
	Every time.Duration
	// Timeout bounds the polling, from the first poll's intended time.
	Timeout time.Duration
	// Describe says what is awaited, for the message of a timeout.
	Describe string
}
