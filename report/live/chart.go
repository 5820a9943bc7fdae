package live

import (
	"math"
	"strings"
)

// canvas is a grid of braille cells, each holding 2×4 dots, on which line
// series are drawn. Each cell remembers the last series that touched it so
// that lines keep their colour where they do not cross.
type canvas struct {
	w, h   int // in cells
	bits   []uint8
	series []int8
}

// brailleBit maps a dot (x in 0..1, y in 0..3 from the top) of a cell to its
// bit in the Unicode braille block.
var brailleBit = [2][4]uint8{
	{0x01, 0x02, 0x04, 0x40},
	{0x08, 0x10, 0x20, 0x80},
}

func newCanvas(w, h int) *canvas {
	c := &canvas{w: max(w, 0), h: max(h, 0)}
	c.bits = make([]uint8, c.w*c.h)
	c.series = make([]int8, c.w*c.h)
	for i := range c.series {
		c.series[i] = -1
	}
	return c
}

// dots returns the size of the canvas in dots.
func (c *canvas) dots() (int, int) { return 2 * c.w, 4 * c.h }

func (c *canvas) set(x, y int, s int8) {
	if x < 0 || y < 0 || x >= 2*c.w || y >= 4*c.h {
		return
	}
	i := (y/4)*c.w + x/2
	c.bits[i] |= brailleBit[x%2][y%4]
	c.series[i] = s
}

// line draws a straight line between two dots (Bresenham).
func (c *canvas) line(x0, y0, x1, y1 int, s int8) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		c.set(x0, y0, s)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// plot draws values at dot columns xs, joined by lines, scaled so that top
// maps to the top dot row and zero to the bottom one.
func (c *canvas) plot(xs []int, values []float64, top float64, s int8) {
	_, dh := c.dots()
	if top <= 0 || dh == 0 {
		return
	}
	y := func(v float64) int {
		f := math.Max(0, math.Min(1, v/top))
		return (dh - 1) - int(math.Round(f*float64(dh-1)))
	}
	for i, v := range values {
		if i == 0 {
			c.set(xs[0], y(v), s)
			continue
		}
		c.line(xs[i-1], y(values[i-1]), xs[i], y(v), s)
	}
}

// rows renders the canvas, styling each cell by its series.
func (c *canvas) rows(styles []style) []string {
	out := make([]string, c.h)
	var b, run strings.Builder
	for r := 0; r < c.h; r++ {
		b.Reset()
		cur := int8(-2)
		flush := func() {
			if run.Len() == 0 {
				return
			}
			if cur >= 0 && int(cur) < len(styles) {
				b.WriteString(styles[cur].Render(run.String()))
			} else {
				b.WriteString(run.String())
			}
			run.Reset()
		}
		for x := 0; x < c.w; x++ {
			i := r*c.w + x
			s := c.series[i]
			if c.bits[i] == 0 {
				s = -1
			}
			if s != cur {
				flush()
				cur = s
			}
			if c.bits[i] == 0 {
				run.WriteByte(' ')
			} else {
				run.WriteRune(rune(0x2800 + int(c.bits[i])))
			}
		}
		flush()
		out[r] = b.String()
	}
	return out
}

// blocks are the eighth-height block characters used for bar charts.
var blocks = []rune(" ▁▂▃▄▅▆▇█")

// columns renders values as vertical bars h cells tall, one bar per value.
func columns(values []float64, top float64, h int) []string {
	rows := make([]strings.Builder, h)
	for _, v := range values {
		eighths := 0
		if top > 0 {
			eighths = int(math.Round(math.Max(0, math.Min(1, v/top)) * float64(8*h)))
		}
		if v > 0 && eighths == 0 {
			eighths = 1 // a non-zero rate never looks like nothing
		}
		for r := 0; r < h; r++ {
			level := eighths - 8*(h-1-r)
			rows[r].WriteRune(blocks[max(0, min(8, level))])
		}
	}
	out := make([]string, h)
	for i := range rows {
		out[i] = rows[i].String()
	}
	return out
}

// hbar renders a horizontal bar of frac (0..1) of w cells, in eighths.
func hbar(frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	frac = math.Max(0, math.Min(1, frac))
	eighths := int(math.Round(frac * float64(8*w)))
	full, part := eighths/8, eighths%8
	s := strings.Repeat("█", full)
	if part > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[part-1])
	}
	return s
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so that axis
// labels are round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
