package chart

import (
	"io"
	"math"

	"github.com/tailgate-dev/tailgate/results"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Quota draws the rate-limit quota the target reported over time (top
// panel: the lowest remaining of each second as a filled step, the limit
// dashed) above the requests and errors per second that spent it (bottom
// panel), so a fixed window's refill, a sliding window's slope and the
// 429s when the quota runs out line up on one time axis. Every figure is
// the whole run's, so all take colours.Total() and the styles timeline.png
// gives the run (a dash-dot requests/s line, errors/s a light fill under
// it); the limit is dashed grey, as the planned rate is there.
func Quota(w io.Writer, res *results.Result, colours RunColours, o Options) error {
	if res == nil || !res.HasQuota() {
		return errNoData
	}
	top := newPlot("", "rate-limit quota")
	top.X.Tick.Marker = linTicks{}
	top.Y.Tick.Marker = linTicks{}
	bot := newPlot("time since start (s)", "per second")
	bot.X.Tick.Marker = linTicks{}
	bot.Y.Tick.Marker = linTicks{}

	var remaining, limit, rate, errs plotter.XYs
	qmax, rmax, tmax := 0.0, 0.0, 0.0
	anyLimit, anyErrors := false, false
	for _, iv := range res.Timeline {
		from, secs := iv.Start.D().Seconds(), iv.Length.D().Seconds()
		tmax = math.Max(tmax, from+secs)
		if secs <= 0 {
			continue
		}
		if q := iv.Quota; q != nil {
			if q.Remaining >= 0 {
				r := float64(q.Remaining)
				remaining = append(remaining, plotter.XY{X: from, Y: r}, plotter.XY{X: from + secs, Y: r})
				qmax = math.Max(qmax, r)
			}
			if q.Limit >= 0 {
				l := float64(q.Limit)
				limit = append(limit, plotter.XY{X: from, Y: l}, plotter.XY{X: from + secs, Y: l})
				qmax = math.Max(qmax, l)
				anyLimit = true
			}
		}
		t := from + secs/2
		rate = append(rate, plotter.XY{X: t, Y: float64(iv.Total.Requests) / secs})
		errs = append(errs, plotter.XY{X: t, Y: float64(iv.Total.Errors) / secs})
		rmax = math.Max(rmax, float64(iv.Total.Requests)/secs)
		anyErrors = anyErrors || iv.Total.Errors > 0
	}
	c := colours.Total()
	var legend []legendEntry
	if len(remaining) > 0 {
		rl, err := plotter.NewLine(LTTB(remaining, 2*MaxTimelinePoints))
		if err != nil {
			return err
		}
		rl.LineStyle = lineStyle(c, 1.8, false)
		rl.FillColor = fade(c, 0.2)
		top.Add(rl)
		legend = append(legend, legendEntry{label: "remaining (lowest per second)", thumb: boxThumb{fill: rl.FillColor}})
	}
	if anyLimit {
		ll, err := plotter.NewLine(LTTB(limit, 2*MaxTimelinePoints))
		if err != nil {
			return err
		}
		ll.LineStyle = lineStyle(grey, 1.4, true)
		top.Add(ll)
		legend = append(legend, legendEntry{label: "limit", thumb: lineThumb{line: ll.LineStyle}})
	}
	rl, err := plotter.NewLine(LTTB(rate, MaxTimelinePoints))
	if err != nil {
		return err
	}
	rl.LineStyle = lineStyle(c, 1.4, false)
	rl.LineStyle.Dashes = []vg.Length{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)}
	bot.Add(rl)
	legend = append(legend, legendEntry{label: "requests/s", thumb: lineThumb{line: rl.LineStyle}})
	if anyErrors {
		el, err := plotter.NewLine(LTTB(errs, MaxTimelinePoints))
		if err != nil {
			return err
		}
		el.LineStyle = lineStyle(c, 1.2, false)
		el.FillColor = fade(c, 0.3)
		bot.Add(el)
		legend = append(legend, legendEntry{label: "errors/s (429s are rate_limited)", thumb: boxThumb{fill: el.FillColor}})
	}
	top.X.Min, top.X.Max = 0, tmax
	top.Y.Min, top.Y.Max = 0, math.Max(qmax*1.1, 1)
	bot.X.Min, bot.X.Max = 0, tmax
	bot.Y.Min, bot.Y.Max = 0, math.Max(rmax*1.1, 1)
	return render(w, o, o.title("Rate-limit quota over time"), legend, stacked(top, bot, 0.4))
}
