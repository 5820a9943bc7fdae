package cli

import (
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// writeCharts writes the PNG charts of one result into dir and returns
// their paths: the percentile spectrum, latency over time, percentile bars
// when the run has several request names, and latency by tag when its
// groups carry a numeric tag.
func writeCharts(dir string, width, height int, res *results.Result) ([]string, error) {
	files, err := chart.WriteRunCharts(dir, res, chart.Options{Width: width, Height: height})
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	return paths, err
}
