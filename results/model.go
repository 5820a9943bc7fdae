package results

// Model says how load is generated; the percentiles of the two models mean
// different things, so every result records which one ran.
type Model string

const (
	// OpenModel sends arrivals at planned times whatever the target does
	// (wrk2, vegeta). Latency is measured from the intended send time.
	OpenModel Model = "open"
	// ClosedModel runs a fixed number of virtual users, each waiting for its
	// response (and thinking) before the next request.
	ClosedModel Model = "closed"
)

// Shard selects arrivals k with k mod Count == Index. The zero value is the
// whole plan.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}
