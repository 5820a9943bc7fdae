package cli

import "context"

func cmdReport(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate report' is not available in this build yet")
}
