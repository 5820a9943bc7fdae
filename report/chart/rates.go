package chart

import (
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// RateLine is one line of the per-second chart: a count per second over
// the run, such as the requests a rate limiter let through.
type RateLine struct {
	Label string
	// Points are the line's intervals in time order.
	Points []RatePoint
	// Color is the line's colour; nil takes the next palette colour.
	Color color.Color
	// Dashed draws a dashed line: a reference, such as a limit.
	Dashed bool
}

// RatePoint is a line's value over one interval.
type RatePoint struct {
	// Start and Length place the interval, in seconds since the run's
	// start.
	Start, Length float64
	// PerSecond is the value over the interval.
	PerSecond float64
}

// PerSecond draws counts per second over time, one line per entry, each
// constant over its intervals (steps, not slopes: a count belongs to its
// whole second). yLabel names what is counted.
func PerSecond(w io.Writer, yLabel string, lines []RateLine, o Options) error {
	p := newPlot("time since start (s)", yLabel)
	p.X.Tick.Marker = linTicks{}
	p.Y.Tick.Marker = linTicks{}
	var legend []legendEntry
	tmax, ymax := 0.0, 0.0
	drawn := 0
	for i, l := range lines {
		if len(l.Points) == 0 {
			continue
		}
		c := l.Color
		if c == nil {
			c = colour(i)
		}
		xys := make(plotter.XYs, 0, 2*len(l.Points))
		for _, pt := range l.Points {
			xys = append(xys, plotter.XY{X: pt.Start, Y: pt.PerSecond}, plotter.XY{X: pt.Start + pt.Length, Y: pt.PerSecond})
			tmax = math.Max(tmax, pt.Start+pt.Length)
			ymax = math.Max(ymax, pt.PerSecond)
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		width := 2.2
		if l.Dashed {
			width = 1.4
		}
		line.LineStyle = lineStyle(c, width, l.Dashed)
		p.Add(line)
		legend = append(legend, legendEntry{label: l.Label, thumb: lineThumb{line: line.LineStyle}})
		drawn++
	}
	if drawn == 0 {
		return errNoData
	}
	p.X.Min, p.X.Max = 0, tmax
	p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.1, 1)
	return render(w, o, o.title("Per second over time"), legend, func(c draw.Canvas) error {
		p.Draw(c)
		return nil
	})
}
