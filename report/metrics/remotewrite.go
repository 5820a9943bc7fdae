package metrics

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// writeRequest is a Prometheus remote-write 1.0 WriteRequest, encoded by
// hand with protowire: the exp remote API ships types for protocol 2.0
// only, receivers such as Prometheus 2.x accept 1.0 only, and its
// generated types live in Prometheus itself, a large dependency for four
// small messages. It has the two methods through which the exp API
// marshals a message (vtprotobuf's).
type writeRequest struct{ buf []byte }

// SizeVT implements the exp remote API's marshalling.
func (w *writeRequest) SizeVT() int { return len(w.buf) }

// MarshalToSizedBufferVT implements the exp remote API's marshalling.
func (w *writeRequest) MarshalToSizedBufferVT(b []byte) (int, error) { return copy(b, w.buf), nil }

// The field numbers of prometheus/prompb (remote.proto, types.proto).
const (
	fieldWriteTimeseries = 1 // WriteRequest.timeseries

	fieldSeriesLabels     = 1 // TimeSeries.labels
	fieldSeriesSamples    = 2 // TimeSeries.samples
	fieldSeriesHistograms = 4 // TimeSeries.histograms

	fieldLabelName  = 1
	fieldLabelValue = 2

	fieldSampleValue     = 1
	fieldSampleTimestamp = 2

	fieldHistCountInt      = 1
	fieldHistSum           = 3
	fieldHistSchema        = 4
	fieldHistZeroThreshold = 5
	fieldHistZeroCountInt  = 6
	fieldHistPosSpans      = 11
	fieldHistPosDeltas     = 12
	fieldHistTimestamp     = 15

	fieldSpanOffset = 1
	fieldSpanLength = 2
)

// label is one name and value of a remote-write series.
type label struct{ name, value string }

// writeEncoder builds one WriteRequest, reusing its scratch buffers for the
// nested messages (a series, its labels, a sample) of every series.
type writeEncoder struct {
	ms                   int64 // the samples' timestamp
	out, series, msg, lb []byte
	base                 []label // the current metric's labels, sorted
}

// encodeWriteRequest turns gathered metric families into one WriteRequest
// at timestamp ts: counters and gauges as samples, histograms as a native
// histogram plus the classic _bucket, _sum and _count series, as a
// Prometheus scraping them would store them. It yields after each metric
// family: a push's ~70 series took ~270 µs of the processor in one go.
func encodeWriteRequest(mfs []*dto.MetricFamily, ts time.Time) *writeRequest {
	w := &writeEncoder{ms: ts.UnixMilli()}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			w.base = w.base[:0]
			for _, l := range m.GetLabel() {
				w.base = append(w.base, label{l.GetName(), l.GetValue()})
			}
			slices.SortFunc(w.base, func(a, b label) int { return strings.Compare(a.name, b.name) })
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				w.sample(name, nil, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				w.sample(name, nil, m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				w.startSeries(name, nil)
				w.msg = appendNativeHistogram(w.msg[:0], h, w.ms)
				w.series = protowire.AppendTag(w.series, fieldSeriesHistograms, protowire.BytesType)
				w.series = protowire.AppendBytes(w.series, w.msg)
				w.endSeries()
				for _, b := range h.GetBucket() {
					w.sample(name+"_bucket", &label{"le", formatBound(b.GetUpperBound())}, float64(b.GetCumulativeCount()))
				}
				w.sample(name+"_bucket", &label{"le", "+Inf"}, float64(h.GetSampleCount()))
				w.sample(name+"_sum", nil, h.GetSampleSum())
				w.sample(name+"_count", nil, float64(h.GetSampleCount()))
			}
		}
		yield()
	}
	return &writeRequest{buf: w.out}
}

// sample adds a series of one sample: metric, the current labels (and
// extra), value.
func (w *writeEncoder) sample(metric string, extra *label, value float64) {
	w.startSeries(metric, extra)
	w.msg = protowire.AppendTag(w.msg[:0], fieldSampleValue, protowire.Fixed64Type)
	w.msg = protowire.AppendFixed64(w.msg, math.Float64bits(value))
	w.msg = protowire.AppendTag(w.msg, fieldSampleTimestamp, protowire.VarintType)
	w.msg = protowire.AppendVarint(w.msg, uint64(w.ms))
	w.series = protowire.AppendTag(w.series, fieldSeriesSamples, protowire.BytesType)
	w.series = protowire.AppendBytes(w.series, w.msg)
	w.endSeries()
}

// startSeries begins a series with its labels in Prometheus's order:
// __name__ first ('_' sorts before every lower-case letter), then the
// current metric's labels with extra merged in.
func (w *writeEncoder) startSeries(metric string, extra *label) {
	w.series = w.appendLabel(w.series[:0], label{"__name__", metric})
	for _, l := range w.base {
		if extra != nil && extra.name < l.name {
			w.series = w.appendLabel(w.series, *extra)
			extra = nil
		}
		w.series = w.appendLabel(w.series, l)
	}
	if extra != nil {
		w.series = w.appendLabel(w.series, *extra)
	}
}

// endSeries adds the series begun by startSeries to the request.
func (w *writeEncoder) endSeries() {
	w.out = protowire.AppendTag(w.out, fieldWriteTimeseries, protowire.BytesType)
	w.out = protowire.AppendBytes(w.out, w.series)
}

// appendLabel appends one TimeSeries.labels message to b.
func (w *writeEncoder) appendLabel(b []byte, l label) []byte {
	w.lb = protowire.AppendTag(w.lb[:0], fieldLabelName, protowire.BytesType)
	w.lb = protowire.AppendString(w.lb, l.name)
	w.lb = protowire.AppendTag(w.lb, fieldLabelValue, protowire.BytesType)
	w.lb = protowire.AppendString(w.lb, l.value)
	b = protowire.AppendTag(b, fieldSeriesLabels, protowire.BytesType)
	return protowire.AppendBytes(b, w.lb)
}

// formatBound writes a bucket bound as Prometheus does in le labels.
func formatBound(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// appendNativeHistogram encodes a prompb.Histogram with integer counts.
func appendNativeHistogram(b []byte, h *dto.Histogram, ms int64) []byte {
	b = protowire.AppendTag(b, fieldHistCountInt, protowire.VarintType)
	b = protowire.AppendVarint(b, h.GetSampleCount())
	b = protowire.AppendTag(b, fieldHistSum, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(h.GetSampleSum()))
	b = protowire.AppendTag(b, fieldHistSchema, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(h.GetSchema())))
	b = protowire.AppendTag(b, fieldHistZeroThreshold, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(h.GetZeroThreshold()))
	b = protowire.AppendTag(b, fieldHistZeroCountInt, protowire.VarintType)
	b = protowire.AppendVarint(b, h.GetZeroCount())
	for _, s := range h.GetPositiveSpan() {
		var sb []byte
		sb = protowire.AppendTag(sb, fieldSpanOffset, protowire.VarintType)
		sb = protowire.AppendVarint(sb, protowire.EncodeZigZag(int64(s.GetOffset())))
		sb = protowire.AppendTag(sb, fieldSpanLength, protowire.VarintType)
		sb = protowire.AppendVarint(sb, uint64(s.GetLength()))
		b = protowire.AppendTag(b, fieldHistPosSpans, protowire.BytesType)
		b = protowire.AppendBytes(b, sb)
	}
	if len(h.GetPositiveDelta()) > 0 {
		var db []byte
		for _, d := range h.GetPositiveDelta() {
			db = protowire.AppendVarint(db, protowire.EncodeZigZag(d))
		}
		b = protowire.AppendTag(b, fieldHistPosDeltas, protowire.BytesType)
		b = protowire.AppendBytes(b, db)
	}
	b = protowire.AppendTag(b, fieldHistTimestamp, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ms))
	return b
}
