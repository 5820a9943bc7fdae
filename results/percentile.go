package results

import (
	"strconv"
	"time"
)

// Percentile is a percentile of a distribution in percent: 99.9 is p99.9.
type Percentile float64

// String returns the percentile as every output spells it: "p50", "p99.9".
func (q Percentile) String() string {
	return "p" + strconv.FormatFloat(float64(q), 'f', -1, 64)
}

// reported is the one list of percentiles that tailgate reports for a
// latency distribution: the text and Markdown tables, the JSON summary,
// comparisons and the dashboard's detail view all show these, in this
// order. A percentile added here appears in each of them. Outputs with room
// for only a few figures (a progress line, chart bars, the dashboard's
// narrow table) pick theirs from this list with Percentiles.Of.
var reported = [...]Percentile{50, 90, 95, 99, 99.9, 99.99}

// NumReported is the number of reported percentiles.
const NumReported = len(reported)

// Reported returns the reported percentiles in the order outputs show them.
func Reported() [NumReported]Percentile { return reported }

// Percentiles are the summary figures of one histogram: its value at each
// reported percentile, its max and its mean.
type Percentiles struct {
	// At holds the value at each percentile of Reported, in its order.
	At        [NumReported]time.Duration
	Max, Mean time.Duration
}

// Of returns the value at q, which must be one of Reported: any other
// percentile is not in a summary and gives 0 (ask the histogram for it).
func (s Percentiles) Of(q Percentile) time.Duration {
	if i := reportedIndex(q); i >= 0 {
		return s.At[i]
	}
	return 0
}

// With returns s with its value at q, one of Reported, set to d; for any
// other percentile it returns s unchanged. It builds summaries that come
// from no histogram, such as those of tests and of a replayed display.
func (s Percentiles) With(q Percentile, d time.Duration) Percentiles {
	if i := reportedIndex(q); i >= 0 {
		s.At[i] = d
	}
	return s
}

// reportedIndex is the position of q in reported, -1 if it is not there.
func reportedIndex(q Percentile) int {
	for i, r := range reported {
		if r == q {
			return i
		}
	}
	return -1
}

// summaryPercents are the percents a summary asks its histogram for: the
// reported ones, then 100 for the max. The 100th percentile is the highest
// equivalent value of the last populated bucket, which is what Max
// returns: one pass instead of two.
var summaryPercents = func() []float64 {
	ps := make([]float64, 0, NumReported+1)
	for _, q := range reported {
		ps = append(ps, float64(q))
	}
	return append(ps, 100)
}()

// Summary returns the histogram's value at each reported percentile, its
// max and its mean.
func (h *Histogram) Summary() Percentiles {
	if h.Count() == 0 {
		return Percentiles{}
	}
	v := h.read().ValueAtPercentilesSlice(summaryPercents)
	var s Percentiles
	for i := range s.At {
		s.At[i] = time.Duration(v[i]) * time.Microsecond
	}
	s.Max = time.Duration(v[NumReported]) * time.Microsecond
	s.Mean = h.Mean()
	return s
}
