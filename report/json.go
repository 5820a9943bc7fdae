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
	// Meta describes the run.
	Meta JSONMeta `json:"meta"`
	// Schedule says how well an open-model client kept to its plan.
	Schedule results.Schedule `json:"schedule"`
	// Warnings are the same sentences the text summary prints.
	Warnings []string `json:"warnings"`
}

// JSONStats are the figures of one request name, group or the total.
type JSONStats struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Rate is the achieved request rate per second.
	Rate      float64 `json:"rate"`
	ErrorRate float64 `json:"error_rate"`
	// LatencyMs is completion − intended send time.
	LatencyMs JSONPercentiles `json:"latency_ms"`
	// ServiceMs is completion − actual send time.
	ServiceMs JSONPercentiles `json:"service_ms"`
	// SendLagMs is actual − intended send time.
	SendLagMs  JSONPercentiles   `json:"send_lag_ms"`
	Status     map[string]uint64 `json:"status,omitempty"`
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	BytesIn    uint64            `json:"bytes_in"`
	BytesOut   uint64            `json:"bytes_out"`
}

// JSONPercentiles are the percentiles of one histogram in milliseconds.
// The key "p99.9" is spelled as in reports.
type JSONPercentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// JSONMeta is the run description in a JSONSummary.
type JSONMeta struct {
	Name            string        `json:"name"`
	Target          string        `json:"target"`
	Model           results.Model `json:"model"`
	Profile         string        `json:"profile"`
	Start           time.Time     `json:"start"`
	End             time.Time     `json:"end"`
	DurationS       float64       `json:"duration_s"`
	WarmupS         float64       `json:"warmup_s,omitempty"`
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
	secs := r.Meta.Measured().Seconds()
	m := &r.Meta
	s := &JSONSummary{
		Requests: map[string]JSONStats{},
		Meta: JSONMeta{
			Name: m.Name, Target: m.Target, Model: m.Model, Profile: m.Profile,
			Start: m.Start, End: m.End, DurationS: round3(secs), WarmupS: round3(m.Warmup.D().Seconds()),
			PlannedRate: m.PlannedRate, PlannedRequests: m.PlannedRequests, VUs: m.VUs,
			Shard: m.Shard, PlanHash: m.PlanHash, Partial: m.Partial, StopReason: m.StopReason,
			ToolVersion: m.ToolVersion,
		},
		Schedule: r.Schedule,
		Warnings: Warnings(r),
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if r.Total != nil {
		s.Total = jsonStats(r.Total, secs)
	}
	for _, st := range r.Requests {
		if st != nil {
			s.Requests[st.Key()] = jsonStats(st, secs)
		}
	}
	for _, st := range r.Groups {
		if st == nil {
			continue
		}
		if s.Groups == nil {
			s.Groups = map[string]JSONStats{}
		}
		s.Groups[st.Key()] = jsonStats(st, secs)
	}
	return s
}

func jsonStats(st *results.Stats, secs float64) JSONStats {
	out := JSONStats{
		Requests: st.Requests, Errors: st.Errors, ErrorRate: st.ErrorRate(),
		LatencyMs: jsonPercentiles(st.Latency),
		ServiceMs: jsonPercentiles(st.Service),
		SendLagMs: jsonPercentiles(st.SendLag),
		BytesIn:   st.BytesIn, BytesOut: st.BytesOut,
	}
	if secs > 0 {
		out.Rate = round3(float64(st.Requests) / secs)
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
	return out
}

func jsonPercentiles(h *results.Histogram) JSONPercentiles {
	if h == nil || h.Count() == 0 {
		return JSONPercentiles{}
	}
	p := h.Summary()
	return JSONPercentiles{
		P50: ms(p.P50), P90: ms(p.P90), P95: ms(p.P95), P99: ms(p.P99), P999: ms(p.P999),
		Max: ms(p.Max), Mean: ms(p.Mean),
	}
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
