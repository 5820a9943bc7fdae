package cli

import "context"

func cmdCompare(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate compare' is not available in this build yet")
}
