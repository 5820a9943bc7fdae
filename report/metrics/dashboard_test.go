package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardPath is the shipped Grafana dashboard.
const dashboardPath = "../../deploy/grafana/tailgate.json"

// promqlWords are the PromQL functions and keywords the dashboard may use;
// every other identifier outside label matchers, ranges and by() clauses
// must be a metric tailgate exports.
var promqlWords = []string{
	"sum", "rate", "irate", "increase", "histogram_quantile", "max", "min", "avg",
	"count", "by", "without", "clamp_min", "label_values", "topk", "or", "and",
}

var (
	stripped   = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|"[^"]*"|\b(by|without)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
)

// metricsIn returns the identifiers of a query that are not PromQL words.
func metricsIn(expr string) []string {
	var out []string
	for _, id := range identifier.FindAllString(stripped.ReplaceAllString(expr, " "), -1) {
		if !slices.Contains(promqlWords, id) {
			out = append(out, id)
		}
	}
	return out
}

// exported reports whether name is an exported metric or a classic
// histogram's series.
func exported(name string) bool {
	if slices.Contains(Names, name) {
		return true
	}
	for _, h := range []string{NameRequestDuration, NameServiceTime, NameSendLag} {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if name == h+suffix {
				return true
			}
		}
	}
	return false
}

func TestMetricsInQuery(t *testing.T) {
	got := metricsIn(`histogram_quantile(0.99, sum by (request, le) (rate(tailgate_request_duration_seconds_bucket{outcome="ok", shard=~"$shard"}[$__rate_interval]))) / tailgate_in_flight`)
	if !slices.Equal(got, []string{"tailgate_request_duration_seconds_bucket", "tailgate_in_flight"}) {
		t.Fatalf("metricsIn: %v", got)
	}
}

// TestDashboard checks deploy/grafana/tailgate.json: valid JSON, the
// run_id and shard variables, and every panel's queries naming only
// metrics tailgate exports, filtered by both variables.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos *struct {
				W, H int
			} `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard lacks a title, uid or panels")
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			vars[v.Name], _ = q["query"].(string)
		} else {
			vars[v.Name], _ = v.Query.(string)
		}
	}
	for _, name := range []string{"run_id", "shard"} {
		q, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		// label_values(SELECTOR, LABEL): the label is no metric.
		if i := strings.LastIndex(q, ","); strings.HasPrefix(q, "label_values(") && i > 0 {
			q = q[:i] + ")"
		}
		if len(metricsIn(q)) == 0 {
			t.Errorf("variable %s: query %q names no metric", name, q)
		}
		for _, m := range metricsIn(q) {
			if !exported(m) {
				t.Errorf("variable %s: query %q names %s, which tailgate does not export", name, q, m)
			}
		}
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.GridPos == nil || p.GridPos.W == 0 || p.Type == "" {
			t.Errorf("panel %q: duplicate id %d, no gridPos or no type", p.Title, p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			ms := metricsIn(tg.Expr)
			if len(ms) == 0 {
				t.Errorf("panel %q, query %s: %q names no metric", p.Title, tg.RefID, tg.Expr)
			}
			for _, m := range ms {
				used[m] = true
				if !exported(m) {
					t.Errorf("panel %q, query %s: %s is not a metric tailgate exports", p.Title, tg.RefID, m)
				}
			}
			if !strings.Contains(tg.Expr, `run_id=~"$run_id"`) || !strings.Contains(tg.Expr, `shard=~"$shard"`) {
				t.Errorf("panel %q, query %s: %q ignores the run_id or shard variable", p.Title, tg.RefID, tg.Expr)
			}
		}
	}
	for _, want := range []string{NameRequestDuration, NamePlannedRate, NameErrors, NameSendLag, NameInFlight} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}
