// Package report turns results into text, Markdown, JSON and HdrHistogram
// interval logs, and compares results. It never runs load.
package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// Thresholds above which a run is reported as behind schedule. A client
// that starts 1% of its arrivals late, or whose p99 send lag passes
// results.LateThreshold, measured its own queueing as much as the target.
const (
	behindLagP99    = results.LateThreshold
	behindLateShare = 0.01
	// warnErrorShare is the error rate above which Warnings mentions errors;
	// below it the errors section of the summary is enough.
	warnErrorShare = 0.01
)

// textWidth is the width the terminal summary is laid out for.
const textWidth = 80

// WriteText writes the terminal summary of a result: what ran, how well the
// client kept to the plan, status codes, errors, and latency percentiles per
// request name, tag group and in total, followed by the warnings.
func WriteText(w io.Writer, r *results.Result) error {
	w = format.SafeWriter(w)
	bw := bufio.NewWriter(w)
	writeTextHeader(bw, r)
	writeTextStatus(bw, r)
	writeTextErrors(bw, r)
	writeTextChecks(bw, r)
	writeTextRetries(bw, r)
	writeTextLatency(bw, r)
	writeTextFlows(bw, r)
	warnings := Warnings(r)
	notes := notes(r)
	if len(warnings)+len(notes) > 0 {
		fmt.Fprintln(bw)
	}
	for _, s := range warnings {
		writeWrapped(bw, "warning: ", "         ", s)
	}
	for _, s := range notes {
		writeWrapped(bw, "note: ", "      ", s)
	}
	writeTextThresholds(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func writeTextHeader(w io.Writer, r *results.Result) {
	m := &r.Meta
	title := m.Name
	if title == "" {
		title = "run"
	}
	if m.Target != "" {
		title += " → " + m.Target
	}
	if m.Partial {
		title += "  [PARTIAL]"
	}
	fmt.Fprintln(w, title)
	field := func(name, layout string, args ...any) {
		writeWrapped(w, fmt.Sprintf("  %-10s ", name), strings.Repeat(" ", 13), fmt.Sprintf(layout, args...))
	}
	field("model", "%s", modelLine(r))
	field("duration", "%s", durationLine(r))
	if !m.Start.IsZero() {
		field("started", "%s", startedLine(r))
	}
	field("requests", "%s", requestsLine(r))
	if line := iterationsLine(r); line != "" {
		field("iterations", "%s", line)
	}
	if m.Model != results.ClosedModel && r.Schedule.Planned > 0 {
		field("schedule", "%s", scheduleLine(r))
	}
	if t := r.Total; t != nil && t.NotSent > 0 {
		var reasons []string
		for _, c := range t.NotSentByReason() {
			reasons = append(reasons, fmt.Sprintf("%s ×%d (%s)", c.Reason, c.Count, format.Truncate(format.Clean(orDash(c.Message)), 80)))
		}
		field("not sent", "%d requests could not be built: %s", t.NotSent, strings.Join(reasons, "; "))
	}
	if t := r.Total; t != nil && (t.BytesIn > 0 || t.BytesOut > 0) {
		field("traffic", "%s received, %s sent", format.Bytes(t.BytesIn), format.Bytes(t.BytesOut))
	}
	if m.Shard.Count > 1 {
		field("shard", "%d of %d (plan %s)", m.Shard.Index, m.Shard.Count, orDash(m.PlanHash))
	}
	if m.Partial || m.StopReason != "" {
		field("stopped", "%s", orDash(m.StopReason))
	}
}

// modelLine says which model ran with its profile, since the percentiles of
// the two models mean different things.
func modelLine(r *results.Result) string {
	m := &r.Meta
	model := string(m.Model)
	if model == "" {
		model = string(results.OpenModel)
	}
	if m.Profile == "" {
		return model
	}
	return model + ": " + m.Profile
}

func durationLine(r *results.Result) string {
	m := &r.Meta
	s := format.Elapsed(r.Measured()) + " measured"
	if m.Warmup > 0 {
		s += " after a " + format.Elapsed(m.Warmup.D()) + " warmup"
	}
	if span := r.PlannedSpan(); span > 0 {
		s += " (" + format.Elapsed(span) + " planned)"
	}
	if d := r.Drain(); d >= 10*time.Millisecond {
		s += ", then " + format.Elapsed(d) + " draining requests in flight"
	}
	return s
}

func startedLine(r *results.Result) string {
	m := &r.Meta
	s := m.Start.UTC().Format("2006-01-02 15:04:05 UTC")
	if m.Host != "" {
		s += " on " + m.Host
	}
	return s
}

func requestsLine(r *results.Result) string {
	var n uint64
	if r.Total != nil {
		n = r.Total.Requests
	}
	return fmt.Sprintf("%d at %s", n, formatRequestRate(r.Rate()))
}

// iterationsLine gives the iterations (arrivals) per second against the
// planned rate: the plan counts arrivals, and a flow of several steps
// sends more requests than arrivals, so the two rates are never compared.
func iterationsLine(r *results.Result) string {
	it := &r.Iterations
	outcomes := fmt.Sprintf("%d completed, %d failed, %d aborted", it.Completed, it.Failed, it.Aborted)
	if r.Meta.Model == results.ClosedModel {
		n := r.MeasuredSent()
		if n == 0 && it.Completed+it.Failed+it.Aborted == 0 {
			return ""
		}
		return fmt.Sprintf("%d at %s: %s", n, format.Rate(r.IterationRate()), outcomes)
	}
	if r.Schedule.Planned == 0 {
		return ""
	}
	s := fmt.Sprintf("%d at %s of %s planned", r.MeasuredSent(), format.Rate(r.IterationRate()), format.Rate(r.PlannedRate()))
	if r.Meta.Shard.Count > 1 && r.Meta.PlannedRate > 0 {
		s += " (" + format.Rate(r.Meta.PlannedRate) + " for all shards)"
	}
	return s + ": " + outcomes
}

func scheduleLine(r *results.Result) string {
	sc := &r.Schedule
	parts := []string{fmt.Sprintf("%d of %d arrivals sent", sc.Sent, sc.Planned)}
	if sc.WarmupPlanned > 0 {
		parts[0] += fmt.Sprintf(" (%d of %d in the warmup)", sc.WarmupSent, sc.WarmupPlanned)
	}
	if ratio, ok := r.ArrivalRatio(); ok {
		parts = append(parts, format.Percent(ratio)+" of the plan kept")
	}
	if sc.Late > 0 {
		parts = append(parts, fmt.Sprintf("%d late (>%s)", sc.Late, format.Duration(results.LateThreshold)))
	}
	if sc.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d dropped", sc.Dropped))
	}
	if sc.Unsent > 0 {
		parts = append(parts, fmt.Sprintf("%d unsent", sc.Unsent))
	}
	return strings.Join(parts, ", ")
}

func writeTextStatus(w io.Writer, r *results.Result) {
	if r.Total == nil || len(r.Total.Status) == 0 {
		return
	}
	var items []string
	for _, code := range sortedStatus(r.Total.Status) {
		items = append(items, fmt.Sprintf("%d ×%d", code, r.Total.Status[code]))
	}
	writeItems(w, "  status     ", "             ", items)
}

func writeTextErrors(w io.Writer, r *results.Result) {
	t := r.Total
	if t == nil {
		return
	}
	if t.Errors == 0 {
		fmt.Fprintf(w, "  %-10s none\n", "errors")
		return
	}
	line := fmt.Sprintf("  %-10s %d (%s of requests", "errors", t.Errors, format.Percent(t.ErrorRate()))
	if h := t.FailedLatency; h.Count() > 0 {
		line += fmt.Sprintf("; failed latency p50 %s, max %s", format.Duration(h.Percentile(50)), format.Duration(h.Max()))
	}
	fmt.Fprintln(w, line+")")
	kinds := sortedErrorKinds(t.ErrorKinds)
	width := 0
	for _, k := range kinds {
		width = max(width, len(k))
	}
	for _, k := range kinds {
		line := fmt.Sprintf("             %-*s %8d", width, k, t.ErrorKinds[k])
		if msg := t.ErrorSamples[k]; msg != "" {
			room := textWidth - utf8.RuneCountInString(line) - 3
			line += "  " + format.Truncate(format.Clean(msg), max(room, 20))
		}
		fmt.Fprintln(w, line)
	}
	if len(r.Requests) > 1 {
		for _, s := range r.Requests {
			if s.Errors > 0 {
				fmt.Fprintf(w, "             %s: %d (%s)\n", s.Key(), s.Errors, format.Percent(s.ErrorRate()))
			}
		}
	}
}

// writeTextRetries says how many requests needed retries (retry:) and how
// many attempts they took, for the run and per request name.
func writeTextRetries(w io.Writer, r *results.Result) {
	t := r.Total
	if t == nil || t.Retries == 0 {
		return
	}
	fmt.Fprintf(w, "  %-10s %s\n", "retried", retriedText(t))
	if len(r.Requests) > 1 {
		for _, s := range r.Requests {
			if s.Retries > 0 {
				fmt.Fprintf(w, "             %s: %s\n", s.Key(), retriedText(s))
			}
		}
	}
}

// retriedText is "3 of 40 requests, 7 attempts" (the attempts of the
// retried requests).
func retriedText(s *results.Stats) string {
	return fmt.Sprintf("%d of %d requests, %d attempts", s.Retried, s.Outcomes(), s.RetryAttempts())
}

// textColumns are the percentile columns of every table: the reported
// percentiles and the max.
var textColumns = func() []string {
	var out []string
	for _, q := range results.Reported() {
		out = append(out, q.String())
	}
	return append(out, "max")
}()

// percentileCells are the cells of textColumns for h, "-" when it is empty.
func percentileCells(h *results.Histogram) []string {
	out := make([]string, 0, len(textColumns))
	if h == nil || h.Count() == 0 {
		for range textColumns {
			out = append(out, "-")
		}
		return out
	}
	p := h.Summary()
	for _, d := range p.At {
		out = append(out, format.Duration(d))
	}
	return append(out, format.Duration(p.Max))
}

// tableRow is one line of a percentile table.
type tableRow struct {
	label string
	count string
	cells []string
}

func writeTextLatency(w io.Writer, r *results.Result) {
	fmt.Fprintln(w)
	if r.Meta.Model == results.ClosedModel {
		fmt.Fprintln(w, "Latency of successful responses (closed model: completion − request start)")
	} else {
		fmt.Fprintln(w, "Latency of successful responses (completion − intended send, queueing included)")
	}
	rows := latencyRows(r, func(s *results.Stats) *results.Histogram { return s.Latency })
	writeTable(w, "request", rows)
	if r.Total == nil {
		return
	}
	fmt.Fprintln(w)
	extra := []tableRow{
		{label: "service time", count: countOf(r.Total.Service), cells: percentileCells(r.Total.Service)},
	}
	if r.Meta.Model != results.ClosedModel {
		extra = append(extra, tableRow{label: "send lag", count: countOf(r.Total.SendLag), cells: percentileCells(r.Total.SendLag)})
	}
	if h := r.Total.FailedLatency; h.Count() > 0 {
		extra = append(extra, tableRow{label: "failed latency", count: countOf(h), cells: percentileCells(h)})
	}
	writeTable(w, "total", extra)
}

func countOf(h *results.Histogram) string {
	return strconv.FormatInt(h.Count(), 10)
}

// latencyRows lists each request name followed by its tag groups, then the
// total. A single request without groups repeats the total, which is
// still the clearest layout.
func latencyRows(r *results.Result, pick func(*results.Stats) *results.Histogram) []tableRow {
	var rows []tableRow
	for _, s := range orderedStats(r) {
		label := s.Key()
		if s.Group != "" {
			label = "  " + s.Group
		}
		rows = append(rows, tableRow{label: label, count: countOf(pick(s)), cells: percentileCells(pick(s))})
	}
	if r.Total != nil {
		rows = append(rows, tableRow{label: "total", count: countOf(pick(r.Total)), cells: percentileCells(pick(r.Total))})
	}
	return rows
}

// orderedStats returns every request name, each followed by its groups.
func orderedStats(r *results.Result) []*results.Stats {
	var out []*results.Stats
	seen := map[*results.Stats]bool{}
	for _, s := range r.Requests {
		if s == nil {
			continue
		}
		out = append(out, s)
		for _, g := range r.Groups {
			if g != nil && g.Name == s.Name {
				out = append(out, g)
				seen[g] = true
			}
		}
	}
	// Groups whose request has no stats of its own still get a row.
	for _, g := range r.Groups {
		if g != nil && !seen[g] {
			out = append(out, g)
		}
	}
	return out
}

// writeTable writes rows in aligned columns. The count column is 9 wide
// but gives its spare width (beyond the widest count and two spaces) to a
// long label; a label too long even then goes on a line of its own so that
// no name is cut.
func writeTable(w io.Writer, head string, rows []tableRow) {
	const cell = 8
	countW, minCountW := 9, len("count")+2
	for _, row := range rows {
		minCountW = max(minCountW, utf8.RuneCountInString(row.count)+2)
	}
	minCountW = min(minCountW, countW)
	labelW := utf8.RuneCountInString(head)
	room := textWidth - 2 - cell*len(textColumns)
	for _, row := range rows {
		if n := utf8.RuneCountInString(row.label); n <= room-minCountW {
			labelW = max(labelW, n)
		}
	}
	countW = max(min(countW, room-labelW), minCountW)
	var b strings.Builder
	b.WriteString("  " + format.PadRight(head, labelW) + fmt.Sprintf("%*s", countW, "count"))
	for _, c := range textColumns {
		fmt.Fprintf(&b, "%*s", cell, c)
	}
	fmt.Fprintln(w, b.String())
	for _, row := range rows {
		b.Reset()
		label := row.label
		if utf8.RuneCountInString(label) > labelW {
			fmt.Fprintln(w, "  "+label)
			label = ""
		}
		b.WriteString("  " + format.PadRight(label, labelW) + fmt.Sprintf("%*s", countW, row.count))
		for _, c := range row.cells {
			fmt.Fprintf(&b, "%*s", cell, c)
		}
		fmt.Fprintln(w, b.String())
	}
}

// formatRequestRate formats a request rate: "200 requests/s".
func formatRequestRate(v float64) string {
	return format.Number(v) + " requests/s"
}

// writeWrapped writes s word-wrapped to textWidth, the first line after
// first and the others after rest.
func writeWrapped(w io.Writer, first, rest, s string) {
	for _, line := range format.Wrap(first, rest, s, textWidth) {
		fmt.Fprintln(w, line)
	}
}

func share(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func sortedStatus(m map[int]uint64) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// sortedErrorKinds orders error kinds by count, most frequent first.
func sortedErrorKinds(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if m[out[i]] != m[out[j]] {
			return m[out[i]] > m[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

func writeItems(w io.Writer, first, rest string, items []string) {
	line := first
	n := 0
	for _, it := range items {
		if n > 0 && utf8.RuneCountInString(line)+3+utf8.RuneCountInString(it) > textWidth {
			fmt.Fprintln(w, line)
			line, n = rest, 0
		}
		if n > 0 {
			line += "   "
		}
		line += it
		n++
	}
	if n > 0 {
		fmt.Fprintln(w, line)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
