package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/scenarios"
)

// trustFlags widen what a scenario file may reach (docs/security.md): by
// default it reads files only under its own directory and environment
// variables only that it lists under env.
type trustFlags struct {
	dirs []string
	env  []string
}

func addTrustFlags(fs *pflag.FlagSet, f *trustFlags) {
	fs.StringArrayVar(&f.dirs, "allow-dir", nil, "let body_file and data feeds read files under `DIR` too, not only under the scenario's directory (repeatable)")
	fs.StringArrayVar(&f.env, "env", nil, "let the scenario read environment variable `NAME` although its env list does not name it (repeatable)")
}

func (f *trustFlags) trust() scenarios.Trust {
	return scenarios.Trust{Dirs: f.dirs, Env: f.env}
}

// addHostFlags registers the flags that name the hosts and credential
// headers of the client (hit, run, ab).
func addHostFlags(fs *pflag.FlagSet, f *clientFlags) {
	fs.StringArrayVar(&f.allowHosts, "allow-host", nil, "let requests and redirects reach `HOST` besides the target's host (repeatable); any other host is refused")
	fs.StringArrayVar(&f.redactQuery, "redact-query", nil, "treat the value of query parameter `NAME` as a secret: shown as *** in results and reports (repeatable)")
	fs.StringArrayVar(&f.secretHeaders, "secret-header", nil, "treat header `NAME` as a credential: redacted and never sent across a redirect to another host (repeatable; "+strings.Join(loadgen.SecretHeaderNames(), ", ")+" always are)")
}

// announceHosts prints, before any load, every host the run can reach
// besides the target's: absolute URLs and redirects can reach only those.
// Hosts that are not this machine are shown with the addresses they
// resolve to.
func announceHosts(ctx context.Context, w io.Writer, plan *loadgen.Plan) {
	announceTarget(ctx, w, plan)
	if len(plan.Client.AllowHosts) == 0 {
		return
	}
	fmt.Fprintf(w, "besides the target, this run may reach: %s (--allow-host)\n", strings.Join(plan.Client.AllowHosts, ", "))
	for _, h := range plan.Client.AllowHosts {
		announceHost(ctx, w, "allowed host "+h, loadgen.HostName(h))
	}
}
