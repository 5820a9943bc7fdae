package cli

import "context"

func cmdRun(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate run' is not available in this build yet")
}
