package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const runUsage = `
Usage: tailgate run SCENARIO.yaml [flags]

Run a scenario file: named requests, flows of steps with captures,
variables, data feeds, load stages and thresholds (see scenarios/README.md).
Flags override the file: --target replaces its base URL; --rate, --duration,
--vus and the other load flags replace its load section.

When a threshold fails, tailgate prints which and exits with status 1.

Examples:
  tailgate run scenarios/examples/pagination.yaml --target http://127.0.0.1:8080
  tailgate run checkout.yaml -r 200/s -d 1m -o results.json
  tailgate run checkout.yaml --threshold 'p99 < 250ms' --threshold 'login: error_rate < 1%'
  tailgate run checkout.yaml --shard auto --start-at 2026-12-01T10:00:00Z -o shard-$JOB_COMPLETION_INDEX.json

A shard (--shard) leaves the scenario's thresholds to 'tailgate merge
--scenario', which sees the whole load (docs/distributed.md).
`

type runFlags struct {
	load       loadFlags
	start      startFlags
	client     clientFlags
	target     string
	out        string
	quiet      bool
	noTUI      bool
	thresholds []string
	count      int
	metrics    metricsFlags
	trust      trustFlags
}

func addThresholdFlag(fs *pflag.FlagSet, list *[]string) {
	fs.StringArrayVar(list, "threshold", nil, "fail (exit 1) unless `EXPR` holds: '[SERIES:] METRIC OP VALUE', SERIES being a request name, NAME{GROUP} or {GROUP}, e.g. 'p99 < 250ms' or 'login: error_rate < 1%' (repeatable)")
}

func cmdRun(ctx context.Context, env *Env, args []string) error {
	var f runFlags
	fs := newFlagSet(env, "run", runUsage)
	fs.StringVar(&f.target, "target", "", "base `URL` replacing the scenario's target")
	addLoadFlags(fs, &f.load, false, true)
	addStartFlags(fs, &f.start)
	f.load.getenv = env.Getenv
	addClientFlags(fs, &f.client)
	addTrustFlags(fs, &f.trust)
	fs.StringVarP(&f.out, "output", "o", "", "write the results to `file` (JSON; read it with 'tailgate report'; '-' for stdout, the summary then on stderr)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the final summary")
	fs.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the live dashboard")
	addThresholdFlag(fs, &f.thresholds)
	fs.IntVar(&f.count, "count", 1, "repeat the run `N` times, writing FILE-1.json … FILE-N.json for 'tailgate compare' (≥ 4 for a significance verdict); thresholds are checked on every run")
	addMetricsFlags(fs, &f.metrics)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkCount(f.count); err != nil {
		return err
	}
	out := outputOptions{out: f.out, quiet: f.quiet, noTUI: f.noTUI, metrics: &f.metrics}
	if err := out.setStart(&f.start, f.count); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one scenario file, got %d arguments (see --help)", fs.NArg())
	}
	s, err := loadScenario(env, fs.Arg(0), f.trust.trust())
	if err != nil {
		return err
	}
	ths, err := scenarioThresholds(s, f.thresholds)
	if err != nil {
		return err
	}
	plan, err := scenarios.Compile(s, scenarios.CompileOptions{Target: f.target, AllowHosts: f.client.allowHosts, RedactQuery: f.client.redactQuery, SecretHeaders: f.client.secretHeaders})
	if err != nil {
		return &UsageError{Err: err}
	}
	if plan.Pacer == nil && plan.VUs == 0 && !fs.Changed("rate") && !fs.Changed("vus") {
		return usagef("%s has no load section: give --rate (and --duration) or --vus", fs.Arg(0))
	}
	if err := f.load.apply(fs, &plan); err != nil {
		return err
	}
	if err := f.client.apply(fs, &plan.Client); err != nil {
		return err
	}
	if err := plan.Validate(); err != nil {
		return &UsageError{Err: err}
	}
	if n := len(s.Thresholds); plan.Shard.Count > 1 && n > 0 {
		// The scenario's thresholds are about the whole load, which no
		// shard sees: they gate the merged result (merge --scenario). A
		// shard that failed them would also fail its pod in a Kubernetes
		// Job and stop the other shards.
		ths = ths[n:]
		fmt.Fprintf(env.Stderr, "shard %d/%d: the scenario's thresholds are checked on the merged result ('tailgate merge --scenario')\n", plan.Shard.Index, plan.Shard.Count)
	}
	for _, w := range s.Warnings(&plan, ths) {
		fmt.Fprintf(format.SafeWriter(env.Stderr), "warning: %s\n", w)
	}
	plan.Command = append([]string{"tailgate", "run"}, args...)
	plan.RunID = f.start.runID
	out.thresholds = ths
	if f.count > 1 {
		// Runs share the compiled plan. Iteration numbers restart with
		// each run, so sequential and unique data feeds hand out the same
		// rows in every run, which keeps repeated runs comparable.
		_, err := repeatRuns(ctx, env, f.count, outputOptions{out: f.out, quiet: f.quiet, noTUI: f.noTUI, metrics: &f.metrics, thresholds: ths},
			func() (loadgen.Plan, error) { return plan, nil },
			func(_ int, res *results.Result) error { return thresholdError(res) })
		return err
	}
	res, runErr := execute(ctx, env, plan, out)
	if res == nil {
		return runErr
	}
	thErr := thresholdError(res)
	if runErr != nil {
		return runErr
	}
	return thErr
}

// loadScenario reads a scenario file, printing every problem it has on
// stderr, one per line as file:line:col: message.
func loadScenario(env *Env, path string, trust scenarios.Trust) (*scenarios.Scenario, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s, err := scenarios.Load(path, scenarios.WithGetenv(getenv), scenarios.WithTrust(trust))
	if err == nil {
		return s, nil
	}
	var list scenarios.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(format.SafeWriter(env.Stderr), e)
		}
		return nil, usagef("%s: %d problem%s", path, len(list), plural(len(list)))
	}
	return nil, &UsageError{Err: err}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// scenarioThresholds returns the scenario's thresholds followed by those of
// --threshold flags, checked against the scenario's request names.
func scenarioThresholds(s *scenarios.Scenario, flags []string) ([]*results.Threshold, error) {
	ths := append([]*results.Threshold(nil), s.Thresholds...)
	extra, err := parseThresholdFlags(flags)
	if err != nil {
		return nil, err
	}
	for _, t := range extra {
		if err := s.CheckThreshold(t); err != nil {
			return nil, usagef("--threshold: %v", err)
		}
	}
	return append(ths, extra...), nil
}

func parseThresholdFlags(flags []string) ([]*results.Threshold, error) {
	var out []*results.Threshold
	for _, raw := range flags {
		t, err := results.ParseThreshold(raw)
		if err != nil {
			return nil, usagef("--threshold %q: %v", raw, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// thresholdError returns a ThresholdError (exit status 1) naming the
// thresholds that failed on res, nil when none did. The outcomes are part
// of the result (execute judged it), so the summary has already shown them.
func thresholdError(res *results.Result) error {
	if failed := res.Failed(); len(failed) > 0 {
		return &ThresholdError{Failed: failed}
	}
	return nil
}
