package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
)

// Pacer is an open-model arrival profile: it gives the intended time of every
// arrival, measured from the start instant of the run. Because every time is
// computed from the start (never from accumulated sleeps), a late scheduler
// catches up instead of drifting, and shard i of N can take arrivals
// i, i+N, i+2N… of exactly the same schedule.
type Pacer interface {
	// Arrival returns the intended offset of arrival i (0-based) from the
	// start, and false when the profile has no arrival i.
	Arrival(i uint64) (at time.Duration, ok bool)
	// Rate returns the planned arrival rate, per second, at elapsed.
	Rate(elapsed time.Duration) float64
	// Duration returns the planned length of the profile.
	Duration() time.Duration
	// Count returns the number of arrivals the profile plans in total.
	Count() uint64
	// String describes the profile, e.g. "constant 200/s for 10s".
	String() string
}

var (
	_ Pacer = ConstantPacer{}
	_ Pacer = RampPacer{}
	_ Pacer = (*StagedPacer)(nil)
)

// ConstantPacer plans Rate arrivals per second for Length.
type ConstantPacer struct {
	PerSecond float64
	Length    time.Duration
}

// Arrival implements Pacer: arrival i is due at i/rate.
func (p ConstantPacer) Arrival(i uint64) (time.Duration, bool) {
	if i >= p.Count() {
		return 0, false
	}
	return time.Duration(float64(i) / p.PerSecond * float64(time.Second)), true
}

// Rate implements Pacer.
func (p ConstantPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.Length {
		return 0
	}
	return p.PerSecond
}

// Duration implements Pacer.
func (p ConstantPacer) Duration() time.Duration { return p.Length }

// Count implements Pacer: the arrivals whose intended time falls in [0, Length).
func (p ConstantPacer) Count() uint64 {
	return arrivalsBefore(p.PerSecond * p.Length.Seconds())
}

// String implements Pacer.
func (p ConstantPacer) String() string {
	return fmt.Sprintf("constant %s for %s", format.RateSpec(p.PerSecond), p.Length)
}

// RampPacer plans a rate that changes linearly from From to To per second over
// Length.
type RampPacer struct {
	From, To float64
	Length   time.Duration
}

// Arrival implements Pacer. The cumulative number of arrivals planned by t is
// N(t) = From·t + (To−From)·t²/(2·Length); arrival i is due at the t where
// N(t) = i, the root of that quadratic.
func (p RampPacer) Arrival(i uint64) (time.Duration, bool) {
	if i >= p.Count() {
		return 0, false
	}
	t := rampTime(p.From, p.To, p.Length.Seconds(), float64(i))
	return time.Duration(t * float64(time.Second)), true
}

func rampTime(from, to, length, n float64) float64 {
	if n <= 0 {
		return 0
	}
	a := (to - from) / (2 * length)
	if math.Abs(a) < 1e-12 {
		return n / from
	}
	// a·t² + from·t − n = 0; the numerically stable root for t ≥ 0.
	disc := from*from + 4*a*n
	if disc < 0 {
		disc = 0
	}
	return 2 * n / (from + math.Sqrt(disc))
}

// Rate implements Pacer.
func (p RampPacer) Rate(elapsed time.Duration) float64 {
	if elapsed < 0 || elapsed >= p.Length {
		return 0
	}
	return p.From + (p.To-p.From)*elapsed.Seconds()/p.Length.Seconds()
}

// Duration implements Pacer.
func (p RampPacer) Duration() time.Duration { return p.Length }

// Count implements Pacer.
func (p RampPacer) Count() uint64 {
	total := (p.From + p.To) / 2 * p.Length.Seconds()
	return arrivalsBefore(total)
}

// String implements Pacer.
func (p RampPacer) String() string {
	return fmt.Sprintf("ramp %s→%s over %s", format.RateSpec(p.From), format.RateSpec(p.To), p.Length)
}

// arrivalsBefore turns the expected arrival count in [0, length) into an
// integer count. A count that is an exact integer (1000/s for 5s = 5000) is
// exact; the 1e-9 slack absorbs floating-point error from rate·seconds.
func arrivalsBefore(expected float64) uint64 {
	if expected <= 0 || math.IsNaN(expected) {
		return 0
	}
	c := math.Ceil(expected - 1e-9)
	if c < 0 {
		return 0
	}
	return uint64(c)
}

// Stage is one named part of a StagedPacer.
type Stage struct {
	Name  string
	Pacer Pacer
}

// StagedPacer runs stages one after another; arrival numbering and time
// continue across stage boundaries.
type StagedPacer struct {
	stages []Stage
	firsts []uint64        // index of each stage's first arrival
	starts []time.Duration // offset of each stage's start
	count  uint64
	length time.Duration
}

// NewStagedPacer returns a pacer that runs the stages in order.
func NewStagedPacer(stages ...Stage) *StagedPacer {
	p := &StagedPacer{stages: stages}
	for _, s := range stages {
		p.firsts = append(p.firsts, p.count)
		p.starts = append(p.starts, p.length)
		p.count += s.Pacer.Count()
		p.length += s.Pacer.Duration()
	}
	return p
}

// Stages returns the stages in order.
func (p *StagedPacer) Stages() []Stage { return p.stages }

// StageAt returns the index of the stage running at elapsed, or -1 past the end.
func (p *StagedPacer) StageAt(elapsed time.Duration) int {
	for i := len(p.stages) - 1; i >= 0; i-- {
		if elapsed >= p.starts[i] {
			if elapsed >= p.length {
				return -1
			}
			return i
		}
	}
	return -1
}

// Arrival implements Pacer.
func (p *StagedPacer) Arrival(i uint64) (time.Duration, bool) {
	if i >= p.count {
		return 0, false
	}
	// Stages are few; a linear scan from the end beats a binary search.
	for s := len(p.stages) - 1; s >= 0; s-- {
		if i >= p.firsts[s] {
			at, ok := p.stages[s].Pacer.Arrival(i - p.firsts[s])
			if !ok {
				continue
			}
			return p.starts[s] + at, true
		}
	}
	return 0, false
}

// Rate implements Pacer.
func (p *StagedPacer) Rate(elapsed time.Duration) float64 {
	s := p.StageAt(elapsed)
	if s < 0 {
		return 0
	}
	return p.stages[s].Pacer.Rate(elapsed - p.starts[s])
}

// Duration implements Pacer.
func (p *StagedPacer) Duration() time.Duration { return p.length }

// Count implements Pacer.
func (p *StagedPacer) Count() uint64 { return p.count }

// String implements Pacer.
func (p *StagedPacer) String() string {
	parts := make([]string, len(p.stages))
	for i, s := range p.stages {
		parts[i] = s.Pacer.String()
		if s.Name != "" {
			parts[i] = s.Name + ": " + parts[i]
		}
	}
	return strings.Join(parts, ", then ")
}

// ParseProfile parses the --rate syntax into a pacer that fills total:
//
//	200/s                     constant 200 per second for total
//	100/s:2000/s              linear ramp from 100/s to 2000/s over total
//	100/s@10s,100/s:1k/s@20s  stages, each "RATE[:RATE]@DURATION"; a stage
//	                          without @DURATION takes the time the others leave
//
// At most one stage may omit its duration.
func ParseProfile(spec string, total time.Duration) (Pacer, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty rate")
	}
	parts := strings.Split(spec, ",")
	type stagePart struct {
		from, to float64
		d        time.Duration
	}
	var ps []stagePart
	open := -1
	var fixed time.Duration
	for i, part := range parts {
		part = strings.TrimSpace(part)
		sp := stagePart{}
		rates := part
		if at := strings.LastIndexByte(part, '@'); at >= 0 {
			d, err := format.ParseDuration(strings.TrimSpace(part[at+1:]))
			if err != nil {
				return nil, fmt.Errorf("stage %d %q: %w", i+1, part, err)
			}
			sp.d = d
			fixed += d
			rates = strings.TrimSpace(part[:at])
		} else {
			if open >= 0 {
				return nil, fmt.Errorf("rate %q: only one stage may leave out its @duration", spec)
			}
			open = i
		}
		var err error
		if colon := strings.IndexByte(rates, ':'); colon >= 0 {
			if sp.from, err = format.ParseRate(rates[:colon]); err != nil {
				return nil, err
			}
			if sp.to, err = format.ParseRate(rates[colon+1:]); err != nil {
				return nil, err
			}
		} else {
			if sp.from, err = format.ParseRate(rates); err != nil {
				return nil, err
			}
			sp.to = sp.from
		}
		ps = append(ps, sp)
	}
	if open >= 0 {
		if total <= fixed {
			return nil, fmt.Errorf("rate %q: the stages with a duration already take %s of the %s run", spec, fixed, total)
		}
		ps[open].d = total - fixed
	}
	stages := make([]Stage, len(ps))
	for i, sp := range ps {
		if sp.from == sp.to {
			stages[i] = Stage{Pacer: ConstantPacer{PerSecond: sp.from, Length: sp.d}}
		} else {
			stages[i] = Stage{Pacer: RampPacer{From: sp.from, To: sp.to, Length: sp.d}}
		}
	}
	if len(stages) == 1 {
		return stages[0].Pacer, nil
	}
	return NewStagedPacer(stages...), nil
}
