package cli

import (
	"fmt"
	"image/color"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// paginationLab: OFFSET makes the database walk and skip every earlier
// row, so deep pages get slower; a cursor seeks on the index and stays flat.
var paginationLab = &demoLab{
	name:     "pagination",
	title:    "offset vs cursor pagination",
	file:     "pagination.yaml",
	out:      "tailgate-demo",
	measured: "offset and cursor reads",
	series:   []string{"offset", "cursor"},
	headline: paginationHeadline,
	charts:   paginationCharts,
}

// paginationSeries are the pagination lab's series and their colours:
// cursor blue, offset vermillion, in every chart.
var paginationSeries = []struct {
	name   string
	colour color.Color
}{
	{"offset", chart.Vermillion},
	{"cursor", chart.Blue},
}

// paginationCharts draws latency by page depth, the percentile spectrum and
// latency over time, each offset vs cursor.
func paginationCharts(res *results.Result, cw *chartWriter) error {
	all, err := chart.TagSeriesOf("depth", []*results.Result{res}, "")
	if err != nil {
		return err
	}
	var series []chart.TagSeries
	for _, ds := range paginationSeries {
		for _, s := range all {
			if s.Label == ds.name {
				s.Color = ds.colour
				series = append(series, s)
			}
		}
	}
	if len(series) > 0 {
		if err := cw.write("latency-by-depth.png", "Offset vs cursor pagination: latency by page depth", func(w io.Writer, o chart.Options) error {
			return chart.ByTag(w, "page depth", series, o)
		}); err != nil {
			return err
		}
	}

	deepest := deepestDepth(res)
	var lines []chart.SpectrumLine
	var runs []chart.TimelineRun
	for _, ds := range paginationSeries {
		st := res.Lookup(ds.name, "")
		if st == nil {
			continue
		}
		c := ds.colour
		lines = append(lines, chart.SpectrumLine{Label: ds.name + ", all depths", Hist: st.Latency, Color: c})
		if g := res.Lookup(ds.name, "depth="+deepest); deepest != "" && g != nil {
			lines = append(lines, chart.SpectrumLine{Label: ds.name + ", page " + deepest, Hist: g.Latency, Color: c, Dashed: true})
		}
		runs = append(runs, chart.TimelineRun{Label: ds.name, Result: res, Series: ds.name, Color: c})
	}
	if len(lines) > 0 {
		if err := cw.write("spectrum.png", "Offset vs cursor pagination: latency by percentile", func(w io.Writer, o chart.Options) error {
			return chart.Spectrum(w, lines, o)
		}); err != nil {
			return err
		}
	}
	if len(runs) > 0 && len(res.Timeline) > 0 {
		if err := cw.write("timeline.png", "Offset vs cursor pagination: latency over time", func(w io.Writer, o chart.Options) error {
			return chart.Timeline(w, runs, o)
		}); err != nil {
			return err
		}
	}
	return nil
}

// numericTags returns the values of a numeric tag in a request name's
// groups that have successful responses, ascending.
func numericTags(res *results.Result, name, tag string) []int {
	var out []int
	for _, g := range res.Groups {
		if g.Name != name {
			continue
		}
		v, ok := strings.CutPrefix(g.Group, tag+"=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 && g.Latency != nil && g.Latency.Count() > 0 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func deepestDepth(res *results.Result) string {
	d := numericTags(res, "offset", "depth")
	if len(d) == 0 {
		return ""
	}
	return strconv.Itoa(d[len(d)-1])
}

// paginationHeadline states the result in two sentences computed from the
// measurements: how much slower offset's deepest page is than its first,
// and how far cursor pagination strays from its first page at any depth.
func paginationHeadline(res *results.Result) []string {
	od, cd := numericTags(res, "offset", "depth"), numericTags(res, "cursor", "depth")
	if len(od) < 2 || len(cd) < 2 {
		return []string{"not enough depths measured for a headline (the run was too short?)"}
	}
	p := func(name string, depth int, pc float64) string {
		return dur(pct(res, name, "depth="+strconv.Itoa(depth), pc))
	}
	r := func(name string, a, b int, pc float64) float64 {
		return ratio(pct(res, name, "depth="+strconv.Itoa(a), pc), pct(res, name, "depth="+strconv.Itoa(b), pc))
	}
	first, last := od[0], od[len(od)-1]
	worst := 1.0
	for _, d := range cd[1:] {
		worst = max(worst, r("cursor", d, cd[0], 50))
	}
	return []string{
		fmt.Sprintf("offset: page %d takes %s× as long as page %d at p50 (%s vs %s) and %s× at p99 (%s vs %s)",
			last, fmtRatio(r("offset", last, first, 50)), first, p("offset", last, 50), p("offset", first, 50),
			fmtRatio(r("offset", last, first, 99)), p("offset", last, 99), p("offset", first, 99)),
		fmt.Sprintf("cursor: stays within %s× of page %d at every depth up to %d (p50 %s at page %d, %s at page %d)",
			fmtRatio(worst), cd[0], cd[len(cd)-1], p("cursor", cd[0], 50), cd[0],
			p("cursor", cd[len(cd)-1], 50), cd[len(cd)-1]),
	}
}
