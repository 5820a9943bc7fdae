package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report/metrics"
	"github.com/tailgate-dev/tailgate/results"
)

// metricsFlags are the live-metrics flags of the commands that drive load.
type metricsFlags struct {
	addr   string
	linger time.Duration
	push   string
	otlp   string
}

func addMetricsFlags(fs *pflag.FlagSet, f *metricsFlags) {
	fs.StringVar(&f.addr, "metrics-addr", "", "serve Prometheus metrics on `HOST:PORT`/metrics while the run goes (:PORT binds 127.0.0.1; another host must be written out)")
	fs.DurationVar(&f.linger, "metrics-linger", 0, "keep serving /metrics for `D` after the run ends, so the last scrape sees the final values")
	fs.StringVar(&f.otlp, "otlp-endpoint", "", "send the metrics over OTLP/HTTP to `URL` (e.g. http://HOST:4318) every second and once at the end, latency as exponential histograms; a failure warns and the run goes on")
	fs.StringVar(&f.push, "metrics-push", "", "push the metrics to the Prometheus remote-write `URL` (e.g. http://HOST:9090/api/v1/write) every second and once at the end; a failure warns and the run goes on")
}

// metricsRun is the metrics side of one run: the exporter the engine feeds
// and the endpoints it serves or pushes to.
type metricsRun struct {
	quiet  bool
	exp    *metrics.Exporter
	srv    *metrics.Server
	linger time.Duration
	pusher *metrics.Pusher
	otlp   *metrics.OTLP
}

// metricsLabels are the labels of a plan's metrics. The run id is the
// plan's (--run-id) or, when it has none, the one the engine derives and
// puts in the snapshots and the results file.
func metricsLabels(plan *loadgen.Plan) metrics.Labels {
	return metrics.Labels{RunID: plan.RunID, Shard: plan.Shard.Index, Shards: plan.Shard.Count}
}

// startMetrics binds the metrics endpoint before any load is sent: a
// malformed or taken address is a usage error (exit 2). It returns nil
// when no metrics flag was given.
func startMetrics(env *Env, plan *loadgen.Plan, f *metricsFlags, quiet bool) (*metricsRun, error) {
	if f == nil || (f.addr == "" && f.push == "" && f.otlp == "") {
		return nil, nil
	}
	if f.linger < 0 {
		return nil, usagef("--metrics-linger %s: want a duration ≥ 0", f.linger)
	}
	m := &metricsRun{quiet: quiet, exp: metrics.New(metricsLabels(plan)), linger: f.linger}
	if f.addr != "" {
		_, loopback, err := metrics.ListenAddr(f.addr)
		if err != nil {
			return nil, usagef("--metrics-addr %v", err)
		}
		m.srv, err = metrics.Listen(f.addr, m.exp)
		if err != nil {
			return nil, usagef("--metrics-addr %s: %v", f.addr, err)
		}
		switch {
		case !loopback:
			fmt.Fprintf(env.Stderr, "metrics on http://%s/metrics (not loopback: reachable from other machines)\n", m.srv.Addr())
		case !quiet:
			fmt.Fprintf(env.Stderr, "metrics on http://%s/metrics\n", m.srv.Addr())
		}
	}
	if f.push != "" {
		p, err := metrics.NewPusher(f.push, m.exp)
		if err != nil {
			m.closeServer(env)
			return nil, usagef("--metrics-push %v", err)
		}
		m.pusher = p
	}
	if f.otlp != "" {
		o, err := metrics.NewOTLP(f.otlp, m.exp)
		if err != nil {
			m.linger = 0
			m.finish(env)
			return nil, usagef("--otlp-endpoint %v", err)
		}
		m.otlp = o
	}
	return m, nil
}

// observers are what the engine feeds.
func (m *metricsRun) observers() []loadgen.Observer {
	return []loadgen.Observer{m.exp}
}

// show wraps a display so that it shows why metrics pushes fail.
func (m *metricsRun) show(d display) display {
	if m == nil || (m.pusher == nil && m.otlp == nil) || d == nil {
		return d
	}
	return &pushStatus{display: d, m: m}
}

// pushErr is why the last push or export failed, "" when none did.
func (m *metricsRun) pushErr() string {
	var errs []string
	if m.pusher != nil {
		if e := m.pusher.Err(); e != "" {
			errs = append(errs, e)
		}
	}
	if m.otlp != nil {
		if e := m.otlp.Err(); e != "" {
			errs = append(errs, e)
		}
	}
	return strings.Join(errs, "; ")
}

// pushStatus passes snapshots on to a display with the last push error.
type pushStatus struct {
	display
	m *metricsRun
}

// Observe implements loadgen.Observer on a copy: the snapshot is shared
// with the other observers.
func (s *pushStatus) Observe(snap *results.Snapshot) {
	c := *snap
	c.MetricsError = s.m.pushErr()
	s.display.Observe(&c)
}

// finish makes the final push (a failure is a warning: the results are
// whole), keeps serving for the linger time (a signal ends it early), then
// stops the endpoint.
func (m *metricsRun) finish(env *Env) {
	if m.pusher != nil {
		if err := m.pusher.Close(); err != nil {
			fmt.Fprintf(env.Stderr, "warning: %v\n", err)
		}
	}
	if m.otlp != nil {
		if err := m.otlp.Close(); err != nil {
			fmt.Fprintf(env.Stderr, "warning: %v\n", err)
		}
	}
	if m.srv == nil {
		return
	}
	if m.linger > 0 {
		if !m.quiet {
			fmt.Fprintf(env.Stderr, "metrics: serving the final values for %s more (Ctrl-C ends this)\n", m.linger)
		}
		t := time.NewTimer(m.linger)
		select {
		case <-t.C:
		case <-env.Signals:
		}
		t.Stop()
	}
	m.closeServer(env)
}

func (m *metricsRun) closeServer(env *Env) {
	if m.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.srv.Close(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "warning: %v\n", err)
	}
}
