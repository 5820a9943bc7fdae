package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/capacity"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const capacityUsage = `
Usage: tailgate capacity URL|SCENARIO.yaml --slo EXPR [--slo EXPR…] [flags]

Find the highest open-model arrival rate the target sustains under its SLO.
Probes run at constant rates, growing geometrically from --min-rate until
one fails, then bisect the bracket to --resolution. A probe fails when an
objective does not hold, or when its latency grows during the probe (a
backlog: the rate is above capacity even if the probe was too short for the
objective to fail). A probe whose requests waited in tailgate, not in the
target (its CPU busy or taken by the hypervisor), is client-limited and ends
the search without blaming the target.
A catastrophic probe (errors > 50%, p99 > 10× the SLO) is never exceeded.

Each probe lasts --step-duration (default: 100× the tightest latency bound
of the SLO and long enough for 500 arrivals at the probe's rate, at least 3s
and at most 20s), then requests in flight drain (at most --drain) and the target
settles (--settle) before the next. The whole search stays within --budget.
With a scenario, --slo defaults to the scenario's thresholds.

Ctrl-C stops the search and still reports the bracket measured so far
(exit status 130).

Examples:
  tailgate capacity http://127.0.0.1:8080/api/posts --slo 'p99 < 40ms'
  tailgate capacity checkout.yaml --slo 'p99 < 250ms' --slo 'error_rate < 1%' --png-dir charts/
  tailgate capacity http://127.0.0.1:8080/ --slo 'p99 < 20ms' --arrivals poisson --format json
`

type capacityFlags struct {
	req        hitFlags
	target     string
	slos       []string
	minRate    string
	maxRate    string
	step       string
	budget     string
	drain      string
	settle     string
	resolution string
	out        string
	pngDir     string
	trust      trustFlags
	md         string
	baseline   string
	format     string
	quiet      bool
}

func cmdCapacity(ctx context.Context, env *Env, args []string) error {
	var f capacityFlags
	fs := newFlagSet(env, "capacity", capacityUsage)
	fs.StringArrayVar(&f.slos, "slo", nil, "objective every passing probe meets, in the threshold syntax: 'p99 < 40ms', 'error_rate < 1%' (repeatable)")
	fs.StringVar(&f.minRate, "min-rate", "10/s", "first rate probed")
	fs.StringVar(&f.maxRate, "max-rate", "100k/s", "highest rate ever probed")
	fs.StringVar(&f.step, "step-duration", "", "length of each probe (default: derived from the SLO and the rate, see above)")
	fs.StringVar(&f.budget, "budget", "2m", "time the whole search may take, settles included; never exceeded")
	fs.StringVar(&f.drain, "drain", "", "longest a probe's requests may take to finish after its step; also the request timeout (default: 10× the SLO's latency bound, 1s…10s)")
	fs.StringVar(&f.settle, "settle", "1s", "pause after each probe, not measured, for the target to drain its queues (0s: none)")
	fs.StringVar(&f.resolution, "resolution", "2%", "stop when the bracket is this narrow, relative to its rate")
	fs.StringVarP(&f.out, "output", "o", "", "write the search with every probe's full results to `file` (JSON)")
	fs.StringVar(&f.pngDir, "png-dir", "", "write capacity.png (latency and throughput against offered rate, the knee marked) into `dir`")
	fs.StringVar(&f.md, "md", "", "write a Markdown summary for a pull request to `file`")
	fs.StringVar(&f.baseline, "baseline", "", "a capacity file (-o) of the same search on the base branch: the Markdown says how the maximum moved")
	fs.StringVar(&f.format, "format", "text", "what to print on stdout: text, json (the summary) or markdown")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines on stderr")
	fs.StringVar(&f.target, "target", "", "scenario: base `URL` replacing the scenario's target")
	fs.StringVarP(&f.req.method, "method", "m", "GET", "URL: HTTP method")
	fs.StringArrayVarP(&f.req.headers, "header", "H", nil, "URL: request header `'Name: value'` (repeatable)")
	fs.StringVarP(&f.req.body, "body", "b", "", "URL: request body: a literal, or @file to read it from a file")
	fs.StringVar(&f.req.name, "name", "", "URL: request name in the results (default: METHOD /path)")
	fs.IntVarP(&f.req.load.connections, "connections", "c", 0, fmt.Sprintf("concurrent connections (default %d)", loadgen.DefaultConnections))
	fs.IntVar(&f.req.load.maxInFlight, "max-in-flight", 0, "cap on arrivals running or waiting for a connection (default 10×connections)")
	f.req.load.overload = "queue"
	addArrivalFlags(fs, &f.req.load)
	addClientFlags(fs, &f.req.client)
	addMetricsFlags(fs, &f.req.metrics)
	addTrustFlags(fs, &f.trust)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one URL or scenario file, got %d arguments (see --help)", fs.NArg())
	}
	switch f.format {
	case "text", "json", "markdown":
	default:
		return usagef("--format %q: use text, json or markdown", f.format)
	}
	plan, ths, err := capacityPlan(env, fs, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	plan.Command = append([]string{"tailgate", "capacity"}, args...)
	judge, err := capacityJudge(ths)
	if err != nil {
		return err
	}
	cfg, err := capacityConfig(fs, &f, judge.LatencyBound)
	if err != nil {
		return err
	}
	// A probe's requests may take at most the drain allowance: it is
	// their timeout, so the budget holds. An explicit --timeout sets it.
	if fs.Changed("timeout") && !fs.Changed("drain") {
		cfg.Drain = plan.Client.Timeout
		if err := cfg.Check(); err != nil {
			return &UsageError{Err: err}
		}
	}
	plan.Client.Timeout = cfg.Drain
	var baseline *results.Capacity
	if f.baseline != "" {
		if baseline, err = results.ReadCapacityFile(f.baseline); err != nil {
			return &UsageError{Err: err}
		}
	}
	// Bad output paths fail now, not after the search.
	for _, out := range []struct{ flag, path string }{{"-o", f.out}, {"--md", f.md}} {
		if out.path != "" {
			if _, err := results.CheckOutput(out.path); err != nil {
				return usagef("%s %v", out.flag, err)
			}
		}
	}
	if f.pngDir != "" {
		if err := os.MkdirAll(f.pngDir, 0o755); err != nil {
			return usagef("--png-dir: %v", err)
		}
		if _, err := results.CheckOutput(filepath.Join(f.pngDir, "capacity.png")); err != nil {
			return usagef("--png-dir: %v", err)
		}
	}

	// One exporter for the whole search: each probe's requests add to the
	// same counters, and the planned rate shows the probe running.
	mrun, err := startMetrics(env, &plan, &f.req.metrics, f.quiet)
	if err != nil {
		return err
	}
	announceTarget(ctx, env.Stderr, &plan)
	prober := &capacity.PlanProber{Plan: plan, Judge: judge}
	if mrun != nil {
		defer mrun.finish(env)
		for _, o := range mrun.observers() {
			prober.Options = append(prober.Options, loadgen.WithObserver(o))
		}
	}
	if pp, ok := plan.Pacer.(*loadgen.PoissonPacer); ok {
		seed := pp.Seed()
		prober.Arrivals = func(rate float64, d time.Duration) loadgen.Pacer {
			p, _ := loadgen.NewPoissonPacer(loadgen.ConstantPacer{PerSecond: rate, Length: d}, seed)
			return p
		}
	}
	n := 0
	if !f.quiet {
		prober.OnProbe = func(rate float64, d time.Duration) {
			n++
			fmt.Fprintf(env.Stderr, "probe %d: %s/s for %s\n", n, strconv.FormatFloat(rate, 'g', 4, 64), d.Round(100*time.Millisecond))
		}
	}
	searchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopSignals := watchSearchSignals(env, cancel)
	outcome, searchErr := capacity.Search(searchCtx, cfg, prober)
	stopSignals()

	arrivals := "uniform"
	if prober.Arrivals != nil {
		arrivals = "poisson"
	}
	c := outcome.Report(loadgen.Redact(plan.Target, plan.Redact), arrivals, sloStrings(ths))
	c.LatencyBound = results.Duration(judge.LatencyBound)
	if err := writeCapacityOutputs(env, &f, c, baseline); err != nil {
		return err
	}
	if searchErr != nil {
		return searchErr
	}
	if outcome.LimitedBy == capacity.LimitInterrupted {
		return errSignal
	}
	return nil
}

// capacityPlan builds the probed plan from a URL (hit's request flags) or
// a scenario (its flows; its load section is replaced by the probes), and
// the objectives: --slo, or the scenario's thresholds.
func capacityPlan(env *Env, fs *pflag.FlagSet, f *capacityFlags, arg string) (loadgen.Plan, []*results.Threshold, error) {
	ths, err := parseSLOFlags(f.slos)
	if err != nil {
		return loadgen.Plan{}, nil, err
	}
	var plan loadgen.Plan
	if strings.Contains(arg, "://") {
		if f.target != "" {
			return plan, nil, usagef("--target is for a scenario; the URL is the target")
		}
		if plan, err = requestPlan(&f.req, arg); err != nil {
			return plan, nil, err
		}
		plan.Name = "capacity"
	} else {
		s, err := loadScenario(env, arg, f.trust.trust())
		if err != nil {
			return plan, nil, err
		}
		if plan, err = scenarios.Compile(s, scenarios.CompileOptions{Target: f.target, AllowHosts: f.req.client.allowHosts, RedactQuery: f.req.client.redactQuery, SecretHeaders: f.req.client.secretHeaders}); err != nil {
			return plan, nil, &UsageError{Err: err}
		}
		for _, t := range ths {
			if err := s.CheckThreshold(t); err != nil {
				return plan, nil, usagef("--slo: %v", err)
			}
		}
		if len(ths) == 0 {
			ths = s.Thresholds
		}
	}
	if len(ths) == 0 {
		return plan, nil, usagef("give at least one --slo, e.g. --slo 'p99 < 40ms'")
	}
	// A probe is a constant open-model rate: no warmup, no closed model;
	// a scenario's Poisson arrivals carry over to the probes.
	scenarioArrivals, _ := plan.Pacer.(*loadgen.PoissonPacer)
	plan.Pacer, plan.VUs, plan.Warmup = loadgen.ConstantPacer{PerSecond: 1, Length: time.Second}, 0, 0
	if err := f.req.load.applyConnections(fs, &plan.Load); err != nil {
		return plan, nil, err
	}
	if err := f.req.load.applyArrivals(fs, &plan.Load, scenarioArrivals); err != nil {
		return plan, nil, err
	}
	if err := f.req.client.apply(fs, &plan.Client); err != nil {
		return plan, nil, err
	}
	if err := plan.Validate(); err != nil {
		return plan, nil, &UsageError{Err: err}
	}
	return plan, ths, nil
}

func parseSLOFlags(flags []string) ([]*results.Threshold, error) {
	var out []*results.Threshold
	for _, raw := range flags {
		t, err := results.ParseThreshold(raw)
		if err != nil {
			return nil, usagef("--slo %q: %v", raw, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// thresholdObjective makes a threshold a capacity objective.
type thresholdObjective struct{ t *results.Threshold }

func (o thresholdObjective) String() string { return o.t.String() }

func (o thresholdObjective) Check(r *results.Result) (bool, string) {
	v := o.t.Evaluate(r)
	return v.Pass, v.Detail
}

func capacityJudge(ths []*results.Threshold) (capacity.Judge, error) {
	var j capacity.Judge
	for _, t := range ths {
		j.Objectives = append(j.Objectives, thresholdObjective{t})
		if b, ok := t.LatencyBound(); ok && (j.LatencyBound == 0 || b < j.LatencyBound) {
			j.LatencyBound = b
		}
	}
	return j, nil
}

func sloStrings(ths []*results.Threshold) []string {
	out := make([]string, len(ths))
	for i, t := range ths {
		out[i] = t.String()
	}
	return out
}

// capacityConfig reads the search's flags. Defaults that depend on the SLO
// (probe length, drain) are derived from its tightest latency bound.
func capacityConfig(fs *pflag.FlagSet, f *capacityFlags, bound time.Duration) (capacity.Config, error) {
	var c capacity.Config
	var err error
	if c.MinRate, err = format.ParseRate(f.minRate); err != nil {
		return c, usagef("--min-rate: %v", err)
	}
	if c.MaxRate, err = format.ParseRate(f.maxRate); err != nil {
		return c, usagef("--max-rate: %v", err)
	}
	if c.MinRate <= 0 {
		return c, usagef("--min-rate: must be above 0/s")
	}
	durations := []struct {
		flag, value string
		dst         *time.Duration
		parse       func(string) (time.Duration, error)
	}{
		{"--budget", f.budget, &c.Budget, format.ParseDuration},
		{"--settle", f.settle, &c.Settle, format.ParsePause}, // 0s: no pause between probes
		{"--step-duration", f.step, &c.Step, format.ParseDuration},
		{"--drain", f.drain, &c.Drain, format.ParseDuration},
	}
	for _, d := range durations {
		if d.value == "" {
			continue
		}
		if *d.dst, err = d.parse(d.value); err != nil {
			return c, usagef("%s: %v", d.flag, err)
		}
	}
	c.LatencyBound = bound
	if c.Drain == 0 {
		c.Drain = min(max(time.Second, 10*bound), 10*time.Second)
	}
	res, ok := strings.CutSuffix(strings.TrimSpace(f.resolution), "%")
	if !ok {
		return c, usagef("--resolution %q: write a percentage, e.g. 2%%", f.resolution)
	}
	var pct float64
	if _, err := fmt.Sscanf(res, "%g", &pct); err != nil || pct <= 0 || pct >= 100 {
		return c, usagef("--resolution %q: want a percentage between 0%% and 100%%", f.resolution)
	}
	c.Resolution = pct / 100
	if err := c.Check(); err != nil {
		return c, &UsageError{Err: err}
	}
	return c, nil
}

// watchSearchSignals cancels the search on the first signal (the probes so
// far are reported) and exits at once on the second.
func watchSearchSignals(env *Env, cancel context.CancelFunc) (stop func()) {
	if env.Signals == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-env.Signals:
		case <-done:
			return
		}
		fmt.Fprintln(env.Stderr, "stopping the search: finishing the probe in flight (Ctrl-C again to quit at once)")
		cancel()
		select {
		case <-env.Signals:
			env.exit(ExitInterrupted)
		case <-done:
		}
	}()
	return func() { close(done) }
}

// writeCapacityOutputs prints the search in the chosen format and writes
// the requested files.
func writeCapacityOutputs(env *Env, f *capacityFlags, c, baseline *results.Capacity) error {
	var err error
	switch f.format {
	case "json":
		err = report.WriteCapacityJSON(env.Stdout, c)
	case "markdown":
		err = report.WriteCapacityMarkdown(env.Stdout, c, baseline)
	default:
		err = report.WriteCapacityText(env.Stdout, c)
	}
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if f.out != "" {
		if err := results.WriteOutput(f.out, env.Stdout, c.Encode); err != nil {
			return err
		}
	}
	if f.md != "" {
		if err := results.WriteOutput(f.md, env.Stdout, func(w io.Writer) error { return report.WriteCapacityMarkdown(w, c, baseline) }); err != nil {
			return fmt.Errorf("--md: %w", err)
		}
	}
	if f.pngDir != "" && len(c.Probes) > 0 {
		path := filepath.Join(f.pngDir, "capacity.png")
		o := chart.Options{Subtitle: fmt.Sprintf("%s · %s arrivals · SLO %s", c.Target, c.Arrivals, strings.Join(c.SLO, ", "))}
		if err := results.WriteOutput(path, env.Stdout, func(w io.Writer) error { return chart.Capacity(w, c, o) }); err != nil {
			return fmt.Errorf("--png-dir: %w", err)
		}
	}
	return nil
}
