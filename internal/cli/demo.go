package cli

import "context"

func cmdDemo(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate demo' is not available in this build yet")
}
