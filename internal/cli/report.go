package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const reportUsage = `
Usage: tailgate report RESULTS.json [flags]

Print a results file (written by 'tailgate hit -o' or 'tailgate run -o') in
another form. Latency is completion − intended send time, so queueing in
the client is included (no coordinated omission).

Formats (--format):
  text      the terminal summary printed at the end of a run (default)
  markdown  GitHub Markdown, ready to paste into a pull request
  json      a stable summary for scripts:
              {"total": {"requests", "errors", "rate", "latency_ms": {"p50",
              "p90", … every reported percentile, "max", "mean"},
              "service_ms": {…}},
               "requests": {"<name>": {…same…}}, "groups", "meta", "schedule",
               "thresholds": [{"threshold", "pass", "measured", "detail"}]}
  hlog      the one-second timeline as an HdrHistogram interval log: one
            untagged line per interval (all requests) and one Tag=<name>
            line per request name; values in µs, readable by
            HdrHistogram's HistogramLogReader and log processors

Every format shows the threshold outcomes the results file carries (those
of the run, or judged again by merge). Thresholds given here (--threshold,
--scenario) are judged instead, as 'tailgate run' judges them after a run;
the outcome is in the report (and on stderr for a format other than text or
for -o), and the exit status is 1 when one fails. This is how results are
gated against thresholds the run did not have.

Examples:
  tailgate report results.json
  tailgate report results.json --format markdown -o summary.md
  tailgate report results.json --format json | jq '.total.latency_ms["p99.9"]'
  tailgate report results.json --png-dir charts/ --size 1200x675
  tailgate report merged.json --scenario checkout.yaml --format markdown -o summary.md
  tailgate report results.json --threshold 'p99 < 250ms' --threshold 'error_rate < 1%'
`

type reportFlags struct {
	format     string
	out        string
	pngDir     string
	size       string
	scenario   string
	thresholds []string
}

// reportFormats maps --format values to writers.
var reportFormats = map[string]func(io.Writer, *results.Result) error{
	"text":     report.WriteText,
	"markdown": report.WriteMarkdown,
	"md":       report.WriteMarkdown,
	"json":     report.WriteJSON,
	"hlog":     report.WriteHlog,
}

func cmdReport(_ context.Context, env *Env, args []string) error {
	var f reportFlags
	fs := newFlagSet(env, "report", reportUsage)
	fs.StringVar(&f.format, "format", "text", "output `format`: text, markdown, json or hlog")
	fs.StringVarP(&f.out, "output", "o", "", "write to `file` instead of stdout (atomically)")
	fs.StringVar(&f.pngDir, "png-dir", "", "also write PNG charts into `dir` (created if missing)")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	fs.StringVar(&f.scenario, "scenario", "", "check the thresholds of scenario `file` (exit 1 when one fails)")
	addThresholdFlag(fs, &f.thresholds)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one results file, got %d arguments (see --help)", fs.NArg())
	}
	format := strings.ToLower(f.format)
	write, ok := reportFormats[format]
	if !ok {
		return usagef("--format %q: use text, markdown, json or hlog", f.format)
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}

	if f.out != "" && f.out != "-" {
		if _, err := checkOutput("-o", f.out); err != nil {
			return err
		}
	}
	if f.pngDir != "" {
		if err := checkOutputDir("--png-dir", f.pngDir); err != nil {
			return err
		}
	}
	path := fs.Arg(0)
	res, err := results.ReadResultFile(path)
	if err != nil {
		return &UsageError{Err: err}
	}
	if res.Meta.Partial {
		reason := res.Meta.StopReason
		if reason == "" {
			reason = "the run did not finish"
		}
		fmt.Fprintf(env.Stderr, "tailgate report: %s is a partial result (%s)\n", path, reason)
	}
	ths, err := reportThresholds(env, f.scenario, f.thresholds, res)
	if err != nil {
		return err
	}
	// Thresholds given here replace the outcomes the file carries; without
	// them, the file's own outcomes are shown as they are.
	var failed []string
	if len(ths) > 0 {
		failed = res.Judge(ths)
	}
	if err := writeReportOutput(env.Stdout, f.out, func(w io.Writer) error { return write(w, res) }); err != nil {
		return err
	}
	if f.pngDir != "" {
		if err := os.MkdirAll(f.pngDir, 0o755); err != nil {
			return fmt.Errorf("--png-dir: %w", err)
		}
		files, err := writeCharts(f.pngDir, width, height, res)
		if err != nil {
			return err
		}
		for _, name := range files {
			fmt.Fprintf(env.Stderr, "chart written to %s\n", name)
		}
	}
	if len(ths) == 0 {
		return nil
	}
	// A text report on stdout shows the outcomes; otherwise they go to
	// stderr as well, for the log of the job that asked for them.
	if format != "text" || (f.out != "" && f.out != "-") {
		printVerdicts(env.Stderr, res.Thresholds)
	}
	if len(failed) > 0 {
		return &ThresholdError{Failed: failed}
	}
	return nil
}

// reportThresholds gathers the thresholds report checks: those of the
// scenario file, if one is given, and the --threshold flags. Without a
// scenario to check request names against, a threshold must name a request
// the results have: a typo is an input error, not a failed threshold.
func reportThresholds(env *Env, scenario string, flags []string, res *results.Result) ([]*results.Threshold, error) {
	if scenario == "" {
		ths, err := parseThresholdFlags(flags)
		if err != nil {
			return nil, err
		}
		for _, t := range ths {
			if st, err := res.Select(t.Selector); err == nil && st == nil && !t.Selector.IsTotal() {
				var names []string
				list := res.Requests
				if t.Selector.Flow {
					list = res.Flows
				}
				for _, st := range list {
					names = append(names, strconv.Quote(st.Name))
				}
				what := fmt.Sprintf("request %q%s", t.Selector.Name, groupSuffix(t.Selector.Group))
				switch {
				case t.Selector.Flow:
					what = fmt.Sprintf("flow %q", t.Selector.Name)
					if len(names) == 0 {
						names = []string{"no flows"}
					}
				case t.Selector.Name == "":
					what = fmt.Sprintf("tag group %q", t.Selector.Group)
				}
				return nil, usagef("--threshold %q: the results have no %s (they have %s)", t.String(), what, strings.Join(names, ", "))
			}
		}
		return ths, nil
	}
	s, err := loadScenario(env, scenario, scenarios.Trust{})
	if err != nil {
		return nil, err
	}
	ths, err := scenarioThresholds(s, flags)
	if err != nil {
		return nil, err
	}
	if len(ths) == 0 {
		return nil, usagef("--scenario %s: the scenario has no thresholds", scenario)
	}
	return ths, nil
}

// printVerdicts lists threshold outcomes under a heading.
func printVerdicts(w io.Writer, vs []results.Verdict) {
	w = format.SafeWriter(w)
	fmt.Fprintln(w, "thresholds:")
	for _, v := range vs {
		fmt.Fprintf(w, "  %s\n", v)
	}
}

// parseSize parses "WxH" with sane pixel bounds.
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil {
		return 0, 0, usagef("--size %q: want WIDTHxHEIGHT in pixels, e.g. 1600x900", s)
	}
	if w < 200 || h < 150 || w > 10000 || h > 10000 {
		return 0, 0, usagef("--size %q: width must be 200–10000 and height 150–10000 pixels", s)
	}
	return w, h, nil
}

// writeReportOutput runs write into stdout, or into path by the rule of
// results.Output: a regular file is replaced atomically, so a failed
// write never leaves half a report behind; a device or a pipe is written
// straight through.
func writeReportOutput(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	return results.WriteOutput(path, stdout, write)
}

func groupSuffix(group string) string {
	if group == "" {
		return ""
	}
	return fmt.Sprintf(" with tag group %q", group)
}
