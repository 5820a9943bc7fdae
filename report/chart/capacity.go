package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Capacity draws a capacity search: above, latency percentiles (log scale)
// against the offered rate with the SLO's latency bound and the knee (the
// highest passing rate) marked, each probe a filled dot when it passed and a
// cross when it did not; below, achieved against offered arrival rate with
// the line where they are equal.
func Capacity(w io.Writer, c *results.Capacity, o Options) error {
	if c == nil || len(c.Probes) == 0 {
		return errNoData
	}
	probes := append([]results.CapacityProbe(nil), c.Probes...)
	sort.SliceStable(probes, func(i, j int) bool { return probes[i].Rate < probes[j].Rate })
	// Lines go through the last probe at each rate (a repeated probe
	// replaces the one before it); every probe keeps its glyph.
	var last []results.CapacityProbe
	for i, p := range probes {
		if i+1 < len(probes) && probes[i+1].Rate == p.Rate {
			continue
		}
		last = append(last, p)
	}

	top := newPlot("", "latency (ms)")
	top.Y.Scale = plot.LogScale{}
	top.Y.Tick.Marker = logTicks{}
	bot := newPlot("offered arrival rate (/s)", "achieved (/s)")
	bot.Y.Tick.Marker = linTicks{}
	bot.X.Tick.Marker = linTicks{}
	top.X.Tick.Marker = linTicks{}

	var legend []legendEntry
	lo, hi, xmax := math.Inf(1), 0.0, 0.0
	for _, p := range probes {
		xmax = math.Max(xmax, p.Rate)
	}
	for _, q := range []struct {
		key   string
		col   color.Color
		width float64
		dash  []vg.Length
	}{
		{"p50", Blue, 1.6, []vg.Length{vg.Points(6), vg.Points(3)}},
		{"p99", Vermillion, 2.2, nil},
		{"p99.9", Orange, 1.4, []vg.Length{vg.Points(1.5), vg.Points(2)}},
	} {
		col := q.col
		var pts plotter.XYs
		for _, p := range last {
			v := p.Latency[q.key]
			if !(v > 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: p.Rate, Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if len(pts) == 0 {
			continue
		}
		sty := draw.LineStyle{Color: col, Width: vg.Points(q.width), Dashes: q.dash}
		if len(pts) > 1 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("capacity chart: %w", err)
			}
			l.LineStyle = sty
			top.Add(l)
		}
		if err := addVerdictGlyphs(top, probes, q.key, col); err != nil {
			return err
		}
		legend = append(legend, legendEntry{label: q.key, thumb: lineThumb{line: sty}})
	}
	if math.IsInf(lo, 1) {
		return errNoData
	}
	if b := c.LatencyBound.D(); b > 0 {
		bound := float64(b) / 1e6
		lo, hi = math.Min(lo, bound), math.Max(hi, bound)
		sty := lineStyle(Black, 1.4, true)
		top.Add(hline{y: bound, style: sty})
		legend = append(legend, legendEntry{label: "SLO " + strconv.FormatFloat(bound, 'g', 4, 64) + " ms", thumb: lineThumb{line: sty}})
	}
	legend = append(legend,
		legendEntry{label: "passed", thumb: glyphThumb{draw.GlyphStyle{Color: Black, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}}},
		legendEntry{label: "failed", thumb: glyphThumb{draw.GlyphStyle{Color: Black, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}}})
	if c.MaxRate > 0 {
		sty := lineStyle(BluishGreen, 1.6, false)
		label := "max " + trimRate(c.MaxRate) + "/s"
		top.Add(vline{x: c.MaxRate, style: sty, label: label})
		bot.Add(vline{x: c.MaxRate, style: sty})
		legend = append(legend, legendEntry{label: "knee: " + label, thumb: lineThumb{line: sty}})
	}

	var achieved, line plotter.XYs
	ymax := 0.0
	for _, p := range probes {
		achieved = append(achieved, plotter.XY{X: p.Rate, Y: p.Achieved})
		ymax = math.Max(ymax, math.Max(p.Achieved, p.Rate))
	}
	for _, p := range last {
		line = append(line, plotter.XY{X: p.Rate, Y: p.Achieved})
	}
	ideal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: xmax * 1.05, Y: xmax * 1.05}})
	if err != nil {
		return err
	}
	ideal.LineStyle = lineStyle(grey, 1.2, true)
	bot.Add(ideal)
	al, err := plotter.NewLine(line)
	if err != nil {
		return err
	}
	al.LineStyle = lineStyle(Blue, 1.8, false)
	bot.Add(al)
	if err := addVerdictGlyphsXY(bot, probes, achieved, Blue); err != nil {
		return err
	}
	legend = append(legend,
		legendEntry{label: "achieved /s", thumb: lineThumb{line: al.LineStyle}},
		legendEntry{label: "achieved = offered", thumb: lineThumb{line: ideal.LineStyle}})

	top.Y.Min, top.Y.Max = logRange(lo, hi)
	top.X.Min, top.X.Max = 0, xmax*1.05
	bot.X.Min, bot.X.Max = 0, xmax*1.05
	bot.Y.Min, bot.Y.Max = 0, ymax*1.1
	return render(w, o, o.title("Capacity: latency and throughput against offered rate"), legend, stacked(top, bot, 0.38))
}

// addVerdictGlyphs marks each probe's value of one percentile: a dot for a
// passing probe, a cross for one that did not pass.
func addVerdictGlyphs(p *plot.Plot, probes []results.CapacityProbe, key string, col color.Color) error {
	var pts plotter.XYs
	for _, pr := range probes {
		pts = append(pts, plotter.XY{X: pr.Rate, Y: pr.Latency[key]})
	}
	return addVerdictGlyphsXY(p, probes, pts, col)
}

func addVerdictGlyphsXY(p *plot.Plot, probes []results.CapacityProbe, pts plotter.XYs, col color.Color) error {
	var pass, fail plotter.XYs
	for i, pr := range probes {
		if _, log := p.Y.Scale.(plot.LogScale); log && !(pts[i].Y > 0) {
			continue // no latency measured: nothing to place on a log axis
		}
		if pr.Pass {
			pass = append(pass, pts[i])
		} else {
			fail = append(fail, pts[i])
		}
	}
	for _, set := range []struct {
		pts   plotter.XYs
		glyph draw.GlyphStyle
	}{
		{pass, draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}},
		{fail, draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}},
	} {
		if len(set.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(set.pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle = set.glyph
		p.Add(sc)
	}
	return nil
}

// hline is a horizontal line across the panel at y (the SLO bound).
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, yt := p.Transforms(&c)
	y := yt(h.y)
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// vline is a vertical line across the panel at x (the knee), with an
// optional label at its top.
type vline struct {
	x     float64
	style draw.LineStyle
	label string
}

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	xt, _ := p.Transforms(&c)
	x := xt(v.x)
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
	if v.label != "" {
		ts := textStyle(sans(valueSize), v.style.Color)
		ts.XAlign, ts.YAlign = draw.XRight, draw.YTop
		c.FillText(ts, vg.Point{X: x - vg.Points(4), Y: c.Max.Y - vg.Points(2)}, v.label)
	}
}

// glyphThumb is a legend thumbnail of one glyph.
type glyphThumb struct{ glyph draw.GlyphStyle }

// Thumbnail implements plot.Thumbnailer.
func (t glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyphNoClip(t.glyph, c.Center()) }

// trimRate formats a rate with up to 4 significant digits and no exponent.
func trimRate(r float64) string {
	if r >= 1000 {
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	}
	return strconv.FormatFloat(r, 'g', 4, 64)
}
