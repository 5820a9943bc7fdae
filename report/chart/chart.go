// Package chart draws tailgate's PNG charts with gonum/plot: the latency
// percentile spectrum, latency over time, before/after percentile bars and
// latency by tag. Every chart has a title, a subtitle naming the runs, axis
// labels with units and a legend; it uses the Okabe–Ito palette (safe for
// colour-blind readers) and the embedded Liberation fonts, so two renders of
// the same data are byte-identical on every machine.
package chart

import (
	"bufio"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	stdfont "golang.org/x/image/font"
)

// Default chart size in pixels: sharp on a GitHub page and on a slide.
const (
	DefaultWidth  = 1600
	DefaultHeight = 900
)

// Size limits (the bounds the command line accepts): below the minimum text
// no longer fits; above the maximum the image costs more memory (4 bytes a
// pixel) than a chart is worth.
const (
	MinWidth, MinHeight = 200, 150
	MaxWidth, MaxHeight = 10000, 10000
)

// Options size and label a chart.
type Options struct {
	// Width and Height are the image size in pixels (0: the defaults).
	Width, Height int
	// Title replaces the chart's default title when set.
	Title string
	// Subtitle is the line under the title naming the runs, their rate,
	// duration and model (see Describe).
	Subtitle string
}

func (o Options) size() (int, int, error) {
	w, h := o.Width, o.Height
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	if w < MinWidth || h < MinHeight || w > MaxWidth || h > MaxHeight {
		return 0, 0, fmt.Errorf("chart size %d×%d: want between %d×%d and %d×%d pixels", w, h, MinWidth, MinHeight, MaxWidth, MaxHeight)
	}
	return w, h, nil
}

func (o Options) title(def string) string {
	if o.Title != "" {
		return o.Title
	}
	return def
}

// Okabe–Ito colours (Okabe & Ito, "Color Universal Design", 2008): told
// apart by readers with any common colour-vision deficiency.
var (
	Blue          = color.RGBA{0x00, 0x72, 0xB2, 0xFF}
	Vermillion    = color.RGBA{0xD5, 0x5E, 0x00, 0xFF}
	BluishGreen   = color.RGBA{0x00, 0x9E, 0x73, 0xFF}
	Orange        = color.RGBA{0xE6, 0x9F, 0x00, 0xFF}
	ReddishPurple = color.RGBA{0xCC, 0x79, 0xA7, 0xFF}
	SkyBlue       = color.RGBA{0x56, 0xB4, 0xE9, 0xFF}
	Yellow        = color.RGBA{0xF0, 0xE4, 0x42, 0xFF}
	Black         = color.RGBA{0x00, 0x00, 0x00, 0xFF}
)

// Palette is the order series take colours in. Yellow comes last: it is
// hard to see on white.
var Palette = []color.Color{Blue, Vermillion, BluishGreen, ReddishPurple, Orange, SkyBlue, Black, Yellow}

// colour returns the i-th palette colour, cycling.
func colour(i int) color.Color { return Palette[i%len(Palette)] }

// fade mixes c with white: the colour of secondary lines (single runs behind
// their pooled line).
func fade(c color.Color, keep float64) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8(math.Round(float64(v>>8)*keep + 255*(1-keep))) }
	return color.RGBA{mix(r), mix(g), mix(b), 0xFF}
}

var (
	grey      = color.RGBA{0x55, 0x55, 0x55, 0xFF}
	gridGrey  = color.RGBA{0xE3, 0xE3, 0xE3, 0xFF}
	axisBlack = color.RGBA{0x22, 0x22, 0x22, 0xFF}
)

// Font sizes in points. The canvas resolution scales with the image size
// (see render), so text keeps its proportion to the chart.
const (
	titleSize    = 15
	subtitleSize = 10
	labelSize    = 12
	tickSize     = 10.5
	legendSize   = 11
	valueSize    = 10
)

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

func sansBold(size vg.Length) font.Font {
	f := sans(size)
	f.Weight = stdfont.WeightBold
	return f
}

func textStyle(f font.Font, c color.Color) text.Style {
	return text.Style{Color: c, Font: f, Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot styled the tailgate way: sans fonts, light grid,
// no plot title (render draws the title and subtitle itself).
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(labelSize)
		ax.Label.TextStyle.Color = axisBlack
		ax.Tick.Label.Font = sans(tickSize)
		ax.Tick.Label.Color = axisBlack
		ax.LineStyle.Color = axisBlack
		ax.Tick.LineStyle.Color = axisBlack
		ax.Tick.Length = vg.Points(4)
		ax.Padding = vg.Points(2)
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.Padding = vg.Points(4)
	p.Y.Label.Padding = vg.Points(4)
	p.Legend.TextStyle.Font = sans(legendSize)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.ThumbnailWidth = vg.Points(26)
	p.Add(&grid{})
	return p
}

// grid draws light major grid lines under the data (the gonum grid draws
// minor ticks too, which clutters log axes).
type grid struct{}

// Plot implements plot.Plotter.
func (grid) Plot(c draw.Canvas, p *plot.Plot) {
	xt, yt := p.Transforms(&c)
	sty := draw.LineStyle{Color: gridGrey, Width: vg.Points(0.6)}
	for _, t := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		if t.IsMinor() || t.Value < p.X.Min || t.Value > p.X.Max {
			continue
		}
		x := xt(t.Value)
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
	}
	for _, t := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if t.IsMinor() || t.Value < p.Y.Min || t.Value > p.Y.Max {
			continue
		}
		y := yt(t.Value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}

// legendEntry is one line of a legend drawn beside the plot.
type legendEntry struct {
	label string
	thumb plot.Thumbnailer
}

// render draws a chart: header (title, subtitle), a legend column on the
// right, and the body in the rest, then encodes the PNG to w.
func render(w io.Writer, o Options, title string, legend []legendEntry, body func(c draw.Canvas) error) error {
	pw, ph, err := o.size()
	if err != nil {
		return err
	}
	// 144 dpi at 1600×900: 800×450 points, so a 12 pt label is 24 px. The
	// resolution follows the smaller scale factor so text fits at any size.
	dpi := int(math.Round(144 * math.Min(float64(pw)/DefaultWidth, float64(ph)/DefaultHeight)))
	dpi = max(dpi, 36)
	wpt := vg.Length(pw) * vg.Inch / vg.Length(dpi)
	hpt := vg.Length(ph) * vg.Inch / vg.Length(dpi)
	img := vgimg.NewWith(vgimg.UseWH(wpt, hpt), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	if b := img.Image().Bounds(); b.Dx() != pw || b.Dy() != ph {
		return fmt.Errorf("chart: canvas is %d×%d, want %d×%d", b.Dx(), b.Dy(), pw, ph)
	}
	dc := draw.New(img)
	margin := vg.Points(12)
	dc = draw.Crop(dc, margin, -margin, margin/2, -margin/2)

	// Header. Titles, subtitles and legends name runs, requests and tag
	// groups from files and servers: Clean keeps control characters out.
	title = format.Clean(title)
	for i := range legend {
		legend[i].label = format.Clean(legend[i].label)
	}
	ts := textStyle(sansBold(titleSize), Black)
	y := dc.Max.Y
	ts.YAlign = draw.YTop
	dc.FillText(ts, vg.Point{X: dc.Min.X, Y: y}, title)
	y -= ts.Height(title) + vg.Points(3)
	if o.Subtitle != "" {
		ss := textStyle(sans(subtitleSize), grey)
		ss.YAlign = draw.YTop
		for _, line := range strings.Split(o.Subtitle, "\n") {
			line = format.Clean(line)
			dc.FillText(ss, vg.Point{X: dc.Min.X, Y: y}, line)
			y -= ss.Height(line)
		}
	}
	y -= vg.Points(14)
	dc.Max.Y = y

	// Legend column; overlaid runs of one side share their entries.
	legend = dedupe(legend)
	if len(legend) > 0 {
		ls := textStyle(sans(legendSize), axisBlack)
		var wmax vg.Length
		for _, e := range legend {
			wmax = max(wmax, ls.Width(e.label))
		}
		thumb := vg.Points(26)
		colW := thumb + vg.Points(6) + wmax + vg.Points(8)
		col := dc
		col.Min.X = dc.Max.X - colW
		dc.Max.X = col.Min.X - vg.Points(6)
		drawLegend(col, ls, thumb, legend)
	}
	if err := body(dc); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(bw); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// drawLegend draws entries top-down in column c.
func drawLegend(c draw.Canvas, ls text.Style, thumb vg.Length, entries []legendEntry) {
	lineH := ls.Height("Mg") * 1.5
	y := c.Max.Y - vg.Points(18) // level with the top of the plot area
	ls.YAlign = draw.YCenter
	for _, e := range entries {
		if e.thumb != nil {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: c.Min.X, Y: y - lineH/3},
				Max: vg.Point{X: c.Min.X + thumb, Y: y + lineH/3},
			}}
			e.thumb.Thumbnail(&tc)
		}
		c.FillText(ls, vg.Point{X: c.Min.X + thumb + vg.Points(6), Y: y}, e.label)
		y -= lineH
	}
}

// lineStyle returns a solid or dashed line style.
func lineStyle(c color.Color, width float64, dashed bool) draw.LineStyle {
	s := draw.LineStyle{Color: c, Width: vg.Points(width)}
	if dashed {
		s.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	return s
}

// lineThumb is a legend thumbnail of a line (and optional glyph).
type lineThumb struct {
	line  draw.LineStyle
	glyph *draw.GlyphStyle
}

// Thumbnail implements plot.Thumbnailer.
func (t lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(t.line, c.Min.X, y, c.Max.X, y)
	if t.glyph != nil {
		c.DrawGlyphNoClip(*t.glyph, c.Center())
	}
}

// boxThumb is a legend thumbnail of a filled bar.
type boxThumb struct{ fill color.Color }

// Thumbnail implements plot.Thumbnailer.
func (t boxThumb) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	h := r.Max.Y - r.Min.Y
	c.FillPolygon(t.fill, []vg.Point{
		{X: r.Min.X + h/2, Y: r.Min.Y}, {X: r.Max.X - h/2, Y: r.Min.Y},
		{X: r.Max.X - h/2, Y: r.Max.Y}, {X: r.Min.X + h/2, Y: r.Max.Y},
	})
}

// logRange returns axis bounds for positive values with some headroom.
func logRange(lo, hi float64) (float64, float64) {
	if !(lo > 0) || math.IsInf(lo, 0) {
		lo = 0.001
	}
	if !(hi > lo) {
		hi = lo * 10
	}
	return lo / 1.25, hi * 1.25
}

// logTicks labels a logarithmic axis: 1-2-5 steps over narrow ranges,
// decades with unlabelled minor ticks over wide ones. Labels are plain
// numbers without exponents ("0.5", "20", "1000").
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	d0, d1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	steps := []float64{1, 2, 5}
	if d1-d0 > 3 {
		steps = []float64{1}
	}
	var ts []plot.Tick
	for d := d0; d <= d1; d++ {
		base := math.Pow(10, float64(d))
		for m := 1; m <= 9; m++ {
			v := base * float64(m)
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			major := false
			for _, s := range steps {
				if float64(m) == s {
					major = true
				}
			}
			t := plot.Tick{Value: v}
			if major {
				t.Label = formatNumber(v)
			}
			ts = append(ts, t)
		}
	}
	if countMajor(ts) < 2 {
		// A range inside one step: label its ends so the axis has a scale.
		ts = append(ts, plot.Tick{Value: lo, Label: formatNumber(lo)}, plot.Tick{Value: hi, Label: formatNumber(hi)})
	}
	return ts
}

func countMajor(ts []plot.Tick) int {
	n := 0
	for _, t := range ts {
		if !t.IsMinor() {
			n++
		}
	}
	return n
}

// formatNumber prints a tick value with at most 3 significant digits and no
// exponent.
func formatNumber(v float64) string {
	if v == 0 {
		return "0"
	}
	mag := math.Floor(math.Log10(math.Abs(v)))
	prec := max(0, int(2-mag))
	r := math.Pow(10, float64(prec))
	v = math.Round(v*r) / r
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// linTicks are "nice" linear ticks with plain labels.
type linTicks struct{}

// Ticks implements plot.Ticker.
func (linTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: formatNumber(lo)}}
	}
	step := niceStep((hi - lo) / 5)
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, plot.Tick{Value: v, Label: formatNumber(v)})
	}
	return ts
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// errNoData is returned when there is nothing to draw.
var errNoData = errors.New("chart: no data to draw")

// dedupe drops legend entries whose label appeared before.
func dedupe(entries []legendEntry) []legendEntry {
	seen := map[string]bool{}
	out := entries[:0:0]
	for _, e := range entries {
		if seen[e.label] {
			continue
		}
		seen[e.label] = true
		out = append(out, e)
	}
	return out
}
