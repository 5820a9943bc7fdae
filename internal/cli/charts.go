package cli

import "github.com/tailgate-dev/tailgate/loadgen"

// writeCharts writes the PNG charts of one result into dir.
func writeCharts(dir string, width, height int, res *loadgen.Result) ([]string, error) {
	return nil, usagef("charts are not available in this build yet")
}
