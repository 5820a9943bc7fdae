package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/capacity"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
)

const demoCapacityUsage = `
Usage: tailgate demo capacity [flags]

Find the knee of the demo API: the highest rate at which page 10000 of the
posts still meets the SLO, read with OFFSET pagination and with a cursor.
Each side gets a capacity search (see 'tailgate capacity --help') within
--budget; the results, capacity charts and a Markdown summary go to --out.

OFFSET makes the database skip every earlier row on every request, so each
request of a deep page costs the whole walk and the capacity collapses; the
cursor seeks straight to the page, and its capacity is that of a shallow
page.

Examples:
  tailgate demo capacity
  tailgate demo capacity --slo 'p99 < 100ms' --budget 40s
`

// demoCapacityPage is the page both searches read: 20 posts a page, so the
// database needs 200,020 rows.
const demoCapacityPage = 10000

func cmdDemoCapacity(ctx context.Context, env *Env, args []string) error {
	var (
		db     demoFlags
		out    string
		slo    string
		budget string
		quiet  bool
	)
	fs := newFlagSet(env, "demo capacity", demoCapacityUsage)
	fs.StringVarP(&out, "out", "o", "tailgate-demo-capacity", "write the searches, capacity charts and summary.md into `DIR`")
	addDemoFlags(fs, &db)
	fs.StringVar(&slo, "slo", "p99 < 250ms", "the objective both sides must meet")
	fs.StringVar(&budget, "budget", "25s", "time each of the two searches may take")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	if err := fs.Set("rows", "200020"); err != nil {
		return err
	}
	fs.Lookup("rows").DefValue = "200020"
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if db.rows < demoCapacityPage*20+20 {
		return usagef("--rows %d: page %d at 20 posts a page needs at least %d", db.rows, demoCapacityPage, demoCapacityPage*20+20)
	}
	th, err := results.ParseThreshold(slo)
	if err != nil {
		return usagef("--slo %q: %v", slo, err)
	}
	judge, _ := capacityJudge([]*results.Threshold{th})
	b, err := format.ParseDuration(budget)
	if err != nil {
		return usagef("--budget: %v", err)
	}
	cfg := capacity.Config{
		MinRate: 5, MaxRate: 20000, Growth: 3, Resolution: 0.1,
		Step: 2 * time.Second, Settle: 300 * time.Millisecond, Budget: b,
		Drain: min(max(time.Second, 10*judge.LatencyBound), 10*time.Second),
	}
	if err := cfg.Check(); err != nil {
		return &UsageError{Err: err}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}

	t, err := startDemoTarget(ctx, env, db, "127.0.0.1:0", quiet)
	if err != nil {
		return err
	}
	defer func() {
		if err := t.Close(); err != nil {
			fmt.Fprintf(env.Stderr, "tailgate demo: %v\n", err)
		}
	}()
	cursorURL, err := demoCursorURL(ctx, t.URL, demoCapacityPage)
	if err != nil {
		return err
	}
	sides := []struct{ name, url string }{
		{"offset", fmt.Sprintf("%s/api/posts?page=%d&per_page=20", t.URL, demoCapacityPage)},
		{"cursor", cursorURL},
	}
	searchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopSignals := watchSearchSignals(env, cancel)
	defer stopSignals()
	var found []*results.Capacity
	for _, side := range sides {
		plan := loadgen.Plan{
			Name: "demo capacity " + side.name, Target: side.url, Load: loadgen.Load{Connections: 32},
			Client: loadgen.ClientOptions{Timeout: cfg.Drain},
			Flows: []loadgen.Flow{{Name: side.name, Weight: 1, Steps: []loadgen.Step{
				&loadgen.StaticStep{Request: loadgen.Request{Name: side.name, Method: "GET", URL: side.url}},
			}}},
			Command: append([]string{"tailgate", "demo", "capacity"}, args...),
		}
		prober := &capacity.PlanProber{Plan: plan, Judge: judge}
		if !quiet {
			name := side.name
			prober.OnProbe = func(rate float64, d time.Duration) {
				fmt.Fprintf(env.Stderr, "%s page %d: probing %s for %s\n", name, demoCapacityPage, format.Rate(rate), format.Elapsed(d))
			}
		}
		outcome, err := capacity.Search(searchCtx, cfg, prober)
		if err != nil {
			return err
		}
		c := outcome.Report(side.url, "uniform", []string{th.String()})
		c.LatencyBound = results.Duration(judge.LatencyBound)
		found = append(found, c)
		if err := writeDemoCapacitySide(out, side.name, c); err != nil {
			return err
		}
		if outcome.LimitedBy == capacity.LimitInterrupted {
			break
		}
	}
	headline := demoCapacityHeadline(found, th.String())
	summary := filepath.Join(out, "summary.md")
	err = results.WriteOutput(summary, env.Stdout, func(w io.Writer) error {
		fmt.Fprintf(w, "## tailgate demo: capacity of page %d, offset vs cursor\n\n**%s**\n\n", demoCapacityPage, format.Markdown(headline))
		for i, c := range found {
			fmt.Fprintf(w, "![capacity, %s](capacity-%s.png)\n\n", sides[i].name, sides[i].name)
			if err := report.WriteCapacityMarkdown(w, c, nil); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("summary.md: %w", err)
	}
	for i, c := range found {
		fmt.Fprintf(env.Stdout, "%s: %s\n", sides[i].name, strings.TrimPrefix(report.CapacityHeadline(c), "max "))
	}
	fmt.Fprintf(env.Stdout, "\nwritten to %s\n\n", out)
	for _, line := range format.Wrap("", "  ", headline, 80) {
		fmt.Fprintln(env.Stdout, line)
	}
	if len(found) < len(sides) || found[len(found)-1].LimitedBy == string(capacity.LimitInterrupted) {
		return errSignal
	}
	return nil
}

// demoCursorURL asks the demo target for the cursor that starts page and
// returns the URL that reads that page by cursor.
func demoCursorURL(ctx context.Context, base string, page int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/posts/cursor-at?page=%d&per_page=20", base, page), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("demo target: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Cursor string `json:"cursor"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.Cursor == "" {
		return "", fmt.Errorf("demo target: no cursor for page %d (status %d, %v)", page, resp.StatusCode, err)
	}
	return fmt.Sprintf("%s/api/posts/cursor?cursor=%s&per_page=20", base, url.QueryEscape(body.Cursor)), nil
}

// writeDemoCapacitySide writes one side's search and chart.
func writeDemoCapacitySide(dir, name string, c *results.Capacity) error {
	if err := results.WriteOutput(filepath.Join(dir, "capacity-"+name+".json"), nil, c.Encode); err != nil {
		return err
	}
	if len(c.Probes) == 0 {
		return nil
	}
	o := chart.Options{Title: fmt.Sprintf("Capacity of page %d, %s pagination", demoCapacityPage, name),
		Subtitle: fmt.Sprintf("demo target · SLO %s · %d probes in %s", strings.Join(c.SLO, ", "), len(c.Probes), format.Elapsed(c.Elapsed.D()))}
	return results.WriteOutput(filepath.Join(dir, "capacity-"+name+".png"), nil, func(w io.Writer) error { return chart.Capacity(w, c, o) })
}

// demoCapacityHeadline is the one sentence the demo is for.
func demoCapacityHeadline(found []*results.Capacity, slo string) string {
	if len(found) < 2 {
		return "The search was stopped before both sides were measured."
	}
	off, cur := found[0].MaxRate, found[1].MaxRate
	s := fmt.Sprintf("At page %d under %s, offset pagination sustains %s and cursor pagination %s", demoCapacityPage, slo, format.Rate(off), format.Rate(cur))
	if off > 0 && cur > 0 {
		s += fmt.Sprintf(": %s× the capacity, from one index seek instead of a walk over %s rows.", format.Number(cur/off), format.Count(demoCapacityPage*20))
	} else {
		s += "."
	}
	return s
}
