package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// WriteMarkdown writes a GitHub Markdown summary ready to paste into a pull
// request: a header line with target, model, profile and duration, one
// table row per request name and tag group with the latency percentiles,
// rate and errors, and the warnings as a blockquote.
func WriteMarkdown(w io.Writer, r *results.Result) error {
	w = format.SafeWriter(w)
	bw := bufio.NewWriter(w)
	m := &r.Meta
	title := m.Name
	if title == "" {
		title = "tailgate run"
	}
	fmt.Fprintf(bw, "### %s\n\n", format.Markdown(title))
	var head []string
	if m.Target != "" {
		head = append(head, "`"+format.MarkdownCode(m.Target)+"`")
	}
	head = append(head, "**"+format.Markdown(modelLine(r))+"**")
	head = append(head, format.Elapsed(r.Measured())+" measured")
	if m.Warmup > 0 {
		head = append(head, format.Elapsed(m.Warmup.D())+" warmup excluded")
	}
	var total uint64
	if r.Total != nil {
		total = r.Total.Requests
	}
	head = append(head, fmt.Sprintf("%d requests at %s", total, formatRequestRate(r.Rate())))
	if line := iterationsLine(r); line != "" {
		head = append(head, format.Markdown("iterations "+line))
	}
	if d := r.Drain(); d >= 10*time.Millisecond {
		head = append(head, format.Elapsed(d)+" drain")
	}
	if m.Partial {
		head = append(head, "**partial result**")
	}
	fmt.Fprintf(bw, "%s\n\n", strings.Join(head, " · "))

	if m.Model == results.ClosedModel {
		fmt.Fprintln(bw, "Latency = completion − request start (closed model: a slow target lowers the load instead of queueing it).")
	} else {
		fmt.Fprintln(bw, "Latency = completion − intended send time: queueing in the client is included (no coordinated omission).")
	}
	fmt.Fprintln(bw, "Percentiles are of successful responses; failed requests are counted under errors with their own latency.")
	fmt.Fprintln(bw)
	writeMDTable(bw, r, func(s *results.Stats) *results.Histogram { return s.Latency }, true)
	writeMDFlows(bw, r)

	if r.Total != nil {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "<details><summary>Service time and send lag</summary>")
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "Service time = completion − actual send time.")
		fmt.Fprintln(bw)
		writeMDTable(bw, r, func(s *results.Stats) *results.Histogram { return s.Service }, false)
		if m.Model != results.ClosedModel {
			fmt.Fprintln(bw)
			fmt.Fprintln(bw, "Send lag = actual − intended send time.")
			fmt.Fprintln(bw)
			writeMDHead(bw, "", "count")
			fmt.Fprintf(bw, "| total | %d | %s |\n", r.Total.SendLag.Count(), strings.Join(percentileCells(r.Total.SendLag), " | "))
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "</details>")
	}

	var parts []string
	if r.Total != nil {
		for _, code := range sortedStatus(r.Total.Status) {
			parts = append(parts, fmt.Sprintf("`%d` ×%d", code, r.Total.Status[code]))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(bw, "\nStatus: %s", strings.Join(parts, ", "))
		if r.Total.Errors > 0 {
			var kinds []string
			for _, k := range sortedErrorKinds(r.Total.ErrorKinds) {
				kinds = append(kinds, fmt.Sprintf("%s ×%d", k, r.Total.ErrorKinds[k]))
			}
			fmt.Fprintf(bw, " · Errors: %s", strings.Join(kinds, ", "))
			if h := r.Total.FailedLatency; h.Count() > 0 {
				fmt.Fprintf(bw, " · failed latency p50 %s, p99 %s, max %s", format.Duration(h.Percentile(50)), format.Duration(h.Percentile(99)), format.Duration(h.Max()))
			}
		}
		if r.Total.Retries > 0 {
			fmt.Fprintf(bw, " · Retried: %s", retriedText(r.Total))
		}
		fmt.Fprintln(bw)
		if s := markdownChecks(r); s != "" {
			fmt.Fprintf(bw, "\n%s\n", s)
		}
	}
	if t := r.Total; t != nil && t.NotSent > 0 {
		var reasons []string
		for _, c := range t.NotSentByReason() {
			reasons = append(reasons, fmt.Sprintf("%s ×%d", c.Reason, c.Count))
		}
		fmt.Fprintf(bw, "\nNot sent (could not be built): %d · %s\n", t.NotSent, strings.Join(reasons, ", "))
	}

	warnings := Warnings(r)
	notes := notes(r)
	if len(warnings)+len(notes) > 0 {
		fmt.Fprintln(bw)
		if len(warnings) > 0 {
			fmt.Fprintln(bw, "> [!WARNING]")
		} else {
			fmt.Fprintln(bw, "> [!NOTE]")
		}
		for i, s := range append(warnings, notes...) {
			if i > 0 {
				fmt.Fprintln(bw, ">")
			}
			fmt.Fprintf(bw, "> %s\n", format.Markdown(s))
		}
	}
	writeMDThresholds(bw, r)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write Markdown summary: %w", err)
	}
	return nil
}

// writeMDHead writes the head of a table whose first column is named
// first, then the numeric columns named, then the percentile columns.
func writeMDHead(w io.Writer, first string, numeric ...string) {
	cols := append(append([]string{first}, numeric...), textColumns...)
	align := strings.Repeat("|--:", len(cols)-1)
	if first != "" {
		first = " " + first
	}
	fmt.Fprintf(w, "|%s | %s |\n|---%s|\n", first, strings.Join(cols[1:], " | "), align)
}

// writeMDTable writes one row per request name and group plus the total.
// With rates set it adds rate and error columns.
func writeMDTable(w io.Writer, r *results.Result, pick func(*results.Stats) *results.Histogram, rates bool) {
	if rates {
		writeMDHead(w, "request", "requests", "rate", "errors")
	} else {
		writeMDHead(w, "request", "count")
	}
	row := func(label string, s *results.Stats) {
		cells := []string{label}
		if rates {
			rate := "-"
			if r.Measured() > 0 {
				rate = format.Rate(r.RequestRate(s))
			}
			errs := "0"
			if s.Errors > 0 {
				errs = fmt.Sprintf("%d (%s)", s.Errors, format.Percent(s.ErrorRate()))
			}
			cells = append(cells, strconv.FormatUint(s.Requests, 10), rate, errs)
		} else {
			cells = append(cells, strconv.FormatInt(pick(s).Count(), 10))
		}
		cells = append(cells, percentileCells(pick(s))...)
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, s := range orderedStats(r) {
		label := "`" + format.MarkdownCode(s.Name) + "`"
		if s.Group != "" {
			label = "↳ " + format.Markdown(s.Group)
			if !hasRequest(r, s.Name) {
				label = "`" + format.MarkdownCode(s.Name) + "` " + format.Markdown(s.Group)
			}
		}
		row(label, s)
	}
	if r.Total != nil {
		row("**total**", r.Total)
	}
}

func hasRequest(r *results.Result, name string) bool {
	for _, s := range r.Requests {
		if s != nil && s.Name == name {
			return true
		}
	}
	return false
}
