package results

// Quota is the rate-limit quota the target reported in one interval (from
// X-RateLimit-*, RateLimit-* or the IETF RateLimit header): the lowest
// Remaining any response carried, and the highest Limit. Either is -1
// when no response of the interval reported it. The lowest remaining is
// kept rather than the last because the moment the quota runs out is what
// a rate-limit test looks for.
type Quota struct {
	Limit     int64 `json:"limit"`
	Remaining int64 `json:"remaining"`
}

// NoteQuota folds one response's limit and remaining (-1: not reported)
// into q, returning q, or a new Quota when q is nil and the response
// reported either.
func NoteQuota(q *Quota, limit, remaining int64) *Quota {
	if limit < 0 && remaining < 0 {
		return q
	}
	if q == nil {
		q = &Quota{Limit: -1, Remaining: -1}
	}
	if limit > q.Limit {
		q.Limit = limit
	}
	if remaining >= 0 && (q.Remaining < 0 || remaining < q.Remaining) {
		q.Remaining = remaining
	}
	return q
}

// mergeQuota combines the quotas of two intervals that cover the same
// time (shards) or follow each other (coarsening): the lowest remaining,
// the highest limit.
func mergeQuota(a, b *Quota) *Quota {
	if b == nil {
		return a
	}
	return NoteQuota(a, b.Limit, b.Remaining)
}

// HasQuota reports whether any interval of the timeline carries a quota,
// which is when the charts show it.
func (r *Result) HasQuota() bool {
	for i := range r.Timeline {
		if r.Timeline[i].Quota != nil {
			return true
		}
	}
	return false
}
