package cli

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
	"github.com/tailgate-dev/tailgate/scenarios/examples"
)

const demoUsage = `
Usage: tailgate demo [pagination|capacity] [flags]

Run tailgate's main job end to end on this machine, with nothing else
installed: start the built-in demo target (a blog API over an embedded SQLite
database) on a free loopback port, run the shipped pagination scenario
against it (offset vs cursor pagination at page depths 1 to 10000), and
write the results, a Markdown summary and PNG charts.

OFFSET pagination makes the database walk and skip every earlier row, so
deep pages get slower and slower; cursor (keyset) pagination seeks straight
to the page on a (created_at, id) index and stays flat. The charts show it.

It takes under a minute: filling the database (a few seconds), the load (a
5s warmup, then --duration at the scenario's rate), then the charts. The
deepest page, 10000 at 20 posts a page, needs --rows of at least 200,020.

'tailgate demo capacity' finds the knee instead: the highest rate page 10000
sustains under an SLO, with offset and with cursor pagination (see
'tailgate demo capacity --help').

Examples:
  tailgate demo
  tailgate demo --out /tmp/demo --duration 1m
  tailgate demo capacity
  tailgate serve-demo                       # just the target, to explore with curl or your own scenarios
`

type demoCmdFlags struct {
	db       demoFlags
	out      string
	duration string
	rate     string
	scenario string
	size     string
	quiet    bool
	noTUI    bool
}

func cmdDemo(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "capacity" {
		return cmdDemoCapacity(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "pagination" {
		args = args[1:]
	}
	var f demoCmdFlags
	fs := newFlagSet(env, "demo", demoUsage)
	fs.StringVarP(&f.out, "out", "o", "tailgate-demo", "write results.json, summary.md and the charts into `DIR`")
	addDemoFlags(fs, &f.db)
	fs.StringVarP(&f.duration, "duration", "d", "", "measured duration after the warmup (default: the scenario's, 30s)")
	fs.StringVarP(&f.rate, "rate", "r", "", "arrival rate after the warmup (default: the scenario's, 100/s)")
	fs.StringVar(&f.scenario, "scenario", "", "run this scenario `FILE` instead of the built-in pagination.yaml")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary and the headline")
	fs.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the live dashboard")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if f.db.rows < 1 {
		return usagef("--rows: must be at least 1")
	}
	if f.out == "" {
		return usagef("--out: must not be empty")
	}
	width, height, err := parseSize(f.size)
	if err != nil {
		return err
	}
	s, err := demoScenario(env, f.scenario)
	if err != nil {
		return err
	}
	ths, err := scenarioThresholds(s, nil)
	if err != nil {
		return err
	}
	// Check the overrides before spending time on the fill; the plan is
	// compiled again once the target's port is known.
	if _, err := demoPlan(s, "http://127.0.0.1:1", f); err != nil {
		return err
	}
	if err := checkOutputDir("--out", f.out); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	started := time.Now()

	// Ctrl-C during the fill stops it; once the run starts, execute owns the
	// signals (a graceful stop, then a second Ctrl-C exits).
	fillCtx, cancelFill := context.WithCancelCause(ctx)
	fillDone, watcherDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watcherDone)
		if env.Signals == nil {
			return
		}
		select {
		case <-env.Signals:
			cancelFill(errSignal)
		case <-fillDone:
		}
	}()
	t, err := startDemoTarget(fillCtx, env, f.db, "127.0.0.1:0", f.quiet)
	close(fillDone)
	<-watcherDone // a signal that raced the end of the fill still counts
	stopped := fillCtx.Err() != nil
	cancelFill(nil)
	if err != nil {
		return err
	}
	defer func() {
		if err := t.Close(); err != nil {
			fmt.Fprintf(env.Stderr, "tailgate demo: %v\n", err)
		}
	}()
	if stopped {
		return errSignal
	}

	plan, err := demoPlan(s, t.URL, f)
	if err != nil {
		return err
	}
	plan.Command = append([]string{"tailgate", "demo"}, args...)
	if !f.quiet {
		fmt.Fprintf(env.Stderr, "running %s against %s: %s\n", s.Name, t.URL, plan.Pacer)
	}

	resultsPath := filepath.Join(f.out, "results.json")
	res, runErr := execute(ctx, env, plan, outputOptions{out: resultsPath, quiet: f.quiet, noTUI: f.noTUI, thresholds: ths})
	if res == nil {
		return runErr
	}
	co := chart.Options{Width: width, Height: height, Subtitle: demoSubtitle(plan, res, f.db.rows)}
	files, err := writeDemoOutputs(f.out, res, co)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nwritten to %s:\n", f.out)
	for _, p := range append([]string{resultsPath}, files...) {
		fmt.Fprintf(env.Stdout, "  %s\n", p)
	}
	fmt.Fprintln(env.Stdout)
	// The headline sentences are long; wrapped, they read on an
	// 80-column terminal instead of breaking mid-word at its edge.
	for _, sentence := range demoHeadline(res) {
		for _, line := range format.Wrap("", "  ", sentence, 80) {
			fmt.Fprintln(env.Stdout, line)
		}
	}
	if !f.quiet {
		fmt.Fprintf(env.Stderr, "demo finished in %s\n", time.Since(started).Round(100*time.Millisecond))
	}
	// The scenario's thresholds are shown (in the summary and summary.md),
	// not enforced: the demo shows a shape, and a busy laptop failing
	// "p99 < 250ms" would read as a broken demo. 'tailgate run' of the same
	// file gates on them.
	if len(res.Failed()) > 0 {
		fmt.Fprintln(env.Stdout, "(the demo reports the scenario's thresholds without failing on them; 'tailgate run' fails on them)")
	}
	return runErr
}

// demoScenario loads the scenario the demo runs: a file given by --scenario,
// or the pagination example embedded in the binary.
func demoScenario(env *Env, path string) (*scenarios.Scenario, error) {
	if path != "" {
		return loadScenario(env, path, scenarios.Trust{})
	}
	src, err := examples.Pagination()
	if err != nil {
		return nil, fmt.Errorf("built-in scenario: %w", err)
	}
	s, err := scenarios.Parse(examples.PaginationPath, src)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario: %w", err)
	}
	return s, nil
}

// demoPlan compiles the scenario against target with the flag overrides.
func demoPlan(s *scenarios.Scenario, target string, f demoCmdFlags) (loadgen.Plan, error) {
	plan, err := scenarios.Compile(s, scenarios.CompileOptions{Target: target})
	if err != nil {
		return plan, &UsageError{Err: err}
	}
	if err := overrideLastStage(&plan, f.rate, f.duration); err != nil {
		return plan, err
	}
	if err := plan.Validate(); err != nil {
		return plan, &UsageError{Err: err}
	}
	if plan.Tags == nil {
		plan.Tags = map[string]string{}
	}
	plan.Tags["demo_rows"] = strconv.Itoa(f.db.rows)
	return plan, nil
}

// overrideLastStage applies --rate and --duration to the scenario's last
// stage (the measured one), keeping its warmup stage as it is.
func overrideLastStage(plan *loadgen.Plan, rate, duration string) error {
	if rate == "" && duration == "" {
		return nil
	}
	var stages []loadgen.Stage
	switch p := plan.Pacer.(type) {
	case *loadgen.StagedPacer:
		stages = append(stages, p.Stages()...)
	case nil:
		return usagef("the scenario has no open-model load to override")
	default:
		stages = []loadgen.Stage{{Pacer: p}}
	}
	last := &stages[len(stages)-1]
	c, ok := last.Pacer.(loadgen.ConstantPacer)
	if !ok {
		return usagef("--rate/--duration: the scenario's last stage is not a constant rate (%s)", last.Pacer)
	}
	if duration != "" {
		d, err := format.ParseDuration(duration)
		if err != nil {
			return usagef("--duration: %v", err)
		}
		if d < time.Second {
			return usagef("--duration %s: want at least 1s", d)
		}
		c.Length = d
	}
	if rate != "" {
		r, err := format.ParseRate(rate)
		if err != nil {
			return usagef("--rate: %v", err)
		}
		c.PerSecond = r
	}
	last.Pacer = c
	if len(stages) == 1 {
		plan.Pacer = c
	} else {
		plan.Pacer = loadgen.NewStagedPacer(stages...)
	}
	return nil
}

// Demo series and their colours: cursor blue, offset vermillion, in every
// chart.
var demoSeries = []struct {
	name   string
	colour color.Color
}{
	{"offset", chart.Vermillion},
	{"cursor", chart.Blue},
}

// writeDemoOutputs writes summary.md and the charts; it returns their paths.
func writeDemoOutputs(dir string, res *results.Result, o chart.Options) ([]string, error) {
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, res); err != nil {
		return nil, fmt.Errorf("summary.md: %w", err)
	}
	charts, err := writeDemoCharts(dir, res, o)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("## tailgate demo: offset vs cursor pagination\n\n")
	for _, line := range demoHeadline(res) {
		b.WriteString("**" + line + "**\n\n")
	}
	for _, c := range charts {
		fmt.Fprintf(&b, "![%s](%s)\n\n", c.Title, filepath.Base(c.Path))
	}
	b.Write(md.Bytes())
	mdPath := filepath.Join(dir, "summary.md")
	if err := results.WriteOutput(mdPath, nil, writeBytes(b.Bytes())); err != nil {
		return nil, fmt.Errorf("summary.md: %w", err)
	}
	out := []string{mdPath}
	for _, c := range charts {
		out = append(out, c.Path)
	}
	return out, nil
}

// writeDemoCharts draws the three pictures of the demo: latency by page
// depth, the percentile spectrum and latency over time, each offset vs
// cursor.
func writeDemoCharts(dir string, res *results.Result, o chart.Options) ([]chart.File, error) {
	var files []chart.File
	write := func(name, title string, draw func(w io.Writer, o chart.Options) error) error {
		var buf bytes.Buffer
		o := o
		o.Title = title
		if err := draw(&buf, o); err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := results.WriteOutput(path, nil, writeBytes(buf.Bytes())); err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
		files = append(files, chart.File{Title: title, Path: path})
		return nil
	}

	all, err := chart.TagSeriesOf("depth", []*results.Result{res}, "")
	if err != nil {
		return nil, err
	}
	var series []chart.TagSeries
	for _, ds := range demoSeries {
		for _, s := range all {
			if s.Label == ds.name {
				s.Color = ds.colour
				series = append(series, s)
			}
		}
	}
	if len(series) > 0 {
		if err := write("latency-by-depth.png", "Offset vs cursor pagination: latency by page depth", func(w io.Writer, o chart.Options) error {
			return chart.ByTag(w, "page depth", series, o)
		}); err != nil {
			return files, err
		}
	}

	deepest := deepestDepth(res)
	var lines []chart.SpectrumLine
	var runs []chart.TimelineRun
	for _, ds := range demoSeries {
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
		if err := write("spectrum.png", "Offset vs cursor pagination: latency by percentile", func(w io.Writer, o chart.Options) error {
			return chart.Spectrum(w, lines, o)
		}); err != nil {
			return files, err
		}
	}
	if len(runs) > 0 && len(res.Timeline) > 0 {
		if err := write("timeline.png", "Offset vs cursor pagination: latency over time", func(w io.Writer, o chart.Options) error {
			return chart.Timeline(w, runs, o)
		}); err != nil {
			return files, err
		}
	}
	return files, nil
}

// demoSubtitle names what the charts show: table size, load profile and
// the number of measured requests. (A flow of the demo sends two requests
// per arrival, so "achieved rate" of requests would read as twice the plan.)
func demoSubtitle(plan loadgen.Plan, res *results.Result, rows int) string {
	var n uint64
	for _, name := range []string{"offset", "cursor"} {
		if s := res.Lookup(name, ""); s != nil {
			n += s.Requests
		}
	}
	profile := "closed model"
	if plan.Pacer != nil {
		profile = "open model, " + plan.Pacer.String()
	}
	return fmt.Sprintf("%s posts in SQLite · %s · %d offset and cursor reads measured", groupThousands(rows), profile, n)
}

// groupThousands writes n with thousands separators: 300,000.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// depths returns the depth tag values of a request name's groups, ascending.
func depths(res *results.Result, name string) []int {
	var out []int
	for _, g := range res.Groups {
		if g.Name != name {
			continue
		}
		v, ok := strings.CutPrefix(g.Group, "depth=")
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
	d := depths(res, "offset")
	if len(d) == 0 {
		return ""
	}
	return strconv.Itoa(d[len(d)-1])
}

// demoHeadline states the result in two sentences computed from the
// measurements: how much slower offset's deepest page is than its first, and
// how far cursor pagination strays from its first page at any depth.
func demoHeadline(res *results.Result) []string {
	od, cd := depths(res, "offset"), depths(res, "cursor")
	if len(od) < 2 || len(cd) < 2 {
		return []string{"not enough depths measured for a headline (the run was too short?)"}
	}
	p := func(name string, depth int, pct float64) time.Duration {
		return res.Lookup(name, "depth="+strconv.Itoa(depth)).Latency.Percentile(pct)
	}
	ratio := func(a, b time.Duration) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	first, last := od[0], od[len(od)-1]
	o50 := ratio(p("offset", last, 50), p("offset", first, 50))
	o99 := ratio(p("offset", last, 99), p("offset", first, 99))
	worst := 1.0
	for _, d := range cd[1:] {
		worst = max(worst, ratio(p("cursor", d, 50), p("cursor", cd[0], 50)))
	}
	return []string{
		fmt.Sprintf("offset: page %d takes %s× as long as page %d at p50 (%s vs %s) and %s× at p99 (%s vs %s)",
			last, fmtRatio(o50), first, format.Duration(p("offset", last, 50)), format.Duration(p("offset", first, 50)),
			fmtRatio(o99), format.Duration(p("offset", last, 99)), format.Duration(p("offset", first, 99))),
		fmt.Sprintf("cursor: stays within %s× of page %d at every depth up to %d (p50 %s at page %d, %s at page %d)",
			fmtRatio(worst), cd[0], cd[len(cd)-1], format.Duration(p("cursor", cd[0], 50)), cd[0],
			format.Duration(p("cursor", cd[len(cd)-1], 50)), cd[len(cd)-1]),
	}
}

func fmtRatio(r float64) string {
	if r >= 10 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// writeBytes is a writer function for results.WriteOutput of bytes made
// beforehand.
func writeBytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}
