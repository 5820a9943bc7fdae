package capacity

import (
	"context"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// PlanProber probes by running Plan with its pacer replaced by a constant
// open-model rate. It judges each probe with Judge and keeps the judge's
// baseline: the median service time of the lowest passing probe.
type PlanProber struct {
	// Plan is the run to probe with; its Pacer (or VUs) is replaced.
	Plan loadgen.Plan
	// Judge gives each probe its verdict.
	Judge Judge
	// Options are passed to every run (observers, …).
	Options []loadgen.Option
	// OnProbe, when set, is told of each probe as it starts (progress).
	OnProbe func(rate float64, d time.Duration)
	// Arrivals makes each probe's pacer: nil for evenly spaced arrivals.
	Arrivals func(rate float64, d time.Duration) loadgen.Pacer
}

// Probe implements Prober.
func (pp *PlanProber) Probe(ctx context.Context, rate float64, d time.Duration) (Probe, error) {
	plan := pp.Plan
	plan.VUs, plan.Iterations, plan.Duration, plan.Think, plan.Warmup = 0, 0, 0, 0, 0
	if pp.Arrivals != nil {
		plan.Pacer = pp.Arrivals(rate, d)
	} else {
		plan.Pacer = loadgen.ConstantPacer{PerSecond: rate, Length: d}
	}
	if pp.OnProbe != nil {
		pp.OnProbe(rate, d)
	}
	// Six or more timeline intervals per probe, so a backlog that grows
	// during the probe shows as a trend.
	opts := append([]loadgen.Option{loadgen.WithInterval(probeInterval(d))}, pp.Options...)
	res, err := loadgen.Run(ctx, plan, opts...)
	if err != nil {
		return Probe{}, fmt.Errorf("run: %w", err)
	}
	p := pp.Judge.Verdict(res, rate)
	if p.Verdict == Pass && (pp.Judge.Baseline == 0) && res.Total != nil {
		pp.Judge.Baseline = res.Total.Service.Percentile(50)
	}
	return p, nil
}

// probeInterval is d/6, at least 100ms.
func probeInterval(d time.Duration) time.Duration {
	return max(d/6, 100*time.Millisecond)
}
