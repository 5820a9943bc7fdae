package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protowire"
)

// rwSeries is one decoded remote-write TimeSeries.
type rwSeries struct {
	labels     [][2]string
	value      float64
	ms         int64
	histograms int
}

func (s rwSeries) label(name string) string {
	for _, l := range s.labels {
		if l[0] == name {
			return l[1]
		}
	}
	return ""
}

// fields calls f for each field of the protobuf message b.
func fields(t *testing.T, b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(k))
		}
		b = b[k:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.BytesType:
			v, k = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, k = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			n, k = protowire.ConsumeFixed64(b)
		default:
			t.Fatalf("unexpected wire type %v", typ)
		}
		if k < 0 {
			t.Fatalf("bad field %d: %v", num, protowire.ParseError(k))
		}
		f(num, typ, v, n)
		b = b[k:]
	}
}

// decodeWriteRequest decodes the series of a remote-write 1.0 request.
func decodeWriteRequest(t *testing.T, b []byte) []rwSeries {
	var out []rwSeries
	fields(t, b, func(num protowire.Number, _ protowire.Type, ts []byte, _ uint64) {
		if num != fieldWriteTimeseries {
			t.Fatalf("WriteRequest field %d", num)
		}
		var s rwSeries
		fields(t, ts, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
			switch num {
			case fieldSeriesLabels:
				var l [2]string
				fields(t, v, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) { l[num-1] = string(v) })
				s.labels = append(s.labels, l)
			case fieldSeriesSamples:
				fields(t, v, func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) {
					if num == fieldSampleValue {
						s.value = math.Float64frombits(n)
					} else {
						s.ms = int64(n)
					}
				})
			case fieldSeriesHistograms:
				s.histograms++
			}
		})
		out = append(out, s)
	})
	return out
}

// TestWriteRequest: every series has its labels in Prometheus' order
// (__name__ first, then sorted, le among them), the snapshot's time, and
// the values a scrape shows; each histogram is a native histogram plus
// its classic _bucket, _sum and _count series.
func TestWriteRequest(t *testing.T) {
	e := New(Labels{RunID: "rw", Shard: 1, Shards: 2})
	for i := range 2 {
		e.Observe(busySnapshot(time.Duration(i+1) * time.Second))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 250e6)
	series := decodeWriteRequest(t, encodeWriteRequest(mfs, at).buf)
	byName := map[string][]rwSeries{}
	for _, s := range series {
		if s.labels[0][0] != "__name__" {
			t.Fatalf("first label %q, want __name__", s.labels[0][0])
		}
		if !slices.IsSortedFunc(s.labels[1:], func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }) {
			t.Errorf("labels not sorted: %v", s.labels)
		}
		if s.label("run_id") != "rw" || s.label("shard") != "1" {
			t.Errorf("series %v without run_id/shard", s.labels)
		}
		if s.histograms == 0 && s.ms != at.UnixMilli() {
			t.Errorf("%v: timestamp %d, want %d", s.labels, s.ms, at.UnixMilli())
		}
		byName[s.labels[0][1]] = append(byName[s.labels[0][1]], s)
	}
	// busySnapshot's Sent is cumulative (10000 in each), its deltas add.
	if got := byName[NameArrivalsSent]; len(got) != 1 || got[0].value != 10000 {
		t.Errorf("arrivals sent %+v, want one series of 10000", got)
	}
	if got := byName[NameRequests]; len(got) != 1 || got[0].value != 20000 || got[0].label("status") != "200" {
		t.Errorf("requests %+v, want one series of 20000 with status 200", got)
	}
	if got := byName[NameRequestDuration]; len(got) != 1 || got[0].histograms != 1 {
		t.Errorf("request duration: %+v, want one native histogram", got)
	}
	buckets := byName[NameRequestDuration+"_bucket"]
	if len(buckets) != len(ClassicBounds)+1 || buckets[len(buckets)-1].label("le") != "+Inf" || buckets[len(buckets)-1].value != 20000 {
		t.Fatalf("%d classic buckets (last %+v), want %d ending with +Inf of 20000", len(buckets), buckets[len(buckets)-1], len(ClassicBounds)+1)
	}
	for i, b := range buckets[:len(ClassicBounds)] {
		if b.label("le") != formatBound(ClassicBounds[i]) || (i > 0 && b.value < buckets[i-1].value) {
			t.Errorf("bucket %d: le %q value %g", i, b.label("le"), b.value)
		}
	}
	if got := byName[NameRequestDuration+"_count"]; len(got) != 1 || got[0].value != 20000 {
		t.Errorf("request duration count %+v, want 20000", got)
	}
}
