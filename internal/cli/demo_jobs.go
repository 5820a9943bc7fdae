package cli

import (
	"fmt"
	"io"

	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// jobsLab: a slow job inside the request vs the same job in the
// background, 202 Accepted and a status URL to poll.
var jobsLab = &demoLab{
	name:     "jobs",
	title:    "a slow request vs a background job (202 + poll)",
	file:     "jobs.yaml",
	out:      "tailgate-demo-jobs",
	measured: "export requests",
	series:   []string{"export_sync", "export_submit", "export_poll"},
	headline: jobsHeadline,
	charts:   jobsCharts,
}

// jobsCharts draws the latency spectrum of every request.
func jobsCharts(res *results.Result, cw *chartWriter) error {
	var lines []chart.SpectrumLine
	for _, l := range []chart.SpectrumLine{
		{Label: "sync: the export request", Color: chart.Vermillion},
		{Label: "202 + poll: the submit request", Color: chart.Blue},
		{Label: "202 + poll: each poll", Color: chart.SkyBlue},
	} {
		name := map[string]string{
			"sync: the export request":       "export_sync",
			"202 + poll: the submit request": "export_submit",
			"202 + poll: each poll":          "export_poll",
		}[l.Label]
		if s := res.Lookup(name, ""); s != nil && s.Latency.Count() > 0 {
			l.Hist = s.Latency
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return cw.write("spectrum.png", "Background jobs: request latency, the job inside the request vs 202 + poll", func(w io.Writer, o chart.Options) error {
		return chart.Spectrum(w, lines, o)
	})
}

// jobsHeadline: the synchronous request takes the job's duration; with 202
// + poll no request does.
func jobsHeadline(res *results.Result) []string {
	if pct(res, "export_sync", "", 50) == 0 || pct(res, "export_submit", "", 50) == 0 {
		return []string{"not enough exports measured for a headline (the run was too short?)"}
	}
	return []string{
		fmt.Sprintf("sync: every export request takes the job's time (p50 %s, p99 %s)",
			dur(pct(res, "export_sync", "", 50)), dur(pct(res, "export_sync", "", 99))),
		fmt.Sprintf("202 + poll: the submit answers in %s at p99 and each poll in %s, whatever the job's duration",
			dur(pct(res, "export_submit", "", 99)), dur(pct(res, "export_poll", "", 99))),
	}
}
