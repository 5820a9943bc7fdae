package chart

import (
	"image/color"
	"io"
	"math"
	"strings"

	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SpectrumLine is one line of the percentile spectrum: a run, a side of a
// comparison, a request name or a tag group.
type SpectrumLine struct {
	Label string
	Hist  *results.Histogram
	// Color is the line colour; nil takes the next palette colour.
	Color color.Color
	// Faint draws a thin, faded line without a legend entry: single runs
	// behind the line that pools them.
	Faint bool
	// Dashed draws a dashed line.
	Dashed bool
}

// maxNines caps the spectrum's x axis at 99.9999%: beyond that a run rarely
// has enough requests for the figure to mean anything.
const maxNines = 6

// nines maps a percentile (0–100) to the spectrum axis, log10(1/(1−p)), so
// that 90%, 99%, 99.9%… are evenly spaced.
func nines(p float64) float64 { return -math.Log10(1 - p/100) }

// Spectrum draws latency against percentile on the HdrHistogram axis (90%,
// 99%, 99.9%… evenly spaced) with a log latency axis, one line per entry.
// Each line is solid up to the highest percentile its sample count
// supports (1 − 1/n) and dashed from there to its max, drawn at the
// right-hand edge labelled "max", so no series stops short of its max.
func Spectrum(w io.Writer, lines []SpectrumLine, o Options) error {
	p := newPlot("percentile", "latency (ms, log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	var legend []legendEntry
	xmax, lo, hi := 2.0, math.Inf(1), 0.0
	ci := 0
	drawn := 0
	// Faint lines first so the bold ones stay on top.
	order := make([]int, 0, len(lines))
	for i, l := range lines {
		if l.Faint {
			order = append(order, i)
		}
	}
	for i, l := range lines {
		if !l.Faint {
			order = append(order, i)
		}
	}
	colours := make([]color.Color, len(lines))
	for i, l := range lines {
		colours[i] = l.Color
		if colours[i] == nil {
			colours[i] = colour(ci)
			ci++
		}
	}
	for _, l := range lines {
		if n := l.Hist.Count(); n > 0 {
			xmax = math.Max(xmax, math.Min(math.Log10(float64(n)), maxNines))
		}
	}
	// The max of every series sits at this edge, past the highest
	// supported percentile of any of them.
	edge := xmax + 0.4
	anyThin := false
	for _, i := range order {
		l := lines[i]
		n := l.Hist.Count()
		if n == 0 {
			continue
		}
		top := math.Min(math.Log10(float64(n)), maxNines)
		var pts plotter.XYs
		for x := 0.0; ; x += 0.01 {
			if x > top {
				x = top
			}
			v := float64(l.Hist.Percentile(100*(1-math.Pow(10, -x)))) / 1e6
			v = math.Max(v, 0.001)
			pts = append(pts, plotter.XY{X: x, Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			if x >= top {
				break
			}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		c := colours[i]
		width := 2.2
		if l.Faint {
			c, width = fade(c, 0.45), 1.0
		}
		line.LineStyle = lineStyle(c, width, l.Dashed)
		p.Add(line)
		drawn++
		// Beyond 1 − 1/n too few samples support a percentile: a thin
		// dotted line goes on to the max.
		mx := math.Max(float64(l.Hist.Max())/1e6, 0.001)
		hi = math.Max(hi, mx)
		tail, err := plotter.NewLine(plotter.XYs{pts[len(pts)-1], {X: edge, Y: mx}})
		if err != nil {
			return err
		}
		tail.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.1), Dashes: []vg.Length{vg.Points(2), vg.Points(2.5)}}
		p.Add(tail)
		anyThin = true
		if !l.Faint {
			legend = append(legend, legendEntry{label: l.Label, thumb: lineThumb{line: line.LineStyle}})
		}
	}
	if drawn == 0 {
		return errNoData
	}
	if anyThin {
		legend = append(legend, legendEntry{label: "dotted: too few samples, to the max", thumb: lineThumb{line: draw.LineStyle{Color: grey, Width: vg.Points(1.1), Dashes: []vg.Length{vg.Points(2), vg.Points(2.5)}}}})
	}
	p.X.Min, p.X.Max = 0, edge
	p.Y.Min, p.Y.Max = logRange(lo, hi)
	p.X.Tick.Marker = spectrumTicks{edge: edge}
	return render(w, o, o.title("Latency by percentile"), legend, func(c draw.Canvas) error {
		p.Draw(c)
		return nil
	})
}

// spectrumTicks label the spectrum axis in percent: 0%, 50%, 90%, 99%, …,
// and "max" at the edge where every series ends.
type spectrumTicks struct{ edge float64 }

// Ticks implements plot.Ticker.
func (t spectrumTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := []plot.Tick{{Value: 0, Label: "0%"}, {Value: nines(50), Label: "50%"}}
	if t.edge > 0 {
		ts = append(ts, plot.Tick{Value: t.edge, Label: "max"})
		hi = t.edge - 0.3
	}
	for k := 1; k <= maxNines; k++ {
		v := float64(k)
		if v > hi+1e-9 {
			break
		}
		label := "90%"
		if k > 1 {
			label = "99." + strings.Repeat("9", k-2) + "%"
			label = strings.Replace(label, ".%", "%", 1)
		}
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	// Minor ticks at 2×, 5× between the nines (75%, 95%, 97.5% …) help read
	// values between the labels.
	for k := 0; k < maxNines; k++ {
		for _, f := range []float64{2, 5} {
			v := float64(k) + math.Log10(f)
			if v <= hi && v > lo && !(k == 0 && f == 2) {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}
