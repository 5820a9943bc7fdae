package chart

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/results"
)

// fixtures reads the deterministic results the report package's tests
// generate (report/testdata/compare): offset vs cursor pagination over page
// depths, 5 runs before and 5 after an index, the first "before" run with
// a 1.5 s stall.
func fixtures(t testing.TB, side string, n int) []*results.Result {
	t.Helper()
	var out []*results.Result
	for i := 1; i <= n; i++ {
		r, err := results.ReadResultFile(filepath.Join("..", "testdata", "compare", fmt.Sprintf("%s-%d.json", side, i)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// charts are the renders under test, each a function of fresh fixtures.
func charts(t testing.TB) map[string]func(io.Writer, Options) error {
	return map[string]func(io.Writer, Options) error{
		"spectrum": func(w io.Writer, o Options) error {
			b, a := fixtures(t, "before", 1)[0], fixtures(t, "after", 1)[0]
			o.Subtitle = Describe("before", []*results.Result{b}) + "\n" + Describe("after", []*results.Result{a})
			return Spectrum(w, []SpectrumLine{
				{Label: "before", Hist: b.Total.Latency, Color: Blue},
				{Label: "after", Hist: a.Total.Latency, Color: Vermillion},
			}, o)
		},
		"timeline": func(w io.Writer, o Options) error {
			b := fixtures(t, "before", 1)[0]
			// Mark the first three seconds as warmup to show its shading
			// (the totals stay as they are: only the chart reads the flag).
			for i := range b.Timeline[:3] {
				b.Timeline[i].Warmup = true
			}
			o.Subtitle = Describe("", []*results.Result{b})
			return Timeline(w, []TimelineRun{{Result: b, Color: Blue}}, o)
		},
		"timeline-overlay": func(w io.Writer, o Options) error {
			b, a := fixtures(t, "before", 2), fixtures(t, "after", 2)
			o.Subtitle = Describe("before", b) + "\n" + Describe("after", a)
			var runs []TimelineRun
			for _, r := range b {
				runs = append(runs, TimelineRun{Label: "before", Result: r, Color: Blue})
			}
			for _, r := range a {
				runs = append(runs, TimelineRun{Label: "after", Result: r, Color: Vermillion})
			}
			return Timeline(w, runs, o)
		},
		"quota": func(w io.Writer, o Options) error {
			r := quotaFixture()
			o.Subtitle = Describe("", []*results.Result{r})
			return Quota(w, r, NewRunColours(r), o)
		},
		"bars": func(w io.Writer, o Options) error {
			b, a := fixtures(t, "before", 1)[0], fixtures(t, "after", 1)[0]
			o.Subtitle = Describe("before", []*results.Result{b}) + "\n" + Describe("after", []*results.Result{a})
			return Bars(w, []BarSet{{Label: "before", Hist: b.Lookup("offset", "").Latency}, {Label: "after", Hist: a.Lookup("offset", "").Latency}}, o)
		},
		"per-second": func(w io.Writer, o Options) error {
			// A fixed window's boundary burst against a token bucket's
			// steady refill, and the limit they share.
			var fixed, bucket, limit []RatePoint
			for s := range 20 {
				f, b := 2.0, 2.0
				if s >= 8 && s < 12 {
					f, b = 35, 10
				}
				if s == 8 {
					b = 28
				}
				fixed = append(fixed, RatePoint{Start: float64(s), Length: 1, PerSecond: f})
				bucket = append(bucket, RatePoint{Start: float64(s), Length: 1, PerSecond: b})
			}
			limit = append(limit, RatePoint{Start: 0, Length: 20, PerSecond: 10})
			o.Subtitle = "synthetic: 100 requests per 10s"
			return PerSecond(w, "requests let through per second", []RateLine{
				{Label: "fixed window", Points: fixed, Color: Vermillion},
				{Label: "token bucket", Points: bucket, Color: Blue},
				{Label: "limit (average)", Points: limit, Color: Black, Dashed: true},
			}, o)
		},
		"by-tag": func(w io.Writer, o Options) error {
			rs := fixtures(t, "after", 1)
			o.Subtitle = Describe("", rs)
			tag := NumericTag(rs)
			series, err := TagSeriesOf(tag, rs, "")
			if err != nil {
				return err
			}
			return ByTag(w, tag, series, o)
		},
	}
}

// quotaFixture is a minute against a fixed-window limiter of 100 requests
// per 10s, sent 15 requests per second: each window's quota runs out in
// its seventh second, and the rest of the window is 429s.
func quotaFixture() *results.Result {
	r := &results.Result{Total: results.NewStats("", ""), Meta: results.Meta{Name: "rate-limit", Target: "http://127.0.0.1:8080", Model: results.OpenModel, PlannedRate: 15}}
	r.Meta.Start = time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	r.Meta.End = r.Meta.Start.Add(time.Minute)
	r.Meta.PlannedDuration = results.Duration(time.Minute)
	for s := range 60 {
		used := min((s%10+1)*15, 100)
		errs := (s%10+1)*15 - used
		errs = min(errs, 15)
		lat := results.NewHistogram()
		for i := range 15 - errs {
			lat.Record(time.Duration(2+i%5) * time.Millisecond)
		}
		r.Timeline = append(r.Timeline, results.Interval{
			Start: results.Duration(time.Duration(s) * time.Second), Length: results.Duration(time.Second),
			PlannedRate: 15, Arrivals: 15,
			Total: results.IntervalStats{Requests: 15, Errors: uint64(errs), Latency: lat},
			Quota: &results.Quota{Limit: 100, Remaining: int64(100 - used)},
		})
		r.Total.Requests += 15
		r.Total.Errors += uint64(errs)
		if err := r.Total.Latency.Merge(lat); err != nil {
			panic(err)
		}
	}
	return r
}

func render1(t *testing.T, f func(io.Writer, Options) error, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestChartsGolden(t *testing.T) {
	for name, f := range charts(t) {
		t.Run(name, func(t *testing.T) {
			// Goldens are half the default size: the same layout (the
			// resolution scales with the size) at a quarter of the pixels,
			// which keeps the test quick under -race.
			o := Options{Width: goldenW, Height: goldenH}
			got := render1(t, f, o)
			cfg, err := png.DecodeConfig(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != goldenW || cfg.Height != goldenH {
				t.Errorf("size %d×%d, want %d×%d", cfg.Width, cfg.Height, goldenW, goldenH)
			}
			again := render1(t, f, o)
			if !bytes.Equal(got, again) {
				t.Error("two renders of the same data differ")
			}
			want, ok := golden.Want(t, filepath.Join("testdata", name+".png"), got)
			if !ok {
				return
			}
			// The tolerance only absorbs anti-aliasing differences of another
			// platform's float rounding.
			// Exact bytes are the rule; the pixel comparison only runs when
			// they differ (it is slow under -race).
			if bytes.Equal(got, want) {
				return
			}
			if diff := pixelDiff(t, got, want); diff > 0.001 {
				failed := filepath.Join(t.TempDir(), name+".png")
				_ = os.WriteFile(failed, got, 0o644)
				t.Errorf("%s differs from the golden image (new render in %s; go test -update rewrites the golden)", name, failed)
			}
		})
	}
}

// pixelDiff returns the fraction of pixels that differ visibly between two
// PNG images (1 when their sizes differ).
func pixelDiff(t *testing.T, a, b []byte) float64 {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return 1
	}
	bd := ia.Bounds()
	differ := 0
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r1, g1, b1, _ := ia.At(x, y).RGBA()
			r2, g2, b2, _ := ib.At(x, y).RGBA()
			if d := max(absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)); d > 0x1000 {
				differ++
			}
		}
	}
	return float64(differ) / float64(bd.Dx()*bd.Dy())
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

const goldenW, goldenH = DefaultWidth / 2, DefaultHeight / 2

func TestChartSizes(t *testing.T) {
	f := charts(t)["bars"]
	for _, sz := range [][2]int{{DefaultWidth, DefaultHeight}, {300, 300}} {
		o := Options{Width: sz[0], Height: sz[1]}
		if sz[0] == DefaultWidth {
			o = Options{} // the defaults
		}
		got := render1(t, f, o)
		cfg, err := png.DecodeConfig(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != sz[0] || cfg.Height != sz[1] {
			t.Errorf("size %d×%d, want %d×%d", cfg.Width, cfg.Height, sz[0], sz[1])
		}
	}
	if err := f(io.Discard, Options{Width: 10, Height: 10}); err == nil {
		t.Error("a 10×10 chart must be refused")
	}
}

func TestNoData(t *testing.T) {
	if err := Spectrum(io.Discard, []SpectrumLine{{Label: "empty", Hist: results.NewHistogram()}}, Options{}); err == nil {
		t.Error("an empty spectrum must fail")
	}
	if err := Timeline(io.Discard, nil, Options{}); err == nil {
		t.Error("an empty timeline must fail")
	}
	if err := Bars(io.Discard, nil, Options{}); err == nil {
		t.Error("empty bars must fail")
	}
	if err := ByTag(io.Discard, "depth", nil, Options{}); err == nil {
		t.Error("an empty by-tag chart must fail")
	}
	if err := PerSecond(io.Discard, "per second", []RateLine{{Label: "empty"}}, Options{}); err == nil {
		t.Error("an empty per-second chart must fail")
	}
}

func TestWriteRunAndCompareCharts(t *testing.T) {
	dir := t.TempDir()
	files, err := WriteRunCharts(dir, fixtures(t, "before", 1)[0], Options{Width: 400, Height: 225})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"spectrum.png", "timeline.png", "bars.png", "by-tag.png"}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %v", files, want)
	}
	for i, f := range files {
		if filepath.Base(f.Path) != want[i] {
			t.Errorf("file %d is %s, want %s", i, f.Path, want[i])
		}
	}
	files, err = WriteRunCharts(filepath.Join(dir, "quota"), quotaFixture(), Options{Width: 400, Height: 225})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || filepath.Base(files[2].Path) != "quota.png" {
		t.Errorf("a run with a quota wrote %v, want spectrum, timeline and quota", files)
	}
	b, a := fixtures(t, "before", 3), fixtures(t, "after", 3)
	side := func(label string, rs []*results.Result) CompareSide {
		s := CompareSide{Label: label, Results: rs}
		for _, r := range rs {
			s.Hists = append(s.Hists, r.Total.Latency)
		}
		return s
	}
	files, err = WriteCompareCharts(filepath.Join(dir, "cmp"), [2]CompareSide{side("before", b), side("after", a)}, Options{Width: 400, Height: 225})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Errorf("compare wrote %v, want 4 charts", files)
	}
}

// TestLongTimeline draws a one-hour run: LTTB must bound the points, and
// the chart must still show the one slow minute.
func TestLongTimeline(t *testing.T) {
	const secs = 3600
	r := &results.Result{Total: results.NewStats("", ""), Meta: results.Meta{Name: "soak", Model: results.OpenModel}}
	for i := 0; i < secs; i++ {
		h := results.NewHistogram()
		lat := 2 * time.Millisecond
		if i >= 1800 && i < 1860 {
			lat = 400 * time.Millisecond
		}
		for k := 0; k < 10; k++ {
			h.Record(lat + time.Duration(k)*time.Microsecond)
		}
		// Kept in its encoding, as a timeline read from a file is.
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if h, err = results.DecodeHistogram(enc); err != nil {
			t.Fatal(err)
		}
		r.Timeline = append(r.Timeline, results.Interval{
			Start: results.Duration(time.Duration(i) * time.Second), Length: results.Duration(time.Second), PlannedRate: 10,
			Total: results.IntervalStats{Requests: 10, Latency: h},
		})
	}
	var buf bytes.Buffer
	if err := Timeline(&buf, []TimelineRun{{Result: r}}, Options{Width: 400, Height: 225}); err != nil {
		t.Fatal(err)
	}
	var pts plotter.XYs
	for i := 0; i < secs; i++ {
		y := 2.0
		if i >= 1800 && i < 1860 {
			y = 400
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: y})
	}
	got := LTTB(pts, MaxTimelinePoints)
	if len(got) != MaxTimelinePoints {
		t.Fatalf("%d points, want %d", len(got), MaxTimelinePoints)
	}
	peak := false
	for _, p := range got {
		if p.Y == 400 {
			peak = true
		}
	}
	if !peak {
		t.Error("downsampling lost the slow minute")
	}
}

func TestLTTB(t *testing.T) {
	var pts plotter.XYs
	for i := 0; i < 1000; i++ {
		y := float64(i % 7)
		if i == 555 {
			y = 100 // the spike a reader must see
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: y})
	}
	got := LTTB(pts, 100)
	if len(got) != 100 {
		t.Fatalf("%d points, want 100", len(got))
	}
	if got[0] != pts[0] || got[len(got)-1] != pts[len(pts)-1] {
		t.Error("first and last points must stay")
	}
	spike := false
	for i, p := range got {
		if p.Y == 100 {
			spike = true
		}
		if i > 0 && p.X <= got[i-1].X {
			t.Fatalf("x not increasing at %d", i)
		}
	}
	if !spike {
		t.Error("the spike was lost")
	}
	if small := LTTB(pts[:50], 100); len(small) != 50 {
		t.Error("short input must come back unchanged")
	}
}

func TestSpectrumTicks(t *testing.T) {
	want := map[float64]string{0: "0%", 1: "90%", 2: "99%", 3: "99.9%", 4: "99.99%"}
	for _, tk := range (spectrumTicks{}).Ticks(0, 4) {
		if tk.Label == "" {
			continue
		}
		if w, ok := want[tk.Value]; ok && w != tk.Label {
			t.Errorf("tick %v labelled %q, want %q", tk.Value, tk.Label, w)
		}
		delete(want, tk.Value)
	}
	if len(want) != 0 {
		t.Errorf("missing ticks %v", want)
	}
}

func TestNumericTag(t *testing.T) {
	mk := func(groups ...string) []*results.Result {
		r := &results.Result{}
		for _, g := range groups {
			r.Groups = append(r.Groups, results.NewStats("x", g))
		}
		return []*results.Result{r}
	}
	tests := []struct {
		groups []string
		want   string
	}{
		{[]string{"depth=1", "depth=10"}, "depth"},
		{[]string{"depth=1,sort=id", "depth=10,sort=id"}, "depth"},
		{[]string{"page=1,size=10", "page=2,size=10", "page=3,size=20"}, "page"},
		{[]string{"kind=a", "kind=b"}, ""},
		{[]string{"depth=1"}, ""},
		{[]string{"depth=0", "depth=10"}, ""},
	}
	for _, tc := range tests {
		if got := NumericTag(mk(tc.groups...)); got != tc.want {
			t.Errorf("NumericTag(%v) = %q, want %q", tc.groups, got, tc.want)
		}
	}
}

func BenchmarkSpectrum(b *testing.B) {
	r := fixtures(b, "before", 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := Spectrum(io.Discard, []SpectrumLine{{Label: "all", Hist: r.Total.Latency}}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
