package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// JSONSummary is the stable JSON summary of a result, written by WriteJSON. Its
// shape is a contract for scripts and CI gates: fields may be added, never
// renamed or removed. Durations are in milliseconds, rates per second.
type JSONSummary struct {
	// Total covers every measured request (warmup excluded).
	Total JSONStats `json:"total"`
	// Requests has one entry per request name.
	Requests map[string]JSONStats `json:"requests"`
	// Groups has one entry per request name and tag group, keyed
	// "name{group}".
	Groups map[string]JSONStats `json:"groups,omitempty"`
	// Flows has one entry per flow a scenario declares, keyed by flow
	// name: its iterations after the warmup as a series (results.Stats
	// says what each figure counts: requests are the iterations that
	// ended, errors the failed ones, rate the iterations per second, and
	// latency_ms the end of the last step − the arrival's intended time).
	Flows map[string]JSONStats `json:"flows,omitempty"`
	// Meta describes the run.
	Meta JSONMeta `json:"meta"`
	// Schedule says how well an open-model client kept to its plan.
	Schedule results.Schedule `json:"schedule"`
	// Iterations counts the measured iterations by outcome.
	Iterations results.Iterations `json:"iterations"`
	// ArrivalRatio is the share of the plan kept (the figure of the
	// threshold "rate >= N%"), absent for the closed model.
	ArrivalRatio *float64 `json:"arrival_ratio,omitempty"`
	// CPUS is the tool's own user+system CPU time in seconds.
	CPUS float64 `json:"cpu_s"`
	// StealShare is the share of the time of the CPUs tailgate could run
	// on that the hypervisor took (results.Steal); absent where it was
	// not measured.
	StealShare *float64 `json:"steal_share,omitempty"`
	// Warnings are the same sentences the text summary prints.
	Warnings []string `json:"warnings"`
	// Thresholds are the verdicts the result carries, in order.
	Thresholds []results.Verdict `json:"thresholds,omitempty"`
}

// JSONStats are the figures of one request name, group or the total.
type JSONStats struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// RateLimited counts the requests that failed with a 429 (error kind
	// rate_limited); present on every series, 0 included, so a script can
	// read it without checking error_kinds.
	RateLimited uint64 `json:"rate_limited"`
	// Retried counts the requests that needed more than one attempt
	// (retry:), and Retries the attempts that were retried: the retried
	// requests took Retried + Retries attempts. Retried attempts are in
	// Requests, not in Errors or ErrorRate (docs/metrics.md).
	Retried uint64 `json:"retried,omitempty"`
	Retries uint64 `json:"retries,omitempty"`
	// NotSent counts requests never sent (they could not be built).
	NotSent uint64 `json:"not_sent,omitempty"`
	// NotSentReasons counts them by reason ("feed exhausted", "capture
	// missing", "template failed", "other").
	NotSentReasons map[string]uint64 `json:"not_sent_reasons,omitempty"`
	// Rate is the achieved request rate: requests per second of the
	// measured duration.
	Rate float64 `json:"rate"`
	// IterationRate is the achieved arrival (flow iteration) rate, the
	// figure to hold against PlannedRate; only the total has it.
	IterationRate float64 `json:"iteration_rate,omitempty"`
	// PlannedRate is the planned arrival rate of the measured part (open
	// model; only the total has it).
	PlannedRate float64 `json:"planned_rate,omitempty"`
	ErrorRate   float64 `json:"error_rate"`
	// LatencyMs is completion − intended send time of successful responses.
	LatencyMs JSONPercentiles `json:"latency_ms"`
	// FailedLatencyMs is completion − intended send time of failed
	// requests (absent when none failed).
	FailedLatencyMs *JSONPercentiles `json:"failed_latency_ms,omitempty"`
	// ServiceMs is completion − actual send time of successful responses.
	ServiceMs JSONPercentiles `json:"service_ms"`
	// SendLagMs is actual − intended send time of every request sent.
	SendLagMs  JSONPercentiles   `json:"send_lag_ms"`
	Status     map[string]uint64 `json:"status,omitempty"`
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	// Checks counts the requests that failed each response check (error
	// kind check), by check name such as "json data.state".
	Checks   map[string]uint64 `json:"checks,omitempty"`
	BytesIn  uint64            `json:"bytes_in"`
	BytesOut uint64            `json:"bytes_out"`
}

// JSONPercentiles are the summary figures of one histogram in milliseconds.
// In JSON it is an object keyed by each reported percentile as reports
// spell it ("p50" … "p99.9", see results.Reported), then "max" and "mean".
type JSONPercentiles struct {
	// At holds the value at each percentile of results.Reported, in order.
	At        [results.NumReported]float64
	Max, Mean float64
}

// Of returns the value at q, one of results.Reported (0 for any other).
func (p JSONPercentiles) Of(q results.Percentile) float64 {
	for i, r := range results.Reported() {
		if r == q {
			return p.At[i]
		}
	}
	return 0
}

// MarshalJSON writes the figures in the order of the reports.
func (p JSONPercentiles) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	field := func(key string, v float64) error {
		num, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, key)
		b = append(append(b, ':'), num...)
		return nil
	}
	for i, q := range results.Reported() {
		if err := field(q.String(), p.At[i]); err != nil {
			return nil, err
		}
	}
	if err := field("max", p.Max); err != nil {
		return nil, err
	}
	if err := field("mean", p.Mean); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object MarshalJSON writes. A summary written
// before a percentile was reported lacks its key, which then reads as 0;
// keys it does not know (a percentile no longer reported) are ignored, as
// encoding/json ignores unknown fields.
func (p *JSONPercentiles) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = JSONPercentiles{Max: m["max"], Mean: m["mean"]}
	for i, q := range results.Reported() {
		p.At[i] = m[q.String()]
	}
	return nil
}

// JSONMeta is the run description in a JSONSummary.
type JSONMeta struct {
	Name    string        `json:"name"`
	Target  string        `json:"target"`
	Model   results.Model `json:"model"`
	Profile string        `json:"profile"`
	Start   time.Time     `json:"start"`
	End     time.Time     `json:"end"`
	// DurationS is the measured duration; DrainS the wait for requests in
	// flight after the load ended, not part of it.
	DurationS float64 `json:"duration_s"`
	DrainS    float64 `json:"drain_s,omitempty"`
	WarmupS   float64 `json:"warmup_s,omitempty"`
	// PlannedRate is the plan's arrival rate after the warmup, for all
	// shards of a sharded plan.
	PlannedRate     float64       `json:"planned_rate,omitempty"`
	PlannedRequests uint64        `json:"planned_requests,omitempty"`
	VUs             int           `json:"vus,omitempty"`
	Shard           results.Shard `json:"shard"`
	PlanHash        string        `json:"plan_hash,omitempty"`
	Partial         bool          `json:"partial"`
	StopReason      string        `json:"stop_reason,omitempty"`
	ToolVersion     string        `json:"tool_version"`
}

// SummarizeJSON builds the JSON summary of a result.
func SummarizeJSON(r *results.Result) *JSONSummary {
	m := &r.Meta
	s := &JSONSummary{
		Requests: map[string]JSONStats{},
		Meta: JSONMeta{
			Name: m.Name, Target: m.Target, Model: m.Model, Profile: m.Profile,
			Start: m.Start, End: m.End, DurationS: round3(r.Measured().Seconds()), DrainS: round3(r.Drain().Seconds()), WarmupS: round3(m.Warmup.D().Seconds()),
			PlannedRate: m.PlannedRate, PlannedRequests: m.PlannedRequests, VUs: m.VUs,
			Shard: m.Shard, PlanHash: m.PlanHash, Partial: m.Partial, StopReason: m.StopReason,
			ToolVersion: m.ToolVersion,
		},
		Schedule:   r.Schedule,
		Iterations: r.Iterations,
		CPUS:       round3(m.CPU.Total().Seconds()),
		Warnings:   Warnings(r),
		Thresholds: r.Thresholds,
	}
	if m.Steal != nil {
		v := math.Round(m.Steal.Share()*1e6) / 1e6
		s.StealShare = &v
	}
	if ratio, ok := r.ArrivalRatio(); ok {
		v := math.Round(ratio*1e6) / 1e6
		s.ArrivalRatio = &v
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if r.Total != nil {
		s.Total = jsonStats(r, r.Total)
		s.Total.IterationRate = round3(r.IterationRate())
		s.Total.PlannedRate = round3(r.PlannedRate())
	}
	for _, st := range r.Requests {
		if st != nil {
			s.Requests[st.Key()] = jsonStats(r, st)
		}
	}
	for _, st := range r.Groups {
		if st == nil {
			continue
		}
		if s.Groups == nil {
			s.Groups = map[string]JSONStats{}
		}
		s.Groups[st.Key()] = jsonStats(r, st)
	}
	for _, st := range r.Flows {
		if st == nil {
			continue
		}
		if s.Flows == nil {
			s.Flows = map[string]JSONStats{}
		}
		s.Flows[st.Name] = jsonStats(r, st)
	}
	return s
}

func jsonStats(r *results.Result, st *results.Stats) JSONStats {
	out := JSONStats{
		Requests: st.Requests, Errors: st.Errors, RateLimited: st.ErrorKinds[results.RateLimited],
		NotSent: st.NotSent, ErrorRate: st.ErrorRate(), Retried: st.Retried, Retries: st.Retries,
		Rate:      round3(r.RequestRate(st)),
		LatencyMs: jsonPercentiles(st.Latency),
		ServiceMs: jsonPercentiles(st.Service),
		SendLagMs: jsonPercentiles(st.SendLag),
		BytesIn:   st.BytesIn, BytesOut: st.BytesOut,
	}
	if st.NotSent > 0 {
		out.NotSentReasons = map[string]uint64{}
		for _, c := range st.NotSentByReason() {
			out.NotSentReasons[c.Reason] = c.Count
		}
	}
	if st.FailedLatency.Count() > 0 {
		p := jsonPercentiles(st.FailedLatency)
		out.FailedLatencyMs = &p
	}
	if len(st.Status) > 0 {
		out.Status = make(map[string]uint64, len(st.Status))
		for code, n := range st.Status {
			out.Status[strconv.Itoa(code)] = n
		}
	}
	if len(st.ErrorKinds) > 0 {
		out.ErrorKinds = st.ErrorKinds
	}
	if len(st.Checks) > 0 {
		out.Checks = st.Checks
	}
	return out
}

func jsonPercentiles(h *results.Histogram) JSONPercentiles {
	if h == nil || h.Count() == 0 {
		return JSONPercentiles{}
	}
	p := h.Summary()
	out := JSONPercentiles{Max: ms(p.Max), Mean: ms(p.Mean)}
	for i, d := range p.At {
		out.At[i] = ms(d)
	}
	return out
}

// ms converts to milliseconds, keeping the microsecond resolution of the
// histograms and nothing finer.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// WriteJSON writes the stable JSON summary of a result (see JSONSummary).
func WriteJSON(w io.Writer, r *results.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(SummarizeJSON(r)); err != nil {
		return fmt.Errorf("write JSON summary: %w", err)
	}
	return nil
}
