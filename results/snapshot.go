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
	ArrivalRate float64
	// InFlight is the number of arrivals running or waiting for a worker.
	InFlight int64
	// PlannedArrivals, Sent, Dropped and Late count arrivals so far.
	PlannedArrivals, Sent, Dropped, Late uint64
	// SendLag summarises the send lag of the last interval.
	SendLag Percentiles
	// Total is the whole run, Series each request name and tag group.
	Total  SeriesSnapshot
	Series []SeriesSnapshot
	// Errors lists error kinds seen so far with counts, most frequent first.
	Errors []ErrorCount
	// CheckpointError is why the last results checkpoint failed, empty
	// when it succeeded or none was written: measurements are still kept
	// in memory, but a crash now would lose them.
	CheckpointError string
	// Done is set on the last snapshot of a run.
	Done bool
}

// SeriesSnapshot is one series in a Snapshot.
type SeriesSnapshot struct {
	Name, Group string
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

// Key is "name" or "name{group}".
func (s *SeriesSnapshot) Key() string { return SeriesKey(s.Name, s.Group) }

// ErrorCount is one error kind with its count and a sample message.
type ErrorCount struct {
	Kind    string
	Count   uint64
	Message string
}
