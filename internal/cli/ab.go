package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const abUsage = `
Usage: tailgate ab A.yaml B.yaml [flags]

Run two scenarios interleaved, A B A B …, --count times each, then compare
B against A with a significance verdict for p50, p99 and the mean (see
'tailgate compare --help'). Interleaving spreads slow drift of the machine
(CPU frequency, caches, noisy neighbours) over both sides, so what remains
is the difference between A and B.

Load, client and --target flags apply to both scenarios, so both run the
same load unless you mean otherwise.

Examples:
  tailgate ab offset.yaml cursor.yaml --count 5 -o ab --md ab.md --png-dir charts/
  tailgate ab main.yaml branch.yaml --target http://127.0.0.1:8080 -r 200/s -d 20s
`

type abFlags struct {
	load         loadFlags
	client       clientFlags
	target       string
	count        int
	out          string
	labels       string
	md           string
	pngDir       string
	size         string
	alpha        float64
	quiet, noTUI bool
	maxSlowdown  string
	trust        trustFlags
}

func cmdAB(ctx context.Context, env *Env, args []string) error {
	var f abFlags
	fs := newFlagSet(env, "ab", abUsage)
	fs.StringVar(&f.target, "target", "", "base `URL` replacing both scenarios' targets")
	addLoadFlags(fs, &f.load, false, false)
	addClientFlags(fs, &f.client)
	addTrustFlags(fs, &f.trust)
	fs.IntVar(&f.count, "count", 5, "`N` runs of each scenario (≥ 4 for a significance verdict)")
	fs.StringVarP(&f.out, "output", "o", "", "write results to `PREFIX`-a-1.json, PREFIX-b-1.json, …")
	fs.StringVar(&f.labels, "label", "", "names of the two sides `A,B` (default: the file names)")
	fs.StringVar(&f.md, "md", "", "also write the comparison as Markdown to `file`")
	fs.StringVar(&f.pngDir, "png-dir", "", "write PNG charts into `dir`; the Markdown links them")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	fs.Float64Var(&f.alpha, "alpha", report.DefaultAlpha, "significance level of the verdicts")
	fs.StringVar(&f.maxSlowdown, "max-slowdown", "", "exit 1 when B's p50 or p99 of the total, a request or a flow is significantly slower than A's by more than `PCT`, e.g. 10%")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summaries")
	fs.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the live dashboard")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want two scenario files A and B, got %d arguments (see --help)", fs.NArg())
	}
	if err := checkCount(f.count); err != nil {
		return err
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}
	if !(f.alpha > 0 && f.alpha < 0.5) {
		return usagef("--alpha %g: want a level between 0 and 0.5, e.g. 0.05", f.alpha)
	}
	limit, err := parseSlowdown(f.maxSlowdown)
	if err != nil {
		return err
	}
	labels := abLabels(fs.Arg(0), fs.Arg(1))
	if f.labels != "" {
		l := strings.Split(f.labels, ",")
		if len(l) != 2 || strings.TrimSpace(l[0]) == "" || strings.TrimSpace(l[1]) == "" {
			return usagef("--label %q: want two names, e.g. --label offset,cursor", f.labels)
		}
		labels = [2]string{strings.TrimSpace(l[0]), strings.TrimSpace(l[1])}
	}
	var scen [2]*scenarios.Scenario
	for i := range scen {
		if scen[i], err = loadScenario(env, fs.Arg(i), f.trust.trust()); err != nil {
			return err
		}
	}
	// Build both plans once up front so that a bad override fails before
	// anything runs.
	build := func(i int) (loadgen.Plan, error) { return abPlan(fs, &f, scen[i], fs.Arg(i), args) }
	for i := range scen {
		if _, err := build(i); err != nil {
			return err
		}
	}

	// Every file the runs will write is checked before the first sends
	// anything.
	if f.out != "" {
		for run := 1; run <= f.count; run++ {
			for _, side := range []string{"a", "b"} {
				if _, err := checkOutput("-o", fmt.Sprintf("%s-%s-%d.json", f.out, side, run)); err != nil {
					return err
				}
			}
		}
	}
	if err := checkComparisonOutputs(f.md, f.pngDir); err != nil {
		return err
	}

	var results [2][]*results.Result
	for run := 1; run <= f.count; run++ {
		for i, side := range []string{"a", "b"} {
			plan, err := build(i)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "run %d/%d of %s (%s)\n", run, f.count, labels[i], fs.Arg(i))
			o := outputOptions{quiet: f.quiet, noTUI: f.noTUI}
			if f.out != "" {
				o.out = fmt.Sprintf("%s-%s-%d.json", f.out, side, run)
			}
			res, err := execute(ctx, env, plan, o)
			if err != nil {
				return err
			}
			if res.Meta.StopReason != "" {
				return fmt.Errorf("run %d of %s stopped (%s); no comparison", run, labels[i], res.Meta.StopReason)
			}
			results[i] = append(results[i], res)
			fmt.Fprintln(env.Stdout)
		}
	}
	opts := report.CompareOptions{Labels: labels, Alpha: f.alpha}
	return emitComparison(env, results[0], results[1], opts, compareOutput{md: f.md, pngDir: f.pngDir, width: width, height: height, maxSlowdown: limit})
}

// abLabels names the sides after their files ("offset.yaml" → "offset"),
// or A and B when the names clash.
func abLabels(a, b string) [2]string {
	name := func(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }
	la, lb := name(a), name(b)
	if la == lb || la == "" || lb == "" {
		return [2]string{"A", "B"}
	}
	return [2]string{la, lb}
}

// abPlan compiles one scenario with the shared overrides, the way
// 'tailgate run' does.
func abPlan(fs *pflag.FlagSet, f *abFlags, s *scenarios.Scenario, path string, args []string) (loadgen.Plan, error) {
	plan, err := scenarios.Compile(s, scenarios.CompileOptions{Target: f.target, AllowHosts: f.client.allowHosts, RedactQuery: f.client.redactQuery, SecretHeaders: f.client.secretHeaders})
	if err != nil {
		return plan, &UsageError{Err: err}
	}
	if plan.Pacer == nil && plan.VUs == 0 && !fs.Changed("rate") && !fs.Changed("vus") {
		return plan, usagef("%s has no load section: give --rate (and --duration) or --vus", path)
	}
	load := f.load
	if !fs.Changed("overload") && plan.Overload != "" {
		load.overload = string(plan.Overload)
	}
	if err := load.apply(fs, &plan); err != nil {
		return plan, err
	}
	if err := f.client.apply(fs, &plan.Client); err != nil {
		return plan, err
	}
	if err := plan.Validate(); err != nil {
		return plan, &UsageError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	plan.Command = append([]string{"tailgate", "ab"}, args...)
	return plan, nil
}
