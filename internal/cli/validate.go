package cli

import (
	"context"
	"fmt"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const validateUsage = `
Usage: tailgate validate SCENARIO.yaml [flags]

Check a scenario file without sending anything: syntax, keys, types,
durations and rates, URLs, files, template variables and captures,
environment variables and thresholds. Every problem is printed as
file:line:col: message; the exit status is 2 when there is any.
`

func cmdValidate(_ context.Context, env *Env, args []string) error {
	var target string
	var thresholds []string
	var trust trustFlags
	var allowHosts []string
	fs := newFlagSet(env, "validate", validateUsage)
	fs.StringVar(&target, "target", "", "base `URL` replacing the scenario's target")
	addThresholdFlag(fs, &thresholds)
	addTrustFlags(fs, &trust)
	fs.StringArrayVar(&allowHosts, "allow-host", nil, "let requests and redirects reach `HOST` besides the target's host (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one scenario file, got %d arguments (see --help)", fs.NArg())
	}
	path := fs.Arg(0)
	s, err := loadScenario(env, path, trust.trust())
	if err != nil {
		return err
	}
	ths, err := scenarioThresholds(s, thresholds)
	if err != nil {
		return err
	}
	plan, err := scenarios.Compile(s, scenarios.CompileOptions{Target: target, AllowHosts: allowHosts})
	if err != nil {
		return &UsageError{Err: err}
	}
	if plan.Pacer != nil || plan.VUs > 0 {
		if err := plan.Validate(); err != nil {
			return usagef("%s: %v", path, err)
		}
	}
	for _, w := range s.Warnings(&plan, ths) {
		fmt.Fprintf(format.SafeWriter(env.Stderr), "warning: %s\n", w)
	}
	reqs := len(s.RequestNames())
	flows := len(s.FlowNames())
	fmt.Fprintf(env.Stdout, "ok: %s: %d request%s, %d flow%s, %s, %d threshold%s\n",
		path, reqs, plural(reqs), flows, plural(flows), s.Describe(), len(ths), plural(len(ths)))
	return nil
}
