package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/report/live"
	"github.com/tailgate-dev/tailgate/results"
)

// consistencyTarget answers after a service time that varies with the
// request number, and fails every 7th request with a 500 after 200µs, so
// successful and failed latencies differ.
type consistencyTarget struct{ n atomic.Int64 }

func (t *consistencyTarget) NewClient() (loadgen.Client, error) { return consistencyClient{t}, nil }
func (t *consistencyTarget) Close() error                       { return nil }

type consistencyClient struct{ t *consistencyTarget }

func (consistencyClient) Close() error { return nil }

func (c consistencyClient) Do(_ context.Context, _ *loadgen.Request, res *loadgen.Response) error {
	n := c.t.n.Add(1)
	if n%7 == 0 {
		time.Sleep(200 * time.Microsecond)
		res.Status = 500
		return nil
	}
	time.Sleep(time.Duration(1+n%23) * time.Millisecond)
	res.Status = 200
	return nil
}

// TestOutputsAgree renders one run as text, Markdown, JSON summary, hlog
// and the dashboard's last frame, and checks that every figure they share
// is the same (issue 12: one definition per figure, used alike by every
// output), the flow's figures included (issue 14: its iterations, failed
// ones, rate and latency; the hlog holds the timeline, which has no flows).
func TestOutputsAgree(t *testing.T) {
	var res *results.Result
	var snaps []*results.Snapshot
	synctest.Test(t, func(t *testing.T) {
		st := &loadgen.StaticStep{Request: loadgen.Request{Name: "GET /a", Method: "GET", URL: "http://fake/a"}}
		plan := loadgen.Plan{
			Name: "agree", Target: "http://fake", Transport: &consistencyTarget{},
			Load:  loadgen.Load{Pacer: loadgen.ConstantPacer{PerSecond: 50, Length: 4 * time.Second}},
			Flows: []loadgen.Flow{{Name: "two", Weight: 1, Timed: true, Steps: []loadgen.Step{st, st}}},
		}
		obs := loadgen.ObserverFunc(func(s *results.Snapshot) { snaps = append(snaps, s) })
		var err error
		res, err = loadgen.Run(context.Background(), plan, loadgen.WithClock(loadgen.FakeClock), loadgen.WithObserver(obs))
		if err != nil {
			t.Fatal(err)
		}
	})
	tot := res.Total
	if tot.Errors == 0 || tot.Latency.Count() == 0 {
		t.Fatalf("fixture has %d errors and %d successes; want both", tot.Errors, tot.Latency.Count())
	}
	p := tot.Latency.Summary()
	want := map[string]string{
		"requests":       strconv.FormatUint(tot.Requests, 10),
		"request rate":   format.Number(res.Rate()),
		"iteration rate": format.Rate(res.IterationRate()),
		"planned rate":   format.Rate(res.PlannedRate()),
		"measured":       format.Elapsed(res.Measured()),
		"p50":            format.Duration(p.Of(50)),
		"p99":            format.Duration(p.Of(99)),
		"max":            format.Duration(p.Max),
		"failed p50":     format.Duration(tot.FailedLatency.Summary().Of(50)),
	}
	// The flow's figures: its iterations (every 7th request fails, so
	// some iterations fail at one of their two steps).
	flow := res.LookupFlow("two")
	if flow == nil || flow.Errors == 0 || flow.Latency.Count() == 0 {
		t.Fatalf("flow two: %+v; want failed and completed iterations", flow)
	}
	fp := flow.Latency.Summary()
	for k, v := range map[string]string{
		"flow iterations": strconv.FormatUint(flow.Requests, 10),
		"flow completed":  strconv.FormatInt(flow.Latency.Count(), 10),
		"flow failed":     strconv.FormatUint(flow.Errors, 10),
		"flow rate":       format.Rate(res.RequestRate(flow)),
		"flow p50":        format.Duration(fp.Of(50)),
		"flow p99":        format.Duration(fp.Of(99)),
		"flow max":        format.Duration(fp.Max),
		"flow failed p50": format.Duration(flow.FailedLatency.Percentile(50)),
	} {
		want[k] = v
	}
	if flow.Requests != res.Iterations.Completed+res.Iterations.Failed || flow.Errors != res.Iterations.Failed {
		t.Errorf("flow two: %d iterations, %d failed; the run's iterations %+v", flow.Requests, flow.Errors, res.Iterations)
	}
	check := func(output string, got map[string]string) {
		t.Helper()
		for k, v := range got {
			if want[k] != v {
				t.Errorf("%s: %s = %q, the definition gives %q", output, k, v, want[k])
			}
		}
	}
	find := func(output, text, expr string) string {
		t.Helper()
		m := regexp.MustCompile(expr).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s: no match for %s in:\n%s", output, expr, text)
		}
		return m[1]
	}

	var txt bytes.Buffer
	if err := report.WriteText(&txt, res); err != nil {
		t.Fatal(err)
	}
	text := txt.String()
	totalRow := strings.Fields(find("text", text, `(?m)^  total +(\d.*)$`))
	check("text", map[string]string{
		"requests":       find("text", text, `requests +(\d+) at`),
		"request rate":   find("text", text, `at (\S+) requests/s`),
		"iteration rate": find("text", text, `iterations +\d+ at (\S+) of`),
		"planned rate":   find("text", text, `of (\S+) planned`),
		"measured":       find("text", text, `duration +(\S+) measured`),
		"p50":            totalRow[1], "p99": totalRow[4], "max": totalRow[6],
		"failed p50": find("text", text, `failed latency p50 (\S+),`),
	})
	flowRow := strings.Fields(find("text", text, `(?m)^  flow:two +(\d.*)$`))
	check("text", map[string]string{
		"flow completed": flowRow[0], "flow p50": flowRow[1], "flow p99": flowRow[4], "flow max": flowRow[len(flowRow)-1],
		"flow failed":     find("text", text, `flow:two: (\d+) of \d+ iterations failed`),
		"flow iterations": find("text", text, `flow:two: \d+ of (\d+) iterations failed`),
		"flow failed p50": find("text", text, `(?s)iterations failed.*?failed latency\s+p50 (\S+),`),
	})

	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	mdText := md.String()
	mdTotal := strings.Split(find("markdown", mdText, `(?m)^\| \*\*total\*\* \| (.*) \|$`), " | ")
	check("markdown", map[string]string{
		"requests":       find("markdown", mdText, `(\d+) requests at`),
		"request rate":   find("markdown", mdText, `requests at (\S+) requests/s`),
		"iteration rate": find("markdown", mdText, `iterations \d+ at (\S+) of`),
		"planned rate":   find("markdown", mdText, `of (\S+) planned`),
		"measured":       find("markdown", mdText, `· (\S+) measured`),
		"p50":            mdTotal[3], "p99": mdTotal[6], "max": mdTotal[8],
		"failed p50": find("markdown", mdText, `failed latency p50 (\S+),`),
	})
	mdFlow := strings.Split(find("markdown", mdText, "(?m)^\\| `flow:two` \\| (.*) \\|$"), " | ")
	check("markdown", map[string]string{
		"flow iterations": mdFlow[0], "flow rate": mdFlow[1], "flow failed": strings.Fields(mdFlow[2])[0],
		"flow p50": mdFlow[3], "flow p99": mdFlow[6], "flow max": mdFlow[len(mdFlow)-1],
		"flow failed p50": find("markdown", mdText, `iterations failed.*?failed latency p50 (\S+),`),
	})

	var js bytes.Buffer
	if err := report.WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	var sum report.JSONSummary
	if err := json.Unmarshal(js.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	ms := func(v float64) string { return format.Duration(time.Duration(v * float64(time.Millisecond))) }
	check("JSON", map[string]string{
		"requests":       strconv.FormatUint(sum.Total.Requests, 10),
		"request rate":   format.Number(sum.Total.Rate),
		"iteration rate": format.Rate(sum.Total.IterationRate),
		"planned rate":   format.Rate(sum.Total.PlannedRate),
		"measured":       format.Elapsed(time.Duration(sum.Meta.DurationS * float64(time.Second))),
		"p50":            ms(sum.Total.LatencyMs.Of(50)), "p99": ms(sum.Total.LatencyMs.Of(99)), "max": ms(sum.Total.LatencyMs.Max),
		"failed p50": ms(sum.Total.FailedLatencyMs.Of(50)),
	})
	jf := sum.Flows["two"]
	check("JSON", map[string]string{
		"flow iterations": strconv.FormatUint(jf.Requests, 10), "flow failed": strconv.FormatUint(jf.Errors, 10),
		"flow rate": format.Rate(jf.Rate),
		"flow p50":  ms(jf.LatencyMs.Of(50)), "flow p99": ms(jf.LatencyMs.Of(99)), "flow max": ms(jf.LatencyMs.Max),
		"flow failed p50": ms(jf.FailedLatencyMs.Of(50)),
	})

	var hl bytes.Buffer
	if err := report.WriteHlog(&hl, res); err != nil {
		t.Fatal(err)
	}
	log, err := report.ReadHlog(&hl)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := log.Merged("")
	if err != nil {
		t.Fatal(err)
	}
	if merged.Count() != tot.Latency.Count() {
		t.Errorf("hlog: %d latencies, the summary %d", merged.Count(), tot.Latency.Count())
	}
	hp := merged.Summary()
	check("hlog", map[string]string{"p50": format.Duration(hp.Of(50)), "p99": format.Duration(hp.Of(99)), "max": format.Duration(hp.Max)})

	frame := live.Frame(res.Meta, snaps, 160, 48)
	row := strings.Fields(find("dashboard", frame, `(?m)^▸ GET /a +(.*)$`))
	check("dashboard", map[string]string{
		"requests": strings.ReplaceAll(row[0], ",", ""),
		// The whole run's p50, p95, p99, p99.9 follow the last second's.
		"p50": row[7], "p99": row[9],
		"max": find("dashboard", frame, `max +█* +(\S+)`),
		// The last frame shows the run's rates, not the drain's "0/s of
		// 0/s".
		"iteration rate": find("dashboard", frame, `iterations (\S+) of`),
		"planned rate":   find("dashboard", frame, `iterations \S+ of (\S+)`),
		"request rate":   strings.TrimSuffix(find("dashboard", frame, `requests (\S+/s)`), "/s"),
	})
	dashFlow := strings.Fields(find("dashboard", frame, `(?m)^  flow:two +(.*)$`))
	check("dashboard", map[string]string{
		"flow iterations": strings.ReplaceAll(dashFlow[0], ",", ""),
		"flow p50":        dashFlow[7], "flow p99": dashFlow[9],
	})
}
