package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

const mergeUsage = `
Usage: tailgate merge -o MERGED.json SHARD.json... [flags]

Merge the results of the shards of one distributed run (each process ran
'--shard I/N' of the same plan) into one results file. Histograms merge
without loss: the merged percentiles are those of one process running the
whole plan. Timelines are aligned by their offset from each shard's start.

Merge refuses files that are not shards of one plan: a different results
version or plan hash, a shard index given twice, or different shard counts.
Missing shards give a result marked partial.

An argument with * ? or [ that names no file is expanded by merge itself,
so 'shard-*.json' works where no shell expands it (a Kubernetes container).

Thresholds (--scenario, --threshold) are checked on the merged result, as
'tailgate report' checks them; without them, the thresholds the shards were
judged by (if any) are judged again on the merged result. The outcomes go
into the merged file, and the exit status is 1 when one fails. --md
and --png-dir write the Markdown report (with the thresholds) and the
charts of the merged result.

Examples:
  tailgate merge -o merged.json shard-*.json
  tailgate merge -o merged.json --scenario checkout.yaml --md report.md --png-dir charts 'out/shard-*.json'
`

type mergeFlags struct {
	out        string
	quiet      bool
	md         string
	pngDir     string
	size       string
	scenario   string
	thresholds []string
}

func cmdMerge(_ context.Context, env *Env, args []string) error {
	var f mergeFlags
	fs := newFlagSet(env, "merge", mergeUsage)
	fs.StringVarP(&f.out, "output", "o", "", "write the merged results to `file` (required)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "do not print the summary of the merged result")
	fs.StringVar(&f.scenario, "scenario", "", "check the thresholds of scenario `file` on the merged result (exit 1 when one fails)")
	addThresholdFlag(fs, &f.thresholds)
	fs.StringVar(&f.md, "md", "", "also write the Markdown report of the merged result to `file`")
	fs.StringVar(&f.pngDir, "png-dir", "", "also write the PNG charts of the merged result into `dir` (created if missing)")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.out == "" {
		return usagef("-o/--output is required: where to write the merged results (see --help)")
	}
	if fs.NArg() == 0 {
		return usagef("no results files to merge (see --help)")
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}
	output, err := checkOutput("-o", f.out)
	if err != nil {
		return err
	}
	var md *results.Output
	if f.md != "" {
		if md, err = checkOutput("--md", f.md); err != nil {
			return err
		}
	}
	if f.pngDir != "" {
		if err := checkOutputDir("--png-dir", f.pngDir); err != nil {
			return err
		}
	}
	files, err := expandPatterns(fs.Args())
	if err != nil {
		return err
	}
	// One shard at a time: each is decoded, merged and let go, so memory
	// does not grow with the number of shards.
	var m results.Merger
	for _, path := range files {
		res, err := results.ReadResultFile(path)
		if err != nil {
			return &UsageError{Err: err}
		}
		if err := m.Add(path, res); err != nil {
			return mergeError(err)
		}
	}
	merged, err := m.Result()
	if err != nil {
		return mergeError(err)
	}
	merged.Meta.Command = append([]string{"tailgate", "merge"}, args...)
	ths, err := reportThresholds(env, f.scenario, f.thresholds, merged)
	if err != nil {
		return err
	}
	// Thresholds given here judge the merged result; without them, the
	// shards' own thresholds were judged again by the merge. Either way the
	// outcomes go into the merged file, the summary and the Markdown.
	if len(ths) > 0 {
		merged.Judge(ths)
	}
	if err := output.Write(env.Stdout, merged.Encode); err != nil {
		return err
	}
	if merged.Meta.Partial {
		fmt.Fprintf(env.Stderr, "tailgate merge: partial result: %s\n", merged.Meta.StopReason)
	}
	if !f.quiet {
		if err := report.WriteText(summaryWriter(env, f.out), merged); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "merged %d results into %s\n", len(files), f.out)
	reportStartSpread(env.Stderr, merged, len(files))
	if md != nil {
		if err := md.Write(env.Stdout, func(w io.Writer) error { return report.WriteMarkdown(w, merged) }); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "Markdown written to %s\n", f.md)
	}
	if f.pngDir != "" {
		if err := os.MkdirAll(f.pngDir, 0o755); err != nil {
			return fmt.Errorf("--png-dir: %w", err)
		}
		charts, err := writeCharts(f.pngDir, width, height, merged)
		if err != nil {
			return err
		}
		for _, name := range charts {
			fmt.Fprintf(env.Stderr, "chart written to %s\n", name)
		}
	}
	if f.quiet && len(merged.Thresholds) > 0 {
		printVerdicts(summaryWriter(env, f.out), merged.Thresholds)
	}
	return thresholdError(merged)
}

// mergeError makes a problem with the inputs a usage error (exit 2).
func mergeError(err error) error {
	var me *results.MergeError
	if errors.As(err, &me) {
		return &UsageError{Err: err}
	}
	return fmt.Errorf("merge: %w", err)
}

// reportStartSpread says how far apart the shards started, and warns when
// it is more than an arrival may lag before it counts as late: the shards'
// arrivals then did not go out at their global times.
func reportStartSpread(w io.Writer, merged *results.Result, n int) {
	if n < 2 || merged.Meta.PlannedStart.IsZero() {
		return
	}
	spread := merged.Meta.StartSpread.D()
	fmt.Fprintf(w, "start spread across %d shards: %s (planned start %s)\n", n, format.Duration(spread),
		merged.Meta.PlannedStart.UTC().Format(time.RFC3339Nano))
	if spread > results.LateThreshold {
		fmt.Fprintf(w, "warning: the shards started %s apart (more than %s): a late pod or process; its arrivals went out late (see send lag)\n",
			format.Duration(spread), format.Duration(results.LateThreshold))
	}
}

// expandPatterns replaces each argument that names no file but has glob
// characters by the files it matches, in order. A pattern matching nothing
// is an error: a merge of no shards would say nothing useful.
func expandPatterns(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if _, err := os.Lstat(a); err == nil || !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, usagef("%s: %v", a, err)
		}
		if len(matches) == 0 {
			return nil, usagef("%s: no file matches", a)
		}
		sort.Strings(matches)
		out = append(out, matches...)
	}
	return out, nil
}
