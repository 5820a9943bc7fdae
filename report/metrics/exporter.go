// Package metrics exports a running load test's figures where teams already
// look: a Prometheus /metrics endpoint, Prometheus remote write and OTLP.
// It is fed the engine's interval snapshots (results.Snapshot, with the
// per-series deltas an exporter asks for), never the requests themselves,
// so exporting costs the hot path nothing.
//
// Every series carries the run_id and shard labels, and every request is
// counted in exactly one series (its request name and tag group), so the
// shards of a distributed run sum exactly: counters add, and histograms with
// one fixed set of classic and native buckets add bucket by bucket.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Labels identify the process a run's metrics come from.
type Labels struct {
	// RunID is shared by every shard of one run; empty takes the run id
	// of the snapshots (the one the results file will carry).
	RunID string
	// Shard is this process's shard index (0 for an unsharded run), Shards
	// the number of shards (0 or 1 for an unsharded run).
	Shard, Shards int
}

// seriesKey names one request series.
type seriesKey struct{ name, group string }

// series is the cumulative state of one request series.
type series struct {
	status map[string]uint64 // HTTP status code, or error kind without a response
	errors map[string]uint64 // by error kind
	// latency, service and sendLag are indexed by results.Outcome.
	latency, service, sendLag [results.NumOutcomes]*hist
}

func newSeries() *series {
	s := &series{status: map[string]uint64{}, errors: map[string]uint64{}}
	for o := range results.NumOutcomes {
		s.latency[o], s.service[o], s.sendLag[o] = newHist(), newHist(), newHist()
	}
	return s
}

// Exporter accumulates snapshots into cumulative metrics. Give it to the
// engine as an observer; its Collect (Prometheus), remote-write and OTLP
// sides read the same state. It is safe for concurrent use.
type Exporter struct {
	labels Labels

	mu          sync.Mutex
	start       time.Time // the run's start, when known
	last        time.Time // the latest snapshot's time
	series      map[seriesKey]*series
	iterations  map[string]uint64
	inFlight    float64
	plannedRate float64
	late        uint64
	dropped     uint64
	sent        uint64
	// base holds the arrival counts of earlier runs (capacity probes are a
	// run each; their snapshots' counts start again at zero), elapsed the
	// latest snapshot's time into its run.
	base    struct{ late, dropped, sent uint64 }
	elapsed time.Duration
	notify  []chan<- struct{}
}

// New returns an exporter whose metrics carry labels.
func New(labels Labels) *Exporter {
	return &Exporter{
		labels: labels, series: map[seriesKey]*series{}, iterations: map[string]uint64{},
	}
}

// IntervalDeltas tells the engine that this observer reads Snapshot.Deltas.
func (e *Exporter) IntervalDeltas() bool { return true }

// Observe adds one interval's snapshot. It implements loadgen.Observer: it
// only adds counts, a few hundred to a few thousand HDR buckets per series
// and histogram (~14 µs at 10k/s), yielding after each histogram.
func (e *Exporter) Observe(s *results.Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.start.IsZero() {
		e.start = s.Time.Add(-s.Elapsed)
	}
	if e.labels.RunID == "" {
		e.labels.RunID = s.RunID
	}
	e.last = s.Time
	for i := range s.Deltas {
		d := &s.Deltas[i]
		k := seriesKey{d.Name, d.Group}
		st := e.series[k]
		if st == nil {
			st = newSeries()
			e.series[k] = st
		}
		for code, n := range d.Status {
			st.status[strconv.Itoa(code)] += n
		}
		for kind, n := range d.NoResponse {
			st.status[kind] += n
		}
		for kind, n := range d.Errors {
			st.errors[kind] += n
		}
		for o := range results.NumOutcomes {
			for _, h := range []struct {
				to   *hist
				from []results.Bucket
			}{{st.latency[o], d.Latency[o]}, {st.service[o], d.Service[o]}, {st.sendLag[o], d.SendLag[o]}} {
				if len(h.from) > 0 {
					h.to.add(h.from)
					yield()
				}
			}
		}
	}
	for flow, n := range s.Iterations {
		e.iterations[flow] += n
	}
	e.inFlight = float64(s.InFlight)
	// The snapshot's planned rate is the whole plan's; a shard sends its
	// share, so that sum() over the shards is the plan.
	e.plannedRate = s.TargetRate / float64(max(e.labels.Shards, 1))
	if s.Elapsed < e.elapsed {
		// A new run: its counts add to the earlier runs'.
		e.base.late, e.base.dropped, e.base.sent = e.late, e.dropped, e.sent
	}
	e.elapsed = s.Elapsed
	e.late, e.dropped, e.sent = e.base.late+s.Late, e.base.dropped+s.Dropped, e.base.sent+s.Sent
	for _, c := range e.notify {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Notify makes the exporter signal c (without blocking) after each
// snapshot it adds: how pushers learn that an interval closed.
func (e *Exporter) Notify(c chan<- struct{}) {
	e.mu.Lock()
	e.notify = append(e.notify, c)
	e.mu.Unlock()
}
