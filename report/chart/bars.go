package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSet is one side of the percentile bars (before, after, a request name).
type BarSet struct {
	Label string
	Hist  *results.Histogram
	// Color is the bars' colour; nil takes the next palette colour.
	Color color.Color
}

// barPercentiles are the percentiles compared by Bars: four of
// results.Reported, as many groups as a chart pasted in a review shows
// legibly.
var barPercentiles = []results.Percentile{50, 95, 99, 99.9}

// Bars draws p50, p95, p99 and p99.9 as grouped bars, one bar per set in
// each group, each labelled with its value; every set after the first also
// shows its change relative to the first, the baseline, which the title
// names. A percentile that a set has too few samples for (p99.9 of fewer
// than 1000) is its max and says so: "≈max, n=250".
func Bars(w io.Writer, sets []BarSet, o Options) error {
	if len(sets) == 0 {
		return errNoData
	}
	p := newPlot("percentile", "latency (ms)")
	p.Y.Tick.Marker = linTicks{}
	vals := make([][]float64, len(sets))
	ymax := 0.0
	for i, s := range sets {
		if s.Hist.Count() == 0 {
			return fmt.Errorf("chart: %q has no requests", s.Label)
		}
		for _, bp := range barPercentiles {
			v := float64(s.Hist.Percentile(float64(bp))) / 1e6
			vals[i] = append(vals[i], v)
			ymax = math.Max(ymax, v)
		}
	}
	// Bars share 70% of a group's width; the plot is ~750 pt wide at most
	// sizes, so compute the bar width from the groups and sets.
	n := float64(len(sets))
	title := o.title("Latency percentiles")
	if len(sets) > 1 {
		title += " · changes vs " + sets[0].Label
	}
	return render(w, o, title, barLegend(sets), func(c draw.Canvas) error {
		// Groups sit at x = 0…k−1 on an axis from −0.5 to k−0.5; the y
		// axis takes roughly a tenth of the width.
		dataW := (c.Max.X - c.Min.X) * 0.9
		groupW := dataW / vg.Length(len(barPercentiles))
		barW := groupW * 0.72 / vg.Length(n)
		ls := textStyle(sans(valueSize), Black)
		ls.XAlign = draw.XCenter
		for i, s := range sets {
			col := s.Color
			if col == nil {
				col = colour(i)
			}
			bc, err := plotter.NewBarChart(plotter.Values(vals[i]), barW)
			if err != nil {
				return err
			}
			bc.Color = col
			bc.LineStyle.Width = 0
			bc.Offset = barW * (vg.Length(i) - (vg.Length(n)-1)/2)
			p.Add(bc)
			labels := make([]string, len(vals[i]))
			xys := make(plotter.XYs, len(vals[i]))
			for j, v := range vals[i] {
				base := 0.0
				if i > 0 {
					base = vals[0][j]
				}
				labels[j] = barLabel(v, base, s.Hist.Count(), float64(barPercentiles[j]))
				xys[j] = plotter.XY{X: float64(j), Y: v}
			}
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return err
			}
			for k := range lb.TextStyle {
				lb.TextStyle[k] = ls
			}
			lb.Offset = vg.Point{X: bc.Offset, Y: vg.Points(3)}
			p.Add(lb)
		}
		names := make([]string, len(barPercentiles))
		for j, bp := range barPercentiles {
			names[j] = bp.String()
		}
		p.NominalX(names...)
		p.X.Tick.Label.Font = sans(labelSize)
		p.Y.Min, p.Y.Max = 0, ymax*1.22
		p.X.Min, p.X.Max = -0.5, float64(len(barPercentiles))-0.5
		p.Draw(c)
		return nil
	})
}

// barLegend has one filled box per set.
func barLegend(sets []BarSet) []legendEntry {
	var legend []legendEntry
	for i, s := range sets {
		col := s.Color
		if col == nil {
			col = colour(i)
		}
		label := s.Label
		if i == 0 && len(sets) > 1 {
			label += " (baseline)"
		}
		legend = append(legend, legendEntry{label: label, thumb: boxThumb{fill: col}})
	}
	return legend
}

// barLabel is the label over one bar: its value in ms, "≈max, n=N" when the
// set has fewer samples than the percentile needs (1/(1−p)), and its change
// against base, the baseline's value (0: this is the baseline).
func barLabel(v, base float64, n int64, p float64) string {
	label := format.Duration(time.Duration(math.Round(v * 1e6)))
	if float64(n) < 1/(1-p/100)-1e-9 {
		label += "\n≈max, n=" + strconv.FormatInt(n, 10)
	}
	if base > 0 {
		label += "\n" + format.Signed("%.1f%%", 100*(v/base-1))
	}
	return label
}
