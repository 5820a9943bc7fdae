package report

import (
	"fmt"
	"io"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// Every writer shows the threshold outcomes a result carries (results.Judge
// keeps them), so a verdict reads the same in the terminal, in Markdown and
// in JSON, and again when the file is reported later or merged.

// writeTextThresholds lists the outcomes, one per line.
func writeTextThresholds(w io.Writer, r *results.Result) {
	if len(r.Thresholds) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "thresholds:")
	for _, o := range r.Thresholds {
		// The parts are cleaned, not the line: Clean folds the two spaces
		// that set the verdict apart.
		o.Threshold, o.Detail = format.Clean(o.Threshold), format.Clean(o.Detail)
		fmt.Fprintf(w, "  %s\n", o)
	}
}

// writeMDThresholds writes the outcomes as a table under a heading that
// gives the count.
func writeMDThresholds(w io.Writer, r *results.Result) {
	if len(r.Thresholds) == 0 {
		return
	}
	failed := len(r.Failed())
	if failed == 0 {
		fmt.Fprintf(w, "\n#### Thresholds: all %d passed\n\n", len(r.Thresholds))
	} else {
		fmt.Fprintf(w, "\n#### Thresholds: %d of %d failed\n\n", failed, len(r.Thresholds))
	}
	fmt.Fprintln(w, "| | threshold | measured |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, o := range r.Thresholds {
		verdict := "✅ pass"
		if !o.Pass {
			verdict = "❌ **FAIL**"
		}
		fmt.Fprintf(w, "| %s | `%s` | %s |\n", verdict, format.MarkdownCode(o.Threshold), format.Markdown(o.Detail))
	}
}
