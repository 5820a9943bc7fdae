package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/results"
)

var (
	fenceRe     = regexp.MustCompile("(?s)```(\\w+)\\n(.*?)```")
	thresholdRe = regexp.MustCompile(`--threshold '([^']*)'`)
)

// TestReadmeExamples loads and compiles every yaml block of README.md, and
// parses every --threshold in it, so the documentation cannot drift.
func TestReadmeExamples(t *testing.T) {
	src, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(name string) string {
		if name == "API_TOKEN" || name == "API_KEY" {
			return "readme-token"
		}
		return ""
	}
	n := 0
	for i, m := range fenceRe.FindAllStringSubmatch(string(src), -1) {
		if m[1] != "yaml" {
			continue
		}
		n++
		name := filepath.Join("testdata", "readme", fmt.Sprintf("block%d.yaml", i+1))
		t.Run(fmt.Sprintf("block%d", i+1), func(t *testing.T) {
			s, err := Parse(name, []byte(m[2]), WithGetenv(getenv))
			if err != nil {
				t.Fatalf("%v\n%s", err, m[2])
			}
			plan, err := Compile(s, CompileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Flows) == 0 {
				t.Fatal("no flows")
			}
		})
	}
	if n < 8 {
		t.Errorf("found %d yaml blocks, want at least 8", n)
	}
	for _, m := range thresholdRe.FindAllStringSubmatch(string(src), -1) {
		if _, err := results.ParseThreshold(m[1]); err != nil {
			t.Errorf("--threshold %q: %v", m[1], err)
		}
	}
	if !strings.Contains(string(src), "BenchmarkRenderRequest") {
		t.Error("README does not mention the render benchmark")
	}
}
