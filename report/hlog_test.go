package report_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-dev/tailgate/internal/specialfile"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

var pcts = []float64{50, 90, 95, 99, 99.9, 100}

// TestHlogRoundTrip writes the timeline as an interval log, reads it back
// with ReadHlog and checks every interval histogram and its percentiles.
func TestHlogRoundTrip(t *testing.T) {
	r := fixture(t, "behind")
	var buf bytes.Buffer
	if err := report.WriteHlog(&buf, r); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"#[StartTime: 1767323045 ", "#[BaseTime: 1767323045 ", `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`, "\nTag=GET_/cursor,1.000,1.000,"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	log, err := report.ReadHlog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !log.StartTime.Equal(fixtureStart) || !log.BaseTime.Equal(fixtureStart) {
		t.Errorf("start %v base %v, want %v", log.StartTime, log.BaseTime, fixtureStart)
	}
	if got, want := len(log.Intervals), len(r.Timeline)*3; got != want {
		t.Fatalf("%d intervals read, want %d", got, want)
	}
	k := 0
	for i := range r.Timeline {
		iv := &r.Timeline[i]
		want := []struct {
			tag string
			h   *results.Histogram
		}{{"", iv.Total.Latency}, {"GET_/cursor", iv.Series[0].Latency}, {"GET_/offset", iv.Series[1].Latency}}
		for _, w := range want {
			got := log.Intervals[k]
			k++
			if got.Tag != w.tag || got.Start != iv.Start.D() || got.Length != iv.Length.D() {
				t.Errorf("interval %d: tag %q at %v for %v, want %q at %v for %v", i, got.Tag, got.Start, got.Length, w.tag, iv.Start.D(), iv.Length.D())
			}
			if !got.Histogram.Equal(w.h) {
				t.Errorf("interval %d %q: histogram differs", i, w.tag)
			}
			for _, p := range pcts {
				if a, b := got.Histogram.Percentile(p), w.h.Percentile(p); a != b {
					t.Errorf("interval %d %q: p%v = %v, want %v", i, w.tag, p, a, b)
				}
			}
			if wantMax := float64(w.h.Max()) / 1e6; got.Max != wantMax {
				t.Errorf("interval %d %q: max column %v, want %v ms", i, w.tag, got.Max, wantMax)
			}
		}
	}
	// All intervals together are the whole timeline: warmup plus total.
	all, err := log.Merged("")
	if err != nil {
		t.Fatal(err)
	}
	whole := results.NewHistogram()
	_ = whole.Merge(r.Total.Latency)
	_ = whole.Merge(r.Warmup.Latency)
	if !all.Equal(whole) {
		t.Errorf("merged untagged intervals differ from total+warmup: %d vs %d values", all.Count(), whole.Count())
	}
}

// TestHlogReadByHdrHistogram reads the log with hdrhistogram-go's own
// reader, an independent implementation of the format.
func TestHlogReadByHdrHistogram(t *testing.T) {
	r := fixture(t, "ok")
	var buf bytes.Buffer
	if err := report.WriteHlog(&buf, r); err != nil {
		t.Fatal(err)
	}
	rd := hdrhistogram.NewHistogramLogReader(&buf)
	var n int
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		iv := &r.Timeline[n/3]
		want := iv.Total.Latency
		wantTag := ""
		if j := n % 3; j > 0 {
			want = iv.Series[j-1].Latency
			wantTag = report.HlogTag(iv.Series[j-1].Name)
		}
		if h.Tag() != wantTag {
			t.Errorf("line %d: tag %q, want %q", n, h.Tag(), wantTag)
		}
		if h.TotalCount() != want.Count() {
			t.Errorf("line %d: %d values, want %d", n, h.TotalCount(), want.Count())
		}
		for _, p := range pcts {
			if a, b := time.Duration(h.ValueAtPercentile(p))*time.Microsecond, want.Percentile(p); a != b {
				t.Errorf("line %d: p%v = %v, want %v", n, p, a, b)
			}
		}
		wantStart := fixtureStart.Add(iv.Start.D()).UnixMilli()
		if h.StartTimeMs() != wantStart {
			t.Errorf("line %d: start %d ms, want %d", n, h.StartTimeMs(), wantStart)
		}
		n++
	}
	if n != len(r.Timeline)*3 {
		t.Errorf("hdrhistogram-go read %d intervals, want %d", n, len(r.Timeline)*3)
	}
}

func TestHlogTags(t *testing.T) {
	tests := map[string]string{
		"GET /a":        "GET_/a",
		"a,b c\td=e":    "a_b_c_d_e",
		"":              "unnamed",
		"list-products": "list-products",
	}
	for in, want := range tests {
		if got := report.HlogTag(in); got != want {
			t.Errorf("HlogTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadHlogErrors(t *testing.T) {
	h := results.NewHistogram()
	h.Record(time.Millisecond)
	enc, _ := h.Encode()
	good := string(enc)
	tests := []struct {
		name, log, want string
	}{
		{"bad start", "#[StartTime: x]\n", "1:1: StartTime:"},
		{"few fields", "#c\n1.0,2.0\n", "2:1: want start,length,max,histogram; got 2 fields"},
		{"bad number", "1.0,zz,3," + good + "\n", `1:5: interval length "zz"`},
		{"negative", "Tag=a,-1,1,1," + good + "\n", `1:7: start timestamp "-1"`},
		{"bad payload", "\n\nTag=a,0,1,1,HISTFAAAnope\n", "3:13: decode histogram"},
		{"tag only", "Tag=abc\n", "1:1: tag without interval fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := report.ReadHlog(strings.NewReader(tt.log))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzReadHlog(f *testing.F) {
	var buf bytes.Buffer
	if err := report.WriteHlog(&buf, fixture(f, "ok")); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("Tag=a,0,1,1,HISTFAAAAB\n"))
	f.Add([]byte("#[StartTime: 1.5 (seconds since epoch)]\n0,1,1,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		log, err := report.ReadHlog(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, iv := range log.Intervals {
			_ = iv.Histogram.Summary()
		}
		// Histograms of another geometry may not merge (an error, not a
		// panic); the call must return either way.
		for _, tag := range log.Tags() {
			_, _ = log.Merged(tag)
		}
	})
}

// TestReadHlogFile: a log is read from a regular file with errors naming
// it; a named pipe is refused at once instead of waited on.
func TestReadHlogFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := report.WriteHlog(&buf, fixture(t, "ok")); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "run.hlog")
	if err := os.WriteFile(good, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := report.ReadHlogFile(good); err != nil || len(l.Intervals) == 0 {
		t.Fatalf("ReadHlogFile: %v", err)
	}
	bad := filepath.Join(dir, "bad.hlog")
	if err := os.WriteFile(bad, []byte("0,1,2,notbase64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := report.ReadHlogFile(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":1:") {
		t.Fatalf("bad log: %v", err)
	}
	pipe := filepath.Join(dir, "pipe.hlog")
	specialfile.FIFO(t, pipe)
	if _, err := report.ReadHlogFile(pipe); !errors.Is(err, results.ErrNotRegular) {
		t.Fatalf("pipe: %v", err)
	}
}
