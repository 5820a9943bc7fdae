package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

const mergeUsage = `
Usage: tailgate merge -o MERGED.json SHARD.json...

Merge the results of the shards of one distributed run (each process ran
'--shard I/N' of the same plan) into one results file. Histograms merge
without loss: the merged percentiles are those of one process running the
whole plan. Timelines are aligned by their offset from each shard's start.

Merge refuses files that are not shards of one plan: a different results
version or plan hash, a shard index given twice, or different shard counts.
Missing shards give a result marked partial.

Examples:
  tailgate merge -o merged.json shard-*.json
  tailgate report merged.json --format markdown
`

func cmdMerge(_ context.Context, env *Env, args []string) error {
	var out string
	var quiet bool
	fs := newFlagSet(env, "merge", mergeUsage)
	fs.StringVarP(&out, "output", "o", "", "write the merged results to `file` (required)")
	fs.BoolVarP(&quiet, "quiet", "q", false, "do not print the summary of the merged result")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" {
		return usagef("-o/--output is required: where to write the merged results (see --help)")
	}
	if fs.NArg() == 0 {
		return usagef("no results files to merge (see --help)")
	}
	output, err := checkOutput("-o", out)
	if err != nil {
		return err
	}
	files := fs.Args()
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
	if err := output.Write(env.Stdout, merged.Encode); err != nil {
		return err
	}
	if merged.Meta.Partial {
		fmt.Fprintf(env.Stderr, "tailgate merge: partial result: %s\n", merged.Meta.StopReason)
	}
	if !quiet {
		if err := report.WriteText(env.Stdout, merged); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "merged %d results into %s\n", len(files), out)
	return nil
}

// mergeError makes a problem with the inputs a usage error (exit 2).
func mergeError(err error) error {
	var me *results.MergeError
	if errors.As(err, &me) {
		return &UsageError{Err: err}
	}
	return fmt.Errorf("merge: %w", err)
}
