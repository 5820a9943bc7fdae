package loadgen

import "math"

// Quota is what a response said of the client's rate-limit quota, from
// X-RateLimit-Limit / X-RateLimit-Remaining, RateLimit-Limit /
// RateLimit-Remaining, or the IETF draft's RateLimit header
// ("limit=100, remaining=42, reset=30"). The HTTP/1.1 client reads it from
// every response, at the cost of a length switch per header line, so a
// rate-limit test needs no option for its quota to reach the timeline.
// The HTTP/2 client reads it from the responses whose header values it
// decodes anyway (a request that keeps its headers: a retry-after backoff,
// an until or capture on a header, a header group_by, redirects):
// decoding HPACK values for every response would allocate per request.
type Quota struct {
	// Limit and Remaining are -1 when the response did not say.
	Limit, Remaining int64
}

// noQuota is a response's quota before its headers are read.
var noQuota = Quota{Limit: -1, Remaining: -1}

// quotaHeader notes name: value in q when name is a rate-limit header.
// value is a []byte or a string, as the client has it.
func quotaHeader[T []byte | string](q *Quota, name, value T) {
	switch len(name) {
	case 9: // RateLimit: limit=100, remaining=42, reset=30
		if equalFoldString(name, "ratelimit") {
			if n, ok := quotaParam(value, "limit"); ok {
				q.Limit = n
			}
			if n, ok := quotaParam(value, "remaining"); ok {
				q.Remaining = n
			}
		}
	case 15, 17:
		if equalFoldString(name, "ratelimit-limit") || equalFoldString(name, "x-ratelimit-limit") {
			if n, ok := quotaNumber(value); ok {
				q.Limit = n
			}
		}
	case 19, 21:
		if equalFoldString(name, "ratelimit-remaining") || equalFoldString(name, "x-ratelimit-remaining") {
			if n, ok := quotaNumber(value); ok {
				q.Remaining = n
			}
		}
	}
}

// equalFoldString compares b with a lower-case ASCII string, ignoring case.
func equalFoldString[T []byte | string](b T, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// quotaNumber reads a header value's leading number; some servers add a
// policy after it ("100, 100;w=60"), which is ignored.
func quotaNumber[T []byte | string](v T) (int64, bool) {
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	var n int64
	start := i
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		if n > math.MaxInt64/10-1 {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, i > start
}

// quotaParam finds key=NUMBER in a comma- or semicolon-separated list.
func quotaParam[T []byte | string](v T, key string) (int64, bool) {
	for i := 0; i+len(key) < len(v); i++ {
		if i > 0 && v[i-1] != ',' && v[i-1] != ';' && v[i-1] != ' ' && v[i-1] != '\t' {
			continue
		}
		if equalFoldString(v[i:i+len(key)], key) && v[i+len(key)] == '=' {
			return quotaNumber(v[i+len(key)+1:])
		}
	}
	return 0, false
}

// packQuota stores a quota in a sample's two int32s, one more than the
// value so that zero means "not said" (remaining 0 is the news a
// rate-limit test waits for).
func packQuota(q Quota) [2]int32 {
	pack := func(n int64) int32 {
		if n < 0 {
			return 0
		}
		return int32(min(n, math.MaxInt32-1) + 1)
	}
	return [2]int32{pack(q.Limit), pack(q.Remaining)}
}
