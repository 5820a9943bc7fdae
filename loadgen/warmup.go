package loadgen

import (
	"fmt"
	"time"
)

// The warmup rule, one for every way to ask for a warmup (a scenario's
// load.warmup, its warmup stages, --warmup): the warmup comes before the
// measured part and adds to it. A plan's Duration (closed model) and its
// measured pacer (open model) are the measured part; the warmup is run
// first, for Warmup, and the run takes Warmup + the measured duration. A
// duration override (--duration) changes the measured part only.
//
// In an open-model plan the warmup is the leading stages of the pacer
// whose durations add up to Warmup; MeasuredPacer returns the rest. Poisson
// arrivals are one process over the whole profile, the warmup's included:
// the rule applies to the profile under the PoissonPacer, and the arrivals
// stay Poisson, with the same seed.

// warmupStageName names the stage SetWarmup puts in front of the load.
const warmupStageName = "warmup"

// MeasuredPacer returns the pacer of the measured part (the plan's pacer
// without its warmup stages), or nil for the closed model.
func (p *Load) MeasuredPacer() Pacer {
	if p.Pacer == nil {
		return nil
	}
	base, pp := unwrapPoisson(p.Pacer)
	_, rest, err := splitWarmup(base, p.Warmup)
	if err != nil {
		return p.Pacer
	}
	m, err := rewrapPoisson(rest, pp)
	if err != nil {
		return p.Pacer
	}
	return m
}

// MeasuredDuration is the planned length of the measured part.
func (p *Load) MeasuredDuration() time.Duration {
	if p.Pacer == nil {
		return p.Duration
	}
	return p.MeasuredPacer().Duration()
}

// SetWarmup replaces the plan's warmup with one of length d (0: none). In
// an open-model plan the warmup runs at the rate the measured part starts
// with; warmup stages the plan had are replaced.
func (p *Load) SetWarmup(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("warmup %s: must not be negative", d)
	}
	if p.Pacer == nil {
		p.Warmup = d
		return nil
	}
	base, pp := unwrapPoisson(p.Pacer)
	_, rest, err := splitWarmup(base, p.Warmup)
	if err != nil {
		return err
	}
	next := rest
	if d > 0 {
		warm := Stage{Name: warmupStageName, Pacer: ConstantPacer{PerSecond: rest.Rate(0), Length: d}}
		next = NewStagedPacer(append([]Stage{warm}, stagesOf(rest)...)...)
	}
	next, err = rewrapPoisson(next, pp)
	if err != nil {
		return fmt.Errorf("warmup %s: %w", d, err)
	}
	p.Pacer, p.Warmup = next, d
	return nil
}

// SetMeasuredPacer replaces the measured part of an open-model plan,
// keeping its warmup. The plan's arrivals become m's: Poisson with m's
// seed over the warmup as well when m is a PoissonPacer, uniform otherwise
// (m = MeasuredPacer(), rescaled, keeps them).
func (p *Load) SetMeasuredPacer(m Pacer) error {
	base, _ := unwrapPoisson(p.Pacer)
	lead, _, err := splitWarmup(base, p.Warmup)
	if err != nil {
		return err
	}
	mb, pp := unwrapPoisson(m)
	next := mb
	if len(lead) > 0 {
		next = NewStagedPacer(append(append([]Stage(nil), lead...), stagesOf(mb)...)...)
	}
	next, err = rewrapPoisson(next, pp)
	if err != nil {
		return err
	}
	p.Pacer = next
	return nil
}

// stagesOf returns a pacer as a list of stages.
func stagesOf(p Pacer) []Stage {
	if sp, ok := p.(*StagedPacer); ok {
		return append([]Stage(nil), sp.Stages()...)
	}
	return []Stage{{Pacer: p}}
}

// splitWarmup splits a pacer into its leading warmup stages, which last
// warm in total, and the measured rest.
func splitWarmup(pc Pacer, warm time.Duration) ([]Stage, Pacer, error) {
	if warm <= 0 || pc == nil {
		return nil, pc, nil
	}
	sp, ok := pc.(*StagedPacer)
	if !ok {
		return nil, nil, fmt.Errorf("warmup %s: the profile %s has no warmup stage", warm, pc)
	}
	stages := sp.Stages()
	var sum time.Duration
	for i, st := range stages {
		if sum == warm {
			rest := stages[i:]
			if len(rest) == 1 && rest[0].Name == "" {
				return stages[:i], rest[0].Pacer, nil
			}
			return stages[:i], NewStagedPacer(rest...), nil
		}
		sum += st.Pacer.Duration()
	}
	return nil, nil, fmt.Errorf("warmup %s: the stages of %s do not start with %s of warmup followed by a measured part", warm, pc, warm)
}
