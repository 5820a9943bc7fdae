package capacity

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// fakeClock is advanced by the scripted prober and by Sleep.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

// scripted is a target of known capacity: probes at or below capacity pass,
// above it fail. Each probe takes its step on the fake clock.
type scripted struct {
	clock    *fakeClock
	capacity float64
	// clientAt, when set, is the rate from which the client cannot keep up.
	clientAt float64
	// stallAt makes the probe with this number (1-based) client-limited
	// once, as a passing stall of the machine would.
	stallAt int
	// catastrophicAbove marks failing probes above this rate catastrophic.
	catastrophicAbove float64
	// cancelAt cancels the search's context on this probe number (1-based).
	cancelAt int
	cancel   context.CancelFunc
	rates    []float64
	deadline []time.Time
}

func (s *scripted) Probe(ctx context.Context, rate float64, d time.Duration) (Probe, error) {
	s.rates = append(s.rates, rate)
	dl, _ := ctx.Deadline()
	s.deadline = append(s.deadline, dl)
	s.clock.now = s.clock.now.Add(d)
	if len(s.rates) == s.cancelAt {
		s.cancel()
	}
	switch {
	case len(s.rates) == s.stallAt:
		return Probe{Verdict: ClientLimited, Reason: "stall"}, nil
	case s.clientAt > 0 && rate >= s.clientAt:
		return Probe{Verdict: ClientLimited, Reason: "send lag"}, nil
	case rate <= s.capacity:
		return Probe{Verdict: Pass}, nil
	default:
		return Probe{Verdict: Fail, Reason: "p99", Catastrophic: s.catastrophicAbove > 0 && rate > s.catastrophicAbove}, nil
	}
}

func round(rates []float64) []float64 {
	out := make([]float64, len(rates))
	for i, r := range rates {
		out[i] = math.Round(r*10) / 10
	}
	return out
}

func equalRates(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSearch(t *testing.T) {
	base := Config{MinRate: 10, MaxRate: 10000, Step: 3 * time.Second, Drain: time.Second, Settle: time.Second, Budget: 2 * time.Minute}
	tests := []struct {
		name      string
		cfg       func(Config) Config
		target    scripted
		rates     []float64
		bracket   [2]float64
		limitedBy Limit
	}{
		{
			name:   "grows geometrically, then bisects to 2%",
			target: scripted{capacity: 450},
			rates:  []float64{10, 20, 40, 80, 160, 320, 640, 452.5, 380.5, 415, 433.4, 442.9, 447.7},
			// 447.7 passes; 452.5/447.7 − 1 = 1.1% ≤ 2%.
			bracket:   [2]float64{447.7, 452.5},
			limitedBy: LimitTarget,
		},
		{
			name:      "every probe passes: stops at max-rate, which is probed exactly",
			cfg:       func(c Config) Config { c.MaxRate = 100; return c },
			target:    scripted{capacity: 1e9},
			rates:     []float64{10, 20, 40, 80, 100},
			bracket:   [2]float64{100, 0},
			limitedBy: LimitMaxRate,
		},
		{
			name:      "client cannot hold the rate twice: stops, target not blamed",
			target:    scripted{capacity: 1e9, clientAt: 150},
			rates:     []float64{10, 20, 40, 80, 160, 160},
			bracket:   [2]float64{80, 160},
			limitedBy: LimitClient,
		},
		{
			name:      "the floor fails catastrophically: one probe, nothing higher",
			target:    scripted{capacity: 5, catastrophicAbove: 5},
			rates:     []float64{10},
			bracket:   [2]float64{0, 10},
			limitedBy: LimitTarget,
		},
		{
			name:   "a catastrophic probe during growth is not exceeded: bisection stays below it",
			target: scripted{capacity: 100, catastrophicAbove: 100},
			rates:  []float64{10, 20, 40, 80, 160, 113.1, 95.1, 103.7, 99.3, 101.5, 100.4},
			// 99.3 passes, 101.5 fails: 2.2% wide, one more probe.
			bracket:   [2]float64{99.3, 100.4},
			limitedBy: LimitTarget,
		},
		{
			name:      "a client stall spoils one probe: the rate is probed again and the search goes on",
			cfg:       func(c Config) Config { c.MaxRate = 100; return c },
			target:    scripted{capacity: 1e9, stallAt: 3},
			rates:     []float64{10, 20, 40, 40, 80, 100},
			bracket:   [2]float64{100, 0},
			limitedBy: LimitMaxRate,
		},
		{
			name: "budget: stops before a probe that would not fit, never past the budget",
			cfg:  func(c Config) Config { c.Budget = 27 * time.Second; return c },
			// Each probe takes 3 s + 1 s settle and needs 4 s of room
			// (step + drain): 6 probes fit in 27 s (the 6th starts at 20 s).
			target:    scripted{capacity: 450},
			rates:     []float64{10, 20, 40, 80, 160, 320},
			bracket:   [2]float64{320, 0},
			limitedBy: LimitBudget,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			clock := &fakeClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
			cfg.Clock = clock
			target := tt.target
			target.clock = clock
			out, err := Search(context.Background(), cfg, &target)
			if err != nil {
				t.Fatal(err)
			}
			if got := round(target.rates); !equalRates(got, tt.rates) {
				t.Errorf("probes %v, want %v", got, tt.rates)
			}
			if got := [2]float64(round(out.Bracket[:])); got != tt.bracket {
				t.Errorf("bracket %v, want %v", got, tt.bracket)
			}
			if out.LimitedBy != tt.limitedBy {
				t.Errorf("limited by %q, want %q", out.LimitedBy, tt.limitedBy)
			}
			if out.MaxRate != out.Bracket[0] {
				t.Errorf("max rate %g is not the bracket's floor %g", out.MaxRate, out.Bracket[0])
			}
			if out.Elapsed > cfg.Budget {
				t.Errorf("took %v of a %v budget", out.Elapsed, cfg.Budget)
			}
			start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			for i, dl := range target.deadline {
				if !dl.Equal(start.Add(cfg.Budget)) {
					t.Errorf("probe %d: deadline %v, want the budget's end", i, dl)
				}
			}
			if len(out.Probes) != len(target.rates) {
				t.Errorf("%d probes reported, %d run", len(out.Probes), len(target.rates))
			}
		})
	}
}

func TestSearchInterruptedKeepsBracket(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := &scripted{clock: clock, capacity: 450, cancelAt: 5, cancel: cancel}
	out, err := Search(ctx, Config{MinRate: 10, Step: time.Second, Clock: clock}, target)
	if err != nil {
		t.Fatal(err)
	}
	if out.LimitedBy != LimitInterrupted {
		t.Fatalf("limited by %q, want interrupted", out.LimitedBy)
	}
	// Probes 1–4 (10…80/s) passed; the fifth was cut short and counts
	// for nothing, but is still reported.
	if out.Bracket != [2]float64{80, 0} || len(out.Probes) != 5 {
		t.Fatalf("bracket %v with %d probes, want [80 0] with 5", out.Bracket, len(out.Probes))
	}
}

func TestSearchProberError(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	calls := 0
	p := ProberFunc(func(ctx context.Context, rate float64, d time.Duration) (Probe, error) {
		calls++
		if calls == 3 {
			return Probe{}, errors.New("connection refused")
		}
		return Probe{Verdict: Pass}, nil
	})
	out, err := Search(context.Background(), Config{Step: time.Second, Clock: clock}, p)
	if err == nil || !strings.Contains(err.Error(), "probe at 40/s: connection refused") {
		t.Fatalf("err = %v", err)
	}
	if out.MaxRate != 20 || len(out.Probes) != 2 {
		t.Fatalf("max %g with %d probes; the probes before the error are kept", out.MaxRate, len(out.Probes))
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{MinRate: 500, MaxRate: 100}, "--min-rate 500/s is above --max-rate 100/s"},
		{Config{Step: 10 * time.Second, Budget: 5 * time.Second}, "--budget 5s is shorter than one probe"},
		{Config{Step: 4 * time.Second, Drain: 2 * time.Second, Budget: 5 * time.Second}, "(4s step + 2s drain)"},
		{Config{Resolution: 1.5}, "resolution 1.5"},
		{Config{MinRate: -1}, "rates must be positive"},
		{Config{Growth: 1}, "growth 1 must be above 1"},
	}
	for _, tt := range tests {
		err := tt.cfg.Check()
		if err == nil || !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want one containing %q", tt.cfg, err, tt.want)
		}
	}
	if err := (Config{}).Check(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestDefaultStep(t *testing.T) {
	tests := []struct {
		bound time.Duration
		rate  float64
		want  time.Duration
	}{
		{0, 1000, 3 * time.Second},
		{40 * time.Millisecond, 1000, 4 * time.Second},
		{time.Second, 1000, 20 * time.Second},
		{0, 50, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := DefaultStep(tt.bound, tt.rate); got != tt.want {
			t.Errorf("DefaultStep(%v, %g) = %v, want %v", tt.bound, tt.rate, got, tt.want)
		}
	}
}
