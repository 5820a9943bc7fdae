package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
)

// WriteCompareMarkdown writes a comparison as GitHub-flavoured Markdown: a
// summary table of the requests and one of the flows, the verdicts (the
// same split), one collapsible detail table per row, and the charts by
// relative path.
func WriteCompareMarkdown(w io.Writer, c *Comparison) error {
	w = format.SafeWriter(w)
	ew := &cmpWriter{w: w}
	l0, l1 := format.Markdown(c.Labels[0]), format.Markdown(c.Labels[1])
	if c.Within {
		ew.printf("### tailgate compare: %s vs %s\n\n", l0, l1)
	} else {
		ew.printf("### tailgate compare: %s → %s\n\n", l0, l1)
	}
	ew.printf("| | runs | scenario | target | model | planned arrivals | achieved requests | duration |\n|---|--:|---|---|---|--:|--:|--:|\n")
	sides := 2
	if c.Within {
		sides = 1
	}
	for i := 0; i < sides; i++ {
		s := c.Sides[i]
		label := "**" + format.Markdown(c.Labels[i]) + "**"
		if c.Within {
			label = "**results**"
		}
		planned := "—"
		if s.PlannedRate > 0 {
			planned = format.Rate(s.PlannedRate)
		}
		target := "—"
		if s.Target != "" {
			target = "`" + strings.ReplaceAll(s.Target, "`", "") + "`"
		}
		ew.printf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", label, s.Runs, format.Markdown(s.Name), target, s.Model, planned, format.Rate(s.Rate), s.Duration)
	}
	ew.printf("\n")
	for _, warn := range c.Warnings {
		ew.printf("> **Warning:** %s\n\n", format.Markdown(warn))
	}

	// Summary: one line per row, the figures a reviewer looks at first;
	// the flows get a table of their own, since their rate is in
	// iterations/s and their errors are failed iterations.
	reqs, flows := splitFlowRows(c.Rows)
	reqHead, flowHead := "request", "flow"
	if c.Within {
		reqHead, flowHead = "selection / group", "selection"
	}
	writeMDSummary(ew, c, reqs, reqHead, "rate", "errors")
	writeMDSummary(ew, c, flows, flowHead, "iterations/s", "failed")

	if c.Repeated() {
		ew.printf("**Across runs** — median of the per-run values, change with its %.0f%% confidence interval (Hodges–Lehmann), two-sided Mann–Whitney U test at α=%.2g:\n\n", 100*(1-c.Alpha), c.Alpha)
		writeMDAcross(ew, c, reqs, reqHead)
		writeMDAcross(ew, c, flows, flowHead)
	} else {
		ew.printf("_%s_\n\n", format.Markdown(c.singleRunNote()))
	}

	for _, row := range c.Rows {
		a, b := row.Side[0], row.Side[1]
		if !a.Present() || !b.Present() {
			continue
		}
		ew.printf("<details><summary>%s: all percentiles</summary>\n\n", format.Markdown(row.Key))
		ew.printf("| | %s | %s | change | |\n|---|--:|--:|--:|--:|\n", l0, l1)
		for m := Metric(0); m < numMetrics; m++ {
			x, y := m.of(a.Latency), m.of(b.Latency)
			ew.printf("| %s | %s | %s | %s | %s |\n", m, format.Duration(x), format.Duration(y), cmpDelta(y-x), cmpRel(cmpRelChange(float64(x), float64(y))))
		}
		ew.printf("| %s | %s | %s | | %s |\n", row.rateName(), format.Rate(a.Rate), format.Rate(b.Rate), cmpRel(cmpRelChange(a.Rate, b.Rate)))
		ew.printf("| %s | %s | %s | %s | |\n", row.errorName(), format.Percent(a.ErrorRate()), format.Percent(b.ErrorRate()), format.Signed("%.2f pp", 100*(b.ErrorRate()-a.ErrorRate())))
		ew.printf("| %s | %d | %d | | |\n\n</details>\n\n", row.countName(), a.Requests, b.Requests)
	}

	for _, ch := range c.Charts {
		ew.printf("![%s](%s)\n\n", format.Markdown(ch.Title), cmpMDPath(ch.Path))
	}
	ew.printf("<sub>Latency is measured from each request's intended send time (no coordinated omission). Tables pool the histograms of all runs of a side; see docs/compare.md for the method.</sub>\n")
	return ew.err
}

// splitFlowRows splits the rows into those of requests (the total, request
// names, tag groups) and those of flows, each in its order.
func splitFlowRows(rows []*CompareRow) (reqs, flows []*CompareRow) {
	for _, row := range rows {
		if row.Flow {
			flows = append(flows, row)
		} else {
			reqs = append(reqs, row)
		}
	}
	return reqs, flows
}

// writeMDSummary writes the summary table of rows (nothing when there are
// none) under the headers that name what they count: first names the
// rows, rate and errs the columns of the rate and of the failed share.
func writeMDSummary(ew *cmpWriter, c *Comparison, rows []*CompareRow, first, rate, errs string) {
	if len(rows) == 0 {
		return
	}
	l0, l1 := format.Markdown(c.Labels[0]), format.Markdown(c.Labels[1])
	ew.printf("| %s | %s | %s | %s | %s | %s |", first, p50, p99, p999, rate, errs)
	if c.Repeated() {
		ew.printf(" p99 across runs |")
	}
	ew.printf("\n|---|--:|--:|--:|--:|--:|")
	if c.Repeated() {
		ew.printf("---|")
	}
	ew.printf("\n")
	for _, row := range rows {
		a, b := row.Side[0], row.Side[1]
		if !a.Present() || !b.Present() {
			only := l0
			if !a.Present() {
				only = l1
			}
			ew.printf("| %s | only in %s | | | | |", format.Markdown(row.Key), only)
			if c.Repeated() {
				ew.printf(" |")
			}
			ew.printf("\n")
			continue
		}
		cell := func(m Metric) string {
			x, y := m.of(a.Latency), m.of(b.Latency)
			return fmt.Sprintf("%s → %s (%s)", format.Duration(x), format.Duration(y), cmpRel(cmpRelChange(float64(x), float64(y))))
		}
		ew.printf("| %s | %s | %s | %s | %s → %s | %s → %s |", format.Markdown(row.Key), cell(p50), cell(p99), cell(p999),
			format.Rate(a.Rate), format.Rate(b.Rate), format.Percent(a.ErrorRate()), format.Percent(b.ErrorRate()))
		if c.Repeated() {
			v := ""
			for _, t := range row.Tests {
				if t.Metric == p99 {
					v = cmpMDVerdict(t)
				}
			}
			ew.printf(" %s |", v)
		}
		ew.printf("\n")
	}
	ew.printf("\n")
}

// writeMDAcross writes the verdicts of rows across runs, first naming the
// rows; nothing when none of them was tested.
func writeMDAcross(ew *cmpWriter, c *Comparison, rows []*CompareRow, first string) {
	tested := false
	for _, row := range rows {
		tested = tested || len(row.Tests) > 0
	}
	if !tested {
		return
	}
	ew.printf("| %s | metric | %s | %s | change | %.0f%% CI | p | n |\n|---|---|--:|--:|--:|--:|--:|--:|\n", first, format.Markdown(c.Labels[0]), format.Markdown(c.Labels[1]), 100*(1-c.Alpha))
	for _, row := range rows {
		for _, t := range row.Tests {
			change, ci := cmpMDVerdict(t), "—"
			if lo, hi, ok := t.relCI(); ok {
				ci = fmt.Sprintf("%s … %s", cmpRel(lo), cmpRel(hi))
			}
			ew.printf("| %s | %s | %s | %s | %s | %s | %.3f | %d+%d |\n", format.Markdown(row.Key), t.Metric,
				format.Duration(cmpSecs(t.Center1)), format.Duration(cmpSecs(t.Center2)), change, ci, t.P, t.N1, t.N2)
		}
	}
	ew.printf("\n")
}

// cmpMDVerdict is the verdict for a table cell: the change, or "~" with p.
func cmpMDVerdict(t MetricTest) string {
	rel := cmpRel(cmpRelChange(t.Center1, t.Center2))
	switch {
	case t.Powerless():
		return rel + " (too few runs)"
	case !t.Significant():
		return "~ (no significant change)"
	default:
		return "**" + rel + "**"
	}
}

// cmpMDPath makes a relative path safe for a Markdown link.
func cmpMDPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29").Replace(p)
}
