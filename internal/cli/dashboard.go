package cli

import (
	"os"

	"github.com/charmbracelet/x/term"
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
			// /dev/null is a character device too: only a real terminal
			// gets the dashboard.
			if f, ok := env.Stdout.(*os.File); ok && !term.IsTerminal(f.Fd()) {
				return nil
			}
			opts = append(opts, live.WithOutput(env.Stdout))
		}
		if !keysAvailable(env) {
			// Without keys the dashboard still draws; Ctrl-C then arrives
			// as a signal and stops the run the usual way.
			opts = append(opts, live.WithInput(nil))
		}
		return live.New(plan.Meta(), stop, opts...)
	}
}

// keysAvailable reports whether the dashboard can read keys: from stdin when
// it is a terminal, else from the controlling terminal.
func keysAvailable(env *Env) bool {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
		return true
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	_ = tty.Close()
	return true
}
