package report_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/hdrtest"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

// TestReadResultFileErrors checks that a bad results file gives one line
// naming the file and, for malformed JSON, the line and column.
func TestReadResultFileErrors(t *testing.T) {
	var good bytes.Buffer
	if err := fixture(t, "ok").Encode(&good); err != nil {
		t.Fatal(err)
	}
	truncated := good.String()[:good.Len()/2]
	tests := []struct {
		name, content string
		want          []string
		is            error
	}{
		{"truncated", truncated, []string{"results.json:", "unexpected end of JSON input"}, nil},
		{"wrong version", `{"version": 99, "total": {}}`, []string{"results.json: unsupported results version 99 (this tailgate reads versions 1 to 2)"}, results.ErrVersion},
		{"not JSON", "latency,p99\n1,2\n", []string{`results.json: not a tailgate results file: it is not a JSON object (it starts with "latency,p99")`}, nil},
		{"empty", "", []string{"results.json: not a tailgate results file: the file is empty"}, nil},
		{"no version", `{"total": {}}`, []string{`results.json: not a tailgate results file: no "version" field`}, nil},
		{"package.json", `{"name": "x", "version": "1.0.0"}`, []string{`results.json: not a tailgate results file: its "version" is "1.0.0", not a results format version`}, nil},
		{"scenario", "target: http://127.0.0.1:8080\nrequests:\n  a: {path: /}\n", []string{"results.json: not a tailgate results file: it looks like a scenario (YAML); run it with 'tailgate run'"}, nil},
		{"hlog", "#[StartTime: 1]\nTag=x,0.0,1.0,1.0,HISTFAAA\n", []string{"results.json: not a tailgate results file: it looks like an HdrHistogram interval log"}, nil},
		{"null total", `{"version": 1, "total": null}`, []string{`results.json: results file has no "total"`}, nil},
		{"null request", `{"version": 1, "total": {"requests": 1}, "requests": [null]}`, []string{"results.json: results file has a null stats entry"}, nil},
		{"wrong type", "{\"version\": 1,\n \"total\": {\"requests\": \"many\"}}", []string{"results.json:2:", "cannot unmarshal string"}, nil},
		{"bad histogram", `{"version": 1, "total": {"latency": "HISTFAAAnotbase64!"}}`, []string{"results.json: decode histogram"}, nil},
		{"histogram not a string", `{"version": 1, "total": {"latency": 12}}`, []string{"results.json:", "histogram: want a base64 string"}, nil},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "results.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := results.ReadResultFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, path) {
				t.Errorf("error %q does not start with the file name", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// FuzzDecodeResult feeds arbitrary bytes to the results decoder and every
// writer of a decoded result: none may panic, and what decodes must
// survive an encode/decode round trip unchanged.
func FuzzDecodeResult(f *testing.F) {
	// A small result keeps the fuzzer fast: one request, two intervals.
	small := fixture(f, "ok")
	small.Requests, small.Groups, small.Timeline = small.Requests[:1], nil, small.Timeline[:2]
	small.Timeline[0].Series = small.Timeline[0].Series[:1]
	small.Timeline[1].Series = nil
	var good bytes.Buffer
	if err := small.Encode(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"version":1,"total":{"requests":3,"latency":null},"timeline":[{"total":{"latency":null}}]}`))
	f.Add([]byte(`{"version":1,"total":{},"requests":[{"name":"a"}],"groups":[{"name":"a","group":"g"}],"meta":{"model":"closed","partial":true}}`))
	f.Add([]byte(`{"version":1,"total":{},"timeline":[{"start":"-5s","length":"1s","series":[{"name":"x, y"}]}],"schedule":{"planned":1,"late":5}}`))
	f.Add([]byte(`{"version":2}`))
	// Geometry bombs: each declares counts arrays of tens of megabytes in
	// a few hundred bytes; all must be refused from their headers.
	for _, g := range []struct {
		lowest, highest int64
		digits          int32
	}{{1, math.MaxInt64, 5}, {1, 1 << 62, 3}, {1, 3600000000, 5}, {0, 3600000000, 3}} {
		bomb := hdrtest.OneValue(g.lowest, g.highest, g.digits)
		f.Add([]byte(`{"version":1,"total":{"requests":1,"latency":"` + bomb + `"}}`))
		f.Add([]byte(`{"version":1,"total":{},"timeline":[{"total":{"latency":"` + bomb + `"}}]}`))
	}
	// Many empty stats: each used to cost three dense histograms.
	f.Add([]byte(`{"version":1,"total":{},"requests":[{"name":"a"},{"name":"b"},{},{},{},{},{},{}],"groups":[{},{},{},{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// What a hostile file can make tailgate allocate is bounded by
		// what it holds: the histograms it encodes and the series it
		// names (each "{" may open one), each worth at most a few dense
		// histograms (~200 KiB apiece) across decoding, the writers, a
		// merge and a round trip.
		units := uint64(bytes.Count(data, []byte("HISTF")) + bytes.Count(data, []byte("{")))
		limit := 8<<20 + 4<<20*units
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		defer func() {
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > limit {
				t.Fatalf("%d input bytes made %d bytes of allocations, over %d", len(data), n, limit)
			}
		}()
		r, err := results.DecodeResult(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, w := range []func(io.Writer, *results.Result) error{report.WriteText, report.WriteMarkdown, report.WriteJSON, report.WriteHlog} {
			_ = w(io.Discard, r)
		}
		_ = report.Warnings(r)
		// Two copies as shards 0/2 and 1/2: merging hostile input fails
		// or succeeds, it never panics.
		if twin, err := results.DecodeResult(bytes.NewReader(data)); err == nil {
			r.Meta.Shard, twin.Meta.Shard = results.Shard{Index: 0, Count: 2}, results.Shard{Index: 1, Count: 2}
			if m, err := results.Merge(r, twin); err == nil {
				_ = report.WriteText(io.Discard, m)
			}
		}
		var buf bytes.Buffer
		if err := r.Encode(&buf); err != nil {
			return // e.g. a histogram that cannot be re-encoded
		}
		back, err := results.DecodeResult(&buf)
		if err != nil {
			t.Fatalf("re-decoding an encoded result failed: %v", err)
		}
		if !back.Total.Latency.Equal(r.Total.Latency) || back.Total.Requests != r.Total.Requests {
			t.Fatal("total changed across the round trip")
		}
	})
}
