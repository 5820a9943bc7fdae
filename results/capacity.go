package results

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// CapacityKind marks a capacity search's file (tailgate capacity -o).
const CapacityKind = "capacity"

// Capacity is the outcome of a capacity search: the highest open-model
// arrival rate that met every objective, the bracket around it and every
// probe with its full result. It is the content of `tailgate capacity -o`;
// its summary (without the probes' results) is what `--format json` prints.
type Capacity struct {
	// Version is the file format version (ResultVersion).
	Version int `json:"version"`
	// Kind is CapacityKind.
	Kind string `json:"kind"`
	// Target is the base URL probed (credentials redacted).
	Target string `json:"target"`
	// MaxRate is the highest passing rate in arrivals per second (0: none).
	MaxRate float64 `json:"max_rate"`
	// Bracket is [last passing rate, first failing rate above it]; the
	// upper bound is 0 when no probe failed.
	Bracket [2]float64 `json:"bracket"`
	// LimitedBy says what ended the search: target, client, budget,
	// max-rate or interrupted.
	LimitedBy string `json:"limited_by"`
	// SLO lists the objectives as written.
	SLO []string `json:"slo"`
	// LatencyBound is the tightest latency the objectives allow (0: none
	// bounds latency): the line the knee chart draws.
	LatencyBound Duration `json:"slo_latency,omitempty"`
	// Arrivals is how probes spaced their arrivals: "uniform" or "poisson".
	Arrivals string `json:"arrivals"`
	// Elapsed is how long the search took, settles included.
	Elapsed Duration `json:"elapsed"`
	// Probes in the order they ran.
	Probes []CapacityProbe `json:"probes"`
}

// CapacityProbe is one probe of a capacity search.
type CapacityProbe struct {
	// Rate is the offered arrival rate per second.
	Rate float64 `json:"rate"`
	// Achieved is the arrival rate achieved over the probe's schedule.
	Achieved float64 `json:"achieved"`
	// Latency is p50, p99 and p99.9 in milliseconds ("p50", "p99", "p99.9").
	Latency map[string]float64 `json:"latency_ms"`
	// ErrorRate is failed requests over requests (0…1).
	ErrorRate float64 `json:"error_rate"`
	// Pass is true when the probe met every objective with no backlog.
	Pass bool `json:"pass"`
	// Verdict is pass, fail or client-limited.
	Verdict string `json:"verdict"`
	// Reason says why a probe did not pass ("" when it did).
	Reason string `json:"reason"`
	// Catastrophic marks a probe the search would not go beyond.
	Catastrophic bool `json:"catastrophic,omitempty"`
	// Result is the probe's full result; omitted from the summary.
	Result *Result `json:"result,omitempty"`
}

// Summary returns c without the probes' full results: the shape printed by
// `tailgate capacity --format json`.
func (c *Capacity) Summary() *Capacity {
	s := *c
	s.Probes = make([]CapacityProbe, len(c.Probes))
	for i, p := range c.Probes {
		p.Result = nil
		s.Probes[i] = p
	}
	return &s
}

// Encode writes the capacity search as indented JSON.
func (c *Capacity) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// DecodeCapacity reads a capacity search written by Encode.
func DecodeCapacity(rd io.Reader) (*Capacity, error) {
	var c Capacity
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.Kind != CapacityKind {
		return nil, fmt.Errorf("not a capacity search (kind %q, want %q)", c.Kind, CapacityKind)
	}
	// The probes' results are results files of the same version.
	if c.Version < MinResultVersion || c.Version > ResultVersion {
		return nil, fmt.Errorf("%w %d (this build reads versions %d to %d)", ErrVersion, c.Version, MinResultVersion, ResultVersion)
	}
	return &c, nil
}

// ReadCapacityFile reads a capacity file; errors name the file.
func ReadCapacityFile(path string) (*Capacity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := DecodeCapacity(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
