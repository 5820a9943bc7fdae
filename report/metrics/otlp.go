package metrics

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/tailgate-dev/tailgate/results"
)

// otlpScale is the exponential histograms' largest scale: 2^(2^-4), the
// same 4.4% buckets as the native histograms' Schema. The SDK lowers the
// scale by itself when a run's values span more than otlpMaxSize buckets
// (320 buckets at scale 4 are 20 powers of two, 1µs to 1s).
const (
	otlpScale   = Schema
	otlpMaxSize = 320
)

// OTLP sends a run's metrics over OTLP/HTTP with the OpenTelemetry SDK:
// after every snapshot and once at the end. Latency histograms are base-2
// exponential histograms (a View), not the SDK's default explicit buckets,
// whose coarse boundaries make percentiles guesses. The SDK records one
// value at a time, so each interval's HDR buckets are recorded value by
// value in OTLP's own goroutine: work per request, but off the engine's
// goroutines, and never blocking the collector.
type OTLP struct {
	endpoint string
	labels   Labels
	provider *sdkmetric.MeterProvider
	snaps    chan *results.Snapshot
	done     chan struct{}

	latency, service, sendLag metric.Float64Histogram
	requests, errors, iters   metric.Int64Counter
	sent, late, dropped       metric.Int64Counter
	inFlight, plannedRate     metric.Float64Gauge
	base                      []attribute.KeyValue
	prev                      results.Snapshot // counts of the previous snapshot

	mu       sync.Mutex
	lastErr  error
	failures int
	exports  int
	lost     int // snapshots dropped because recording fell behind
}

// NewOTLP starts sending to an OTLP/HTTP endpoint: a base URL such as
// http://collector:4318 (the metrics path /v1/metrics is added) or the
// full metrics URL.
func NewOTLP(endpoint string, labels Labels) (*OTLP, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	exp, err := otlpmetrichttp.New(context.Background(),
		otlpmetrichttp.WithEndpointURL(u.String()),
		otlpmetrichttp.WithTimeout(pushTimeout),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{
			Enabled: true, InitialInterval: 200 * time.Millisecond, MaxInterval: time.Second, MaxElapsedTime: 3 * time.Second,
		}))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	o := &OTLP{
		endpoint: u.String(), labels: labels,
		snaps: make(chan *results.Snapshot, 64), done: make(chan struct{}),
		base: []attribute.KeyValue{attribute.String("run_id", labels.RunID), attribute.String("shard", strconv.Itoa(labels.Shard))},
	}
	res := resource.NewSchemaless(attribute.String("service.name", "tailgate"))
	exponential := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: otlpMaxSize, MaxScale: otlpScale}},
	)
	o.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		// Exports are made by ForceFlush after each snapshot; the reader's
		// own period only backs that up.
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour), sdkmetric.WithTimeout(pushTimeout))),
		sdkmetric.WithView(exponential),
	)
	if err := o.instruments(o.provider.Meter("github.com/tailgate-dev/tailgate")); err != nil {
		return nil, err
	}
	go o.loop()
	return o, nil
}

func (o *OTLP) instruments(m metric.Meter) error {
	var err error
	hist := func(name, desc string) metric.Float64Histogram {
		h, e := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return h
	}
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, e := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return c
	}
	gauge := func(name, unit, desc string) metric.Float64Gauge {
		g, e := m.Float64Gauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return g
	}
	o.latency = hist("tailgate.request.duration", "Request latency from the intended send time to the response.")
	o.service = hist("tailgate.service.time", "Request service time from the actual send to the response.")
	o.sendLag = hist("tailgate.send.lag", "Delay from a request's intended send time to its actual send.")
	o.requests = counter("tailgate.requests", "{request}", "Requests completed, by HTTP status (or error kind without a response).")
	o.errors = counter("tailgate.errors", "{request}", "Failed requests by error kind.")
	o.iters = counter("tailgate.iterations", "{iteration}", "Flow iterations completed.")
	o.sent = counter("tailgate.arrivals.sent", "{arrival}", "Arrivals started.")
	o.late = counter("tailgate.arrivals.late", "{arrival}", "Arrivals sent more than 10ms late.")
	o.dropped = counter("tailgate.arrivals.dropped", "{arrival}", "Arrivals dropped for want of a worker.")
	o.inFlight = gauge("tailgate.in_flight", "{arrival}", "Arrivals running or waiting for a worker.")
	o.plannedRate = gauge("tailgate.planned_rate", "{arrival}/s", "This shard's share of the planned arrival rate.")
	if err != nil {
		return fmt.Errorf("OTLP instruments: %w", err)
	}
	return nil
}

// IntervalDeltas tells the engine that this observer reads Snapshot.Deltas.
func (o *OTLP) IntervalDeltas() bool { return true }

// Observe implements loadgen.Observer: it queues the snapshot for OTLP's
// goroutine and returns at once.
func (o *OTLP) Observe(s *results.Snapshot) {
	select {
	case o.snaps <- s:
	default:
		o.mu.Lock()
		o.lost++
		o.mu.Unlock()
	}
}

func (o *OTLP) loop() {
	defer close(o.done)
	for s := range o.snaps {
		o.record(s)
		if len(o.snaps) > 0 {
			continue // record what is queued first, then export once
		}
		ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
		err := o.provider.ForceFlush(ctx)
		cancel()
		o.note(err)
	}
}

func (o *OTLP) note(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.exports++
	if err != nil {
		o.failures++
		o.lastErr = fmt.Errorf("OTLP export to %s: %w", o.endpoint, err)
		return
	}
	o.lastErr = nil
}

// record adds one snapshot to the SDK's instruments.
func (o *OTLP) record(s *results.Snapshot) {
	ctx := context.Background()
	if o.labels.RunID == "" && s.RunID != "" {
		o.labels.RunID = s.RunID
		o.base[0] = attribute.String("run_id", s.RunID)
	}
	with := func(kv ...attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(append(append([]attribute.KeyValue(nil), o.base...), kv...)...))
	}
	for i := range s.Deltas {
		d := &s.Deltas[i]
		req, grp := attribute.String("request", d.Name), attribute.String("group", d.Group)
		for code, n := range d.Status {
			o.requests.Add(ctx, int64(n), with(req, grp, attribute.String("status", strconv.Itoa(code))))
		}
		for kind, n := range d.NoResponse {
			o.requests.Add(ctx, int64(n), with(req, grp, attribute.String("status", kind)))
		}
		for kind, n := range d.Errors {
			o.errors.Add(ctx, int64(n), with(req, grp, attribute.String("kind", kind)))
		}
		for oc := range results.NumOutcomes {
			opt := with(req, grp, attribute.String("outcome", oc.String()))
			recordBuckets(ctx, o.latency, d.Latency[oc], opt)
			recordBuckets(ctx, o.service, d.Service[oc], opt)
			recordBuckets(ctx, o.sendLag, d.SendLag[oc], opt)
		}
	}
	for flow, n := range s.Iterations {
		o.iters.Add(ctx, int64(n), with(attribute.String("flow", flow)))
	}
	all := with()
	if s.Elapsed < o.prev.Elapsed {
		// A new run (a capacity probe): its counts start again at zero.
		o.prev = results.Snapshot{}
	}
	o.prev.Elapsed = s.Elapsed
	o.sent.Add(ctx, int64(s.Sent-o.prev.Sent), all)
	o.late.Add(ctx, int64(s.Late-o.prev.Late), all)
	o.dropped.Add(ctx, int64(s.Dropped-o.prev.Dropped), all)
	o.prev.Sent, o.prev.Late, o.prev.Dropped = s.Sent, s.Late, s.Dropped
	o.inFlight.Record(ctx, float64(s.InFlight), all)
	o.plannedRate.Record(ctx, s.TargetRate/float64(max(o.labels.Shards, 1)), all)
}

// recordBuckets records each HDR bucket's value as often as it counted.
func recordBuckets(ctx context.Context, h metric.Float64Histogram, bs []results.Bucket, opt metric.MeasurementOption) {
	for _, b := range bs {
		v := b.Value.Seconds()
		for range b.Count {
			h.Record(ctx, v, opt)
		}
	}
}

// Err returns why the last export failed, "" when it succeeded.
func (o *OTLP) Err() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lastErr == nil {
		return ""
	}
	return o.lastErr.Error()
}

// Close records what is queued, makes the final export and shuts the SDK
// down. Call it after the run's last snapshot. It returns an error saying
// how many exports failed, if any did.
func (o *OTLP) Close() error {
	close(o.snaps)
	<-o.done
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	o.note(o.provider.Shutdown(ctx))
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.lost > 0:
		return fmt.Errorf("OTLP: %d snapshots were not recorded (recording fell behind)", o.lost)
	case o.lastErr != nil:
		return fmt.Errorf("%d of %d OTLP exports failed, the final one too: %w", o.failures, o.exports, o.lastErr)
	case o.failures > 0:
		return fmt.Errorf("%d of %d OTLP exports failed; the final one succeeded, so the receiver has the final values", o.failures, o.exports)
	}
	return nil
}
