package scenarios

import (
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// TestStepDescriptionFeedsPlanHash: two plans that differ only in a
// request's path must not look like shards of one plan.
func TestStepDescriptionFeedsPlanHash(t *testing.T) {
	describe := func(path string) string {
		src := "name: x\ntarget: http://127.0.0.1:8080\nenv: [TOK]\nrequests:\n  r:\n    path: " + path + "\n    headers:\n      Authorization: 'Bearer {{ env \"TOK\" }}'\nload:\n  rate: 10/s\n  duration: 1s\n"
		s, err := Parse("x.yaml", []byte(src), WithGetenv(func(string) string { return "sekrit-value" }))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Compile(s, CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		st := plan.Flows[0].Steps[0]
		d := st.(interface{ String() string }).String()
		if strings.Contains(d, "sekrit") {
			t.Fatalf("description holds a rendered secret: %s", d)
		}
		return d
	}
	a, b := describe("/a"), describe("/b")
	if a == b {
		t.Fatalf("different paths, same description: %s", a)
	}
	var _ loadgen.Step = (*step)(nil)
}
