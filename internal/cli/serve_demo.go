package cli

import "context"

func cmdServeDemo(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate serve-demo' is not available in this build yet")
}
