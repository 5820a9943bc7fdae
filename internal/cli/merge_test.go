package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// writeShards writes shards 0…count-1 of smallResult into one directory,
// after edit changes each, and returns the directory.
func writeShards(t *testing.T, count int, edit func(*results.Result)) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < count; i++ {
		r := smallResult(i, count)
		if edit != nil {
			edit(r)
		}
		if err := r.WriteFile(filepath.Join(dir, "shard-"+string(rune('0'+i))+".json")); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMergeExpandsPatternsAndGates(t *testing.T) {
	dir := writeShards(t, 3, nil)
	out := filepath.Join(dir, "merged.json")
	md := filepath.Join(dir, "report.md")
	charts := filepath.Join(dir, "charts")
	pattern := filepath.Join(dir, "shard-*.json")

	code, stdout, stderr := mainCLI(t, "merge", "-o", out, "--threshold", "p99 < 1h", "--md", md, "--png-dir", charts, "--size", "400x300", pattern)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "merged 3 results") || !strings.Contains(stdout, "p99 < 1h") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	raw, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(raw), "Thresholds") {
		t.Errorf("Markdown report without thresholds: %v\n%s", err, raw)
	}
	if names, _ := filepath.Glob(filepath.Join(charts, "*.png")); len(names) == 0 {
		t.Error("no charts written")
	}

	code, stdout, stderr = mainCLI(t, "merge", "-q", "-o", out, "--threshold", "p99 < 1ns", pattern)
	if code != ExitThreshold || !strings.Contains(stdout, "p99 < 1ns") || !strings.Contains(stderr, "threshold(s) failed") {
		t.Errorf("failed threshold: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = mainCLI(t, "merge", "-q", "-o", out, "--threshold", "nope: p99 < 1s", pattern)
	if code != ExitUsage || !strings.Contains(stderr, `the results have no request "nope"`) {
		t.Errorf("threshold on an unknown request: exit %d, %q", code, stderr)
	}
	code, _, stderr = mainCLI(t, "merge", "-q", "-o", out, filepath.Join(dir, "none-*.json"))
	if code != ExitUsage || !strings.Contains(stderr, "none-*.json: no file matches") {
		t.Errorf("pattern matching nothing: exit %d, %q", code, stderr)
	}
}

func TestMergeRefusesShardsOfAnotherRun(t *testing.T) {
	dir := writeShards(t, 2, func(r *results.Result) { r.Meta.RunID = "run-" + string(rune('a'+r.Meta.Shard.Index)) })
	code, _, stderr := mainCLI(t, "merge", "-q", "-o", filepath.Join(dir, "m.json"), filepath.Join(dir, "shard-*.json"))
	if code != ExitUsage || !strings.Contains(stderr, "run id run-b differs from") {
		t.Errorf("exit %d, %q; want the run ids named", code, stderr)
	}
}

func TestMergeReportsStartSpread(t *testing.T) {
	planned := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, tc := range []struct {
		late time.Duration
		warn bool
	}{{2 * time.Millisecond, false}, {40 * time.Millisecond, true}} {
		dir := writeShards(t, 3, func(r *results.Result) {
			r.Meta.PlannedStart = planned
			r.Meta.ActualStart = planned.Add(time.Duration(r.Meta.Shard.Index) * tc.late / 2)
		})
		out := filepath.Join(dir, "m.json")
		code, _, stderr := mainCLI(t, "merge", "-q", "-o", out, filepath.Join(dir, "shard-*.json"))
		if code != ExitOK || !strings.Contains(stderr, "start spread across 3 shards: "+format.Duration(tc.late)) {
			t.Fatalf("exit %d, %q", code, stderr)
		}
		if got := strings.Contains(stderr, "warning: the shards started"); got != tc.warn {
			t.Errorf("spread %s: warning %v, want %v: %q", tc.late, got, tc.warn, stderr)
		}
		m, err := results.ReadResultFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if m.Meta.StartSpread.D() != tc.late || !m.Meta.PlannedStart.Equal(planned) || !m.Meta.ActualStart.Equal(planned) {
			t.Errorf("merged spread %s, planned %v, actual %v", m.Meta.StartSpread.D(), m.Meta.PlannedStart, m.Meta.ActualStart)
		}
	}
}
