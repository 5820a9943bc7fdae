package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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
Usage: tailgate demo [pagination|n-plus-one|cache|rate-limit|jobs|all|capacity] [flags]

Run a lab of performance design end to end on this machine, with nothing
else installed: start the built-in demo target (a blog API over an embedded
SQLite database) on a free loopback port, run the lab's shipped scenario
from scenarios/examples against it, and write the results, a Markdown
summary with the headline, and PNG charts. Each lab shows one technique
before and after, and takes under a minute:

  pagination   (the default) OFFSET pagination walks and skips every earlier
               row, so deep pages get slower; a cursor (keyset) seeks on a
               (created_at, id) index and stays flat. Pages 1 to 10000: the
               deepest needs --rows of at least 200,020.
  n-plus-one   a feed page with each post's author: one query per post (what
               a lazy-loading ORM does) vs one JOIN, at 10 to 100 posts a page.
  cache        an expensive aggregate uncached, cached with a 2s TTL (hits and
               misses by X-Cache; at each expiry a stampede of recomputations)
               and cached with single flight (one recomputation per expiry).
  rate-limit   one bursty client against a fixed window, a sliding window and
               a token bucket of 100 requests per 10s: the fixed window lets
               two quotas through across its boundary; refusals are 429 with
               Retry-After, and every answer carries X-RateLimit-* and RateLimit.
  jobs         a slow export inside the request vs 202 Accepted and a status
               URL to poll: the requests stay fast, the flow takes the job's time.
  all          every lab above in turn, on one database, each into a
               directory of --out, with a summary.md that links them.

'tailgate demo capacity' finds the knee instead: the highest rate page 10000
sustains under an SLO, with offset and with cursor pagination (see
'tailgate demo capacity --help').

The scenarios' thresholds are shown, not enforced: a busy laptop would make
a demo look broken. 'tailgate run' of the same file against 'tailgate
serve-demo' fails on them.

Examples:
  tailgate demo
  tailgate demo cache --out /tmp/cache
  tailgate demo all
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

// demoOutcome is what one lab produced.
type demoOutcome struct {
	lab      *demoLab
	dir      string
	headline []string
	files    []string // results, summary.md, the charts
	took     time.Duration
}

func cmdDemo(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "capacity" {
		return cmdDemoCapacity(ctx, env, args[1:])
	}
	labs := []*demoLab{paginationLab}
	all := false
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if args[0] == "all" {
			labs, all = demoLabs, true
			args = args[1:]
		} else if l := findLab(args[0]); l != nil {
			labs = []*demoLab{l}
			args = args[1:]
		}
	}
	var f demoCmdFlags
	fs := newFlagSet(env, "demo", demoUsage)
	defOut := labs[0].out
	if all {
		defOut = "tailgate-demo-all"
	}
	fs.StringVarP(&f.out, "out", "o", defOut, "write results.json, summary.md and the charts into `DIR` (all: a directory per lab in it)")
	addDemoFlags(fs, &f.db)
	fs.StringVarP(&f.duration, "duration", "d", "", "measured duration of the scenario's last stage (default: the scenario's)")
	fs.StringVarP(&f.rate, "rate", "r", "", "arrival rate of the scenario's last stage (default: the scenario's)")
	fs.StringVar(&f.scenario, "scenario", "", "run this scenario `FILE` instead of the lab's built-in one (its requests must have the lab's names)")
	fs.StringVar(&f.size, "size", "1600x900", "PNG chart size `WxH` in pixels")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary and the headline")
	fs.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the live dashboard")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q (labs: pagination, n-plus-one, cache, rate-limit, jobs, all, capacity; see --help)", fs.Arg(0))
	}
	if all && (f.scenario != "" || f.rate != "" || f.duration != "") {
		return usagef("demo all runs each lab's own scenario and load; --scenario, --rate and --duration are for one lab")
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
	// Every scenario and override is checked before the fill; the plans
	// are compiled again once the target's port is known.
	scens := make([]*scenarios.Scenario, len(labs))
	for i, lab := range labs {
		if scens[i], err = demoScenario(env, f.scenario, lab); err != nil {
			return err
		}
		if _, err := scenarioThresholds(scens[i], nil); err != nil {
			return err
		}
		if _, err := demoPlan(scens[i], "http://127.0.0.1:1", f); err != nil {
			return err
		}
	}
	if err := checkOutputDir("--out", f.out); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	started := time.Now()

	// Ctrl-C during the fill stops it; once a run starts, execute owns the
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
	fill := time.Since(started)

	var outcomes []*demoOutcome
	var runErr error
	for i, lab := range labs {
		dir := f.out
		if all {
			dir = filepath.Join(f.out, lab.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
		}
		o, err := runDemoLab(ctx, env, t, lab, scens[i], f, dir, width, height, append([]string{"tailgate", "demo"}, args...))
		if o != nil {
			outcomes = append(outcomes, o)
			printDemoOutcome(env, o, f.quiet || !all)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if all && len(outcomes) > 0 {
		index, err := writeDemoIndex(f.out, outcomes)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "\nthe labs' headlines and charts: %s\n", index)
	}
	if !f.quiet {
		var parts []string
		for _, o := range outcomes {
			parts = append(parts, fmt.Sprintf("%s %s", o.lab.name, o.took.Round(100*time.Millisecond)))
		}
		fmt.Fprintf(env.Stderr, "demo finished in %s (database %s; %s)\n", time.Since(started).Round(100*time.Millisecond),
			fill.Round(100*time.Millisecond), strings.Join(parts, ", "))
	}
	return runErr
}

// runDemoLab runs one lab's scenario against the target and writes its
// outputs into dir.
func runDemoLab(ctx context.Context, env *Env, t *demoTarget, lab *demoLab, s *scenarios.Scenario, f demoCmdFlags,
	dir string, width, height int, command []string) (*demoOutcome, error) {
	started := time.Now()
	ths, err := scenarioThresholds(s, nil)
	if err != nil {
		return nil, err
	}
	plan, err := demoPlan(s, t.URL, f)
	if err != nil {
		return nil, err
	}
	plan.Command = command
	if !f.quiet {
		fmt.Fprintf(env.Stderr, "running %s against %s: %s\n", s.Name, t.URL, plan.Pacer)
	}
	resultsPath := filepath.Join(dir, "results.json")
	res, runErr := execute(ctx, env, plan, outputOptions{out: resultsPath, quiet: f.quiet, noTUI: f.noTUI, thresholds: ths})
	if res == nil {
		return nil, runErr
	}
	co := chart.Options{Width: width, Height: height, Subtitle: labSubtitle(lab, plan, res, f.db.rows)}
	files, err := writeDemoOutputs(dir, lab, res, co)
	if err != nil {
		return nil, err
	}
	return &demoOutcome{lab: lab, dir: dir, headline: lab.headline(res), files: append([]string{resultsPath}, files...),
		took: time.Since(started)}, runErr
}

// printDemoOutcome lists a lab's files and prints its headline, wrapped so
// that it reads on an 80-column terminal. In a run of all the labs, the
// file list is left to the index unless listFiles.
func printDemoOutcome(env *Env, o *demoOutcome, listFiles bool) {
	if listFiles {
		fmt.Fprintf(env.Stdout, "\nwritten to %s:\n", o.dir)
		for _, p := range o.files {
			fmt.Fprintf(env.Stdout, "  %s\n", p)
		}
	} else {
		fmt.Fprintf(env.Stdout, "\n%s (%s, in %s):\n", o.lab.name, o.lab.title, o.dir)
	}
	fmt.Fprintln(env.Stdout)
	for _, sentence := range o.headline {
		for _, line := range format.Wrap("", "  ", sentence, 80) {
			fmt.Fprintln(env.Stdout, line)
		}
	}
}

// demoScenario loads the scenario a lab runs: a file given by --scenario,
// or the lab's example embedded in the binary.
func demoScenario(env *Env, path string, lab *demoLab) (*scenarios.Scenario, error) {
	if path != "" {
		return loadScenario(env, path, scenarios.Trust{})
	}
	src, err := examples.Read(lab.file)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario: %w", err)
	}
	s, err := scenarios.Parse(examples.Dir+lab.file, src)
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

// writeDemoOutputs writes summary.md (the headline, the charts, the
// Markdown report) and the charts; it returns their paths.
func writeDemoOutputs(dir string, lab *demoLab, res *results.Result, o chart.Options) ([]string, error) {
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, res); err != nil {
		return nil, fmt.Errorf("summary.md: %w", err)
	}
	cw := &chartWriter{dir: dir, o: o}
	if err := lab.charts(res, cw); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "## tailgate demo: %s\n\n", lab.title)
	for _, line := range lab.headline(res) {
		b.WriteString("**" + line + "**\n\n")
	}
	for _, c := range cw.files {
		fmt.Fprintf(&b, "![%s](%s)\n\n", c.Title, filepath.Base(c.Path))
	}
	b.Write(md.Bytes())
	mdPath := filepath.Join(dir, "summary.md")
	if err := results.WriteOutput(mdPath, nil, writeBytes(b.Bytes())); err != nil {
		return nil, fmt.Errorf("summary.md: %w", err)
	}
	out := []string{mdPath}
	for _, c := range cw.files {
		out = append(out, c.Path)
	}
	return out, nil
}

// writeDemoIndex writes the summary.md of 'demo all': each lab's headline
// and first chart, linking to the lab's own summary.
func writeDemoIndex(dir string, outcomes []*demoOutcome) (string, error) {
	var b bytes.Buffer
	b.WriteString("# tailgate demo: the labs\n\n")
	for _, o := range outcomes {
		fmt.Fprintf(&b, "## [%s](%s/summary.md): %s\n\n", o.lab.name, o.lab.name, o.lab.title)
		for _, line := range o.headline {
			b.WriteString("**" + line + "**\n\n")
		}
		for _, p := range o.files {
			if strings.HasSuffix(p, ".png") {
				fmt.Fprintf(&b, "![%s](%s/%s)\n\n", o.lab.title, o.lab.name, filepath.Base(p))
				break
			}
		}
		fmt.Fprintf(&b, "(%s, in %s)\n\n", o.lab.file, o.took.Round(100*time.Millisecond))
	}
	path := filepath.Join(dir, "summary.md")
	if err := results.WriteOutput(path, nil, writeBytes(b.Bytes())); err != nil {
		return "", fmt.Errorf("summary.md: %w", err)
	}
	return path, nil
}
