package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
)

// cmpSideLine describes one side in a sentence.
func cmpSideLine(info RunInfo) string {
	var b strings.Builder
	if info.Runs > 1 {
		fmt.Fprintf(&b, "%d runs of ", info.Runs)
	}
	name := info.Name
	if name == "" {
		name = "run"
	}
	fmt.Fprintf(&b, "%s", name)
	if info.Target != "" {
		fmt.Fprintf(&b, " %s", info.Target)
	}
	if info.Model != "" {
		fmt.Fprintf(&b, ", %s model", info.Model)
	}
	if info.PlannedRate > 0 {
		fmt.Fprintf(&b, ", %s planned", format.Rate(info.PlannedRate))
	}
	// Planned is in arrivals, achieved in requests: a flow of several
	// steps makes more requests than arrivals, so say which is which.
	fmt.Fprintf(&b, ", %s req/s achieved, %s", strings.TrimSuffix(format.Rate(info.Rate), "/s"), info.Duration)
	if info.Runs > 1 {
		b.WriteString(" each")
	}
	return b.String()
}

// WriteCompareText writes a comparison for the terminal.
func WriteCompareText(w io.Writer, c *Comparison) error {
	w = format.SafeWriter(w)
	ew := &cmpWriter{w: w}
	lw := max(format.Width(c.Labels[0]), format.Width(c.Labels[1])) + 1
	if c.Within {
		ew.printf("compare %s vs %s within %s\n", c.Labels[0], c.Labels[1], cmpSideLine(c.Sides[0]))
	} else {
		ew.printf("%s %s\n", format.PadRight(c.Labels[0]+":", lw), cmpSideLine(c.Sides[0]))
		ew.printf("%s %s\n", format.PadRight(c.Labels[1]+":", lw), cmpSideLine(c.Sides[1]))
	}
	for _, warn := range c.Warnings {
		ew.printf("warning: %s\n", warn)
	}
	keyW := 10
	for _, row := range c.Rows {
		keyW = max(keyW, format.Width(row.Key)-2, format.Width(row.rateName()))
	}
	col := max(lw, 10)
	line := func(name string, cells ...string) {
		var b strings.Builder
		b.WriteString("  ")
		b.WriteString(format.PadRight(name, keyW))
		for i, cell := range cells {
			wd := col
			if i >= 2 {
				wd = 10
			}
			b.WriteString(" ")
			b.WriteString(format.PadLeft(cell, wd))
		}
		ew.printf("%s\n", strings.TrimRight(b.String(), " "))
	}
	for _, row := range c.Rows {
		ew.printf("\n%s %s %s %s\n", format.PadRight(row.Key, keyW+2), format.PadLeft(c.Labels[0], col), format.PadLeft(c.Labels[1], col), format.PadLeft("change", 10))
		a, b := row.Side[0], row.Side[1]
		if !a.Present() || !b.Present() {
			only := c.Labels[0]
			if !a.Present() {
				only = c.Labels[1]
			}
			ew.printf("  only in %s (%d %s)\n", only, a.Requests+b.Requests, row.countName())
			continue
		}
		for m := Metric(0); m < numMetrics; m++ {
			x, y := m.of(a.Latency), m.of(b.Latency)
			line(m.String(), format.Duration(x), format.Duration(y), cmpDelta(y-x), cmpRel(cmpRelChange(float64(x), float64(y))))
		}
		line(row.rateName(), format.Rate(a.Rate), format.Rate(b.Rate), "", cmpRel(cmpRelChange(a.Rate, b.Rate)))
		line(row.errorName(), format.Percent(a.ErrorRate()), format.Percent(b.ErrorRate()), format.Signed("%.2f pp", 100*(b.ErrorRate()-a.ErrorRate())))
		line(row.countName(), fmt.Sprint(a.Requests), fmt.Sprint(b.Requests))
		if len(row.Tests) > 0 {
			ew.printf("  across runs (median of per-run values; Mann–Whitney U, α=%.2g):\n", c.Alpha)
			for _, t := range row.Tests {
				ew.printf("    %s %s → %s  %s\n", format.PadRight(t.Metric.String(), 5), format.Duration(cmpSecs(t.Center1)), format.Duration(cmpSecs(t.Center2)), t.Verdict())
			}
		}
	}
	if !c.Repeated() {
		ew.printf("\n%s\n", c.singleRunNote())
	}
	return ew.err
}

// countName names what a row counts: requests, or a flow's iterations.
func (row *CompareRow) countName() string {
	if row.Flow {
		return "iterations"
	}
	return "requests"
}

// rateName names a row's rate: requests/s ("rate", as in the run's
// report), or a flow's iterations/s.
func (row *CompareRow) rateName() string {
	if row.Flow {
		return "iterations/s"
	}
	return "rate"
}

// errorName names the share of a row that failed: errors, or a flow's
// failed iterations.
func (row *CompareRow) errorName() string {
	if row.Flow {
		return "failed"
	}
	return "errors"
}

// cmpWriter keeps the first write error so writers can print freely and
// report it once.
type cmpWriter struct {
	w   io.Writer
	err error
}

func (e *cmpWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}
