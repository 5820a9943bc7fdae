package cli

import (
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report/live"
)

// The live dashboard is wired in here, apart from execute, so that the run
// logic does not depend on the terminal UI.
func init() {
	newDashboard = func(env *Env, plan *loadgen.Plan, stop func()) display {
		// A terminal that cannot move the cursor gets the progress lines.
		if env.Getenv != nil && env.Getenv("TERM") == "dumb" {
			return nil
		}
		opts := []live.Option{live.WithMessages(env.Stderr)}
		if env.Stdout != nil {
			opts = append(opts, live.WithOutput(env.Stdout))
		}
		return live.New(plan, stop, opts...)
	}
}
