package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TagSeries is one line of the latency-by-tag chart: a request name (or a
// request name on one side of a comparison) across the values of a tag.
type TagSeries struct {
	Label  string
	Points []TagPoint
	// Color is the line colour; nil takes the next palette colour.
	Color color.Color
}

// TagPoint is the latency of one tag value.
type TagPoint struct {
	Value float64
	Hist  *results.Histogram
}

// ByTag draws p99 (solid) and p50 (dashed) latency against a numeric tag
// value, both axes logarithmic, one colour per series: the picture of
// offset pagination slowing down with page depth while cursor pagination
// stays flat.
func ByTag(w io.Writer, tag string, series []TagSeries, o Options) error {
	p := newPlot(tag+" (log scale)", "latency (ms, log scale)")
	p.X.Scale = plot.LogScale{}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	var legend []legendEntry
	lo, hi := math.Inf(1), 0.0
	xlo, xhi := math.Inf(1), 0.0
	values := map[float64]bool{}
	for i, s := range series {
		c := s.Color
		if c == nil {
			c = colour(i)
		}
		var p50, p99 plotter.XYs
		for _, pt := range s.Points {
			if pt.Hist.Count() == 0 || !(pt.Value > 0) {
				continue
			}
			a := math.Max(float64(pt.Hist.Percentile(50))/1e6, 0.001)
			b := math.Max(float64(pt.Hist.Percentile(99))/1e6, 0.001)
			p50 = append(p50, plotter.XY{X: pt.Value, Y: a})
			p99 = append(p99, plotter.XY{X: pt.Value, Y: b})
			lo, hi = math.Min(lo, a), math.Max(hi, b)
			xlo, xhi = math.Min(xlo, pt.Value), math.Max(xhi, pt.Value)
			values[pt.Value] = true
		}
		if len(p99) == 0 {
			continue
		}
		for _, l := range []struct {
			pts    plotter.XYs
			name   string
			dashed bool
			shape  draw.GlyphDrawer
		}{{p99, "p99", false, draw.CircleGlyph{}}, {p50, "p50", true, draw.TriangleGlyph{}}} {
			line, points, err := plotter.NewLinePoints(l.pts)
			if err != nil {
				return err
			}
			line.LineStyle = lineStyle(c, 2.0, l.dashed)
			points.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: l.shape}
			p.Add(line, points)
			g := points.GlyphStyle
			legend = append(legend, legendEntry{label: s.Label + " " + l.name, thumb: lineThumb{line: line.LineStyle, glyph: &g}})
		}
	}
	if len(values) == 0 {
		return errNoData
	}
	p.Y.Min, p.Y.Max = logRange(lo, hi)
	p.X.Min, p.X.Max = xlo/1.3, xhi*1.3
	// Ticks at the measured tag values themselves: they are what the
	// reader ran.
	vs := make([]float64, 0, len(values))
	for v := range values {
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	var ticks plot.ConstantTicks
	for _, v := range vs {
		ticks = append(ticks, plot.Tick{Value: v, Label: formatNumber(v)})
	}
	p.X.Tick.Marker = ticks
	return render(w, o, o.title("Latency by "+tag), legend, func(c draw.Canvas) error {
		p.Draw(c)
		return nil
	})
}

// parseTags splits a group string "depth=100,sort=id" into its tags.
func parseTags(group string) [][2]string {
	var out [][2]string
	for _, kv := range strings.Split(group, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// NumericTag picks the tag to plot latency against: of the tags whose
// values are positive numbers in every group that has them, the one with
// the most distinct values (at least two); ties go to the first name in
// order. It returns "" when no tag qualifies.
func NumericTag(runs []*results.Result) string {
	distinct := map[string]map[float64]bool{}
	bad := map[string]bool{}
	for _, r := range runs {
		for _, s := range r.Groups {
			for _, kv := range parseTags(s.Group) {
				v, err := strconv.ParseFloat(kv[1], 64)
				if err != nil || !(v > 0) || math.IsInf(v, 0) {
					bad[kv[0]] = true
					continue
				}
				if distinct[kv[0]] == nil {
					distinct[kv[0]] = map[float64]bool{}
				}
				distinct[kv[0]][v] = true
			}
		}
	}
	keys := make([]string, 0, len(distinct))
	for k := range distinct {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	best, bestN := "", 1
	for _, k := range keys {
		if bad[k] {
			continue
		}
		if n := len(distinct[k]); n > bestN {
			best, bestN = k, n
		}
	}
	return best
}

// TagSeriesOf builds one series per request name (and per combination of
// the other tags) from the groups of results that carry tag, pooling the
// runs. Suffix, when set, is appended to each label ("offset (before)").
func TagSeriesOf(tag string, runs []*results.Result, suffix string) ([]TagSeries, error) {
	byLabel := map[string]map[float64]*results.Histogram{}
	var order []string
	for _, r := range runs {
		for _, s := range r.Groups {
			var val float64
			found := false
			var rest []string
			for _, kv := range parseTags(s.Group) {
				if kv[0] == tag {
					v, err := strconv.ParseFloat(kv[1], 64)
					if err == nil && v > 0 {
						val, found = v, true
					}
					continue
				}
				rest = append(rest, kv[0]+"="+kv[1])
			}
			if !found || s.Latency == nil {
				continue
			}
			label := s.Name
			if len(rest) > 0 {
				label += " {" + strings.Join(rest, ",") + "}"
			}
			label = format.Clean(label)
			if suffix != "" {
				label += " " + suffix
			}
			m := byLabel[label]
			if m == nil {
				m = map[float64]*results.Histogram{}
				byLabel[label] = m
				order = append(order, label)
			}
			h := m[val]
			if h == nil {
				h = results.NewHistogram()
				m[val] = h
			}
			if err := h.Merge(s.Latency); err != nil {
				return nil, fmt.Errorf("chart: pool %s: %w", s.Key(), err)
			}
		}
	}
	out := make([]TagSeries, 0, len(order))
	for _, label := range order {
		m := byLabel[label]
		vals := make([]float64, 0, len(m))
		for v := range m {
			vals = append(vals, v)
		}
		sort.Float64s(vals)
		ts := TagSeries{Label: label}
		for _, v := range vals {
			ts.Points = append(ts.Points, TagPoint{Value: v, Hist: m[v]})
		}
		out = append(out, ts)
	}
	return out, nil
}
