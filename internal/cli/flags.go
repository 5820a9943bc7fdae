package cli

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/results"
)

// loadFlags are the flags that shape the load (hit and run overrides). They
// are read into loadgen.Load, the one form of the load settings, editing
// the load a scenario gave.
type loadFlags struct {
	rate        string
	duration    string
	vus         int
	iterations  uint64
	think       string
	warmup      string
	connections int
	streams     int
	maxInFlight int
	overload    string
	shard       string
	arrivals    string
	seed        uint64
	// getenv reads the variables of --shard auto.
	getenv func(string) string
}

// addLoadFlags registers the load flags; defaults gives --rate and
// --duration the defaults of a one-line hit, and sharding adds --shard
// (not for ab: a comparison of two shards is not a comparison of A and B).
func addLoadFlags(fs *pflag.FlagSet, f *loadFlags, defaults, sharding bool) {
	rateDef, durDef := "", ""
	if defaults {
		rateDef, durDef = "50/s", "10s"
	}
	fs.StringVarP(&f.rate, "rate", "r", rateDef, "open-model arrival rate: `RATE` like 200/s or 30/m; a ramp 100/s:2000/s; stages 100/s@10s,100/s:1k/s@20s")
	fs.StringVarP(&f.duration, "duration", "d", durDef, "how long to measure, after the warmup, e.g. 10s, 2m")
	fs.IntVar(&f.vus, "vus", 0, "closed model: `N` virtual users, each sending its next request after the previous response")
	fs.Uint64Var(&f.iterations, "iterations", 0, "closed model: stop after `N` iterations in total (0: run for --duration)")
	fs.StringVar(&f.think, "think", "", "closed model: pause of each VU between iterations, e.g. 100ms")
	fs.StringVar(&f.warmup, "warmup", "", "run this long before the measured --duration, recorded separately and left out of the summary, e.g. 5s")
	fs.IntVarP(&f.connections, "connections", "c", 0, fmt.Sprintf("concurrent connections (default %d)", loadgen.DefaultConnections))
	fs.IntVar(&f.streams, "streams", 0, "HTTP/2: `M` concurrent streams per connection, as h2load's -m (default 1; closed model: enough for every VU)")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "open model: cap on arrivals running or waiting for a connection (default 10×connections)")
	fs.StringVar(&f.overload, "overload", "queue", "open model, when --max-in-flight is reached: queue (wait; shows as send lag) or drop (count as dropped)")
	addArrivalFlags(fs, f)
	if sharding {
		fs.StringVar(&f.shard, "shard", "", "run shard `I/N` of the plan: arrivals k with k mod N = I (merge the results with 'tailgate merge'); auto: I from $"+envShardIndex+" (a Kubernetes Indexed Job), N from $"+envShardCount)
	}
}

// apply sets the load of plan and its shard from the flags. Flags the user
// did not give keep what the plan (a scenario) says; a plan with no load at
// all (hit) takes the flag defaults.
func (f *loadFlags) apply(fs *pflag.FlagSet, plan *loadgen.Plan) error {
	if err := f.applyLoad(fs, &plan.Load); err != nil {
		return err
	}
	return f.applyShard(plan)
}

// applyLoad edits a load with the flags the user gave.
func (f *loadFlags) applyLoad(fs *pflag.FlagSet, load *loadgen.Load) error {
	changed := fs.Changed
	// A scenario's Poisson arrivals survive a --rate or --duration override.
	scenarioArrivals, _ := load.Pacer.(*loadgen.PoissonPacer)
	var dur time.Duration
	if f.duration != "" {
		d, err := format.ParseDuration(f.duration)
		if err != nil {
			return usagef("--duration: %v", err)
		}
		dur = d
	}
	switch {
	case changed("vus"):
		if changed("rate") {
			return usagef("--vus and --rate exclude each other: --vus runs the closed model, --rate the open model")
		}
		if f.vus <= 0 {
			return usagef("--vus: must be at least 1")
		}
		if load.Pacer != nil {
			// The scenario's warmup belonged to its open-model load.
			load.Warmup = 0
		}
		load.Pacer, load.VUs = nil, f.vus
		if dur > 0 {
			load.Duration = dur
		}
	case changed("rate") || (load.Pacer == nil && load.VUs == 0):
		total := dur
		if total == 0 {
			total = load.MeasuredDuration()
		}
		if total == 0 {
			total = 10 * time.Second
		}
		p, err := loadgen.ParseProfile(f.rate, total)
		if err != nil {
			return usagef("--rate: %v", err)
		}
		// A new load replaces the scenario's, its warmup stages included;
		// --warmup below gives the new load one.
		load.Pacer, load.VUs, load.Warmup = p, 0, 0
	case changed("duration"):
		// The warmup rule (loadgen/warmup.go): --duration is the measured
		// part; the warmup still runs before it.
		if load.Pacer == nil {
			load.Duration = dur
			break
		}
		p, err := rescalePacer(load.MeasuredPacer(), dur)
		if err != nil {
			return usagef("--duration: %v", err)
		}
		if err := load.SetMeasuredPacer(p); err != nil {
			return usagef("--duration: %v", err)
		}
	}
	if changed("iterations") {
		if load.Pacer != nil {
			return usagef("--iterations needs the closed model (--vus)")
		}
		load.Iterations = f.iterations
	}
	if f.think != "" {
		d, err := format.ParseDuration(f.think)
		if err != nil {
			return usagef("--think: %v", err)
		}
		load.Think = d
	}
	if f.warmup != "" {
		d, err := format.ParseDuration(f.warmup)
		if err != nil {
			return usagef("--warmup: %v", err)
		}
		if err := load.SetWarmup(d); err != nil {
			return usagef("--warmup: %v", err)
		}
	}
	if err := f.applyConnections(fs, load); err != nil {
		return err
	}
	switch loadgen.Overload(f.overload) {
	case loadgen.OverloadQueue, loadgen.OverloadDrop:
		// The flag's default gives way to the scenario's policy.
		if fs.Changed("overload") || load.Overload == "" {
			load.Overload = loadgen.Overload(f.overload)
		}
	default:
		return usagef("--overload %q: use queue or drop", f.overload)
	}
	if err := f.applyArrivals(fs, load, scenarioArrivals); err != nil {
		return err
	}
	return nil
}

// applyShard sets the plan's shard from --shard.
func (f *loadFlags) applyShard(plan *loadgen.Plan) error {
	switch {
	case f.shard == "auto":
		getenv := f.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		sh, err := shardFromEnv(getenv)
		if err != nil {
			return usagef("--shard auto: %v", err)
		}
		plan.Shard = sh
	case f.shard != "":
		sh, err := parseShard(f.shard)
		if err != nil {
			return usagef("--shard: %v", err)
		}
		plan.Shard = sh
	}
	return nil
}

// rescalePacer stretches a single-stage pacer to a new duration (a --duration
// override of a scenario's constant or ramp load).
func rescalePacer(p loadgen.Pacer, d time.Duration) (loadgen.Pacer, error) {
	switch p := p.(type) {
	case *loadgen.PoissonPacer:
		base, err := rescalePacer(p.Base(), d)
		if err != nil {
			return nil, err
		}
		return loadgen.NewPoissonPacer(base, p.Seed())
	case loadgen.ConstantPacer:
		p.Length = d
		return p, nil
	case loadgen.RampPacer:
		p.Length = d
		return p, nil
	}
	return nil, fmt.Errorf("the scenario has stages; override --rate as well to change the duration")
}

func parseShard(s string) (results.Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return results.Shard{}, fmt.Errorf("%q: use I/N, e.g. 0/4", s)
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || cnt < 1 || idx < 0 || idx >= cnt {
		return results.Shard{}, fmt.Errorf("%q: want 0 ≤ I < N", s)
	}
	return results.Shard{Index: idx, Count: cnt}, nil
}

// clientFlags configure the HTTP client.
type clientFlags struct {
	timeout         string
	http2           bool
	insecure        bool
	followRedirects int
	cacert          string
	cert            string
	key             string
	allowHosts      []string
	secretHeaders   []string
	redactQuery     []string
}

func addClientFlags(fs *pflag.FlagSet, f *clientFlags) {
	fs.StringVar(&f.timeout, "timeout", "", "per-request timeout, body included (default 30s)")
	fs.BoolVar(&f.http2, "http2", false, "use HTTP/2: h2c with prior knowledge for http://, ALPN h2 for https:// (-c connections, --streams on each)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (prints a warning)")
	fs.IntVar(&f.followRedirects, "follow-redirects", 0, "follow up to `N` redirects (default: none)")
	fs.StringVar(&f.cacert, "cacert", "", "PEM `file` of CA certificates to trust")
	fs.StringVar(&f.cert, "cert", "", "PEM `file` of a client certificate")
	fs.StringVar(&f.key, "key", "", "PEM `file` of the client certificate's key")
	addHostFlags(fs, f)
}

func (f *clientFlags) apply(fs *pflag.FlagSet, o *loadgen.ClientOptions) error {
	if f.timeout != "" {
		d, err := format.ParseDuration(f.timeout)
		if err != nil {
			return usagef("--timeout: %v", err)
		}
		o.Timeout = d
	}
	if fs.Changed("http2") {
		o.HTTP2 = f.http2
	}
	if fs.Changed("insecure") {
		o.Insecure = f.insecure
	}
	if f.followRedirects < 0 {
		return usagef("--follow-redirects: must not be negative")
	}
	if fs.Changed("follow-redirects") {
		o.FollowRedirects = f.followRedirects
	}
	for _, p := range []struct{ flag, path string }{{"cacert", f.cacert}, {"cert", f.cert}, {"key", f.key}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return usagef("--%s: %v", p.flag, err)
		}
	}
	for _, h := range f.allowHosts {
		if loadgen.HostName(h) == "" {
			return usagef("--allow-host %q: want a host name or address", h)
		}
	}
	o.AllowHosts = append(o.AllowHosts[:0:0], f.allowHosts...)
	for _, h := range f.secretHeaders {
		if h == "" || strings.ContainsAny(h, " \t\r\n:") {
			return usagef("--secret-header %q: want a header name", h)
		}
	}
	o.SecretHeaders = append(o.SecretHeaders[:0:0], o.SecretHeaders...)
	o.SecretHeaders = append(o.SecretHeaders, f.secretHeaders...)
	if (f.cert == "") != (f.key == "") {
		return usagef("--cert and --key go together")
	}
	if f.cacert != "" {
		o.CACert = f.cacert
	}
	if f.cert != "" {
		o.Cert, o.Key = f.cert, f.key
	}
	return nil
}

// checkURL validates a target URL: http or https, with a host.
func checkURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("URL %q: no scheme; did you mean http://%s?", raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %v", raw, unwrapURLError(err))
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("URL %q: no scheme; did you mean http://%s?", raw, raw)
	default:
		return nil, fmt.Errorf("URL %q: unsupported scheme %q (use http or https)", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("URL %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("URL %q: bad port %q", raw, p)
		}
	}
	return u, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// addArrivalFlags registers how open-model arrivals are spaced.
func addArrivalFlags(fs *pflag.FlagSet, f *loadFlags) {
	fs.StringVar(&f.arrivals, "arrivals", "uniform", "open model: uniform (evenly spaced at the planned rate) or poisson (at random, as independent users arrive; same mean rate)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of --arrivals poisson: one seed, one schedule (shards of a run must share it)")
}

// applyArrivals makes the load's arrivals Poisson when asked to. A
// scenario that asked for Poisson arrivals (scenario, nil otherwise) keeps
// them unless the flags say otherwise; --seed alone reseeds them.
func (f *loadFlags) applyArrivals(fs *pflag.FlagSet, load *loadgen.Load, scenario *loadgen.PoissonPacer) error {
	switch f.arrivals {
	case "uniform", "poisson":
	default:
		return usagef("--arrivals %q: use uniform or poisson", f.arrivals)
	}
	if load.Pacer == nil {
		if fs.Changed("arrivals") && f.arrivals == "poisson" {
			return usagef("--arrivals poisson needs the open model (--rate), not --vus")
		}
		return nil
	}
	base, seed, poisson := load.Pacer, f.seed, false
	if pp, ok := load.Pacer.(*loadgen.PoissonPacer); ok {
		base = pp.Base()
	}
	if scenario != nil {
		poisson = true
		if !fs.Changed("seed") {
			seed = scenario.Seed()
		}
	}
	if fs.Changed("arrivals") {
		poisson = f.arrivals == "poisson"
	}
	if !poisson {
		if fs.Changed("seed") {
			return usagef("--seed needs --arrivals poisson")
		}
		load.Pacer = base
		return nil
	}
	p, err := loadgen.NewPoissonPacer(base, seed)
	if err != nil {
		return usagef("--arrivals: %v", err)
	}
	load.Pacer = p
	return nil
}

// applyConnections sets the load's connection and in-flight caps. A cap
// of 0 given on the command line is refused rather than read as "the
// default".
func (f *loadFlags) applyConnections(fs *pflag.FlagSet, load *loadgen.Load) error {
	if fs.Changed("connections") && f.connections < 1 {
		return usagef("--connections %d: must be at least 1", f.connections)
	}
	if f.connections > 0 {
		load.Connections = f.connections
	}
	if fs.Changed("streams") && f.streams < 1 {
		return usagef("--streams %d: must be at least 1", f.streams)
	}
	if f.streams > 0 {
		load.Streams = f.streams
	}
	if fs.Changed("max-in-flight") && f.maxInFlight < 1 {
		return usagef("--max-in-flight %d: must be at least 1", f.maxInFlight)
	}
	if f.maxInFlight > 0 {
		load.MaxInFlight = f.maxInFlight
	}
	return nil
}
