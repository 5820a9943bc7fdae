package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

const compareUsage = `
Usage:
  tailgate compare BEFORE.json AFTER.json [flags]
  tailgate compare BEFORE-1.json BEFORE-2.json … -- AFTER-1.json AFTER-2.json … [flags]
  tailgate compare --before b-1.json,b-2.json --after a-1.json,a-2.json [flags]
  tailgate compare RESULTS.json… --a SELECTION --b SELECTION [flags]

Compare latency percentiles, achieved rate and error rate per request name,
tag group and flow (flow:NAME, counted in iterations): before vs after, or
two requests or flows of the same run (--a/--b, e.g. offset vs cursor
pagination). The tables pool every run of a side.

With several runs per side (tailgate hit/run --count N, or tailgate ab) it
also says, for p50, p99 and the mean, whether the change is real or noise:
the change of the per-run medians with a 95% confidence interval and a
two-sided Mann–Whitney U test at α=0.05, e.g.
    p99   45.2ms → 28.1ms  −37.8% [−45.0%, −30.2%] (p=0.008, n=5+5)
    p50   ~ (p=0.421, no significant change, n=5+5)
A verdict needs at least 4 runs per side (5 recommended).

--max-slowdown 10% turns the comparison into a gate for CI: exit status 1
when p50 or p99 of the total, of a request name or of a flow (its completed
iterations) got more than 10% slower (with repeated runs, only when the
change is significant).

Selections (--a, --b) are written as in thresholds: a request name (offset),
NAME{GROUP} (offset{depth=100}), {GROUP} (a tag group pooled over every
request name) or total. A name alone also compares each tag group both names
share.

Examples:
  tailgate compare before.json after.json --md compare.md --png-dir charts/
  tailgate hit URL --count 5 -o main.json     # main-1.json … main-5.json
  tailgate compare main-*.json -- branch-*.json --label main,branch
  tailgate compare run.json --a offset --b cursor --png-dir charts/
  tailgate compare main-*.json -- pr-*.json --max-slowdown 10% --md cmp.md

The method is described in docs/compare.md.
`

type compareFlags struct {
	before, after []string
	a, b          string
	labels        string
	md            string
	pngDir        string
	size          string
	alpha         float64
	maxSlowdown   string
}

func cmdCompare(_ context.Context, env *Env, args []string) error {
	var f compareFlags
	fs := newFlagSet(env, "compare", compareUsage)
	fs.StringSliceVar(&f.before, "before", nil, "results `files` of the first side (comma-separated or repeated)")
	fs.StringSliceVar(&f.after, "after", nil, "results `files` of the second side")
	fs.StringVar(&f.a, "a", "", "compare within the results: first `selection`, e.g. offset or offset{depth=100}")
	fs.StringVar(&f.b, "b", "", "second `selection`, e.g. cursor")
	fs.StringVar(&f.labels, "label", "", "names of the two sides `A,B` (default before,after or the selections)")
	fs.StringVar(&f.md, "md", "", "also write the comparison as Markdown to `file` ('-' for stdout instead of text)")
	fs.StringVar(&f.pngDir, "png-dir", "", "write PNG charts into `dir` (created if missing); the Markdown links them")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	fs.Float64Var(&f.alpha, "alpha", report.DefaultAlpha, "significance level of the verdicts")
	fs.StringVar(&f.maxSlowdown, "max-slowdown", "", "exit 1 when p50 or p99 of the total, a request or a flow got slower by more than `PCT`, e.g. 10% (with repeated runs: only significant changes)")
	// Flags may follow the files after "--" too: parse each half on its
	// own, so "--" separates the sides rather than ending the flags.
	left, right, dashed := splitDash(args)
	if err := parseFlags(fs, left); err != nil {
		return err
	}
	leftFiles := fs.Args()
	var rightFiles []string
	if dashed {
		if err := parseFlags(fs, right); err != nil {
			return err
		}
		rightFiles = fs.Args()
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}
	if !(f.alpha > 0 && f.alpha < 0.5) {
		return usagef("--alpha %g: want a level between 0 and 0.5, e.g. 0.05", f.alpha)
	}
	opts := report.CompareOptions{Alpha: f.alpha}
	if f.labels != "" {
		l := strings.Split(f.labels, ",")
		if len(l) != 2 || strings.TrimSpace(l[0]) == "" || strings.TrimSpace(l[1]) == "" {
			return usagef("--label %q: want two names, e.g. --label main,branch", f.labels)
		}
		opts.Labels = [2]string{strings.TrimSpace(l[0]), strings.TrimSpace(l[1])}
	}
	within := f.a != "" || f.b != ""
	if within {
		if f.a == "" || f.b == "" {
			return usagef("--a and --b go together")
		}
		a, err := results.ParseSelector(f.a)
		if err != nil {
			return usagef("--a: %v", err)
		}
		b, err := results.ParseSelector(f.b)
		if err != nil {
			return usagef("--b: %v", err)
		}
		opts.A, opts.B = &a, &b
	}
	if err := checkComparisonOutputs(f.md, f.pngDir); err != nil {
		return err
	}
	beforePaths, afterPaths, err := compareSides(leftFiles, rightFiles, dashed, f.before, f.after, within)
	if err != nil {
		return err
	}
	before, err := readResults(beforePaths)
	if err != nil {
		return err
	}
	after := before
	if !within {
		if after, err = readResults(afterPaths); err != nil {
			return err
		}
	}
	limit, err := parseSlowdown(f.maxSlowdown)
	if err != nil {
		return err
	}
	return emitComparison(env, before, after, opts, compareOutput{md: f.md, pngDir: f.pngDir, width: width, height: height, maxSlowdown: limit})
}

// checkComparisonOutputs checks --md and --png-dir before any file is read
// or any run starts.
func checkComparisonOutputs(md, pngDir string) error {
	if md != "" && md != "-" {
		if _, err := checkOutput("--md", md); err != nil {
			return err
		}
	}
	if pngDir != "" {
		return checkOutputDir("--png-dir", pngDir)
	}
	return nil
}

// parseSlowdown reads --max-slowdown: "10%" or "10" (percent). Empty: no
// gate (-1).
func parseSlowdown(s string) (float64, error) {
	if s == "" {
		return -1, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || !(v >= 0) || v > 10000 {
		return 0, usagef("--max-slowdown %q: want a percentage such as 10%%", s)
	}
	return v / 100, nil
}

// compareOutput says where a comparison goes besides the terminal.
type compareOutput struct {
	md, pngDir    string
	width, height int
	// maxSlowdown gates the comparison (exit 1) when ≥ 0; see
	// report.Comparison.Regressions.
	maxSlowdown float64
}

// emitComparison compares the results and writes the text (stdout), the
// charts and the Markdown that links them. compare and ab share it.
func emitComparison(env *Env, before, after []*results.Result, opts report.CompareOptions, out compareOutput) error {
	c, err := report.Compare(before, after, opts)
	if err != nil {
		return &UsageError{Err: err}
	}
	seen := map[*results.Result]bool{}
	for _, r := range append(append([]*results.Result{}, before...), after...) {
		if r.Meta.Partial && !seen[r] {
			seen[r] = true
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s is a partial result (%s)", r.Meta.Name, r.Meta.StopReason))
		}
	}
	if out.pngDir != "" {
		sides, err := chartSides(c, before, after, opts)
		if err != nil {
			return err
		}
		files, err := chart.WriteCompareCharts(out.pngDir, sides, chart.Options{Width: out.width, Height: out.height})
		if err != nil {
			return fmt.Errorf("--png-dir: %w", err)
		}
		for _, file := range files {
			fmt.Fprintf(env.Stderr, "chart written to %s\n", file.Path)
			c.Charts = append(c.Charts, report.ChartRef{Title: file.Title, Path: relativeTo(out.md, file.Path)})
		}
	}
	if out.md != "-" {
		if err := report.WriteCompareText(env.Stdout, c); err != nil {
			return err
		}
	}
	if out.md != "" {
		if err := writeReportOutput(env.Stdout, out.md, func(w io.Writer) error { return report.WriteCompareMarkdown(w, c) }); err != nil {
			return err
		}
		if out.md != "-" {
			fmt.Fprintf(env.Stderr, "Markdown written to %s\n", out.md)
		}
	}
	if out.maxSlowdown >= 0 {
		if failed := c.Regressions(out.maxSlowdown); len(failed) > 0 {
			return &ThresholdError{Failed: failed, Slowdowns: true}
		}
	}
	return nil
}

// splitDash splits args at the first "--".
func splitDash(args []string) (left, right []string, ok bool) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:], true
		}
	}
	return args, nil, false
}

// compareSides picks the files of the two sides: --before and --after
// lists, files left and right of a "--", or exactly two files. Within one
// set of results (--a/--b) every file belongs to the single side.
func compareSides(args, right []string, dashed bool, before, after []string, within bool) ([]string, []string, error) {
	if within {
		if len(before) > 0 || len(after) > 0 || dashed {
			return nil, nil, usagef("--a/--b compare within the same results: list the files without --before, --after or --")
		}
		if len(args) == 0 {
			return nil, nil, usagef("want at least one results file (see --help)")
		}
		return args, nil, nil
	}
	switch {
	case len(before) > 0 || len(after) > 0:
		if len(args) > 0 || dashed {
			return nil, nil, usagef("give the files either with --before/--after or as arguments, not both")
		}
		if len(before) == 0 || len(after) == 0 {
			return nil, nil, usagef("--before and --after go together")
		}
		return before, after, nil
	case dashed:
		if len(args) == 0 || len(right) == 0 {
			return nil, nil, usagef("want results files on both sides of --")
		}
		return args, right, nil
	case len(args) == 2:
		return args[:1], args[1:], nil
	default:
		return nil, nil, usagef("want BEFORE.json AFTER.json, got %d files; for several runs per side separate them with -- or use --before/--after (see --help)", len(args))
	}
}

func readResults(paths []string) ([]*results.Result, error) {
	out := make([]*results.Result, 0, len(paths))
	for _, p := range paths {
		r, err := results.ReadResultFile(p)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		out = append(out, r)
	}
	return out, nil
}

// chartSides gathers what the comparison charts draw for each side: the
// selection's histogram per run and the timeline series.
func chartSides(c *report.Comparison, before, after []*results.Result, opts report.CompareOptions) ([2]chart.CompareSide, error) {
	sels := [2]results.Selector{}
	if opts.A != nil {
		sels = [2]results.Selector{*opts.A, *opts.B}
	}
	var sides [2]chart.CompareSide
	for i, rs := range [][]*results.Result{before, after} {
		s := chart.CompareSide{Label: c.Labels[i], Results: rs, Series: sels[i].Name}
		if sels[i].Group != "" && sels[i].Name != "" {
			// The timeline has the request name, not its tag groups.
			s.SeriesLabel = sels[i].Name + " (all groups)"
		}
		for _, r := range rs {
			h := r.Total.Latency
			if opts.A != nil {
				st, err := r.Select(sels[i])
				if err != nil {
					return sides, err
				}
				if st == nil {
					continue
				}
				h = st.Latency
			}
			s.Hists = append(s.Hists, h)
		}
		sides[i] = s
	}
	return sides, nil
}

// relativeTo returns path relative to the directory of the Markdown file
// md, so that the Markdown finds its images wherever it is rendered.
func relativeTo(md, path string) string {
	base := "."
	if md != "" && md != "-" {
		base = filepath.Dir(md)
	}
	absBase, err1 := filepath.Abs(base)
	absPath, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(absBase, absPath)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}
