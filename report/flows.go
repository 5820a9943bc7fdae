package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// The flow timings of the text and Markdown summaries: one row per flow a
// scenario declares, labelled with its selector (flow:NAME), with the
// latency of its completed iterations; failed iterations are counted apart
// with their own latency, as failed requests are (docs/metrics.md).

// flowLabel is the label of a flow's row: the selector that picks it.
func flowLabel(s *results.Stats) string { return results.FlowSelector(s.Name).String() }

// flowDefinition says what a flow's latency is, for the model that ran.
func flowDefinition(r *results.Result) string {
	if r.Meta.Model == results.ClosedModel {
		return "end of the last step − iteration start, think times included"
	}
	return "end of the last step − the arrival's intended time, think times and queueing included"
}

// writeTextFlows writes the flows' table and a line per flow with failed
// iterations; nothing when the run has no flows.
func writeTextFlows(w io.Writer, r *results.Result) {
	if len(r.Flows) == 0 {
		return
	}
	fmt.Fprintln(w)
	writeWrapped(w, "", "", "Flow latency of completed iterations ("+flowDefinition(r)+")")
	var rows []tableRow
	for _, s := range r.Flows {
		rows = append(rows, tableRow{label: flowLabel(s), count: countOf(s.Latency), cells: percentileCells(s.Latency)})
	}
	writeTable(w, "flow", rows)
	for _, s := range r.Flows {
		if line := flowFailures(s); line != "" {
			writeWrapped(w, "  ", "    ", line)
		}
	}
}

// flowFailures says how many of a flow's iterations failed, how, and their
// latency; "" when none did.
func flowFailures(s *results.Stats) string {
	if s.Errors == 0 {
		return ""
	}
	line := fmt.Sprintf("%s: %d of %d iterations failed (%s)", flowLabel(s), s.Errors, s.Requests, format.Percent(s.ErrorRate()))
	var kinds []string
	for _, k := range sortedErrorKinds(s.ErrorKinds) {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, s.ErrorKinds[k]))
	}
	if len(kinds) > 0 {
		line += ": " + strings.Join(kinds, ", ")
	}
	if h := s.FailedLatency; h.Count() > 0 {
		line += fmt.Sprintf("; failed latency p50 %s, max %s", format.Duration(h.Percentile(50)), format.Duration(h.Max()))
	}
	return line
}

// writeMDFlows writes the flows' table with iterations, their rate and the
// failed ones, then a line per flow with failures; nothing without flows.
func writeMDFlows(w io.Writer, r *results.Result) {
	if len(r.Flows) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Flow latency of completed iterations = %s; failed iterations are counted apart with their own latency.\n\n", flowDefinition(r))
	writeMDHead(w, "flow", "iterations", "rate", "failed")
	for _, s := range r.Flows {
		rate := "-"
		if r.Measured() > 0 {
			rate = format.Rate(r.RequestRate(s))
		}
		failed := "0"
		if s.Errors > 0 {
			failed = fmt.Sprintf("%d (%s)", s.Errors, format.Percent(s.ErrorRate()))
		}
		cells := append([]string{"`" + format.MarkdownCode(flowLabel(s)) + "`", strconv.FormatUint(s.Requests, 10), rate, failed}, percentileCells(s.Latency)...)
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	var lines []string
	for _, s := range r.Flows {
		if line := flowFailures(s); line != "" {
			lines = append(lines, format.Markdown(line))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "  \n"))
	}
}
