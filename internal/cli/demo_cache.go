package cli

import (
	"fmt"
	"io"

	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// cacheLab: an expensive aggregate uncached, cached with a TTL (a stampede
// of recomputations at each expiry) and cached with single flight.
var cacheLab = &demoLab{
	name:     "cache",
	title:    "an uncached aggregate vs a TTL cache vs single flight",
	file:     "cache.yaml",
	out:      "tailgate-demo-cache",
	measured: "aggregate reads",
	series:   []string{"uncached", "cached", "single_flight"},
	headline: cacheHeadline,
	charts:   cacheCharts,
}

const (
	cacheHit  = "x-cache=HIT"
	cacheMiss = "x-cache=MISS"
)

// cacheCharts draws the spectrum of hits and misses of each variant, and
// latency over time (the stampede's spikes at each expiry).
func cacheCharts(res *results.Result, cw *chartWriter) error {
	var lines []chart.SpectrumLine
	add := func(label, name, group string, c chart.SpectrumLine) {
		if s := res.Lookup(name, group); s != nil && s.Latency.Count() > 0 {
			c.Label, c.Hist = label, s.Latency
			lines = append(lines, c)
		}
	}
	add("uncached", "uncached", "", chart.SpectrumLine{Color: chart.Black})
	add("TTL cache, hits", "cached", cacheHit, chart.SpectrumLine{Color: chart.Vermillion})
	add("TTL cache, misses", "cached", cacheMiss, chart.SpectrumLine{Color: chart.Vermillion, Dashed: true})
	add("single flight, hits", "single_flight", cacheHit, chart.SpectrumLine{Color: chart.Blue})
	add("single flight, misses", "single_flight", cacheMiss, chart.SpectrumLine{Color: chart.Blue, Dashed: true})
	if len(lines) > 0 {
		if err := cw.write("spectrum.png", "Cache: hits, misses and the stampede, by percentile", func(w io.Writer, o chart.Options) error {
			return chart.Spectrum(w, lines, o)
		}); err != nil {
			return err
		}
	}
	var runs []chart.TimelineRun
	for _, r := range []chart.TimelineRun{
		{Label: "uncached", Series: "uncached", Color: chart.Black},
		{Label: "TTL cache", Series: "cached", Color: chart.Vermillion},
		{Label: "single flight", Series: "single_flight", Color: chart.Blue},
	} {
		if res.Lookup(r.Series, "") != nil {
			r.Result = res
			runs = append(runs, r)
		}
	}
	if len(runs) > 0 && len(res.Timeline) > 0 {
		if err := cw.write("timeline.png", "Cache: latency over time (the TTL cache spikes at each expiry)", func(w io.Writer, o chart.Options) error {
			return chart.Timeline(w, runs, o)
		}); err != nil {
			return err
		}
	}
	return nil
}

// cacheHeadline: how much faster a hit is than a miss, and how many times
// the TTL cache recomputed for each of single flight's recomputations.
func cacheHeadline(res *results.Result) []string {
	hit, miss := pct(res, "cached", cacheHit, 50), pct(res, "cached", cacheMiss, 50)
	if hit == 0 || miss == 0 {
		return []string{"not enough hits and misses measured for a headline (the run was too short?)"}
	}
	out := []string{
		fmt.Sprintf("cache: a hit takes %s at p50, a miss %s: %s× faster (p99 %s vs %s); uncached, every request pays for the query (p50 %s)",
			dur(hit), dur(miss), fmtRatio(ratio(miss, hit)), dur(pct(res, "cached", cacheHit, 99)), dur(pct(res, "cached", cacheMiss, 99)),
			dur(pct(res, "uncached", "", 50))),
	}
	ttlMisses, sfMisses := requests(res, "cached", cacheMiss), requests(res, "single_flight", cacheMiss)
	if sfMisses > 0 {
		out = append(out, fmt.Sprintf("stampede: the TTL cache ran the query %d times, %s for each of single flight's %d (one per expiry); its slowest request took %s, single flight's %s",
			ttlMisses, fmtRatio(float64(ttlMisses)/float64(sfMisses)), sfMisses,
			dur(pct(res, "cached", "", 100)), dur(pct(res, "single_flight", "", 100))))
	}
	return out
}
