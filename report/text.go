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

// notes are facts about a result that are not problems but change how its
// figures read.
func notes(r *results.Result) []string {
	var out []string
	if r.Meta.Model == results.ClosedModel {
		vus := ""
		if r.Meta.VUs > 0 {
			vus = fmt.Sprintf(" of %d VUs", r.Meta.VUs)
		}
		out = append(out, "closed model"+vus+": each user waits for its response before the next request, "+
			"so a slow target lowers the load instead of queueing it; these percentiles are not open-model latencies.")
	}
	return out
}

// Warnings lists what the reader of a result must know: the client fell
// behind schedule, arrivals were dropped or never sent, the result is
// partial, many requests failed. Each warning is one sentence with the
// measured figures.
func Warnings(r *results.Result) []string {
	var out []string
	m := &r.Meta
	sc := &r.Schedule
	if m.Partial {
		reason := m.StopReason
		if reason == "" {
			reason = "the run did not finish"
		}
		out = append(out, "partial result ("+reason+"): the figures cover only what was measured before it stopped")
	} else if m.StopReason != "" {
		out = append(out, "the run stopped early: "+m.StopReason)
	}
	if m.Model != results.ClosedModel {
		if w := behindSchedule(r); w != "" {
			out = append(out, w)
		}
	}
	if w := stealWarning(m.Steal); w != "" {
		out = append(out, w)
	}
	if sc.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d of %d planned arrivals dropped (%s) because --max-in-flight was reached with --overload drop: the target got less load than planned",
			sc.Dropped, sc.Planned, format.Percent(share(sc.Dropped, sc.Planned))))
	}
	if sc.Unsent > 0 {
		out = append(out, fmt.Sprintf("%d of %d planned arrivals were never sent (%s): the run stopped before the schedule ended",
			sc.Unsent, sc.Planned, format.Percent(share(sc.Unsent, sc.Planned))))
	}
	for _, g := range r.Groups {
		if g.Group == results.OtherGroup {
			out = append(out, fmt.Sprintf("request %s has more tag groups than the %d a run keeps: %d requests of the others are counted in %s{%s}; a tag that takes a new value per request (seq, uuid, now, a captured value) makes a group per request",
				format.Clean(g.Name), results.MaxGroupsPerRequest, g.Requests, format.Clean(g.Name), results.OtherGroup))
		}
	}
	for _, f := range r.GroupByFolds {
		out = append(out, fmt.Sprintf("request %s is grouped by %s, which took more than the %d distinct values kept: %d requests with the others are counted as %s=%s",
			format.Clean(f.Name), format.Clean(f.Label), f.Limit, r.FoldedRequests(f), format.Clean(f.Label), results.OtherGroup))
	}
	if t := r.Total; t != nil {
		if t.Requests == 0 {
			out = append(out, "no requests were measured")
		} else if t.ErrorRate() >= warnErrorShare {
			out = append(out, fmt.Sprintf("%s of requests failed (%d of %d)%s", format.Percent(t.ErrorRate()), t.Errors, t.Requests, topError(t)))
		}
	}
	return out
}

// stealWarning describes the CPU time the hypervisor took during the run,
// or returns "" when it took less than results.StealWarning of it (or
// none was measured).
func stealWarning(st *results.Steal) string {
	if st.Share() < results.StealWarning {
		return ""
	}
	cpus := "the CPU"
	if st.CPUs != 1 {
		cpus = fmt.Sprintf("the %d CPUs", st.CPUs)
	}
	worst := ""
	if st.Worst > 0 {
		worst = fmt.Sprintf(", %s in its worst second at %s", format.Percent(st.Worst), format.Elapsed(st.WorstAt.D()))
	}
	return fmt.Sprintf("the hypervisor took %s of this machine's CPU time during the run (steal on %s tailgate could run on%s); send lag and latency include those stalls",
		format.Percent(st.Share()), cpus, worst)
}

// behindSchedule describes how far behind schedule an open-model client
// fell, or returns "" when it kept up.
func behindSchedule(r *results.Result) string {
	sc := &r.Schedule
	var lag99, lagMax time.Duration
	if r.Total != nil {
		lag99, lagMax = r.Total.SendLag.Percentile(99), r.Total.SendLag.Max()
	}
	measured := r.MeasuredSent()
	lateShare := share(sc.Late, measured)
	if lag99 <= behindLagP99 && lateShare <= behindLateShare {
		return ""
	}
	return fmt.Sprintf("client behind schedule: send lag p99 %s, max %s; %d of %d arrivals (%s) started more than %s late, and the latency figures include this wait. %s",
		format.Duration(lag99), format.Duration(lagMax), sc.Late, measured, format.Percent(lateShare), format.Duration(results.LateThreshold), LagCause(r))
}

// cpuSaturated is the share of the machine's CPUs above which the client's
// own processor time is blamed for its lag.
const cpuSaturated = 0.9

// LagCause says why an open-model client fell behind schedule, telling
// apart the causes tailgate can measure, each with its figures: the
// client's own CPU was saturated; --max-in-flight was reached; the target
// held every connection (the connections were busy for the whole measured
// time, so service time is about the latency and arrivals waited for a
// free one).
func LagCause(r *results.Result) string {
	m, sc := &r.Meta, &r.Schedule
	var causes []string
	if share := r.CPUShare(); share >= cpuSaturated {
		causes = append(causes, fmt.Sprintf("the client's CPU was saturated (%s CPU-s in %s on %d CPUs, %s busy)",
			format.Number(m.CPU.Total().Seconds()), format.Elapsed(m.End.Sub(m.Start)), m.NumCPU, format.Percent(min(share, 1))))
	}
	if st := m.Steal; st.Share() >= results.StealWarning {
		causes = append(causes, fmt.Sprintf("the hypervisor took %s of the CPUs' time (steal)", format.Percent(st.Share())))
	}
	if m.MaxInFlight > 0 && sc.MaxInFlight >= int64(m.MaxInFlight) {
		causes = append(causes, fmt.Sprintf("--max-in-flight was reached (%d arrivals running or queued)", m.MaxInFlight))
	}
	busy := busyConnections(r)
	if m.Connections > 0 && busy >= 0.9*float64(m.Connections) {
		causes = append(causes, fmt.Sprintf("the target held every connection (%s of %d busy on average: service time ≈ latency), so arrivals waited for a free one; "+
			"more connections (-c) would send on time, a faster target would too", format.Number(busy), m.Connections))
	}
	if len(causes) == 0 {
		hypervisor := ""
		if m.Steal != nil {
			hypervisor = fmt.Sprintf(", the hypervisor (%s stolen)", format.Percent(m.Steal.Share()))
		}
		return fmt.Sprintf("Not the CPU (%s busy)%s, --max-in-flight (peak %d of %d) or the connections (%s of %d busy): look for other load on this machine",
			format.Percent(r.CPUShare()), hypervisor, sc.MaxInFlight, m.MaxInFlight, format.Number(busy), m.Connections)
	}
	return "The cause: " + strings.Join(causes, "; ") + "."
}

// busyConnections is the mean number of connections busy with a request
// during the measured time (Little's law: the summed service time of every
// request over the measured duration). A failed request counts its whole
// latency.
func busyConnections(r *results.Result) float64 {
	t := r.Total
	secs := r.Measured().Seconds()
	if t == nil || secs <= 0 {
		return 0
	}
	sum := t.Service.Mean().Seconds() * float64(t.Service.Count())
	if t.FailedLatency != nil {
		sum += t.FailedLatency.Mean().Seconds() * float64(t.FailedLatency.Count())
	}
	return sum / secs
}

func topError(s *results.Stats) string {
	kinds := sortedErrorKinds(s.ErrorKinds)
	if len(kinds) == 0 {
		return ""
	}
	k := kinds[0]
	out := fmt.Sprintf(", mostly %s", k)
	if msg := s.ErrorSamples[k]; msg != "" {
		out += ": " + format.Truncate(format.Clean(msg), 120)
	}
	return out
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
