package report

import (
	"fmt"
	"math"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
)

// The figures of a comparison as words: relative and absolute changes,
// p-values and the one-line verdicts shared by the text and Markdown
// writers.

// cmpRelChange is (after−before)/before, NaN when before is zero.
func cmpRelChange(before, after float64) float64 {
	if before == 0 {
		if after == 0 {
			return 0
		}
		return math.NaN()
	}
	return (after - before) / before
}

// cmpRel formats a relative change as a percentage ("−37.8%").
func cmpRel(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	if math.Abs(r) >= 10 {
		return format.Signed("%.0f×", r+1)
	}
	return format.Signed("%.1f%%", 100*r)
}

// cmpDelta formats an absolute latency change ("−3.80ms").
func cmpDelta(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := format.Duration(time.Duration(math.Abs(float64(d))))
	if d < 0 {
		return format.Minus + s
	}
	return "+" + s
}

// cmpP formats a p-value the way benchstat does.
func cmpP(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", p)
}

// cmpSecs turns seconds back into a duration for formatting.
func cmpSecs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Verdict is the one-line significance verdict of a test, benchstat style:
// "−37.8% [−41.0%, −33.5%] (p=0.008, n=5+5)" or "~ (p=0.420, no significant
// change, n=5+5)".
func (t MetricTest) Verdict() string {
	n := fmt.Sprintf("n=%d+%d", t.N1, t.N2)
	rel := cmpRelChange(t.Center1, t.Center2)
	switch {
	case t.Powerless():
		return fmt.Sprintf("%s ? (%s, %s: too few runs to ever reach α=%.2g; use --count ≥ %d)", cmpRel(rel), cmpP(t.P), n, t.Alpha, minRunsForPower(t.Alpha))
	case !t.Significant():
		return fmt.Sprintf("~ (%s, no significant change, %s)", cmpP(t.P), n)
	}
	ci := ""
	if lo, hi, ok := t.relCI(); ok {
		ci = fmt.Sprintf(" [%s, %s]", cmpRel(lo), cmpRel(hi))
	}
	return fmt.Sprintf("%s%s (%s, %s)", cmpRel(rel), ci, cmpP(t.P), n)
}

// relCI returns the confidence interval of the change as relative changes.
func (t MetricTest) relCI() (lo, hi float64, ok bool) {
	switch {
	case !t.HasCI:
		return 0, 0, false
	case t.Relative:
		return t.Lo, t.Hi, true
	case t.Center1 != 0:
		return t.Lo / t.Center1, t.Hi / t.Center1, true
	}
	return 0, 0, false
}

// singleRunNote explains why no verdict is given.
func (c *Comparison) singleRunNote() string {
	n := minRunsForPower(c.Alpha)
	return fmt.Sprintf("no significance verdict: significance needs several runs per side (--count ≥ %d, %d recommended) to tell a real change from run-to-run noise.", n, n+1)
}
