package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// CapacityHeadline is the one-line answer of a capacity search, e.g.
// "max 394/s at p99 < 60ms (bracket 394–402/s, limited by the target)".
func CapacityHeadline(c *results.Capacity) string {
	var b strings.Builder
	if c.MaxRate == 0 {
		b.WriteString("no rate met the SLO")
		if len(c.Probes) > 0 {
			fmt.Fprintf(&b, " (lowest probed: %s)", format.Rate(c.Probes[0].Rate))
		}
	} else {
		fmt.Fprintf(&b, "max %s", format.Rate(c.MaxRate))
		if len(c.SLO) > 0 {
			fmt.Fprintf(&b, " at %s", strings.Join(c.SLO, ", "))
		}
	}
	switch {
	case c.Bracket[1] > 0:
		fmt.Fprintf(&b, " (bracket %s–%s", format.Number(c.Bracket[0]), format.Rate(c.Bracket[1]))
	default:
		b.WriteString(" (no probe failed")
	}
	fmt.Fprintf(&b, ", limited by %s)", limitText(c.LimitedBy))
	return b.String()
}

// limitText says what ended the search, in words.
func limitText(l string) string {
	switch l {
	case "target":
		return "the target"
	case "client":
		return "the client (tailgate could not hold the rate: more connections, --max-in-flight or CPU)"
	case "budget":
		return "the time budget (--budget)"
	case "max-rate":
		return "--max-rate"
	case "interrupted":
		return "an interruption: the bracket so far"
	}
	return l
}

// WriteCapacityText writes a capacity search for the terminal: the answer,
// then one line per probe.
func WriteCapacityText(w io.Writer, c *results.Capacity) error {
	w = format.SafeWriter(w)
	ew := bufio.NewWriter(w)
	fmt.Fprintf(ew, "%s\n", CapacityHeadline(c))
	fmt.Fprintf(ew, "target %s, %s arrivals, %d probes in %s\n\n", format.Clean(c.Target), c.Arrivals, len(c.Probes), format.Elapsed(c.Elapsed.D()))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "offered\tachieved\tp50\tp99\tp99.9\terrors\tverdict\t")
	for _, p := range c.Probes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			format.Rate(p.Rate), format.Rate(p.Achieved),
			format.Duration(msDuration(p.Latency["p50"])), format.Duration(msDuration(p.Latency["p99"])), format.Duration(msDuration(p.Latency["p99.9"])),
			format.Percent(p.ErrorRate), p.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range c.Probes {
		if p.Reason != "" {
			fmt.Fprintf(ew, "  %s: %s\n", format.Rate(p.Rate), format.Clean(p.Reason))
		}
	}
	return ew.Flush()
}

// WriteCapacityMarkdown writes a capacity search for a pull request. With a
// baseline (the same search on main), the headline says how the maximum
// moved.
func WriteCapacityMarkdown(w io.Writer, c, baseline *results.Capacity) error {
	w = format.SafeWriter(w)
	ew := bufio.NewWriter(w)
	head := CapacityHeadline(c)
	if baseline != nil && baseline.MaxRate > 0 && c.MaxRate > 0 {
		d := c.MaxRate/baseline.MaxRate - 1
		dir := "above"
		if d < 0 {
			dir, d = "below", -d
		}
		head += fmt.Sprintf(", %s %s the baseline's %s", format.Percent(d), dir, format.Rate(baseline.MaxRate))
	}
	fmt.Fprintf(ew, "### Capacity: %s\n\n", format.Markdown(head))
	fmt.Fprintf(ew, "Target `%s`, %s arrivals, %d probes in %s.\n\n", format.MarkdownCode(c.Target), format.Markdown(c.Arrivals), len(c.Probes), format.Elapsed(c.Elapsed.D()))
	fmt.Fprintln(ew, "| offered | achieved | p50 | p99 | p99.9 | errors | verdict |")
	fmt.Fprintln(ew, "|---:|---:|---:|---:|---:|---:|---|")
	for _, p := range c.Probes {
		verdict := p.Verdict
		if p.Reason != "" {
			verdict += ": " + p.Reason
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s |\n",
			format.Rate(p.Rate), format.Rate(p.Achieved),
			format.Duration(msDuration(p.Latency["p50"])), format.Duration(msDuration(p.Latency["p99"])), format.Duration(msDuration(p.Latency["p99.9"])),
			format.Percent(p.ErrorRate), format.Markdown(verdict))
	}
	return ew.Flush()
}

// WriteCapacityJSON writes the summary of a capacity search (no histograms)
// as indented JSON.
func WriteCapacityJSON(w io.Writer, c *results.Capacity) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c.Summary())
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
