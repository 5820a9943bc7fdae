package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TimelineRun is one run drawn on the latency-over-time chart.
type TimelineRun struct {
	Label  string
	Result *results.Result
	// Series is the request name to draw; "" draws the whole run.
	Series string
	// Color is the run's colour; nil takes the next palette colour.
	Color color.Color
}

// MaxTimelinePoints bounds the points of one line: longer timelines are
// downsampled with LTTB, which keeps the peaks a reader looks for.
const MaxTimelinePoints = 500

// Timeline draws p50 and p99 latency per second (log scale, top panel) and
// the achieved and planned throughput with errors per second (bottom panel)
// for one or more runs, overlaid on seconds since each run's start.
// Seconds in which nothing completed leave a gap in the latency lines.
func Timeline(w io.Writer, runs []TimelineRun, o Options) error {
	top := newPlot("", "latency (ms, log scale)")
	top.Y.Scale = plot.LogScale{}
	top.Y.Tick.Marker = logTicks{}
	top.X.Tick.Marker = linTicks{}
	bot := newPlot("time since start (s)", "per second")
	bot.X.Tick.Marker = linTicks{}
	bot.Y.Tick.Marker = linTicks{}

	var legend []legendEntry
	lo, hi, tmax, rmax := math.Inf(1), 0.0, 0.0, 0.0
	ci := 0
	// The warmup (of the first run that has one) is shaded in both panels:
	// its figures are left out of the summary, and the reader should know
	// why the start of the chart looks different.
	warm := 0.0
	for _, run := range runs {
		if run.Result == nil {
			continue
		}
		for _, iv := range run.Result.Timeline {
			if iv.Warmup {
				warm = math.Max(warm, (iv.Start.D() + iv.Length.D()).Seconds())
			}
		}
		if warm > 0 {
			break
		}
	}
	if warm > 0 {
		top.Add(span{to: warm})
		bot.Add(span{to: warm})
		legend = append(legend, legendEntry{label: "warmup", thumb: boxThumb{fill: warmGrey}})
	}
	for _, run := range runs {
		if run.Result == nil || len(run.Result.Timeline) == 0 {
			continue
		}
		c := run.Color
		if c == nil {
			c = colour(ci)
			ci++
		}
		var p50, p99 [][]plotter.XY
		var rate, errs, planned, iters plotter.XYs
		gap, anyErrors, anyPlanned, anyIters := true, false, false, false
		for _, iv := range run.Result.Timeline {
			st, ok := intervalSeries(iv, run.Series)
			secs := iv.Length.D().Seconds()
			t := iv.Start.D().Seconds() + secs/2
			tmax = math.Max(tmax, iv.Start.D().Seconds()+secs)
			if secs <= 0 {
				continue
			}
			if iv.PlannedRate > 0 && run.Series == "" {
				// The interval's planned rate is the whole plan's; a
				// shard's arrivals are its share of it.
				pr := iv.PlannedRate
				if n := run.Result.Meta.Shard.Count; n > 1 {
					pr /= float64(n)
				}
				planned = append(planned, plotter.XY{X: iv.Start.D().Seconds(), Y: pr}, plotter.XY{X: iv.Start.D().Seconds() + secs, Y: pr})
				anyPlanned = true
				rmax = math.Max(rmax, pr)
			}
			if run.Series == "" {
				// Iterations (arrivals) are what the plan counts: they,
				// not requests, are held against the planned line.
				iters = append(iters, plotter.XY{X: t, Y: float64(iv.Arrivals) / secs})
				anyIters = anyIters || iv.Arrivals > 0
			}
			var reqs, nerr uint64
			if ok {
				reqs, nerr = st.Requests, st.Errors
			}
			rate = append(rate, plotter.XY{X: t, Y: float64(reqs) / secs})
			errs = append(errs, plotter.XY{X: t, Y: float64(nerr) / secs})
			rmax = math.Max(rmax, float64(reqs)/secs)
			if nerr > 0 {
				anyErrors = true
			}
			if !ok || st.Latency == nil || st.Latency.Count() == 0 {
				gap = true
				continue
			}
			a := float64(st.Latency.Percentile(50)) / 1e6
			b := float64(st.Latency.Percentile(99)) / 1e6
			a, b = math.Max(a, 0.001), math.Max(b, 0.001)
			lo, hi = math.Min(lo, a), math.Max(hi, b)
			if gap {
				p50, p99 = append(p50, nil), append(p99, nil)
				gap = false
			}
			p50[len(p50)-1] = append(p50[len(p50)-1], plotter.XY{X: t, Y: a})
			p99[len(p99)-1] = append(p99[len(p99)-1], plotter.XY{X: t, Y: b})
		}
		// Overlaid runs get thinner lines so that one run does not hide
		// another.
		w99, w50 := 2.0, 1.6
		if len(runs) > 2 {
			w99, w50 = 1.3, 1.1
		}
		s99 := lineStyle(c, w99, false)
		s50 := lineStyle(c, w50, true)
		if err := addSegments(top, p99, s99); err != nil {
			return err
		}
		if err := addSegments(top, p50, s50); err != nil {
			return err
		}
		label := run.Label
		if label != "" {
			label += " "
		}
		legend = append(legend,
			legendEntry{label: label + "p99", thumb: lineThumb{line: s99}},
			legendEntry{label: label + "p50", thumb: lineThumb{line: s50}})
		rl, err := plotter.NewLine(LTTB(rate, MaxTimelinePoints))
		if err != nil {
			return err
		}
		// A run's figures share its colour (one colour per series in
		// every chart of a report, see RunColours): a dash-dot line keeps
		// the throughput legend entry distinct from the solid p99 and the
		// dashed p50.
		rl.LineStyle = lineStyle(c, 1.4, false)
		rl.LineStyle.Dashes = []vg.Length{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)}
		bot.Add(rl)
		legend = append(legend, legendEntry{label: label + "requests/s", thumb: lineThumb{line: rl.LineStyle}})
		if anyIters {
			il, err := plotter.NewLine(LTTB(iters, MaxTimelinePoints))
			if err != nil {
				return err
			}
			// Iterations: long dashes, thinner, in the run's colour.
			il.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.0), Dashes: []vg.Length{vg.Points(10), vg.Points(3)}}
			bot.Add(il)
			legend = append(legend, legendEntry{label: label + "iterations/s", thumb: lineThumb{line: il.LineStyle}})
		}
		if anyPlanned {
			pl, err := plotter.NewLine(planned)
			if err != nil {
				return err
			}
			pl.LineStyle = lineStyle(grey, 1.2, true)
			bot.Add(pl)
			legend = append(legend, legendEntry{label: "planned iterations/s", thumb: lineThumb{line: pl.LineStyle}})
		}
		if anyErrors {
			el, err := plotter.NewLine(LTTB(errs, MaxTimelinePoints))
			if err != nil {
				return err
			}
			if len(runs) == 1 {
				// One run: errors as a filled area, in a light shade of
				// the run's colour, under the throughput line.
				el.LineStyle = lineStyle(c, 1.2, false)
				el.FillColor = fade(c, 0.3)
				legend = append(legend, legendEntry{label: label + "errors/s", thumb: boxThumb{fill: el.FillColor}})
			} else {
				// Overlaid runs: fills would hide each other, so errors
				// are dotted lines in the run's colour.
				el.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.6), Dashes: []vg.Length{vg.Points(1.5), vg.Points(2)}}
				legend = append(legend, legendEntry{label: label + "errors/s", thumb: lineThumb{line: el.LineStyle}})
			}
			bot.Add(el)
		}
	}
	if math.IsInf(lo, 1) {
		return errNoData
	}
	top.Y.Min, top.Y.Max = logRange(lo, hi)
	top.X.Min, top.X.Max = 0, tmax
	bot.X.Min, bot.X.Max = 0, tmax
	bot.Y.Min, bot.Y.Max = 0, math.Max(rmax*1.1, 1)
	return render(w, o, o.title("Latency and throughput over time"), legend, stacked(top, bot, 0.36))
}

// stacked draws two panels sharing their x axis, bot taking share of the
// height under top, their data areas lined up: the panel with the narrower
// y axis is cropped so both start at the same x.
func stacked(top, bot *plot.Plot, share float64) func(c draw.Canvas) error {
	return func(c draw.Canvas) error {
		gap := vg.Points(6)
		split := c.Min.Y + (c.Max.Y-c.Min.Y)*vg.Length(share)
		tc, bc := c, c
		tc.Min.Y = split + gap
		bc.Max.Y = split
		dt, db := top.DataCanvas(tc), bot.DataCanvas(bc)
		if d := dt.Min.X - db.Min.X; d > 0 {
			bc.Min.X += d
		} else {
			tc.Min.X -= d
		}
		top.Draw(tc)
		bot.Draw(bc)
		return nil
	}
}

// intervalSeries returns the figures of one series (or the total) in an
// interval.
func intervalSeries(iv results.Interval, name string) (results.IntervalStats, bool) {
	if name == "" {
		return iv.Total, true
	}
	for _, s := range iv.Series {
		if s.Name == name {
			return s, true
		}
	}
	return results.IntervalStats{}, false
}

// addSegments adds one line per contiguous segment, downsampling each to
// its share of MaxTimelinePoints.
func addSegments(p *plot.Plot, segs [][]plotter.XY, sty draw.LineStyle) error {
	total := 0
	for _, s := range segs {
		total += len(s)
	}
	for _, s := range segs {
		keep := max(3, MaxTimelinePoints*len(s)/max(total, 1))
		pts := LTTB(s, keep)
		if len(pts) == 1 {
			sc, err := plotter.NewScatter(plotter.XYs(pts))
			if err != nil {
				return err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			continue
		}
		l, err := plotter.NewLine(plotter.XYs(pts))
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		l.LineStyle = sty
		p.Add(l)
	}
	return nil
}

// warmGrey is translucent so the grid stays visible through the shade.
var warmGrey = color.NRGBA{0x70, 0x70, 0x70, 0x28}

// span shades the x range [0, to] of a panel (the warmup) behind the data.
type span struct{ to float64 }

// Plot implements plot.Plotter.
func (s span) Plot(c draw.Canvas, p *plot.Plot) {
	xt, _ := p.Transforms(&c)
	x1 := min(xt(s.to), c.Max.X)
	c.FillPolygon(warmGrey, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
