package cli

import "context"

func cmdAB(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate ab' is not available in this build yet")
}
