package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRunGroupByAndChecks runs a scenario grouped by a header that carries
// IDs (past its limit) and checked by expect, and finds the fold warning,
// the failed checks and thresholds on both in the summary.
func TestRunGroupByAndChecks(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("X-Request-Id", fmt.Sprint(i))
		state := "done"
		if i%2 == 0 {
			state = "pending"
		}
		fmt.Fprintf(w, `{"state": %q}`, state)
	}))
	defer srv.Close()
	path := writeScenario(t, fmt.Sprintf(`
target: %s
requests:
  job:
    path: /
    group_by: {header: X-Request-Id, limit: 2}
    expect:
      json: {path: state, equals: done}
load:
  vus: 1
  iterations: 10
thresholds:
  - error_rate.check < 1%%
  - "job{x-request-id=other}: requests == 8"
`, srv.URL))
	code, stdout, stderr := runCLIEnv(t, nil, "run", path, "-q")
	if code != ExitThreshold {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitThreshold, stdout, stderr)
	}
	flat := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		"request job is grouped by x-request-id, which took more than the 2 distinct values kept: 8 requests with the others are counted as x-request-id=other",
		"checks job: json state ×5",
		"FAIL error_rate.check < 1%",
		"pass job{x-request-id=other}: requests == 8",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}
