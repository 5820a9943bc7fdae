package cli

import "context"

func cmdMerge(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate merge' is not available in this build yet")
}
