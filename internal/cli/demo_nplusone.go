package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// nPlusOneLab: a feed page that loads each post's author with a query of
// its own pays a database round trip per post; one JOIN reads the same page
// in one.
var nPlusOneLab = &demoLab{
	name:     "n-plus-one",
	title:    "N+1 queries vs one JOIN",
	file:     "n-plus-one.yaml",
	out:      "tailgate-demo-n-plus-one",
	measured: "feed pages",
	series:   []string{"n_plus_one", "join"},
	headline: nPlusOneHeadline,
	charts:   nPlusOneCharts,
}

// nPlusOneCharts draws latency by page size, the percentile spectrum and
// latency over time, each N+1 vs JOIN.
func nPlusOneCharts(res *results.Result, cw *chartWriter) error {
	colours := map[string]chart.TagSeries{}
	all, err := chart.TagSeriesOf("per_page", []*results.Result{res}, "")
	if err != nil {
		return err
	}
	for _, s := range all {
		colours[s.Label] = s
	}
	var series []chart.TagSeries
	var lines []chart.SpectrumLine
	var runs []chart.TimelineRun
	sizes := numericTags(res, "n_plus_one", "per_page")
	for _, ds := range []struct{ name, label string }{{"n_plus_one", "N+1"}, {"join", "JOIN"}} {
		c := chart.Vermillion
		if ds.name == "join" {
			c = chart.Blue
		}
		if s, ok := colours[ds.name]; ok {
			s.Label, s.Color = ds.label, c
			series = append(series, s)
		}
		st := res.Lookup(ds.name, "")
		if st == nil {
			continue
		}
		lines = append(lines, chart.SpectrumLine{Label: ds.label + ", all page sizes", Hist: st.Latency, Color: c})
		if len(sizes) > 0 {
			biggest := strconv.Itoa(sizes[len(sizes)-1])
			if g := res.Lookup(ds.name, "per_page="+biggest); g != nil {
				lines = append(lines, chart.SpectrumLine{Label: ds.label + ", " + biggest + " posts a page", Hist: g.Latency, Color: c, Dashed: true})
			}
		}
		runs = append(runs, chart.TimelineRun{Label: ds.label, Result: res, Series: ds.name, Color: c})
	}
	if len(series) > 0 {
		if err := cw.write("latency-by-page-size.png", "N+1 queries vs one JOIN: latency by posts per page", func(w io.Writer, o chart.Options) error {
			return chart.ByTag(w, "posts per page (N+1: one more query per post)", series, o)
		}); err != nil {
			return err
		}
	}
	if len(lines) > 0 {
		if err := cw.write("spectrum.png", "N+1 queries vs one JOIN: latency by percentile", func(w io.Writer, o chart.Options) error {
			return chart.Spectrum(w, lines, o)
		}); err != nil {
			return err
		}
	}
	if len(runs) > 0 && len(res.Timeline) > 0 {
		if err := cw.write("timeline.png", "N+1 queries vs one JOIN: latency over time", func(w io.Writer, o chart.Options) error {
			return chart.Timeline(w, runs, o)
		}); err != nil {
			return err
		}
	}
	return nil
}

// nPlusOneHeadline: how much slower N+1 is at the biggest page, and how the
// gap grows with the page size.
func nPlusOneHeadline(res *results.Result) []string {
	sizes := numericTags(res, "n_plus_one", "per_page")
	join := numericTags(res, "join", "per_page")
	if len(sizes) == 0 || len(join) == 0 {
		return []string{"not enough pages measured for a headline (the run was too short?)"}
	}
	g := func(n int) string { return "per_page=" + strconv.Itoa(n) }
	big, small := sizes[len(sizes)-1], sizes[0]
	r := func(n int, p float64) float64 {
		return ratio(pct(res, "n_plus_one", g(n), p), pct(res, "join", g(n), p))
	}
	out := []string{
		fmt.Sprintf("N+1: a page of %d posts with their authors takes %s× as long as with one JOIN at p50 (%s vs %s) and %s× at p99 (%s vs %s): %d queries instead of 1",
			big, fmtRatio(r(big, 50)), dur(pct(res, "n_plus_one", g(big), 50)), dur(pct(res, "join", g(big), 50)),
			fmtRatio(r(big, 99)), dur(pct(res, "n_plus_one", g(big), 99)), dur(pct(res, "join", g(big), 99)), big+1),
	}
	if small != big {
		out = append(out, fmt.Sprintf("the gap grows with the page, a query for every post: %s× at %d posts a page, %s× at %d (p50)",
			fmtRatio(r(small, 50)), small, fmtRatio(r(big, 50)), big))
	}
	if extra := pct(res, "n_plus_one", g(big), 50) - pct(res, "join", g(big), 50); extra > 0 {
		// SQLite runs in the process: a query costs its own CPU and no
		// network, the best case for N+1. Say so, with the measured cost.
		out = append(out, fmt.Sprintf("each extra query cost %s here, in-process SQLite's CPU alone; against a database server each one also waits a network round trip",
			dur(extra/time.Duration(big))))
	}
	return out
}
