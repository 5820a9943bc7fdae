package report

import (
	"math"
	"slices"
	"sort"
)

// DefaultAlpha is the significance level of compare verdicts.
const DefaultAlpha = 0.05

// exactLimit is the largest pooled sample size (n1+n2) for which p-values
// and confidence intervals come from the exact permutation distribution of
// the rank sum; larger samples use the normal approximation, which is
// accurate there and keeps the cost bounded.
const exactLimit = 60

// Test is the outcome of a two-sample Mann–Whitney U test (Wilcoxon rank-sum)
// on one figure (p50, p99, mean) measured once per run on each side.
type Test struct {
	// N1 and N2 are the sample sizes (runs) of the two sides.
	N1, N2 int
	// Center1 and Center2 are the medians of the two samples.
	Center1, Center2 float64
	// U is the Mann–Whitney statistic of sample 1.
	U float64
	// P is the two-sided p-value; 1 when the test could not run.
	P float64
	// Shift is the Hodges–Lehmann estimate of the shift (sample 2 − sample 1):
	// the median of all pairwise differences.
	Shift float64
	// Lo and Hi bound the shift with confidence Confidence (distribution-free,
	// from the same rank statistic). HasCI is false when the samples are too
	// small for any interval at that confidence.
	Lo, Hi     float64
	Confidence float64
	HasCI      bool
	// Alpha is the significance level the verdict uses.
	Alpha float64
	// MinP is the smallest p-value these sample sizes can produce: when it is
	// above Alpha the test has no power and the verdict says so.
	MinP float64
	// Exact says whether P came from the exact permutation distribution
	// (true) or the normal approximation.
	Exact bool
	// Relative says that Shift, Lo and Hi are relative changes (ratio − 1,
	// from MannWhitneyRatio) rather than differences.
	Relative bool
}

// Significant reports whether the samples differ at level Alpha.
func (t Test) Significant() bool { return t.P <= t.Alpha && t.N1 > 0 && t.N2 > 0 }

// Powerless reports whether the sample sizes are too small for the test ever
// to reach significance at level Alpha.
func (t Test) Powerless() bool { return t.MinP > t.Alpha }

// MannWhitney compares two samples with the two-sided Mann–Whitney U test at
// level alpha (0: DefaultAlpha). Ties get midranks; the p-value is exact
// (permutation distribution of the rank sum, ties included) for n1+n2 ≤ 60
// and from the tie-corrected normal approximation with continuity
// correction above. It also returns the Hodges–Lehmann shift estimate and
// its 1−alpha confidence interval. Neither input is modified.
func MannWhitney(x, y []float64, alpha float64) Test {
	if alpha <= 0 || alpha >= 1 {
		alpha = DefaultAlpha
	}
	t := Test{N1: len(x), N2: len(y), P: 1, Alpha: alpha, Confidence: 1 - alpha, MinP: 1}
	if len(x) == 0 || len(y) == 0 {
		return t
	}
	t.Center1, t.Center2 = mwMedian(x), mwMedian(y)
	n1, n2 := len(x), len(y)
	t.MinP = math.Min(1, 2/mwBinomial(n1+n2, n1))

	// Doubled midranks keep tied ranks integral.
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	ranks2 := make([]int, len(all))
	var tieTerm float64 // Σ(t³−t) over tie groups, for the normal approximation
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// Ranks i+1 … j share the midrank (i+1+j)/2; doubled: i+1+j.
		for k := i; k < j; k++ {
			ranks2[k] = i + 1 + j
		}
		if g := j - i; g > 1 {
			tieTerm += float64(g*g*g - g)
		}
		i = j
	}
	w2 := 0 // doubled rank sum of x
	for k, o := range all {
		if o.first {
			w2 += ranks2[k]
		}
	}
	t.U = float64(w2)/2 - float64(n1*(n1+1))/2
	mean2 := n1 * (n1 + n2 + 1) // doubled expected rank sum

	if n1+n2 <= exactLimit {
		dist := rankSumDist(ranks2, n1)
		dev := absInt(w2 - mean2)
		var p float64
		for s, c := range dist {
			if absInt(s-mean2) >= dev {
				p += c
			}
		}
		t.P = math.Min(1, p)
		t.Exact = true
	} else {
		nf1, nf2 := float64(n1), float64(n2)
		n := nf1 + nf2
		mu := nf1 * nf2 / 2
		sigma := math.Sqrt(nf1 * nf2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
		if sigma == 0 {
			t.P = 1
		} else {
			z := (math.Abs(t.U-mu) - 0.5) / sigma
			if z < 0 {
				z = 0
			}
			t.P = math.Min(1, math.Erfc(z/math.Sqrt2))
		}
	}

	t.Shift, t.Lo, t.Hi, t.HasCI = hodgesLehmann(x, y, alpha)
	return t
}

// MannWhitneyRatio is MannWhitney for positive figures such as latencies,
// whose changes are multiplicative: the test runs on the logarithms (the
// p-value is the same, ranks do not change) and Shift, Lo and Hi are
// relative changes — the Hodges–Lehmann estimate of after/before − 1 and
// its interval, which can never fall below −100%. Samples with a value ≤ 0
// fall back to MannWhitney.
func MannWhitneyRatio(x, y []float64, alpha float64) Test {
	lx, okx := logs(x)
	ly, oky := logs(y)
	if !okx || !oky {
		return MannWhitney(x, y, alpha)
	}
	t := MannWhitney(lx, ly, alpha)
	if t.N1 == 0 || t.N2 == 0 {
		return t
	}
	t.Center1, t.Center2 = mwMedian(x), mwMedian(y)
	t.Shift = math.Expm1(t.Shift)
	if t.HasCI {
		t.Lo, t.Hi = math.Expm1(t.Lo), math.Expm1(t.Hi)
	}
	t.Relative = true
	return t
}

func logs(v []float64) ([]float64, bool) {
	out := make([]float64, len(v))
	for i, x := range v {
		if !(x > 0) {
			return nil, false
		}
		out[i] = math.Log(x)
	}
	return out, true
}

// rankSumDist returns the permutation distribution of the doubled rank sum of
// n1 items drawn from the given doubled ranks: dist[s] is the probability
// that the sum is s. It counts subsets with a knapsack over items (counts
// as float64: exact enough far beyond exactLimit).
func rankSumDist(ranks2 []int, n1 int) []float64 {
	maxSum := 0
	for _, r := range ranks2 {
		maxSum += r
	}
	// ways[k][s]: subsets of size k of the items seen so far with sum s.
	ways := make([][]float64, n1+1)
	for k := range ways {
		ways[k] = make([]float64, maxSum+1)
	}
	ways[0][0] = 1
	seen := 0
	for _, r := range ranks2 {
		seen += r
		for k := min(n1, len(ranks2)); k >= 1; k-- {
			row, prev := ways[k], ways[k-1]
			for s := seen; s >= r; s-- {
				row[s] += prev[s-r]
			}
		}
	}
	total := mwBinomial(len(ranks2), n1)
	dist := ways[n1]
	for s := range dist {
		dist[s] /= total
	}
	return dist
}

// hodgesLehmann returns the median of the pairwise differences y_j − x_i and
// its distribution-free confidence interval [D(c), D(mn+1−c)], where c is
// the largest count with P(U < c) ≤ alpha/2 under the no-ties null
// distribution (Lehmann, Nonparametrics, ch. 2).
func hodgesLehmann(x, y []float64, alpha float64) (shift, lo, hi float64, ok bool) {
	m, n := len(x), len(y)
	d := make([]float64, 0, m*n)
	for _, xi := range x {
		for _, yj := range y {
			d = append(d, yj-xi)
		}
	}
	slices.Sort(d)
	shift = mwMedian(d)
	c := uCritical(m, n, alpha)
	if c < 1 {
		return shift, math.Inf(-1), math.Inf(1), false
	}
	return shift, d[c-1], d[len(d)-c], true
}

// uCritical returns the largest c with P(U ≤ c−1) ≤ alpha/2 for the
// Mann–Whitney U of sizes m, n without ties (0: no interval exists).
func uCritical(m, n int, alpha float64) int {
	if m+n <= exactLimit {
		ranks2 := make([]int, m+n)
		for i := range ranks2 {
			ranks2[i] = 2 * (i + 1)
		}
		dist := rankSumDist(ranks2, m)
		// U = W − m(m+1)/2, doubled sums step by 2.
		base := m * (m + 1)
		var cum float64
		c := 0
		for u := 0; u <= m*n; u++ {
			cum += dist[2*u+base]
			if cum > alpha/2+1e-12 {
				break
			}
			c = u + 1
		}
		return c
	}
	// Normal approximation.
	mf, nf := float64(m), float64(n)
	z := mwNormalQuantile(1 - alpha/2)
	c := mf*nf/2 - z*math.Sqrt(mf*nf*(mf+nf+1)/12)
	return max(0, int(math.Floor(c)))
}

// mwNormalQuantile is the standard normal quantile function.
func mwNormalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func mwMedian(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// mwBinomial returns n choose k as a float64.
func mwBinomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
