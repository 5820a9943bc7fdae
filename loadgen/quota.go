package loadgen

import "math"

// Quota is what a response said of the client's rate-limit quota, in any
// of the forms servers use:
//
//   - the current IETF draft (draft-ietf-httpapi-ratelimit-headers-07 on):
//     RateLimit: "default";r=50;t=30 and RateLimit-Policy:
//     "default";q=100;w=60, structured-field Lists whose items may name
//     several policies;
//   - the earlier drafts: RateLimit: limit=100, remaining=42, reset=30,
//     and RateLimit-Limit / RateLimit-Remaining;
//   - X-RateLimit-Limit / X-RateLimit-Remaining.
//
// Several policies fold into one quota, the one nearest to refusing:
// Remaining is the least r of the RateLimit items (of every RateLimit
// field of the response), and Limit is the q of the RateLimit-Policy item
// with that item's name. A response with policies and no RateLimit item
// has the least q as its Limit; where the draft's fields say nothing (or
// are malformed, and so ignored), the older forms' figures stand.
//
// The HTTP/1.1 client reads it from every response, at the cost of a
// length switch per header line, so a rate-limit test needs no option for
// its quota to reach the timeline. The HTTP/2 client reads it from the
// responses whose header values it decodes anyway (a request that keeps
// its headers: a retry-after backoff, an until or capture on a header; a
// header group_by; redirects followed): decoding HPACK values for every
// response would allocate per request.
type Quota struct {
	// Limit and Remaining are -1 when the response did not say.
	Limit, Remaining int64
}

// noQuota is a response's quota before its headers are read.
var noQuota = Quota{Limit: -1, Remaining: -1}

// maxQuotaPolicies is how many RateLimit-Policy items of a response are
// kept for naming the limit; servers send one to three.
const maxQuotaPolicies = 8

// quotaParts is what a response's rate-limit headers said so far, each
// form apart, so that its Quota folds the same whatever order the
// headers come in.
type quotaParts struct {
	// old is what the earlier drafts' forms and X-RateLimit-* said.
	old Quota
	// remaining is the least r of the RateLimit items (-1: none), and
	// name that item's name.
	remaining int64
	name      uint64
	// policies are the first n RateLimit-Policy items with a q.
	policies [maxQuotaPolicies]quotaPolicy
	n        int
}

// quotaPolicy is one RateLimit-Policy item: its hashed name and its q.
type quotaPolicy struct {
	name  uint64
	quota int64
}

// noQuotaParts is a response's quotaParts before its headers are read.
var noQuotaParts = quotaParts{old: noQuota, remaining: -1}

// resetQuota forgets what the response's headers said of its quota, for
// a new response (an interim one's successor, a redirect's target).
func (r *Response) resetQuota() {
	r.Quota = noQuota
	r.quotaParts = noQuotaParts
}

// quotaHeader notes name: value in res when name is a rate-limit header
// and folds res.Quota again. value is a []byte or a string, as the client
// has it.
func quotaHeader[T []byte | string](res *Response, name, value T) {
	p := &res.quotaParts
	switch len(name) {
	case 9: // RateLimit: "default";r=50;t=30 or, earlier, limit=100, remaining=42, reset=30
		if !equalFoldLower(name, "ratelimit") {
			return
		}
		if !serviceLimits(p, value) {
			if n, ok := quotaParam(value, "limit"); ok {
				p.old.Limit = n
			}
			if n, ok := quotaParam(value, "remaining"); ok {
				p.old.Remaining = n
			}
		}
	case 16: // RateLimit-Policy: "burst";q=100;w=60, "daily";q=1000;w=86400
		if !equalFoldLower(name, "ratelimit-policy") {
			return
		}
		quotaPolicies(p, value)
	case 15, 17:
		if !equalFoldLower(name, "ratelimit-limit") && !equalFoldLower(name, "x-ratelimit-limit") {
			return
		}
		if n, ok := quotaNumber(value); ok {
			p.old.Limit = n
		}
	case 19, 21:
		if !equalFoldLower(name, "ratelimit-remaining") && !equalFoldLower(name, "x-ratelimit-remaining") {
			return
		}
		if n, ok := quotaNumber(value); ok {
			p.old.Remaining = n
		}
	default:
		return
	}
	res.Quota = p.fold()
}

// serviceLimits notes the least r of a current-draft RateLimit field in
// p, and reports whether v is one (a structured-field List; the earlier
// drafts' form is not).
func serviceLimits[T []byte | string](p *quotaParts, v T) bool {
	least, name := int64(-1), uint64(0)
	ok := sfList(v, func(m sfMember) {
		if m.named && m.r >= 0 && (least < 0 || m.r < least) {
			least, name = m.r, m.name
		}
	})
	if ok && least >= 0 && (p.remaining < 0 || least < p.remaining) {
		p.remaining, p.name = least, name
	}
	return ok
}

// quotaPolicies notes the named items with a q of a RateLimit-Policy
// field in p; a malformed field adds none.
func quotaPolicies[T []byte | string](p *quotaParts, v T) {
	n := p.n
	if !sfList(v, func(m sfMember) {
		if m.named && m.q >= 0 && p.n < len(p.policies) {
			p.policies[p.n] = quotaPolicy{name: m.name, quota: m.q}
			p.n++
		}
	}) {
		p.n = n
	}
}

// fold is the response's quota from its parts (see Quota).
func (p *quotaParts) fold() Quota {
	q := p.old
	if p.remaining >= 0 {
		q.Remaining = p.remaining
		for _, pol := range p.policies[:p.n] {
			if pol.name == p.name {
				q.Limit = pol.quota
				break
			}
		}
		return q
	}
	for i, pol := range p.policies[:p.n] {
		if i == 0 || pol.quota < q.Limit {
			q.Limit = pol.quota
		}
	}
	return q
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
		if equalFoldLower(v[i:i+len(key)], key) && v[i+len(key)] == '=' {
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
