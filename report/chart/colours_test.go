package chart

import (
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestRunChartsShareColours: every chart of one run report draws a series
// in the one colour NewRunColours gives it (item 9): of the palette's
// colours, the spectrum shows the whole run's and every request's, the
// bars and the by-tag chart the requests', the timeline the whole run's
// only, so no colour means one series in one chart and another in the
// next.
func TestRunChartsShareColours(t *testing.T) {
	res := fixtures(t, "before", 1)[0]
	if len(res.Requests) < 2 {
		t.Fatalf("the fixture has %d request names; want several", len(res.Requests))
	}
	cols := NewRunColours(res)
	requests := map[color.Color]bool{}
	for _, st := range res.Requests {
		c := cols.Of(st.Name)
		if requests[c] || c == cols.Total() {
			t.Fatalf("request %s shares its colour %v with another series", st.Name, c)
		}
		requests[c] = true
	}
	dir := t.TempDir()
	if _, err := WriteRunCharts(dir, res, Options{Width: 800, Height: 450}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file         string
		total, names bool
	}{
		{"spectrum.png", true, true},
		{"bars.png", false, true},
		{"by-tag.png", false, true},
		{"timeline.png", true, false},
	} {
		got := paletteColoursIn(t, filepath.Join(dir, tc.file))
		want := map[color.Color]bool{}
		if tc.total && cols.Total() != Black {
			want[cols.Total()] = true
		}
		if tc.names {
			for c := range requests {
				want[c] = c != Black
			}
		}
		for c := range got {
			if !want[c] {
				t.Errorf("%s draws %v, the colour of no series it shows", tc.file, c)
			}
		}
		for c, w := range want {
			if w && !got[c] {
				t.Errorf("%s lacks %v, the colour of a series it shows", tc.file, c)
			}
		}
	}
}

// paletteColoursIn returns the palette colours other than Black that at
// least 20 pixels of the PNG at path have exactly (line cores;
// anti-aliased edges are mixtures). Black is left out: titles and labels
// are black too, so only the other colours tell series apart.
func paletteColoursIn(t *testing.T, path string) map[color.Color]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}]++
		}
	}
	out := map[color.Color]bool{}
	for _, c := range Palette {
		if c != Black && counts[c.(color.RGBA)] >= 20 {
			out[c] = true
		}
	}
	return out
}

// TestFlowsChart: a run with flow series gets flows.png, one spectrum line
// per flow in a colour of its own, none of the request names'.
func TestFlowsChart(t *testing.T) {
	res := fixtures(t, "before", 1)[0]
	for i, name := range []string{"walk", "checkout"} {
		st := results.NewStats(name, "")
		for v := range 2000 {
			d := time.Duration(i+1) * (40*time.Millisecond + time.Duration(v*v%30000)*time.Microsecond)
			st.Latency.Record(d)
		}
		st.Requests = 2000
		res.Flows = append(res.Flows, st)
	}
	res.Sort()
	dir := t.TempDir()
	files, err := WriteRunCharts(dir, res, Options{Width: 800, Height: 450})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 || filepath.Base(files[1].Path) != "flows.png" {
		t.Fatalf("wrote %v; want flows.png after the spectrum", files)
	}
	cols := NewRunColours(res)
	want := map[color.Color]bool{cols.Flow("walk"): true, cols.Flow("checkout"): true}
	for _, st := range res.Requests {
		if want[cols.Of(st.Name)] {
			t.Fatalf("a flow shares its colour with request %s", st.Name)
		}
	}
	got := paletteColoursIn(t, filepath.Join(dir, "flows.png"))
	for c := range want {
		if !got[c] {
			t.Errorf("flows.png lacks %v, a flow's colour", c)
		}
	}
	for c := range got {
		if !want[c] {
			t.Errorf("flows.png draws %v, the colour of no flow", c)
		}
	}
}
