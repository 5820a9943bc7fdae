// Package report turns results into text, Markdown, JSON and HdrHistogram
// interval logs, and compares results. It never runs load.
package report

import (
	"fmt"
	"io"
	"time"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// WriteText writes the terminal summary of a result.
func WriteText(w io.Writer, r *loadgen.Result) error {
	t := r.Total
	p := t.Latency.Summary()
	_, err := fmt.Fprintf(w, "%s %s: %d requests, %d errors, %.1f/s\nlatency p50 %s p90 %s p95 %s p99 %s p99.9 %s max %s\n",
		r.Meta.Name, r.Meta.Target, t.Requests, t.Errors, r.Rate(),
		FormatDuration(p.P50), FormatDuration(p.P90), FormatDuration(p.P95), FormatDuration(p.P99), FormatDuration(p.P999), FormatDuration(p.Max))
	return err
}

// Warnings lists what the reader of a result must know: the client fell
// behind schedule, arrivals were dropped, the run was cut short.
func Warnings(r *loadgen.Result) []string {
	var out []string
	if r.Schedule.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d arrivals dropped (--max-in-flight reached)", r.Schedule.Dropped))
	}
	return out
}

// FormatDuration formats a latency compactly with 3 significant digits.
func FormatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	}
}
