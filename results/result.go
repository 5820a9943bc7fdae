package results

import (
	"fmt"
	"sort"
	"time"
)

// ResultVersion is the version of the results file format written by this
// build. Readers accept the versions from MinResultVersion to this one.
//
// Version 2 added Flows. A version 1 file reads as a result without flow
// series; a build that reads only version 1 refuses a version 2 file
// rather than drop its flows unseen.
const ResultVersion = 2

// MinResultVersion is the oldest results file format this build reads.
const MinResultVersion = 1

// LateThreshold is the send lag above which an arrival counts as late.
const LateThreshold = 10 * time.Millisecond

// Result is everything a run measured. It is the content of the results file.
type Result struct {
	// Version is the file format version (ResultVersion).
	Version int  `json:"version"`
	Meta    Meta `json:"meta"`
	// Total covers every request after the warmup.
	Total *Stats `json:"total"`
	// Requests has one entry per request name, sorted by name.
	Requests []*Stats `json:"requests"`
	// Groups has one entry per request name and tag group, sorted.
	Groups []*Stats `json:"groups,omitempty"`
	// GroupByFolds lists the response groupings that went past their
	// limit of distinct values.
	GroupByFolds []GroupByFold `json:"group_by_folds,omitempty"`
	// Warmup covers the requests of the warmup, nil without one.
	Warmup *Stats `json:"warmup,omitempty"`
	// Flows has one entry per flow a scenario declares, sorted by name:
	// its iterations after the warmup as a series of their own (see
	// FlowStats).
	Flows []*Stats `json:"flows,omitempty"`
	// Schedule says how well the client kept to the plan.
	Schedule Schedule `json:"schedule"`
	// Iterations counts the outcomes of the measured part's flow
	// iterations (arrivals).
	Iterations Iterations `json:"iterations"`
	// Thresholds are the verdicts of the run's thresholds, in the order
	// they were given; merge re-evaluates them on the merged result.
	Thresholds []Verdict `json:"thresholds,omitempty"`
	// Timeline has one entry per second of the run (warmup included). It
	// stays the last field: Encode streams it after the rest.
	Timeline []Interval `json:"timeline"`
}

// Meta describes the run.
type Meta struct {
	Tool            string            `json:"tool"`
	ToolVersion     string            `json:"tool_version"`
	Command         []string          `json:"command,omitempty"`
	Name            string            `json:"name"`
	Target          string            `json:"target"`
	Model           Model             `json:"model"`
	Profile         string            `json:"profile"`
	PlannedRate     float64           `json:"planned_rate,omitempty"`
	PlannedRequests uint64            `json:"planned_requests,omitempty"`
	VUs             int               `json:"vus,omitempty"`
	Connections     int               `json:"connections"`
	Streams         int               `json:"streams,omitempty"`
	MaxInFlight     int               `json:"max_in_flight"`
	HTTP2           bool              `json:"http2,omitempty"`
	Timeout         Duration          `json:"timeout"`
	Start           time.Time         `json:"start"`
	End             time.Time         `json:"end"`
	PlannedDuration Duration          `json:"planned_duration"`
	Warmup          Duration          `json:"warmup,omitempty"`
	Host            string            `json:"host"`
	GoVersion       string            `json:"go_version"`
	OS              string            `json:"os"`
	NumCPU          int               `json:"num_cpu"`
	Shard           Shard             `json:"shard"`
	PlanHash        string            `json:"plan_hash,omitempty"`
	Partial         bool              `json:"partial,omitempty"`
	StopReason      string            `json:"stop_reason,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	// StoppedAt is the offset from Start at which a stop cut the load
	// short (zero when the plan ran to its end).
	StoppedAt Duration `json:"stopped_at,omitempty"`
	// CPU is the user and system CPU time the process used during the run.
	CPU CPU `json:"cpu"`
	// RunID names the run; the shards of one distributed run share it.
	RunID string `json:"run_id,omitempty"`
	// PlannedStart is the instant the run waited for (--start-at), zero
	// when it started at once; Start is then this instant as well, the zero
	// of the schedule.
	PlannedStart time.Time `json:"planned_start,omitzero"`
	// ActualStart is when the scheduler began after the wait: later than
	// PlannedStart by the process's wake-up delay, or by how late it got
	// ready (within its grace).
	ActualStart time.Time `json:"actual_start,omitzero"`
	// StartSpread is, in merged results, how far apart the shards'
	// actual starts were.
	StartSpread Duration `json:"start_spread,omitempty"`
	// Steal is the CPU time the hypervisor took from the CPUs the
	// process could run on; nil where it was not measured.
	Steal *Steal `json:"steal,omitempty"`
}

// CPU is processor time used by the tool's own process.
type CPU struct {
	User   Duration `json:"user"`
	System Duration `json:"system"`
}

// Total returns user plus system time.
func (c CPU) Total() time.Duration { return c.User.D() + c.System.D() }

// Stats are the totals of one request name, tag group, or the whole run.
//
// A flow's stats (Result.Flows) count its iterations with the same fields:
// Requests are the iterations that ended (completed or failed; those the
// run's stop cut short are not counted), Errors the failed ones, ErrorKinds
// the kind of the step that failed each. Latency is the end of the last
// step − the arrival's intended time of the completed iterations (think
// times and every step's queueing included), FailedLatency the same up to
// the failed step, Service the same from the actual send of the first
// step, SendLag the first step's send lag; BytesIn and BytesOut add up the
// iteration's steps. Status is not kept.
type Stats struct {
	// Name is the request name ("" for the total).
	Name string `json:"name,omitempty"`
	// Group is the tag group, e.g. "depth=100".
	Group    string `json:"group,omitempty"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// Status counts responses by HTTP status code.
	Status map[int]uint64 `json:"status,omitempty"`
	// ErrorKinds counts failed requests by ErrorKind name.
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	// Checks counts the requests that failed each response check (error
	// kind check), by the check's name, e.g. "json data.state".
	Checks map[string]uint64 `json:"checks,omitempty"`
	// ErrorSamples keeps the first message seen for each error kind.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Latency is completion − intended send time of the successful
	// responses (the headline figure).
	Latency *Histogram `json:"latency"`
	// Service is completion − actual send time of the successful responses.
	Service *Histogram `json:"service"`
	// SendLag is actual send − intended send time of every request sent.
	SendLag *Histogram `json:"send_lag"`
	// FailedLatency is completion − intended send time of the failed
	// requests (nil when none failed).
	FailedLatency *Histogram `json:"failed_latency,omitempty"`
	// NotSent counts requests that were never sent because they could not
	// be built (a template failed, a unique data feed ran out); they are
	// not in Requests. NotSentReasons counts them by reason ("feed
	// exhausted", "capture missing", "template failed", "other"; see
	// loadgen.NotSentReason), NotSentSamples keeps the first message of
	// each reason, and NotSentReason is the message of the most frequent.
	NotSent        uint64            `json:"not_sent,omitempty"`
	NotSentReasons map[string]uint64 `json:"not_sent_reasons,omitempty"`
	NotSentSamples map[string]string `json:"not_sent_samples,omitempty"`
	NotSentReason  string            `json:"not_sent_reason,omitempty"`
	// Retried counts the requests that needed more than one attempt
	// (retry:); each is counted once, by its final attempt, which decides
	// its outcome.
	Retried uint64 `json:"retried,omitempty"`
	// Retries counts the attempts that were answered with a retried
	// status and retried. They are in Requests (they were sent) and in
	// Status, but neither successes nor errors, and in no latency
	// histogram (docs/metrics.md).
	Retries uint64 `json:"retries,omitempty"`
}

// NewStats returns empty stats with the given name and group.
func NewStats(name, group string) *Stats {
	return &Stats{
		Name: name, Group: group,
		Status: map[int]uint64{}, ErrorKinds: map[string]uint64{}, ErrorSamples: map[string]string{},
		Latency: NewHistogram(), Service: NewHistogram(), SendLag: NewHistogram(),
	}
}

// Key is "name" or "name{group}", the label of the stats in reports.
func (s *Stats) Key() string { return SeriesKey(s.Name, s.Group) }

// SeriesKey labels a series: "total" for the whole run, "name" for a
// request name, "name{group}" for a tag group of it — the spelling of
// Selector, so a label printed in a report selects its series.
func SeriesKey(name, group string) string { return Selector{Name: name, Group: group}.String() }

// Successes returns the requests that succeeded.
func (s *Stats) Successes() uint64 { return s.Requests - min(s.Errors+s.Retries, s.Requests) }

// Outcomes returns the requests that ended as a success or an error: all
// requests but the attempts that were retried, whose outcome is their
// request's final attempt.
func (s *Stats) Outcomes() uint64 { return s.Requests - min(s.Retries, s.Requests) }

// RetryAttempts returns how many attempts the retried requests took in
// all: their final attempts and the retried ones.
func (s *Stats) RetryAttempts() uint64 { return s.Retried + s.Retries }

// ErrorRate returns errors/outcomes (0 without requests): a request that
// failed once and succeeded on retry is not an error.
func (s *Stats) ErrorRate() float64 { return s.KindRate("") }

// KindRate returns the share of the outcomes that failed with the error
// kind (every kind for ""), 0 without requests.
func (s *Stats) KindRate(kind string) float64 {
	n := s.Errors
	if kind != "" {
		n = s.ErrorKinds[kind]
	}
	if s.Outcomes() == 0 {
		return 0
	}
	return float64(n) / float64(s.Outcomes())
}

// Merge adds o into s.
func (s *Stats) Merge(o *Stats) error {
	s.Requests += o.Requests
	s.Errors += o.Errors
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.mergeNotSent(o)
	s.Retried += o.Retried
	s.Retries += o.Retries
	if o.FailedLatency.Count() > 0 && s.FailedLatency == nil {
		s.FailedLatency = NewHistogram()
	}
	if s.Status == nil {
		s.Status = map[int]uint64{}
	}
	for k, v := range o.Status {
		s.Status[k] += v
	}
	if s.ErrorKinds == nil {
		s.ErrorKinds = map[string]uint64{}
	}
	for k, v := range o.ErrorKinds {
		s.ErrorKinds[k] += v
	}
	for k, v := range o.Checks {
		if s.Checks == nil {
			s.Checks = map[string]uint64{}
		}
		s.Checks[k] += v
	}
	if s.ErrorSamples == nil {
		s.ErrorSamples = map[string]string{}
	}
	for k, v := range o.ErrorSamples {
		if _, ok := s.ErrorSamples[k]; !ok {
			s.ErrorSamples[k] = v
		}
	}
	for _, p := range []struct{ dst, src **Histogram }{{&s.Latency, &o.Latency}, {&s.Service, &o.Service}, {&s.SendLag, &o.SendLag}, {&s.FailedLatency, &o.FailedLatency}} {
		if *p.src == nil {
			continue
		}
		if *p.dst == nil {
			*p.dst = NewHistogram()
		}
		if err := (*p.dst).Merge(*p.src); err != nil {
			return fmt.Errorf("stats %s: %w", s.Key(), err)
		}
	}
	return nil
}

// Schedule says how well an open-model client kept to its plan.
type Schedule struct {
	// Planned is the number of arrivals the plan (this shard's part) asked
	// for, warmup included.
	Planned uint64 `json:"planned"`
	// Sent is the number of requests started (first steps of flows and later
	// steps alike are counted in Stats; this counts arrivals).
	Sent uint64 `json:"sent"`
	// Dropped counts arrivals given up under the drop policy.
	Dropped uint64 `json:"dropped"`
	// Unsent counts planned arrivals never started because the run stopped
	// early (Ctrl-C, error).
	Unsent uint64 `json:"unsent"`
	// Late counts arrivals after the warmup whose send lag exceeded
	// LateThreshold.
	Late uint64 `json:"late"`
	// MaxInFlight is the most arrivals running or waiting at once.
	MaxInFlight int64 `json:"max_in_flight"`
	// WarmupPlanned and WarmupSent are the parts of Planned and Sent that
	// fall in the warmup (due before it ended).
	WarmupPlanned uint64 `json:"warmup_planned,omitempty"`
	WarmupSent    uint64 `json:"warmup_sent,omitempty"`
	// LastSent is the offset from the run start at which the last arrival
	// was sent: the end of the schedule as the client kept it.
	LastSent Duration `json:"last_sent,omitempty"`
}

// Iterations counts flow iterations (open-model arrivals, closed-model VU
// iterations) of the measured part by outcome.
type Iterations struct {
	// Completed iterations ran every step without an error.
	Completed uint64 `json:"completed"`
	// Failed iterations stopped at a failed step (the rest were skipped).
	Failed uint64 `json:"failed"`
	// Aborted iterations were cut short by the run's stop.
	Aborted uint64 `json:"aborted"`
}

// Interval is one second of the timeline.
type Interval struct {
	// Start is the offset of the interval from the run start.
	Start Duration `json:"start"`
	// Length is the interval's length (the last one may be shorter).
	Length Duration `json:"length"`
	// PlannedRate is the planned arrival rate at the interval start.
	PlannedRate float64 `json:"planned_rate,omitempty"`
	// Warmup marks intervals that belong to the warmup.
	Warmup bool `json:"warmup,omitempty"`
	// Arrivals counts the arrivals (flow iterations) sent in the interval:
	// the figure to hold against PlannedRate.
	Arrivals uint64        `json:"arrivals,omitempty"`
	Total    IntervalStats `json:"total"`
	// Quota is the rate-limit quota the responses of the interval
	// reported; nil when none did.
	Quota *Quota `json:"quota,omitempty"`
	// Steal is the CPU time the hypervisor took during the interval
	// (IntervalSteal); zero where it was not measured.
	Steal IntervalSteal `json:"steal,omitzero"`
	// Series has one entry per request name (groups are not kept per second).
	Series []IntervalStats `json:"series,omitempty"`
}

// IntervalStats are one series' figures for one interval.
type IntervalStats struct {
	Name     string `json:"name,omitempty"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Latency of the successful responses completed in the interval.
	Latency *Histogram `json:"latency"`
	// SendLag of the requests started in the interval (total only).
	SendLag *Histogram `json:"send_lag,omitempty"`
}

// LookupFlow returns the stats of the flow named name, or nil.
func (r *Result) LookupFlow(name string) *Stats {
	for _, s := range r.Flows {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Lookup returns the stats of a request name, or of name+group.
func (r *Result) Lookup(name, group string) *Stats {
	list := r.Requests
	if group != "" {
		list = r.Groups
	}
	for _, s := range list {
		if s.Name == name && s.Group == group {
			return s
		}
	}
	return nil
}

// Sort puts Requests and Groups in their canonical order.
func (r *Result) Sort() {
	less := func(list []*Stats) func(i, j int) bool {
		return func(i, j int) bool {
			if list[i].Name != list[j].Name {
				return list[i].Name < list[j].Name
			}
			return GroupLess(list[i].Group, list[j].Group)
		}
	}
	sort.SliceStable(r.Requests, less(r.Requests))
	sort.SliceStable(r.Groups, less(r.Groups))
	sort.SliceStable(r.Flows, less(r.Flows))
}

// GroupLess orders groups so that numeric tag values sort numerically:
// depth=10 before depth=100.
func GroupLess(a, b string) bool {
	ai, bi := 0, 0
	for ai < len(a) && bi < len(b) {
		ca, cb := a[ai], b[bi]
		if isDigit(ca) && isDigit(cb) {
			sa := ai
			for ai < len(a) && isDigit(a[ai]) {
				ai++
			}
			sb := bi
			for bi < len(b) && isDigit(b[bi]) {
				bi++
			}
			na, nb := a[sa:ai], b[sb:bi]
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			continue
		}
		if ca != cb {
			return ca < cb
		}
		ai++
		bi++
	}
	return len(a)-ai < len(b)-bi
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
