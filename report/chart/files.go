package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// File is a chart written to disk.
type File struct {
	Title string
	Path  string
}

// Describe names a set of runs for a subtitle: what ran, how (model,
// planned and achieved rate) and for how long. Label, when set, leads.
func Describe(label string, rs []*results.Result) string {
	if len(rs) == 0 {
		return label
	}
	m := rs[0].Meta
	var parts []string
	head := m.Name
	if head == "" {
		head = "run"
	}
	if len(rs) > 1 {
		head = fmt.Sprintf("%d runs of %s", len(rs), head)
	}
	if label != "" {
		head = label + ": " + head
	}
	parts = append(parts, head)
	if m.Target != "" {
		parts = append(parts, m.Target)
	}
	if m.Model != "" {
		model := string(m.Model) + " model"
		if m.Model == results.ClosedModel && m.VUs > 0 {
			model += fmt.Sprintf(", %d VUs", m.VUs)
		}
		parts = append(parts, model)
	}
	var rate, iter, planned float64
	var dur time.Duration
	for _, r := range rs {
		rate += r.Rate()
		iter += r.IterationRate()
		planned += r.PlannedRate()
		dur += r.Measured()
	}
	n := float64(len(rs))
	rate, iter, planned = rate/n, iter/n, planned/n
	dur /= time.Duration(len(rs))
	// The plan counts iterations (arrivals), a flow of several steps sends
	// more requests than that: iterations are held against the plan, and
	// requests get their own figure.
	rates := format.Number(rate) + " req/s"
	if planned > 0 {
		rates = format.Number(iter) + " iterations/s of " + format.Rate(planned) + " planned, " + rates
	}
	parts = append(parts, rates)
	d := dur.Round(time.Second).String()
	if dur < 10*time.Second {
		d = dur.Round(100 * time.Millisecond).String()
	}
	if len(rs) > 1 {
		d += " each"
	}
	parts = append(parts, d)
	return strings.Join(parts, " · ")
}

// write renders one chart into dir/name and appends it to files.
func write(files []File, dir, name, title string, draw func(io.Writer) error) ([]File, error) {
	var buf bytes.Buffer
	if err := draw(&buf); err != nil {
		return files, fmt.Errorf("%s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	// By the rule of every file tailgate writes (results.Output): a
	// chart replaces a regular file atomically, never a device or a pipe.
	if err := results.WriteOutput(path, nil, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return files, fmt.Errorf("chart: %w", err)
	}
	return append(files, File{Title: title, Path: path}), nil
}

// WriteRunCharts writes the charts of one result into dir (created if
// needed): spectrum.png (the run and each request name), flows.png when
// the run has flow series (each flow's latency), timeline.png, quota.png
// when the target reported a rate-limit quota, bars.png when the run has
// several request names, and by-tag.png when its
// tag groups carry a numeric tag.
func WriteRunCharts(dir string, res *results.Result, o Options) ([]File, error) {
	if res == nil || res.Total == nil {
		return nil, errors.New("chart: no result")
	}
	if _, _, err := o.size(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chart directory: %w", err)
	}
	if o.Subtitle == "" {
		o.Subtitle = Describe("", []*results.Result{res})
	}
	var files []File
	var err error
	// One colour per series in every chart of the run (RunColours).
	colours := NewRunColours(res)
	lines := []SpectrumLine{{Label: "all requests", Hist: res.Total.Latency, Color: colours.Total()}}
	if len(res.Requests) == 1 {
		lines[0].Label = res.Requests[0].Name
	} else {
		for _, s := range res.Requests {
			lines = append(lines, SpectrumLine{Label: s.Name, Hist: s.Latency, Color: colours.Of(s.Name)})
		}
	}
	if files, err = write(files, dir, "spectrum.png", "Latency by percentile", func(w io.Writer) error {
		return Spectrum(w, lines, o)
	}); err != nil {
		return files, err
	}
	if len(res.Flows) > 0 {
		if files, err = writeFlows(files, dir, res, colours, o); err != nil {
			return files, err
		}
	}
	if len(res.Timeline) > 0 {
		if files, err = write(files, dir, "timeline.png", "Latency and throughput over time", func(w io.Writer) error {
			return Timeline(w, []TimelineRun{{Result: res, Color: colours.Total()}}, o)
		}); err != nil {
			return files, err
		}
	}
	if res.HasQuota() {
		if files, err = write(files, dir, "quota.png", "Rate-limit quota over time", func(w io.Writer) error {
			return Quota(w, res, colours, o)
		}); err != nil {
			return files, err
		}
	}
	if len(res.Requests) > 1 {
		var sets []BarSet
		for _, s := range res.Requests {
			sets = append(sets, BarSet{Label: s.Name, Hist: s.Latency, Color: colours.Of(s.Name)})
		}
		if files, err = write(files, dir, "bars.png", "Latency percentiles", func(w io.Writer) error {
			return Bars(w, sets, o)
		}); err != nil {
			return files, err
		}
	}
	if tag := NumericTag([]*results.Result{res}); tag != "" {
		series, err := TagSeriesOf(tag, []*results.Result{res}, "")
		if err != nil {
			return files, err
		}
		// A request keeps the colour the spectrum and the bars give it.
		for j := range series {
			name, _, _ := strings.Cut(series[j].Label, " {")
			series[j].Color = colours.Of(name)
		}
		if files, err = write(files, dir, "by-tag.png", "Latency by "+tag, func(w io.Writer) error {
			return ByTag(w, tag, series, o)
		}); err != nil {
			return files, err
		}
	}
	return files, nil
}

// writeFlows writes flows.png: the spectrum of each flow's latency, from
// the arrival's intended time to the end of its last step.
func writeFlows(files []File, dir string, res *results.Result, colours RunColours, o Options) ([]File, error) {
	var lines []SpectrumLine
	for _, s := range res.Flows {
		lines = append(lines, SpectrumLine{Label: results.FlowSelector(s.Name).String(), Hist: s.Latency, Color: colours.Flow(s.Name)})
	}
	if o.Title == "" {
		o.Title = "Flow latency by percentile (end of the last step − the iteration's intended start)"
	}
	files, err := write(files, dir, "flows.png", "Flow latency by percentile", func(w io.Writer) error {
		return Spectrum(w, lines, o)
	})
	if errors.Is(err, errNoData) {
		// No iteration completed: the summary says so, a chart would not.
		return files, nil
	}
	return files, err
}

// CompareSide is one side of a comparison chart.
type CompareSide struct {
	Label   string
	Results []*results.Result
	// Hists are the latency histograms of the compared selection, one per
	// run (the total, a request name, a tag group).
	Hists []*results.Histogram
	// Series is the request name the timeline draws ("" the whole run).
	Series string
	// SeriesLabel names the timeline's lines when they show more than the
	// selection (timelines keep request names, not tag groups); "" uses
	// Label.
	SeriesLabel string
}

// WriteCompareCharts writes the charts of a comparison into dir:
// spectrum.png (pooled line per side over faint single runs), bars.png,
// timeline.png (all runs overlaid) and by-tag.png when the results carry a
// numeric tag. Sides that share their results (a comparison within one
// run) draw the by-tag chart once.
func WriteCompareCharts(dir string, sides [2]CompareSide, o Options) ([]File, error) {
	if _, _, err := o.size(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chart directory: %w", err)
	}
	same := len(sides[0].Results) > 0 && len(sides[1].Results) > 0 && sides[0].Results[0] == sides[1].Results[0]
	if o.Subtitle == "" {
		if same {
			o.Subtitle = sides[0].Label + " vs " + sides[1].Label + " in " + Describe("", sides[0].Results)
		} else {
			o.Subtitle = Describe(sides[0].Label, sides[0].Results) + "\n" + Describe(sides[1].Label, sides[1].Results)
		}
	}
	colours := [2]color.Color{Blue, Vermillion}
	var files []File
	var err error

	var lines []SpectrumLine
	var sets []BarSet
	for i, s := range sides {
		pooled := results.NewHistogram()
		for _, h := range s.Hists {
			if h == nil {
				continue
			}
			if err := pooled.Merge(h); err != nil {
				return nil, fmt.Errorf("chart: pool %s: %w", s.Label, err)
			}
			if len(s.Hists) > 1 {
				lines = append(lines, SpectrumLine{Label: s.Label, Hist: h, Color: colours[i], Faint: true})
			}
		}
		label := s.Label
		if len(s.Hists) > 1 {
			label = fmt.Sprintf("%s (%d runs pooled)", s.Label, len(s.Hists))
		}
		lines = append(lines, SpectrumLine{Label: label, Hist: pooled, Color: colours[i]})
		sets = append(sets, BarSet{Label: label, Hist: pooled, Color: colours[i]})
	}
	if files, err = write(files, dir, "spectrum.png", "Latency by percentile", func(w io.Writer) error {
		return Spectrum(w, lines, o)
	}); err != nil {
		return files, err
	}
	if files, err = write(files, dir, "bars.png", "Latency percentiles", func(w io.Writer) error {
		return Bars(w, sets, o)
	}); err != nil {
		return files, err
	}
	var runs []TimelineRun
	for i, s := range sides {
		for _, r := range s.Results {
			if len(r.Timeline) > 0 {
				label := s.Label
				if s.SeriesLabel != "" {
					label = s.SeriesLabel
				}
				runs = append(runs, TimelineRun{Label: label, Result: r, Series: s.Series, Color: colours[i]})
			}
		}
	}
	// The timeline keeps request names per second, not tag groups: two
	// selections of one run that differ only by group would draw the same
	// lines twice, so they get no timeline.
	if same && (sides[0].Series == "" || sides[0].Series == sides[1].Series) {
		runs = nil
	}
	if len(runs) > 0 {
		if files, err = write(files, dir, "timeline.png", "Latency and throughput over time", func(w io.Writer) error {
			return Timeline(w, runs, o)
		}); err != nil && !errors.Is(err, errNoData) {
			return files, err
		}
	}
	all := append(append([]*results.Result{}, sides[0].Results...), sides[1].Results...)
	if tag := NumericTag(all); tag != "" {
		var series []TagSeries
		if same {
			if series, err = TagSeriesOf(tag, sides[0].Results, ""); err != nil {
				return files, err
			}
			// One colour per series in every chart: a request a side
			// selects keeps that side's colour here too, the others take
			// the palette after the sides' two.
			k := 2
			for j := range series {
				name, _, _ := strings.Cut(series[j].Label, " {")
				switch name {
				case sides[0].Series:
					series[j].Color = colours[0]
				case sides[1].Series:
					series[j].Color = colours[1]
				default:
					series[j].Color = colour(k)
					k++
				}
			}
		} else {
			// One colour per request name; the first side is drawn
			// lighter, so each name's before and after read as a pair.
			names := map[string]int{}
			for i, s := range sides {
				ss, err := TagSeriesOf(tag, s.Results, "("+s.Label+")")
				if err != nil {
					return files, err
				}
				for j := range ss {
					name := strings.TrimSuffix(ss[j].Label, " ("+s.Label+")")
					k, ok := names[name]
					if !ok {
						k = len(names)
						names[name] = k
					}
					ss[j].Color = colour(k)
					if i == 0 {
						ss[j].Color = fade(colour(k), 0.5)
					}
				}
				series = append(series, ss...)
			}
			if len(names) == 1 {
				// One request name on both sides (two scenarios, or one
				// endpoint before and after): colour by side instead.
				for j := range series {
					series[j].Color = colours[0]
					if strings.HasSuffix(series[j].Label, "("+sides[1].Label+")") {
						series[j].Color = colours[1]
					}
				}
			}
		}
		if files, err = write(files, dir, "by-tag.png", "Latency by "+tag, func(w io.Writer) error {
			return ByTag(w, tag, series, o)
		}); err != nil {
			return files, err
		}
	}
	return files, nil
}
