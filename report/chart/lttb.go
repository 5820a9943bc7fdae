package chart

import (
	"math"

	"gonum.org/v1/plot/plotter"
)

// LTTB downsamples points (sorted by X) to at most threshold points with
// Largest-Triangle-Three-Buckets (Steinarsson, "Downsampling Time Series for
// Visual Representation", 2013): the first and last points stay, and from
// each bucket in between it keeps the point that forms the largest triangle
// with the point kept before and the mean of the next bucket. Unlike
// averaging, it keeps the spikes a latency chart exists to show. The input
// is returned unchanged when it is already small enough.
func LTTB(pts plotter.XYs, threshold int) plotter.XYs {
	n := len(pts)
	if threshold >= n || threshold < 3 {
		return pts
	}
	out := make(plotter.XYs, 0, threshold)
	out = append(out, pts[0])
	// Buckets of the inner points; the first and last points are fixed.
	every := float64(n-2) / float64(threshold-2)
	a := 0
	for i := 0; i < threshold-2; i++ {
		start := int(math.Floor(float64(i)*every)) + 1
		end := min(int(math.Floor(float64(i+1)*every))+1, n-1)
		// Mean of the next bucket (the last point for the final bucket).
		ns, ne := end, min(int(math.Floor(float64(i+2)*every))+1, n-1)
		var mx, my float64
		if ns >= ne {
			mx, my = pts[n-1].X, pts[n-1].Y
		} else {
			for _, p := range pts[ns:ne] {
				mx += p.X
				my += p.Y
			}
			mx /= float64(ne - ns)
			my /= float64(ne - ns)
		}
		best, bestArea := start, -1.0
		ax, ay := pts[a].X, pts[a].Y
		for j := start; j < end; j++ {
			area := math.Abs((ax-mx)*(pts[j].Y-ay) - (ax-pts[j].X)*(my-ay))
			if area > bestArea {
				best, bestArea = j, area
			}
		}
		out = append(out, pts[best])
		a = best
	}
	return append(out, pts[n-1])
}
