package cli

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

const hitUsage = `
Usage: tailgate hit URL [flags]

Send load at one URL and report latency percentiles measured from the
intended send time (free of coordinated omission).

Open model (default): arrivals at a planned rate, whatever the target does.
  -r 200/s              constant rate
  -r 100/s:2000/s       linear ramp over --duration
  -r 100/s@10s,1k/s     stages: 100/s for 10s, then 1000/s for the rest
Closed model: --vus N users, each waiting for its response.

Examples:
  tailgate hit http://127.0.0.1:8080/ -r 1000/s -d 30s -o results.json
  tailgate hit http://127.0.0.1:8080/api -m POST -b @body.json -H 'Content-Type: application/json'
  tailgate hit http://127.0.0.1:8080/ --vus 20 -d 1m
`

type hitFlags struct {
	load    loadFlags
	start   startFlags
	client  clientFlags
	method  string
	headers []string
	body    string
	name    string
	out     string
	quiet   bool
	noTUI   bool
	count   int
	metrics metricsFlags
	// thresholds are checked after the run (exit 1 when one fails).
	thresholds []string
}

func cmdHit(ctx context.Context, env *Env, args []string) error {
	var f hitFlags
	fs := newFlagSet(env, "hit", hitUsage)
	addLoadFlags(fs, &f.load, true, true)
	addStartFlags(fs, &f.start)
	f.load.getenv = env.Getenv
	fs.StringVarP(&f.method, "method", "m", "GET", "HTTP method")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header `'Name: value'` (repeatable)")
	fs.StringVarP(&f.body, "body", "b", "", "request body: a literal, or @file to read it from a file")
	fs.StringVar(&f.name, "name", "", "request name in the results (default: METHOD /path)")
	addClientFlags(fs, &f.client)
	fs.StringVarP(&f.out, "output", "o", "", "write the results to `file` (JSON; read it with 'tailgate report'; '-' for stdout, the summary then on stderr)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the final summary")
	fs.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the live dashboard")
	fs.IntVar(&f.count, "count", 1, "repeat the run `N` times, writing FILE-1.json … FILE-N.json for 'tailgate compare' (≥ 4 for a significance verdict)")
	addThresholdFlag(fs, &f.thresholds)
	addMetricsFlags(fs, &f.metrics)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one URL, got %d arguments (see --help)", fs.NArg())
	}
	ths, err := parseThresholdFlags(f.thresholds)
	if err != nil {
		return err
	}
	if err := checkCount(f.count); err != nil {
		return err
	}
	out := outputOptions{out: f.out, quiet: f.quiet, noTUI: f.noTUI, metrics: &f.metrics, thresholds: ths}
	if err := out.setStart(&f.start, f.count); err != nil {
		return err
	}
	plan, err := hitPlan(fs, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	plan.Command = append([]string{"tailgate", "hit"}, args...)
	if f.count > 1 {
		_, err = repeatRuns(ctx, env, f.count, outputOptions{out: f.out, quiet: f.quiet, noTUI: f.noTUI, metrics: &f.metrics, thresholds: ths}, func() (loadgen.Plan, error) {
			p, err := hitPlan(fs, &f, fs.Arg(0))
			p.Command = plan.Command
			return p, err
		}, func(_ int, res *results.Result) error { return thresholdError(res) })
		return err
	}
	res, err := execute(ctx, env, plan, out)
	if res == nil || err != nil {
		return err
	}
	return thresholdError(res)
}

func hitPlan(fs *pflag.FlagSet, f *hitFlags, rawURL string) (loadgen.Plan, error) {
	plan, err := requestPlan(f, rawURL)
	if err != nil {
		return plan, err
	}
	if err := f.load.apply(fs, &plan); err != nil {
		return plan, err
	}
	if err := f.client.apply(fs, &plan.Client); err != nil {
		return plan, err
	}
	if err := plan.Validate(); err != nil {
		return plan, &UsageError{Err: err}
	}
	return plan, nil
}

// requestPlan is the plan of one request built from hit's request flags
// (method, headers, body, name), without load: hit adds the load flags,
// capacity its probes.
func requestPlan(f *hitFlags, rawURL string) (loadgen.Plan, error) {
	u, err := checkURL(rawURL)
	if err != nil {
		return loadgen.Plan{}, &UsageError{Err: err}
	}
	req := loadgen.Request{Method: strings.ToUpper(f.method), URL: u.String()}
	var secrets []string
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
			return loadgen.Plan{}, usagef("--header %q: want 'Name: value'", h)
		}
		value = strings.TrimSpace(value)
		if strings.ContainsAny(value, "\r\n\x00") {
			return loadgen.Plan{}, usagef("--header %q: value must not contain line breaks or NUL", h)
		}
		if loadgen.IsSecretHeader(name, f.client.secretHeaders) {
			secrets = append(secrets, value)
		}
		req.Header = append(req.Header, loadgen.Header{Name: name, Value: value})
	}
	if f.body != "" {
		if path, ok := strings.CutPrefix(f.body, "@"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return loadgen.Plan{}, usagef("--body: %v", err)
			}
			req.Body = b
		} else {
			req.Body = []byte(f.body)
		}
	}
	req.Name = f.name
	if req.Name == "" {
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		req.Name = req.Method + " " + path
	}
	plan := loadgen.Plan{
		Name:   "hit",
		RunID:  f.start.runID,
		Target: u.String(),
		Flows:  []loadgen.Flow{{Name: req.Name, Weight: 1, Steps: []loadgen.Step{&loadgen.StaticStep{Request: req}}}},
		Redact: loadgen.SortSecrets(append(secrets, loadgen.URLSecrets(u.String(), f.client.redactQuery)...)),
	}
	return plan, nil
}
