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
// the misses of the TTL cache against single flight's: at 1 s a point, a
// timeline would blur expiries 2 s apart.
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
	var sets []chart.BarSet
	for _, b := range []chart.BarSet{
		{Label: "TTL cache, misses", Color: chart.Vermillion},
		{Label: "single flight, misses", Color: chart.Blue},
	} {
		name := map[string]string{"TTL cache, misses": "cached", "single flight, misses": "single_flight"}[b.Label]
		if st := res.Lookup(name, cacheMiss); st != nil && st.Latency.Count() > 0 {
			b.Hist = st.Latency
			sets = append(sets, b)
		}
	}
	if len(sets) == 2 {
		return cw.write("misses.png", "Cache: a miss in a stampede vs a miss with single flight", func(w io.Writer, o chart.Options) error {
			return chart.Bars(w, sets, o)
		})
	}
	return nil
}

// cacheHeadline: how much faster a hit is than the query, and how many
// times the TTL cache ran the query at each expiry against single flight's
// once. The query's own cost is single flight's miss: one computation at a
// time, no stampede around it.
func cacheHeadline(res *results.Result) []string {
	hit, query := pct(res, "cached", cacheHit, 50), pct(res, "single_flight", cacheMiss, 50)
	if hit == 0 || query == 0 {
		return []string{"not enough hits and misses measured for a headline (the run was too short?)"}
	}
	out := []string{
		fmt.Sprintf("cache: a hit takes %s at p50 (p99 %s); a miss runs the query, %s at p50 with single flight (%s× the hit), and uncached every request does (p50 %s)",
			dur(hit), dur(pct(res, "cached", cacheHit, 99)), dur(query), fmtRatio(ratio(query, hit)), dur(pct(res, "uncached", "", 50))),
	}
	ttlMisses, sfMisses := requests(res, "cached", cacheMiss), requests(res, "single_flight", cacheMiss)
	if ttlMisses > 0 {
		stampede := pct(res, "cached", cacheMiss, 50)
		out = append(out, fmt.Sprintf("stampede: at each expiry the TTL cache ran the query %s times at once (%d in all, against single flight's %d, one per expiry), and its misses took %s at p50, %s× single flight's",
			fmtRatio(float64(ttlMisses)/float64(sfMisses)), ttlMisses, sfMisses, dur(stampede), fmtRatio(ratio(stampede, query))))
	}
	return out
}
