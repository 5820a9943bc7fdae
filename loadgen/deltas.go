package loadgen

import (
	"sync/atomic"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// DeltaObserver is an Observer that reads Snapshot.Deltas and
// Snapshot.Iterations: what each request series did in the interval, with
// its HDR buckets. Metrics exporters are; the collector records deltas only
// when one is attached, since they cost it three sparse-histogram records
// per request.
type DeltaObserver interface {
	Observer
	// IntervalDeltas returns true to ask for the deltas.
	IntervalDeltas() bool
}

// wantsDeltas reports whether an observer asks for interval deltas.
func wantsDeltas(observers []Observer) bool {
	for _, o := range observers {
		if d, ok := o.(DeltaObserver); ok && d.IntervalDeltas() {
			return true
		}
	}
	return false
}

// Which of a deltaSeries' histograms.
const (
	deltaLatency = iota
	deltaService
	deltaSendLag
	numDeltaHists
)

// deltaSeries is what one series (request name and group) did since the
// last snapshot. Only the collector touches it.
type deltaSeries struct {
	requests   uint64
	status     map[int]uint64
	noResponse [numKinds]uint64
	errors     [numKinds]uint64
	// hist holds sparse histograms, made on a first value (a series
	// that never fails has none for failures): a second's values populate
	// a few hundred buckets, and a dense histogram per series and outcome
	// would cost ~180 KiB each.
	hist [numDeltaHists][results.NumOutcomes]*results.SparseHistogram
}

func newDeltaSeries() *deltaSeries { return &deltaSeries{status: map[int]uint64{}} }

// record adds d to the series' histogram i of outcome o.
func (ds *deltaSeries) record(i int, o results.Outcome, d time.Duration) {
	h := ds.hist[i][o]
	if h == nil {
		h = results.NewSparseHistogram()
		ds.hist[i][o] = h
	}
	h.Record(d)
}

// deltas is the collector's interval state for delta observers, by series
// id.
type deltas struct {
	series []*deltaSeries
}

func (d *deltas) add(s *sample) {
	for int(s.series) >= len(d.series) {
		d.series = append(d.series, nil)
	}
	ds := d.series[s.series]
	if ds == nil {
		ds = newDeltaSeries()
		d.series[s.series] = ds
	}
	ds.requests++
	if s.flags&flagRetried != 0 {
		// A retried attempt is a request by status, in no latency
		// histogram (as in the results).
		ds.status[int(s.status)]++
		return
	}
	o := results.OutcomeOK
	if s.kind != KindNone {
		o = results.OutcomeFailed
		ds.errors[s.kind]++
	}
	if s.status != 0 {
		ds.status[int(s.status)]++
	} else if s.kind != KindNone {
		ds.noResponse[s.kind]++
	}
	ds.record(deltaLatency, o, s.done-s.intended)
	ds.record(deltaService, o, s.done-s.sent)
	ds.record(deltaSendLag, o, s.sent-s.intended)
}

// take returns the deltas of every series with requests since the last
// call, named by keys (indexed by series id), and starts the next interval.
func (d *deltas) take(keys []seriesKey) []results.SeriesDelta {
	var out []results.SeriesDelta
	for id, ds := range d.series {
		if ds == nil || id >= len(keys) {
			continue
		}
		if ds.requests == 0 {
			// Idle for an interval: its histograms go (a tag with a
			// value per iteration makes up to a thousand groups a
			// request, each used about once), and come back on its next
			// request.
			ds.hist = [numDeltaHists][results.NumOutcomes]*results.SparseHistogram{}
			continue
		}
		sd := results.SeriesDelta{Name: keys[id].name, Group: keys[id].group, Status: ds.status}
		ds.status = map[int]uint64{}
		sd.NoResponse = kindCounts(&ds.noResponse)
		sd.Errors = kindCounts(&ds.errors)
		for o := range results.NumOutcomes {
			for i, to := range [numDeltaHists]*[]results.Bucket{&sd.Latency[o], &sd.Service[o], &sd.SendLag[o]} {
				h := ds.hist[i][o]
				if h == nil {
					continue
				}
				*to = h.AppendBuckets(nil)
				h.Reset()
				if len(*to) > 0 {
					// A second's buckets at 10k/s are thousands: a
					// piece of the collector's work (see yield).
					yield()
				}
			}
		}
		ds.requests = 0
		out = append(out, sd)
	}
	return out
}

// kindCounts returns the non-zero counts by kind name and clears them.
func kindCounts(c *[numKinds]uint64) map[string]uint64 {
	var out map[string]uint64
	for k, n := range c {
		if n == 0 {
			continue
		}
		if out == nil {
			out = map[string]uint64{}
		}
		out[ErrorKind(k).String()] = n
		c[k] = 0
	}
	return out
}

// flowCounter counts one flow's finished iterations; padded to a cache line
// so workers finishing different flows do not share one.
type flowCounter struct {
	n atomic.Uint64
	_ [56]byte
}

// iterationDeltas returns the iterations finished per flow since the last
// snapshot.
func (rec *recorder) iterationDeltas() map[string]uint64 {
	its := rec.cfg.counts.iterations
	out := make(map[string]uint64, len(its))
	for i := range its {
		n := its[i].n.Load()
		out[rec.cfg.plan.Flows[i].Name] += n - rec.lastIters[i]
		rec.lastIters[i] = n
	}
	return out
}
