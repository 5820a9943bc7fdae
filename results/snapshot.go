package results

import "time"

// Snapshot is the live state of a run, published once per interval to
// observers (the dashboard, progress lines, metrics exporters). Observers own
// the snapshot they receive; the engine never touches it again.
type Snapshot struct {
	// Time is when the snapshot was taken.
	Time time.Time
	// Elapsed is the time since the run started.
	Elapsed time.Duration
	// Planned is the planned length of the run.
	Planned time.Duration
	Name    string
	Target  string
	// RunID names the run, as its results will (Meta.RunID).
	RunID   string
	Model   Model
	Profile string
	// Stage is the name (or description) of the stage running now.
	Stage string
	// Warmup is true while the warmup runs.
	Warmup bool
	// TargetRate is the planned arrival rate now (open model).
	TargetRate float64
	// Rate is the achieved completion rate over the last interval, in
	// requests per second.
	Rate float64
	// ArrivalRate is the rate at which arrivals (flow iterations) started
	// over the last interval: the figure to hold against TargetRate when a
	// flow sends several requests per arrival.
	//
	// On the last snapshot (Done) the three are the run's, as its Result
	// has them: PlannedRate, IterationRate and the total's RequestRate.
	ArrivalRate float64
	// InFlight is the number of arrivals running or waiting for a worker.
	InFlight int64
	// Queued is the number of arrivals due but waiting for a worker (open
	// model), and OldestQueued how long the oldest of them has waited (at
	// most): both grow while a stalled target holds every connection,
	// before any late request has completed.
	Queued       int64
	OldestQueued time.Duration
	// CPU is the process's CPU time over the last interval as a share of
	// all the machine's CPUs (1: every CPU busy).
	CPU float64
	// Steal is the share of the time of the CPUs the process may run on
	// that the hypervisor took over the last interval (IntervalSteal; 0
	// where it is not measured).
	Steal float64
	// PlannedArrivals, Sent, Dropped and Late count arrivals so far.
	PlannedArrivals, Sent, Dropped, Late uint64
	// SendLag summarises the send lag of the last interval.
	SendLag Percentiles
	// Total is the whole run, Series each request name and tag group.
	Total  SeriesSnapshot
	Series []SeriesSnapshot
	// Flows has each timed flow's iterations (Result.Flows), by name.
	Flows []SeriesSnapshot
	// Errors lists error kinds seen so far with counts, most frequent first.
	Errors []ErrorCount
	// CheckpointError is why the last results checkpoint failed, empty
	// when it succeeded or none was written: measurements are still kept
	// in memory, but a crash now would lose them.
	CheckpointError string
	// MetricsError is why the last push of live metrics failed (remote
	// write, OTLP), empty when it succeeded. The engine leaves it empty;
	// the command line sets it on the copy it shows.
	MetricsError string
	// Done is set on the last snapshot of a run.
	Done bool
	// Deltas is what each request series did over the interval, one entry
	// per series with requests in it. The engine fills it only when an
	// observer asks for it (metrics exporters); it is nil otherwise.
	Deltas []SeriesDelta
	// Iterations counts the flow iterations that ended in the interval, by
	// flow name; filled with Deltas.
	Iterations map[string]uint64
}

// Outcome tells successful requests from failed ones in a SeriesDelta.
type Outcome int

// The outcomes.
const (
	OutcomeOK Outcome = iota
	OutcomeFailed
	NumOutcomes
)

// String returns the outcome's label value: "ok" or "failed".
func (o Outcome) String() string {
	if o == OutcomeOK {
		return "ok"
	}
	return "failed"
}

// SeriesDelta is what one request series (a request name with its tag group,
// "" when untagged) did in one interval. Every request is in exactly one
// series, warmup included, so sums over the deltas are the run's totals.
type SeriesDelta struct {
	Name, Group string
	// Status counts the responses by HTTP status.
	Status map[int]uint64
	// NoResponse counts requests that got no response, by error kind.
	NoResponse map[string]uint64
	// Errors counts the failed requests by error kind (those with a
	// response, e.g. http_5xx or capture, and those without).
	Errors map[string]uint64
	// Latency, Service and SendLag are the populated HDR buckets of the
	// interval, per outcome.
	Latency, Service, SendLag [NumOutcomes][]Bucket
}

// SeriesSnapshot is one series in a Snapshot. A flow's counts its
// iterations, as its Stats do.
type SeriesSnapshot struct {
	Name, Group string
	// Flow marks a flow's series (Snapshot.Flows).
	Flow bool
	// Requests and Errors are cumulative.
	Requests, Errors uint64
	// IntervalRequests and IntervalErrors cover the last interval.
	IntervalRequests, IntervalErrors uint64
	// Rate is the completion rate over the last interval.
	Rate float64
	// Interval and Cumulative summarise latency.
	Interval, Cumulative Percentiles
	// Status counts responses by status code (cumulative).
	Status map[int]uint64
}

// Key is "name", "name{group}" or "flow:name": the series' Selector.
func (s *SeriesSnapshot) Key() string {
	return Selector{Name: s.Name, Group: s.Group, Flow: s.Flow}.String()
}

// ErrorCount is one error kind with its count and a sample message.
type ErrorCount struct {
	Kind    string
	Count   uint64
	Message string
}
