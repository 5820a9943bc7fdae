// Package capacity finds the highest open-model arrival rate a service
// sustains under its service-level objectives.
//
// The search runs probes: short open-model runs at one constant rate each.
// Below capacity a probe's latency and backlog stay flat; above it, arrivals
// queue and latency grows for as long as the probe lasts, so a probe of a few
// seconds tells the two apart. The search grows the rate geometrically until
// a probe fails, then bisects the bracket (in log space: the resolution is
// relative) until it is narrower than the resolution, the budget runs out, or
// the client itself cannot hold the rate.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Verdict is the outcome of one probe.
type Verdict string

const (
	// Pass: the probe met every objective and showed no growing backlog.
	Pass Verdict = "pass"
	// Fail: the target missed an objective or fell behind.
	Fail Verdict = "fail"
	// ClientLimited: tailgate itself could not hold the rate (the time lost
	// was spent before requests were sent, not waiting for the target), so
	// the probe says nothing about the target.
	ClientLimited Verdict = "client-limited"
)

// Limit says what ended the search.
type Limit string

const (
	// LimitTarget: a probe of the target failed and the bracket is resolved.
	LimitTarget Limit = "target"
	// LimitClient: the client could not hold a rate the search wanted.
	LimitClient Limit = "client"
	// LimitBudget: the time budget ran out before the bracket was resolved.
	LimitBudget Limit = "budget"
	// LimitMaxRate: the highest rate allowed passed.
	LimitMaxRate Limit = "max-rate"
	// LimitInterrupted: the search was stopped (Ctrl-C) before it ended.
	LimitInterrupted Limit = "interrupted"
)

// Probe is one step of the search: a run at one offered rate and its verdict.
type Probe struct {
	// Rate is the offered arrival rate, per second.
	Rate float64
	// Achieved is the arrival rate the run achieved over its schedule.
	Achieved float64
	// Latency holds p50, p99 and p99.9 of successful responses, in ms.
	Latency map[string]float64
	// ErrorRate is failed requests / requests.
	ErrorRate float64
	// Pass is Verdict == Pass, for readers of the JSON summary.
	Pass    bool
	Verdict Verdict
	// Reason says why the probe failed, or "" when it passed.
	Reason string
	// Catastrophic is set on a probe so far past capacity that the search
	// must not go higher (most requests failing, or latency far above the
	// objective): the search never melts the target.
	Catastrophic bool
	// Result is the probe's full result (histograms, timeline).
	Result *results.Result
}

// Prober runs one probe at rate for the duration d. A prober must return
// by ctx's deadline; the search gives each probe a deadline within its
// budget. An error ends the search (the probes so far are kept).
type Prober interface {
	Probe(ctx context.Context, rate float64, d time.Duration) (Probe, error)
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, rate float64, d time.Duration) (Probe, error)

// Probe implements Prober.
func (f ProberFunc) Probe(ctx context.Context, rate float64, d time.Duration) (Probe, error) {
	return f(ctx, rate, d)
}

// Config shapes the search. Zero fields take the defaults of Defaults.
type Config struct {
	// MinRate is the first rate probed; MaxRate the highest ever probed.
	MinRate, MaxRate float64
	// Step is the length of each probe; zero gives each probe
	// DefaultStep(LatencyBound, its rate).
	Step time.Duration
	// LatencyBound is the tightest latency the objectives allow (0: none
	// bounds latency); it scales the default probe length.
	LatencyBound time.Duration
	// Drain is the longest a probe may run past its step while the
	// requests in flight finish: the probe's request timeout. A probe
	// starts only when the budget has room for Step + Drain.
	Drain time.Duration
	// Settle is the pause after each probe, not counted, that lets the
	// target drain its queues before the next rate.
	Settle time.Duration
	// Budget bounds the whole search, settles included; it is never
	// exceeded.
	Budget time.Duration
	// Resolution is the relative width at which a bracket counts as
	// resolved: hi/lo − 1 ≤ Resolution.
	Resolution float64
	// Growth is the factor between successive rates before the first failure.
	Growth float64
	// Clock is the time source (tests use a fake one); nil is the real clock.
	Clock Clock
}

// Clock is the time the search measures its budget with.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults for the fields of Config.
const (
	DefaultMinRate    = 10.0
	DefaultMaxRate    = 100_000.0
	DefaultBudget     = 2 * time.Minute
	DefaultResolution = 0.02
	DefaultGrowth     = 2.0
	DefaultSettle     = time.Second
)

// DefaultStep is the probe length for objectives whose tightest latency
// bound is bound (0 when no objective bounds latency) at rate: long enough
// for a backlog to show, which takes many multiples of the latency the
// objective allows, and for the probe to hold enough arrivals (≥ 500) that
// its p99 is measured, not guessed. It is at least 3 s and at most 20 s.
func DefaultStep(bound time.Duration, rate float64) time.Duration {
	d := 3 * time.Second
	if b := 100 * bound; b > d {
		d = b
	}
	if rate > 0 {
		if n := time.Duration(500 / rate * float64(time.Second)); n > d {
			d = n
		}
	}
	return min(d, 20*time.Second)
}

// step is the length of a probe at rate.
func (c Config) step(rate float64) time.Duration {
	if c.Step > 0 {
		return c.Step
	}
	return DefaultStep(c.LatencyBound, rate)
}

// ErrBadConfig is wrapped by the errors of Config.Check.
var ErrBadConfig = errors.New("bad capacity search")

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.MinRate == 0 {
		c.MinRate = DefaultMinRate
	}
	if c.MaxRate == 0 {
		c.MaxRate = max(DefaultMaxRate, c.MinRate)
	}
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	if c.Resolution == 0 {
		c.Resolution = DefaultResolution
	}
	if c.Growth == 0 {
		c.Growth = DefaultGrowth
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	return c
}

// Check reports a configuration the search cannot run, with the defaults
// applied: rates out of order, a budget shorter than one probe.
func (c Config) Check() error {
	c = c.withDefaults()
	switch {
	case c.MinRate < 0 || c.MaxRate < 0 || math.IsNaN(c.MinRate) || math.IsNaN(c.MaxRate):
		return fmt.Errorf("%w: rates must be positive", ErrBadConfig)
	case c.MinRate > c.MaxRate:
		return fmt.Errorf("%w: --min-rate %g/s is above --max-rate %g/s", ErrBadConfig, c.MinRate, c.MaxRate)
	case c.Resolution <= 0 || c.Resolution >= 1:
		return fmt.Errorf("%w: resolution %g must be between 0 and 1", ErrBadConfig, c.Resolution)
	case c.Growth <= 1:
		return fmt.Errorf("%w: growth %g must be above 1", ErrBadConfig, c.Growth)
	case c.Step < 0 || c.Settle < 0:
		return fmt.Errorf("%w: the probe length must be positive", ErrBadConfig)
	case c.Drain < 0:
		return fmt.Errorf("%w: the drain allowance must not be negative", ErrBadConfig)
	case c.Budget < c.step(c.MinRate)+c.Drain:
		return fmt.Errorf("%w: --budget %s is shorter than one probe (%s step + %s drain)", ErrBadConfig, c.Budget, c.step(c.MinRate), c.Drain)
	}
	return nil
}

// Outcome is what a search found.
type Outcome struct {
	// MaxRate is the highest rate that passed (0: none did).
	MaxRate float64
	// Bracket is [last passing rate, first failing rate above it]; the
	// upper bound is 0 while no probe failed.
	Bracket [2]float64
	// LimitedBy says what ended the search.
	LimitedBy Limit
	// Probes in the order they ran.
	Probes []Probe
	// Elapsed is how long the search took, settles included.
	Elapsed time.Duration
}

// Report returns the outcome in the results file format, with the
// objectives as written and each probe's full result.
func (o *Outcome) Report(target, arrivals string, slo []string) *results.Capacity {
	c := &results.Capacity{
		Version: results.ResultVersion, Kind: results.CapacityKind, Target: target,
		MaxRate: o.MaxRate, Bracket: o.Bracket, LimitedBy: string(o.LimitedBy),
		SLO: slo, Arrivals: arrivals, Elapsed: results.Duration(o.Elapsed),
	}
	for _, p := range o.Probes {
		c.Probes = append(c.Probes, results.CapacityProbe{
			Rate: p.Rate, Achieved: p.Achieved, Latency: p.Latency, ErrorRate: p.ErrorRate,
			Pass: p.Pass, Verdict: string(p.Verdict), Reason: p.Reason, Catastrophic: p.Catastrophic,
			Result: p.Result,
		})
	}
	return c
}

// Search runs probes until the bracket is resolved, a limit is reached, or
// ctx is done. It returns what it measured even when it stops early: an
// interrupted search still reports its bracket so far (LimitInterrupted).
func Search(ctx context.Context, cfg Config, p Prober) (Outcome, error) {
	if err := cfg.Check(); err != nil {
		return Outcome{}, err
	}
	cfg = cfg.withDefaults()
	s := &search{cfg: cfg, prober: p, start: cfg.Clock.Now()}
	s.deadline = s.start.Add(cfg.Budget)
	err := s.run(ctx)
	s.out.Elapsed = cfg.Clock.Now().Sub(s.start)
	s.out.MaxRate = s.lo
	s.out.Bracket = [2]float64{s.lo, s.hi}
	return s.out, err
}

type search struct {
	cfg      Config
	prober   Prober
	start    time.Time
	deadline time.Time
	out      Outcome
	// lo is the highest passing rate, hi the lowest failing rate above it
	// (0 while none failed).
	lo, hi float64
	// retried is set while a client-limited probe is being repeated.
	retried bool
}

// errStop ends the search without an error to report.
var errStop = errors.New("stop")

func (s *search) run(ctx context.Context) error {
	err := s.grow(ctx)
	if err == nil {
		err = s.bisect(ctx)
	}
	if errors.Is(err, errStop) {
		return nil
	}
	if ctx.Err() != nil {
		s.out.LimitedBy = LimitInterrupted
		return nil
	}
	return err
}

// grow probes MinRate, then multiplies the rate by Growth until a probe
// fails or MaxRate passes.
func (s *search) grow(ctx context.Context) error {
	for rate := s.cfg.MinRate; ; rate = min(rate*s.cfg.Growth, s.cfg.MaxRate) {
		pr, err := s.probe(ctx, rate)
		if err != nil {
			return err
		}
		if pr.Verdict != Pass {
			return nil
		}
		if rate >= s.cfg.MaxRate {
			s.out.LimitedBy = LimitMaxRate
			return errStop
		}
	}
}

// bisect narrows [lo, hi] at its geometric midpoint. With no passing rate
// (MinRate failed) there is nothing below to bisect: the floor the user set
// is the answer.
func (s *search) bisect(ctx context.Context) error {
	if s.lo == 0 {
		s.out.LimitedBy = LimitTarget
		return errStop
	}
	for s.hi/s.lo-1 > s.cfg.Resolution {
		if _, err := s.probe(ctx, math.Sqrt(s.lo*s.hi)); err != nil {
			return err
		}
	}
	if s.out.LimitedBy == "" {
		s.out.LimitedBy = LimitTarget
	}
	return errStop
}

// probe runs one probe if the budget has room for it and its settle, and
// moves the bracket. It stops the search (errStop) on a client-limited or
// catastrophic probe above the bracket's floor, or when the budget is spent.
func (s *search) probe(ctx context.Context, rate float64) (Probe, error) {
	if err := ctx.Err(); err != nil {
		return Probe{}, err
	}
	step := s.cfg.step(rate)
	now := s.cfg.Clock.Now()
	if now.Add(step + s.cfg.Drain).After(s.deadline) {
		s.out.LimitedBy = LimitBudget
		return Probe{}, errStop
	}
	pctx, cancel := context.WithDeadline(ctx, s.deadline)
	defer cancel()
	pr, err := s.prober.Probe(pctx, rate, step)
	if err != nil {
		if ctx.Err() != nil {
			return Probe{}, ctx.Err()
		}
		return Probe{}, fmt.Errorf("probe at %g/s: %w", rate, err)
	}
	pr.Rate = rate
	pr.Pass = pr.Verdict == Pass
	s.out.Probes = append(s.out.Probes, pr)
	if ctx.Err() != nil {
		// Stopped during the probe: what it measured is incomplete and
		// does not move the bracket.
		return pr, ctx.Err()
	}
	switch pr.Verdict {
	case Pass:
		s.lo = max(s.lo, rate)
	case Fail:
		if s.hi == 0 || rate < s.hi {
			s.hi = rate
		}
		if pr.Catastrophic && s.lo == 0 {
			s.out.LimitedBy = LimitTarget
			return pr, errStop
		}
	case ClientLimited:
		// A client stall (a busy machine, a collection) can spoil one
		// short probe; the same rate is tried once more before the
		// search concludes the client cannot hold it.
		if !s.retried {
			s.retried = true
			if err := s.settle(ctx); err != nil {
				return pr, err
			}
			return s.probe(ctx, rate)
		}
		if s.hi == 0 || rate < s.hi {
			s.hi = rate
		}
		s.out.LimitedBy = LimitClient
		return pr, errStop
	}
	s.retried = false
	return pr, s.settle(ctx)
}

// settle pauses between probes, never past the deadline.
func (s *search) settle(ctx context.Context) error {
	if s.cfg.Settle <= 0 {
		return nil
	}
	return s.cfg.Clock.Sleep(ctx, max(0, min(s.cfg.Settle, s.deadline.Sub(s.cfg.Clock.Now()))))
}
