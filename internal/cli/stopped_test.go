package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A run stopped by a signal after a fraction of its plan is judged against
// the plan: `rate >= 95%` fails and the exit status is 1, never 0 (issue
// 12 item 5: it printed "pass rate >= 95% (rate = 100.01%)" and exited 0).
func TestStoppedRunFailsRateThreshold(t *testing.T) {
	sig := make(chan os.Signal, 1)
	var n atomic.Int64
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 60 {
			once.Do(func() { sig <- os.Interrupt })
		}
	}))
	t.Cleanup(srv.Close)
	path := writeScenario(t, `
target: `+srv.URL+`
requests:
  home: {path: /}
load:
  rate: 100/s
  duration: 5s
thresholds:
  - rate >= 95%
`)
	var out, errb syncBuffer
	code := Main([]string{"run", path, "--quiet"}, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Signals: sig})
	if code != ExitThreshold {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitThreshold, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "FAIL  rate >= 95%") {
		t.Fatalf("no failed rate threshold in:\n%s", out.String())
	}
}
