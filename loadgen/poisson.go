package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// PoissonPacer spaces the arrivals of a profile at random, as independent
// users arrive: a Poisson process whose rate follows the profile (constant,
// ramp or stages). Queueing below capacity shows only with random arrivals;
// evenly spaced ones hide it.
//
// It uses time rescaling: with Λ(t) the profile's expected arrivals by t,
// arrival i is due at Λ⁻¹(xᵢ), where x₀ = 0 and the gaps xᵢ − xᵢ₋₁ are
// independent exponential draws of mean 1. The draws come from a generator
// seeded with Seed, so a schedule is reproducible, and every shard of a
// distributed run computes the same global schedule and takes its part.
type PoissonPacer struct {
	base  Pacer
	inv   inverter
	total float64 // Λ(Duration)
	seed  uint64

	mu  sync.Mutex
	cur poissonCursor

	countOnce sync.Once
	count     uint64
}

// poissonCursor is the position of the generator: arrival i at x.
type poissonCursor struct {
	i   uint64
	x   float64
	rng *rand.Rand
}

// inverter is a profile that can give the time at which its expected count
// of arrivals reaches x, for any real x in [0, expected()).
type inverter interface {
	timeAtCount(x float64) time.Duration
	expected() float64
}

var _ Pacer = (*PoissonPacer)(nil)

// NewPoissonPacer returns a pacer with Poisson arrivals at base's rate.
// Base must be a ConstantPacer, RampPacer or StagedPacer of those.
func NewPoissonPacer(base Pacer, seed uint64) (*PoissonPacer, error) {
	inv, ok := base.(inverter)
	if !ok {
		return nil, fmt.Errorf("poisson arrivals: profile %s cannot be randomised", base)
	}
	if sp, ok := base.(*StagedPacer); ok {
		for _, s := range sp.stages {
			if _, ok := s.Pacer.(inverter); !ok {
				return nil, fmt.Errorf("poisson arrivals: stage %s cannot be randomised", s.Pacer)
			}
		}
	}
	p := &PoissonPacer{base: base, inv: inv, total: inv.expected(), seed: seed}
	p.cur = p.start()
	return p, nil
}

func (p *PoissonPacer) start() poissonCursor {
	return poissonCursor{rng: rand.New(rand.NewPCG(p.seed, 0x7a11_9a7e))}
}

// Arrival implements Pacer. Arrivals are cheapest asked for in increasing
// order (as the scheduler does; a shard's i, i+N, … too): each costs one
// draw per arrival skipped. Asking for an earlier one replays from the start.
func (p *PoissonPacer) Arrival(i uint64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < p.cur.i {
		p.cur = p.start()
	}
	for p.cur.i < i && p.cur.x < p.total {
		p.cur.x += p.cur.rng.ExpFloat64()
		p.cur.i++
	}
	if p.cur.x >= p.total {
		return 0, false
	}
	return p.inv.timeAtCount(p.cur.x), true
}

// Rate implements Pacer: the expected rate, the profile's.
func (p *PoissonPacer) Rate(elapsed time.Duration) float64 { return p.base.Rate(elapsed) }

// Duration implements Pacer.
func (p *PoissonPacer) Duration() time.Duration { return p.base.Duration() }

// Count implements Pacer: the number of arrivals this seed's schedule
// holds, which differs from the profile's expected count by about its
// square root. The first call draws the whole schedule once.
func (p *PoissonPacer) Count() uint64 {
	p.countOnce.Do(func() {
		c := p.start()
		for c.x < p.total {
			c.x += c.rng.ExpFloat64()
			c.i++
		}
		p.count = c.i
	})
	return p.count
}

// Base returns the profile whose rate the arrivals follow.
func (p *PoissonPacer) Base() Pacer { return p.base }

// Seed returns the generator's seed.
func (p *PoissonPacer) Seed() uint64 { return p.seed }

// String implements Pacer.
func (p *PoissonPacer) String() string {
	return fmt.Sprintf("%s, poisson arrivals (seed %d)", p.base, p.seed)
}

// unwrapPoisson returns the profile under a PoissonPacer and the pacer
// (nil when pc is not one).
func unwrapPoisson(pc Pacer) (Pacer, *PoissonPacer) {
	if pp, ok := pc.(*PoissonPacer); ok {
		return pp.base, pp
	}
	return pc, nil
}

// rewrapPoisson gives profile the Poisson arrivals of pp, with its seed
// (profile itself when pp is nil).
func rewrapPoisson(profile Pacer, pp *PoissonPacer) (Pacer, error) {
	if pp == nil {
		return profile, nil
	}
	return NewPoissonPacer(profile, pp.seed)
}

// stagedProfile returns the stages a pacer runs through, Poisson or not.
func stagedProfile(pc Pacer) (*StagedPacer, bool) {
	base, _ := unwrapPoisson(pc)
	sp, ok := base.(*StagedPacer)
	return sp, ok
}

func (p ConstantPacer) expected() float64 { return p.PerSecond * p.Length.Seconds() }

func (p ConstantPacer) timeAtCount(x float64) time.Duration {
	return time.Duration(x / p.PerSecond * float64(time.Second))
}

func (p RampPacer) expected() float64 { return (p.From + p.To) / 2 * p.Length.Seconds() }

func (p RampPacer) timeAtCount(x float64) time.Duration {
	return time.Duration(rampTime(p.From, p.To, p.Length.Seconds(), x) * float64(time.Second))
}

func (p *StagedPacer) expected() float64 {
	var n float64
	for _, s := range p.stages {
		n += s.Pacer.(inverter).expected()
	}
	return n
}

func (p *StagedPacer) timeAtCount(x float64) time.Duration {
	for i, s := range p.stages {
		inv := s.Pacer.(inverter)
		n := inv.expected()
		if x < n || i == len(p.stages)-1 {
			return p.starts[i] + inv.timeAtCount(math.Max(x, 0))
		}
		x -= n
	}
	return 0
}
