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

// encodeWriteRequest turns gathered metric families into one WriteRequest
// at timestamp ts: counters and gauges as samples, histograms as a native
// histogram plus the classic _bucket, _sum and _count series, as a
// Prometheus scraping them would store them.
func encodeWriteRequest(mfs []*dto.MetricFamily, ts time.Time) *writeRequest {
	ms := ts.UnixMilli()
	var out, series []byte
	add := func(labels []label, value float64) {
		series = appendLabels(series[:0], labels)
		var s []byte
		s = protowire.AppendTag(s, fieldSampleValue, protowire.Fixed64Type)
		s = protowire.AppendFixed64(s, math.Float64bits(value))
		s = protowire.AppendTag(s, fieldSampleTimestamp, protowire.VarintType)
		s = protowire.AppendVarint(s, uint64(ms))
		series = protowire.AppendTag(series, fieldSeriesSamples, protowire.BytesType)
		series = protowire.AppendBytes(series, s)
		out = protowire.AppendTag(out, fieldWriteTimeseries, protowire.BytesType)
		out = protowire.AppendBytes(out, series)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			base := make([]label, 0, len(m.GetLabel())+2)
			for _, l := range m.GetLabel() {
				base = append(base, label{l.GetName(), l.GetValue()})
			}
			with := func(metric string, extra ...label) []label {
				ls := append(slices.Clone(base), label{"__name__", metric})
				ls = append(ls, extra...)
				slices.SortFunc(ls, func(a, b label) int { return strings.Compare(a.name, b.name) })
				return ls
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(with(name), m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(with(name), m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				series = appendLabels(series[:0], with(name))
				series = protowire.AppendTag(series, fieldSeriesHistograms, protowire.BytesType)
				series = protowire.AppendBytes(series, appendNativeHistogram(nil, h, ms))
				out = protowire.AppendTag(out, fieldWriteTimeseries, protowire.BytesType)
				out = protowire.AppendBytes(out, series)
				for _, b := range h.GetBucket() {
					add(with(name+"_bucket", label{"le", formatBound(b.GetUpperBound())}), float64(b.GetCumulativeCount()))
				}
				add(with(name+"_bucket", label{"le", "+Inf"}), float64(h.GetSampleCount()))
				add(with(name+"_sum"), h.GetSampleSum())
				add(with(name+"_count"), float64(h.GetSampleCount()))
			}
		}
	}
	return &writeRequest{buf: out}
}

// formatBound writes a bucket bound as Prometheus does in le labels.
func formatBound(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func appendLabels(b []byte, labels []label) []byte {
	for _, l := range labels {
		var lb []byte
		lb = protowire.AppendTag(lb, fieldLabelName, protowire.BytesType)
		lb = protowire.AppendString(lb, l.name)
		lb = protowire.AppendTag(lb, fieldLabelValue, protowire.BytesType)
		lb = protowire.AppendString(lb, l.value)
		b = protowire.AppendTag(b, fieldSeriesLabels, protowire.BytesType)
		b = protowire.AppendBytes(b, lb)
	}
	return b
}

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
