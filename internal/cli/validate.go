package cli

import "context"

func cmdValidate(_ context.Context, _ *Env, _ []string) error {
	return usagef("'tailgate validate' is not available in this build yet")
}
