package metrics

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/tailgate-dev/tailgate/results"
)

// OTLP sends an exporter's metrics over OTLP/HTTP after every snapshot and
// once more at the end, with the OpenTelemetry SDK's exporter. The data
// are the exporter's own cumulative state, as the Prometheus sides read
// it: counters as cumulative sums, latency histograms as base-2
// exponential histograms of scale Schema (bucket index i of OTLP is native
// bucket i+1 of Prometheus: the same 4.4% buckets, the same counts), not
// the SDK's default explicit buckets, whose coarse boundaries make
// percentiles guesses. Recording through the SDK's instruments instead
// meant one call per request (the API takes one value at a time): 7.5 ms
// and 30,000 allocations per second of a run at 10k/s
// (BenchmarkOTLPRecord before this design), held in pieces of 13 ms.
type OTLP struct {
	*sender
	endpoint string
	exp      *otlpmetrichttp.Exporter
	res      *resource.Resource
}

// otlpScope names the instrumentation scope of tailgate's metrics.
var otlpScope = instrumentation.Scope{Name: "github.com/tailgate-dev/tailgate"}

// NewOTLP starts sending e's metrics to an OTLP/HTTP endpoint: a base URL
// such as http://collector:4318 (the metrics path /v1/metrics is added) or
// the full metrics URL.
func NewOTLP(endpoint string, e *Exporter) (*OTLP, error) {
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
	o := &OTLP{endpoint: u.String(), exp: exp, res: resource.NewSchemaless(attribute.String("service.name", "tailgate"))}
	o.sender = newSender(e, "OTLP exports", func(time.Time) error { return o.export(e) })
	return o, nil
}

// export sends e's current state.
func (o *OTLP) export(e *Exporter) error {
	rm := e.resourceMetrics(o.res)
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if err := o.exp.Export(ctx, rm); err != nil {
		return fmt.Errorf("OTLP export to %s: %w", o.endpoint, err)
	}
	return nil
}

// Close makes the final export and shuts the exporter down. Call it after
// the run's last snapshot. It returns an error saying how many exports
// failed, if any did.
func (o *OTLP) Close() error {
	err := o.sender.close()
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if shutErr := o.exp.Shutdown(ctx); shutErr != nil && err == nil {
		err = fmt.Errorf("OTLP exporter: %w", shutErr)
	}
	return err
}

// resourceMetrics copies the exporter's cumulative state into OTLP's data
// model, under the exporter's lock. Before the first snapshot it holds no
// metrics.
func (e *Exporter) resourceMetrics(res *resource.Resource) *metricdata.ResourceMetrics {
	e.mu.Lock()
	defer e.mu.Unlock()
	rm := &metricdata.ResourceMetrics{Resource: res}
	if e.start.IsZero() {
		return rm
	}
	base := []attribute.KeyValue{attribute.String("run_id", e.labels.RunID), attribute.String("shard", strconv.Itoa(e.labels.Shard))}
	attrs := func(kv ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(slices.Clone(base), kv...)...)
	}
	point := func(v int64, kv ...attribute.KeyValue) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Attributes: attrs(kv...), StartTime: e.start, Time: e.last, Value: v}
	}
	sum := func(name, unit, desc string, points ...metricdata.DataPoint[int64]) metricdata.Metrics {
		return metricdata.Metrics{Name: name, Unit: unit, Description: desc,
			Data: metricdata.Sum[int64]{DataPoints: points, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}}
	}
	gauge := func(name, unit, desc string, v float64) metricdata.Metrics {
		return metricdata.Metrics{Name: name, Unit: unit, Description: desc, Data: metricdata.Gauge[float64]{
			DataPoints: []metricdata.DataPoint[float64]{{Attributes: attrs(), StartTime: e.start, Time: e.last, Value: v}}}}
	}
	var requests, errs, iterations []metricdata.DataPoint[int64]
	var latency, service, sendLag []metricdata.ExponentialHistogramDataPoint[float64]
	for _, k := range e.sortedKeys() {
		st := e.series[k]
		req, grp := attribute.String("request", k.name), attribute.String("group", k.group)
		for _, status := range sortedKeys(st.status) {
			requests = append(requests, point(int64(st.status[status]), req, grp, attribute.String("status", status)))
		}
		for _, kind := range sortedKeys(st.errors) {
			errs = append(errs, point(int64(st.errors[kind]), req, grp, attribute.String("kind", kind)))
		}
		for oc := range results.NumOutcomes {
			if st.latency[oc].count == 0 {
				continue
			}
			set := attrs(req, grp, attribute.String("outcome", oc.String()))
			latency = append(latency, e.exponential(st.latency[oc], set))
			service = append(service, e.exponential(st.service[oc], set))
			sendLag = append(sendLag, e.exponential(st.sendLag[oc], set))
		}
	}
	for _, flow := range sortedKeys(e.iterations) {
		iterations = append(iterations, point(int64(e.iterations[flow]), attribute.String("flow", flow)))
	}
	histogram := func(name, desc string, points []metricdata.ExponentialHistogramDataPoint[float64]) metricdata.Metrics {
		return metricdata.Metrics{Name: name, Unit: "s", Description: desc,
			Data: metricdata.ExponentialHistogram[float64]{DataPoints: points, Temporality: metricdata.CumulativeTemporality}}
	}
	rm.ScopeMetrics = []metricdata.ScopeMetrics{{Scope: otlpScope, Metrics: []metricdata.Metrics{
		histogram("tailgate.request.duration", "Request latency from the intended send time to the response.", latency),
		histogram("tailgate.service.time", "Request service time from the actual send to the response.", service),
		histogram("tailgate.send.lag", "Delay from a request's intended send time to its actual send.", sendLag),
		sum("tailgate.requests", "{request}", "Requests completed, by HTTP status (or error kind without a response).", requests...),
		sum("tailgate.errors", "{request}", "Failed requests by error kind.", errs...),
		sum("tailgate.iterations", "{iteration}", "Flow iterations completed.", iterations...),
		sum("tailgate.arrivals.sent", "{arrival}", "Arrivals started.", point(int64(e.sent))),
		sum("tailgate.arrivals.late", "{arrival}", "Arrivals sent more than 10ms late.", point(int64(e.late))),
		sum("tailgate.arrivals.dropped", "{arrival}", "Arrivals dropped for want of a worker.", point(int64(e.dropped))),
		gauge("tailgate.in_flight", "{arrival}", "Arrivals running or waiting for a worker.", e.inFlight),
		gauge("tailgate.planned_rate", "{arrival}/s", "This shard's share of the planned arrival rate.", e.plannedRate),
	}}}
	return rm
}

// exponential copies h into an OTLP exponential histogram point: OTLP's
// bucket i covers (base^i, base^(i+1)], Prometheus' native bucket i+1.
func (e *Exporter) exponential(h *hist, set attribute.Set) metricdata.ExponentialHistogramDataPoint[float64] {
	return metricdata.ExponentialHistogramDataPoint[float64]{
		Attributes: set, StartTime: e.start, Time: e.last,
		Count: h.count, Sum: h.sum, Min: metricdata.NewExtrema(h.min), Max: metricdata.NewExtrema(h.max),
		Scale:          Schema,
		PositiveBucket: metricdata.ExponentialBucket{Offset: int32(h.first - 1), Counts: slices.Clone(h.native)},
	}
}
