package cli

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

// demoLab is one lab of 'tailgate demo': a technique of performance design
// shown before and after, with the shipped scenario that measures it and
// the way its results tell the story.
type demoLab struct {
	// name is the lab's argument: tailgate demo NAME.
	name string
	// title heads summary.md: "N+1 queries vs one JOIN".
	title string
	// file is the scenario in scenarios/examples.
	file string
	// out is the default --out directory.
	out string
	// measured names what the subtitle counts ("offset and cursor reads")
	// and the requests counted.
	measured string
	series   []string
	// headline states the result in a few sentences computed from it.
	headline func(res *results.Result) []string
	// charts draws the lab's pictures, the one that tells the story first.
	charts func(res *results.Result, cw *chartWriter) error
}

// demoLabs are the labs in the order 'tailgate demo all' runs them.
var demoLabs = []*demoLab{paginationLab, nPlusOneLab, cacheLab, rateLimitLab, jobsLab}

// findLab returns the lab named name, nil if there is none.
func findLab(name string) *demoLab {
	for _, l := range demoLabs {
		if l.name == name {
			return l
		}
	}
	return nil
}

// chartWriter writes a lab's charts into its directory and keeps the list.
type chartWriter struct {
	dir   string
	o     chart.Options
	files []chart.File
}

// write draws one chart into name under title.
func (cw *chartWriter) write(name, title string, draw func(w io.Writer, o chart.Options) error) error {
	var buf bytes.Buffer
	o := cw.o
	o.Title = title
	if err := draw(&buf, o); err != nil {
		return fmt.Errorf("chart %s: %w", name, err)
	}
	path := filepath.Join(cw.dir, name)
	if err := results.WriteOutput(path, nil, writeBytes(buf.Bytes())); err != nil {
		return fmt.Errorf("chart %s: %w", name, err)
	}
	cw.files = append(cw.files, chart.File{Title: title, Path: path})
	return nil
}

// labSubtitle names what the charts show: table size, load profile and the
// number of measured requests of the lab's series.
func labSubtitle(lab *demoLab, plan loadgen.Plan, res *results.Result, rows int) string {
	var n uint64
	for _, name := range lab.series {
		if s := res.Lookup(name, ""); s != nil {
			n += s.Requests
		}
	}
	profile := "closed model"
	if plan.Pacer != nil {
		profile = "open model, " + plan.Pacer.String()
	}
	return fmt.Sprintf("%s posts in SQLite · %s · %d %s measured", groupThousands(rows), profile, n, lab.measured)
}

// pct is the latency percentile of a series, 0 when it has no successes.
func pct(res *results.Result, name, group string, p float64) time.Duration {
	s := res.Lookup(name, group)
	if s == nil || s.Latency == nil || s.Latency.Count() == 0 {
		return 0
	}
	return s.Latency.Percentile(p)
}

// requests is a series' request count, 0 when it is not in the result.
func requests(res *results.Result, name, group string) uint64 {
	if s := res.Lookup(name, group); s != nil {
		return s.Requests
	}
	return 0
}

// ratio is a/b, 0 when b is not positive.
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fmtRatio writes a ratio with the precision it deserves: 42, 4.2.
func fmtRatio(r float64) string {
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// dur is format.Duration, short to keep the headlines' format strings
// readable.
func dur(d time.Duration) string { return format.Duration(d) }

// groupThousands writes n with thousands separators: 300,000.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeBytes is a writer function for results.WriteOutput of bytes made
// beforehand.
func writeBytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}
