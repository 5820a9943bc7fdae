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

// jobsCharts draws the latency spectrum of every request and of the
// background flow as a whole: the requests of 202 + poll are fast, the
// flow takes the job's time, as the synchronous request does.
func jobsCharts(res *results.Result, cw *chartWriter) error {
	var lines []chart.SpectrumLine
	add := func(s *results.Stats, l chart.SpectrumLine) {
		if s != nil && s.Latency != nil && s.Latency.Count() > 0 {
			l.Hist = s.Latency
			lines = append(lines, l)
		}
	}
	add(res.Lookup("export_sync", ""), chart.SpectrumLine{Label: "sync: the export request (the whole flow)", Color: chart.Vermillion})
	add(res.Lookup("export_submit", ""), chart.SpectrumLine{Label: "202 + poll: the submit request", Color: chart.Blue})
	add(res.Lookup("export_poll", ""), chart.SpectrumLine{Label: "202 + poll: each poll", Color: chart.SkyBlue})
	add(res.LookupFlow("background"), chart.SpectrumLine{Label: "202 + poll: the whole flow, submit to done", Color: chart.Blue, Dashed: true})
	if len(lines) == 0 {
		return nil
	}
	return cw.write("spectrum.png", "Background jobs: the job inside the request vs 202 + poll", func(w io.Writer, o chart.Options) error {
		return chart.Spectrum(w, lines, o)
	})
}

// jobsHeadline: the synchronous request takes the job's duration; with 202
// + poll no request does, and the flow does.
func jobsHeadline(res *results.Result) []string {
	if pct(res, "export_sync", "", 50) == 0 || pct(res, "export_submit", "", 50) == 0 {
		return []string{"not enough exports measured for a headline (the run was too short?)"}
	}
	out := []string{
		fmt.Sprintf("sync: every export request takes the job's time (p50 %s, p99 %s)",
			dur(pct(res, "export_sync", "", 50)), dur(pct(res, "export_sync", "", 99))),
		fmt.Sprintf("202 + poll: the submit answers in %s at p99 and each poll in %s, whatever the job's duration",
			dur(pct(res, "export_submit", "", 99)), dur(pct(res, "export_poll", "", 99))),
	}
	if f := res.LookupFlow("background"); f != nil && f.Latency != nil && f.Latency.Count() > 0 {
		out = append(out, fmt.Sprintf("the whole background flow, submit to done, takes the job's time: p50 %s, p99 %s (the job, plus up to one poll interval)",
			dur(f.Latency.Percentile(50)), dur(f.Latency.Percentile(99))))
	}
	return out
}
