package cli

import (
	"fmt"
	"image/color"
	"io"
	"time"

	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// rateLimitLab: one bursty client against a fixed window, a sliding window
// and a token bucket of the same average limit.
var rateLimitLab = &demoLab{
	name:     "rate-limit",
	title:    "fixed window vs sliding window vs token bucket",
	file:     "rate-limit.yaml",
	out:      "tailgate-demo-rate-limit",
	measured: "requests to the limiters",
	series:   []string{"fixed_window", "sliding_window", "token_bucket"},
	headline: rateLimitHeadline,
	charts:   rateLimitCharts,
}

// The shipped scenario's policy, which the headline and the chart's limit
// line compare with: 100 requests per 10 s.
const (
	rateLimitQuota  = 100
	rateLimitWindow = 10 * time.Second
)

// limiterSeries are the lab's limiters, their labels and colours.
var limiterSeries = []struct {
	name, label string
	colour      color.Color
}{
	{"fixed_window", "fixed window", chart.Vermillion},
	{"sliding_window", "sliding window", chart.Blue},
	{"token_bucket", "token bucket", chart.BluishGreen},
}

// perSecond returns a request name's figure per interval of the timeline.
func perSecond(res *results.Result, name string, f func(results.IntervalStats) uint64) []chart.RatePoint {
	var pts []chart.RatePoint
	for _, iv := range res.Timeline {
		secs := iv.Length.D().Seconds()
		if secs <= 0 {
			continue
		}
		var n uint64
		for _, s := range iv.Series {
			if s.Name == name {
				n = f(s)
			}
		}
		pts = append(pts, chart.RatePoint{Start: iv.Start.D().Seconds(), Length: secs, PerSecond: float64(n) / secs})
	}
	return pts
}

func admitted(s results.IntervalStats) uint64 { return s.Requests - min(s.Errors, s.Requests) }
func refused(s results.IntervalStats) uint64  { return min(s.Errors, s.Requests) }

// rateLimitCharts draws the requests each limiter let through per second
// (the story), and those it refused.
func rateLimitCharts(res *results.Result, cw *chartWriter) error {
	if len(res.Timeline) == 0 {
		return nil
	}
	var through, denied []chart.RateLine
	for _, ls := range limiterSeries {
		if res.Lookup(ls.name, "") == nil {
			continue
		}
		through = append(through, chart.RateLine{Label: ls.label, Points: perSecond(res, ls.name, admitted), Color: ls.colour})
		denied = append(denied, chart.RateLine{Label: ls.label, Points: perSecond(res, ls.name, refused), Color: ls.colour})
	}
	if len(through) == 0 {
		return nil
	}
	var offered []chart.RatePoint
	for _, iv := range res.Timeline {
		if secs := iv.Length.D().Seconds(); secs > 0 {
			offered = append(offered, chart.RatePoint{Start: iv.Start.D().Seconds(), Length: secs, PerSecond: float64(iv.Arrivals) / secs / float64(len(through))})
		}
	}
	end := offered[len(offered)-1].Start + offered[len(offered)-1].Length
	limit := []chart.RatePoint{{Start: 0, Length: end, PerSecond: rateLimitQuota / rateLimitWindow.Seconds()}}
	grey := color.RGBA{0x88, 0x88, 0x88, 0xff}
	through = append(through,
		chart.RateLine{Label: "sent to each (a third of all)", Points: offered, Color: grey, Dashed: true},
		chart.RateLine{Label: fmt.Sprintf("limit: %d per %v on average", rateLimitQuota, rateLimitWindow), Points: limit, Color: chart.Black, Dashed: true})
	if err := cw.write("let-through.png", "Rate limits: requests let through per second, one bursty client", func(w io.Writer, o chart.Options) error {
		return chart.PerSecond(w, "requests let through per second", through, o)
	}); err != nil {
		return err
	}
	return cw.write("refused.png", "Rate limits: requests refused (429 + Retry-After) per second", func(w io.Writer, o chart.Options) error {
		return chart.PerSecond(w, "requests refused per second", denied, o)
	})
}

// busiest returns the most requests in any span of window, counting whole
// intervals, and the span's start.
func busiest(pts []chart.RatePoint, window time.Duration) (n float64, at float64) {
	w := window.Seconds()
	for i := range pts {
		sum := 0.0
		for j := i; j < len(pts) && pts[j].Start+pts[j].Length <= pts[i].Start+w+1e-9; j++ {
			sum += pts[j].PerSecond * pts[j].Length
		}
		if sum > n {
			n, at = sum, pts[i].Start
		}
	}
	return n, at
}

// burstSpan returns the intervals at the plan's highest rate: the burst.
func burstSpan(res *results.Result) (from, to float64) {
	top := 0.0
	for _, iv := range res.Timeline {
		top = max(top, iv.PlannedRate)
	}
	from, to = -1, -1
	for _, iv := range res.Timeline {
		if top > 0 && iv.PlannedRate == top {
			if from < 0 {
				from = iv.Start.D().Seconds()
			}
			to = (iv.Start.D() + iv.Length.D()).Seconds()
		}
	}
	return from, to
}

func sumSpan(pts []chart.RatePoint, from, to float64) float64 {
	n := 0.0
	for _, p := range pts {
		if p.Start >= from && p.Start+p.Length <= to+1e-9 {
			n += p.PerSecond * p.Length
		}
	}
	return n
}

// rateLimitHeadline: how many requests each limiter let through in its
// busiest window and in the burst, against the limit.
func rateLimitHeadline(res *results.Result) []string {
	fixed := perSecond(res, "fixed_window", admitted)
	if len(fixed) == 0 || res.Lookup("fixed_window", "") == nil {
		return []string{"no fixed-window requests measured for a headline (the run was too short?)"}
	}
	from, to := burstSpan(res)
	fb, _ := busiest(fixed, rateLimitWindow)
	out := []string{
		fmt.Sprintf("fixed window: %.0f requests got through in the %.0fs burst across its window boundary, and %.0f in its busiest %v: %s× its limit of %d per %v, two quotas back to back",
			sumSpan(fixed, from, to), to-from, fb, rateLimitWindow, fmtRatio(fb/rateLimitQuota), rateLimitQuota, rateLimitWindow),
	}
	slide := perSecond(res, "sliding_window", admitted)
	bucket := perSecond(res, "token_bucket", admitted)
	if len(slide) > 0 && len(bucket) > 0 {
		sb, _ := busiest(slide, rateLimitWindow)
		bb, _ := busiest(bucket, rateLimitWindow)
		out = append(out, fmt.Sprintf("sliding window: %.0f in the burst, at most %.0f in any %v; token bucket: %.0f in the burst (its burst, then the refill rate), %.0f in its busiest %v",
			sumSpan(slide, from, to), sb, rateLimitWindow, sumSpan(bucket, from, to), bb, rateLimitWindow))
	}
	var parts []string
	for _, ls := range limiterSeries {
		if s := res.Lookup(ls.name, ""); s != nil {
			parts = append(parts, fmt.Sprintf("%s %d", ls.label, s.ErrorKinds[results.RateLimited]))
		}
	}
	if len(parts) == 3 {
		out = append(out, fmt.Sprintf("refused with 429 and Retry-After: %s, %s, %s", parts[0], parts[1], parts[2]))
	}
	return out
}
