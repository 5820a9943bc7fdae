package report

import (
	"math"
	"math/rand/v2"
	"testing"
)

// mwBruteP is an independent reference: it enumerates every split of the
// pooled sample, computes U by pairwise counting (ties count ½) and returns
// the two-sided permutation p-value.
func mwBruteP(x, y []float64) float64 {
	all := append(append([]float64{}, x...), y...)
	n1, n := len(x), len(x)+len(y)
	uOf := func(mask int) float64 {
		var a, b []float64
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				a = append(a, all[i])
			} else {
				b = append(b, all[i])
			}
		}
		var u float64
		for _, ai := range a {
			for _, bj := range b {
				switch {
				case ai > bj:
					u++
				case ai == bj:
					u += 0.5
				}
			}
		}
		return u
	}
	obs := uOf(1<<n1 - 1)
	mid := float64(len(x)*len(y)) / 2
	var hit, total float64
	for mask := 0; mask < 1<<n; mask++ {
		if mwPopcount(mask) != n1 {
			continue
		}
		total++
		if math.Abs(uOf(mask)-mid) >= math.Abs(obs-mid)-1e-9 {
			hit++
		}
	}
	return hit / total
}

func mwPopcount(v int) int {
	c := 0
	for ; v != 0; v &= v - 1 {
		c++
	}
	return c
}

func TestMannWhitneyExact(t *testing.T) {
	tests := []struct {
		name   string
		x, y   []float64
		wantP  float64 // <0: compare with the brute-force reference only
		signif bool
	}{
		{"separated 5+5", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 2.0 / 252, true},
		{"separated reversed", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, 2.0 / 252, true},
		{"identical", []float64{3, 3, 3}, []float64{3, 3, 3}, 1, false},
		{"separated 3+3 has no power", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1, false},
		{"interleaved", []float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}, -1, false},
		{"ties", []float64{1, 2, 2, 3, 5}, []float64{2, 3, 4, 5, 6, 6}, -1, false},
		{"ties across 4+4", []float64{10, 10, 11, 12}, []float64{12, 13, 13, 14}, 4.0 / 70, false},
		{"unequal sizes", []float64{4.1, 4.3, 4.0}, []float64{5.2, 5.0, 5.9, 6.1, 5.5, 5.4}, -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MannWhitney(tc.x, tc.y, 0)
			ref := mwBruteP(tc.x, tc.y)
			if math.Abs(got.P-ref) > 1e-9 {
				t.Errorf("p = %v, brute force %v", got.P, ref)
			}
			if tc.wantP >= 0 && math.Abs(got.P-tc.wantP) > 1e-9 {
				t.Errorf("p = %v, want %v", got.P, tc.wantP)
			}
			if got.Significant() != tc.signif {
				t.Errorf("significant = %v, want %v (p=%v)", got.Significant(), tc.signif, got.P)
			}
			if !got.Exact {
				t.Error("small samples must use the exact distribution")
			}
		})
	}
}

func TestMannWhitneyPower(t *testing.T) {
	cases := []struct {
		n1, n2    int
		powerless bool
	}{{1, 1, true}, {3, 3, true}, {3, 4, true}, {4, 4, false}, {3, 5, false}, {5, 5, false}}
	for _, c := range cases {
		x := make([]float64, c.n1)
		y := make([]float64, c.n2)
		if got := MannWhitney(x, y, 0).Powerless(); got != c.powerless {
			t.Errorf("%d+%d: powerless = %v, want %v", c.n1, c.n2, got, c.powerless)
		}
	}
}

func TestMannWhitneyNormalApprox(t *testing.T) {
	// Large samples: the approximation must agree with the exact answer's
	// order of magnitude; a shifted sample must be detected.
	r := rand.New(rand.NewPCG(1, 2))
	var x, y []float64
	for i := 0; i < 40; i++ {
		x = append(x, r.NormFloat64())
		y = append(y, r.NormFloat64()+1)
	}
	got := MannWhitney(x, y, 0)
	if got.Exact {
		t.Fatal("80 samples should use the normal approximation")
	}
	if !got.Significant() || got.P > 1e-3 {
		t.Errorf("shift of one σ with 40+40 not detected: p=%v", got.P)
	}
	if got.Shift < 0.5 || got.Shift > 1.5 || !got.HasCI || got.Lo > got.Shift || got.Hi < got.Shift {
		t.Errorf("shift %v [%v, %v], want ≈1 inside its interval", got.Shift, got.Lo, got.Hi)
	}
}

func TestHodgesLehmannInterval(t *testing.T) {
	x := []float64{10, 11, 12, 13, 14}
	y := []float64{20, 21, 22, 23, 24}
	got := MannWhitney(x, y, 0)
	if got.Shift != 10 {
		t.Errorf("shift = %v, want 10", got.Shift)
	}
	// 5+5 at 95%: c = 3 (P(U ≤ 2) = 4/252 ≤ 0.025 < P(U ≤ 3) = 7/252), so the
	// interval is [D(3), D(23)] of the 25 sorted differences 6…14.
	if !got.HasCI || got.Lo != 7 || got.Hi != 13 {
		t.Errorf("interval [%v, %v] (ok=%v), want [7, 13]", got.Lo, got.Hi, got.HasCI)
	}
	if small := MannWhitney([]float64{1, 2}, []float64{3, 4}, 0); small.HasCI {
		t.Errorf("2+2 cannot give a 95%% interval, got [%v, %v]", small.Lo, small.Hi)
	}
}

// mwSampleRuns draws n per-run p99 figures: a log-normal run-to-run noise of
// 10% around base, the spread seen between repeated runs on a quiet machine.
func mwSampleRuns(r *rand.Rand, n int, base float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = base * math.Exp(0.10*r.NormFloat64())
	}
	return out
}

func TestSignificanceFalsePositives(t *testing.T) {
	const trials = 500
	r := rand.New(rand.NewPCG(42, 7))
	quiet := 0
	for i := 0; i < trials; i++ {
		x := mwSampleRuns(r, 5, 45)
		y := mwSampleRuns(r, 5, 45)
		if !MannWhitney(x, y, 0).Significant() {
			quiet++
		}
	}
	if frac := float64(quiet) / trials; frac < 0.90 {
		t.Errorf("same distribution reported as no change in %.1f%% of trials, want ≥ 90%%", 100*frac)
	} else {
		t.Logf("same distribution: no significant change in %.1f%% of %d trials", 100*frac, trials)
	}
}

func TestSignificanceDetectsShift(t *testing.T) {
	const trials = 500
	r := rand.New(rand.NewPCG(42, 8))
	found := 0
	for i := 0; i < trials; i++ {
		x := mwSampleRuns(r, 5, 45)
		y := mwSampleRuns(r, 5, 45*0.7) // 30% faster
		if MannWhitney(x, y, 0).Significant() {
			found++
		}
	}
	if frac := float64(found) / trials; frac < 0.90 {
		t.Errorf("30%% shift with 5+5 runs detected in %.1f%% of trials, want ≥ 90%%", 100*frac)
	} else {
		t.Logf("30%% shift, 5+5 runs: detected in %.1f%% of %d trials", 100*frac, trials)
	}
}

func BenchmarkMannWhitney10(b *testing.B) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	y := []float64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	b.ReportAllocs()
	for b.Loop() {
		MannWhitney(x, y, 0)
	}
}

func TestMannWhitneyRatio(t *testing.T) {
	x := []float64{100, 110, 120, 130, 1000} // one outlier run
	y := []float64{60, 66, 72, 78, 84}
	got := MannWhitneyRatio(x, y, 0)
	plain := MannWhitney(x, y, 0)
	if got.P != plain.P {
		t.Errorf("p changed under the log transform: %v vs %v", got.P, plain.P)
	}
	if !got.Relative || got.Center1 != 120 || got.Center2 != 72 {
		t.Errorf("centres %v → %v (relative %v), want the plain medians 120 → 72", got.Center1, got.Center2, got.Relative)
	}
	if !got.HasCI || got.Lo <= -1 || got.Lo > got.Shift || got.Hi < got.Shift || got.Hi >= 0 {
		t.Errorf("relative change %v in [%v, %v]: want a negative interval above −100%%", got.Shift, got.Lo, got.Hi)
	}
	if z := MannWhitneyRatio([]float64{0, 1}, []float64{2, 3}, 0); z.Relative {
		t.Error("a zero must fall back to the difference test")
	}
}
