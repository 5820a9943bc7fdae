package loadgen

import (
	"math"
	"testing"
	"time"
)

func schedule(t *testing.T, p Pacer) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i := uint64(0); ; i++ {
		at, ok := p.Arrival(i)
		if !ok {
			break
		}
		out = append(out, at)
	}
	if uint64(len(out)) != p.Count() {
		t.Fatalf("%d arrivals, Count() = %d", len(out), p.Count())
	}
	return out
}

func mustPoisson(t *testing.T, base Pacer, seed uint64) *PoissonPacer {
	t.Helper()
	p, err := NewPoissonPacer(base, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPoissonIsPoisson: 1000/s for 20 s gives about 20 000 arrivals (within
// 4σ = 4·√20000) whose gaps have mean 1 ms and a coefficient of variation
// near 1 (an exponential's; evenly spaced arrivals have 0), in order, within
// the profile's span.
func TestPoissonIsPoisson(t *testing.T) {
	p := mustPoisson(t, ConstantPacer{PerSecond: 1000, Length: 20 * time.Second}, 7)
	s := schedule(t, p)
	if n := float64(len(s)); math.Abs(n-20000) > 4*math.Sqrt(20000) {
		t.Fatalf("%v arrivals, want 20000 ± %.0f", n, 4*math.Sqrt(20000))
	}
	var sum, sumsq float64
	for i := 1; i < len(s); i++ {
		if s[i] < s[i-1] || s[i] >= 20*time.Second {
			t.Fatalf("arrival %d at %v after %v", i, s[i], s[i-1])
		}
		g := (s[i] - s[i-1]).Seconds()
		sum += g
		sumsq += g * g
	}
	n := float64(len(s) - 1)
	mean := sum / n
	cv := math.Sqrt(sumsq/n-mean*mean) / mean
	if math.Abs(mean-0.001) > 0.00005 || math.Abs(cv-1) > 0.05 {
		t.Fatalf("gaps: mean %.6fs, coefficient of variation %.3f; want 0.001s and 1", mean, cv)
	}
}

// TestPoissonShardsPartitionOneSchedule: shard k of N takes arrivals k, k+N,
// … of the very same random schedule, so the shards' union is the single
// run's schedule, time for time, for profiles of every kind.
func TestPoissonShardsPartitionOneSchedule(t *testing.T) {
	profiles := map[string]func() Pacer{
		"constant": func() Pacer { return ConstantPacer{PerSecond: 333.3, Length: 3 * time.Second} },
		"ramp":     func() Pacer { return RampPacer{From: 10, To: 700, Length: 2 * time.Second} },
		"stages": func() Pacer {
			return NewStagedPacer(Stage{Pacer: ConstantPacer{PerSecond: 50, Length: time.Second}}, Stage{Pacer: RampPacer{From: 50, To: 500, Length: 1500 * time.Millisecond}})
		},
	}
	for name, mk := range profiles {
		whole := schedule(t, mustPoisson(t, mk(), 42))
		for _, n := range []uint64{1, 2, 3, 7} {
			union := make([]time.Duration, len(whole))
			seen := 0
			for k := uint64(0); k < n; k++ {
				shard := mustPoisson(t, mk(), 42)
				for i := k; ; i += n {
					at, ok := shard.Arrival(i)
					if !ok {
						break
					}
					union[i] = at
					seen++
				}
			}
			if seen != len(whole) {
				t.Fatalf("%s, %d shards: %d arrivals, the single run has %d", name, n, seen, len(whole))
			}
			for i := range whole {
				if union[i] != whole[i] {
					t.Fatalf("%s, %d shards: arrival %d at %v, the single run's at %v", name, n, i, union[i], whole[i])
				}
			}
		}
	}
}

func TestPoissonReproducibleAndReplayable(t *testing.T) {
	base := ConstantPacer{PerSecond: 100, Length: 2 * time.Second}
	a, b := schedule(t, mustPoisson(t, base, 1)), schedule(t, mustPoisson(t, base, 1))
	if len(a) != len(b) || a[len(a)/2] != b[len(b)/2] {
		t.Fatal("one seed, two schedules")
	}
	if c := schedule(t, mustPoisson(t, base, 2)); len(c) == len(a) && c[10] == a[10] {
		t.Fatal("another seed, the same schedule")
	}
	p := mustPoisson(t, base, 1)
	late, _ := p.Arrival(150)
	early, _ := p.Arrival(5)
	if late != a[150] || early != a[5] {
		t.Fatal("asking for an earlier arrival does not replay the schedule")
	}
}

// TestPoissonFollowsRamp: a ramp from 100/s to 900/s plans 300 arrivals in
// its first second (∫₀¹ 100 + 400t dt = 300) and 700 in its second;
// random arrivals follow that.
func TestPoissonFollowsRamp(t *testing.T) {
	s := schedule(t, mustPoisson(t, RampPacer{From: 100, To: 900, Length: 2 * time.Second}, 3))
	var first float64
	for _, at := range s {
		if at < time.Second {
			first++
		}
	}
	second := float64(len(s)) - first
	if math.Abs(first-300) > 4*math.Sqrt(300) || math.Abs(second-700) > 4*math.Sqrt(700) {
		t.Fatalf("%v arrivals in the first second and %v in the second, want ~300 and ~700", first, second)
	}
}

func BenchmarkPoissonArrival(b *testing.B) {
	p, err := NewPoissonPacer(ConstantPacer{PerSecond: 1e6, Length: time.Hour}, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Arrival(uint64(i))
	}
}
