package loadgen

import (
	"context"
	"fmt"
	"net/url"

	"github.com/tailgate-dev/tailgate/results"
)

// Hit runs load against one URL, each arrival (or closed-model iteration)
// one GET, and returns the result: Run for the common case of a single
// endpoint. The request is named "GET /path" in the result, as `tailgate
// hit` names it. Build a Plan for other methods, several requests or flows.
func Hit(ctx context.Context, target string, load Load, opts ...Option) (*results.Result, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("hit: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("hit %q: want an http:// or https:// URL", target)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	req := Request{Name: "GET " + path, Method: "GET", URL: u.String()}
	plan := Plan{
		Name: "hit", Target: u.String(), Load: load,
		Flows: []Flow{{Name: req.Name, Weight: 1, Steps: []Step{&StaticStep{Request: req}}}},
	}
	return Run(ctx, plan, opts...)
}
