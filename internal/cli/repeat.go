package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// maxCount bounds --count: a typo like --count 500 would otherwise keep a
// machine busy for hours.
const maxCount = 100

// checkCount validates a --count flag.
func checkCount(n int) error {
	if n < 1 || n > maxCount {
		return usagef("--count %d: want 1–%d runs", n, maxCount)
	}
	return nil
}

// numberedOutput names the results file of run i (1-based) of a repeated
// run: r.json → r-1.json, r-2.json …; results → results-1. A single run
// keeps the name it was given.
func numberedOutput(out string, i, count int) string {
	if out == "" || count <= 1 {
		return out
	}
	ext := filepath.Ext(out)
	if ext == "" || strings.ContainsAny(ext, `/\`) {
		return fmt.Sprintf("%s-%d", out, i)
	}
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(out, ext), i, ext)
}

// repeatRuns runs a plan count times in a row, each run writing its own
// numbered results file (see numberedOutput), and returns every result.
// build is called once per run, so each run starts from fresh plan state
// (data feeds, captures). after, if set, sees each result as it completes
// (threshold checks); its error is kept and reported once all runs ended.
// An interrupted or failed run stops the series.
func repeatRuns(ctx context.Context, env *Env, count int, o outputOptions, build func() (loadgen.Plan, error), after func(i int, res *results.Result) error) ([]*results.Result, error) {
	// Every numbered file is checked before the first run sends anything.
	if o.out != "" {
		for i := 1; i <= count; i++ {
			if _, err := checkOutput("-o", numberedOutput(o.out, i, count)); err != nil {
				return nil, err
			}
		}
	}
	var runs []*results.Result
	var afterErr error
	for i := 1; i <= count; i++ {
		plan, err := build()
		if err != nil {
			return runs, err
		}
		if count > 1 {
			fmt.Fprintf(env.Stderr, "run %d/%d\n", i, count)
		}
		ro := o
		ro.out = numberedOutput(o.out, i, count)
		res, err := execute(ctx, env, plan, ro)
		if res != nil {
			runs = append(runs, res)
			if after != nil {
				if err := after(i, res); err != nil && afterErr == nil {
					afterErr = err
				}
			}
		}
		if err != nil {
			return runs, err
		}
		if res != nil && res.Meta.StopReason != "" {
			return runs, fmt.Errorf("run %d/%d stopped (%s); the remaining runs were skipped", i, count, res.Meta.StopReason)
		}
		if count > 1 && i < count {
			fmt.Fprintln(env.Stdout)
		}
	}
	if count > 1 {
		writeSpread(env, runs)
	}
	return runs, afterErr
}

// writeSpread prints how much the runs of a series varied: the figure to
// look at before trusting any single run.
func writeSpread(env *Env, runs []*results.Result) {
	line := func(name string, get func(*results.Result) time.Duration) string {
		v := make([]time.Duration, 0, len(runs))
		for _, r := range runs {
			v = append(v, get(r))
		}
		slices.Sort(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		spread := ""
		if med > 0 {
			spread = fmt.Sprintf(" (±%.1f%%)", 50*float64(v[len(v)-1]-v[0])/float64(med))
		}
		return fmt.Sprintf("%s median %s, range %s … %s%s", name, format.Duration(med), format.Duration(v[0]), format.Duration(v[len(v)-1]), spread)
	}
	fmt.Fprintf(env.Stdout, "\n%d runs:\n  %s\n  %s\n", len(runs),
		line("p50", func(r *results.Result) time.Duration { return r.Total.Latency.Percentile(50) }),
		line("p99", func(r *results.Result) time.Duration { return r.Total.Latency.Percentile(99) }))
}
