package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClientOverloadIsReportedAndCanFail: a plan the client cannot keep up
// with (4 connections to a 10ms target can carry 400/s; the plan asks for
// 1000/s) is not silently shortened: every arrival is still sent late, the
// run warns that it fell behind schedule with the measured send lag, and a
// threshold on achieved rate fails the run with exit status 1.
func TestClientOverloadIsReportedAndCanFail(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	scenario := filepath.Join(dir, "overload.yaml")
	if err := os.WriteFile(scenario, []byte(`name: overload
target: `+srv.URL+`
requests:
  get:
    path: /
load:
  rate: 1000/s
  duration: 2s
thresholds:
  - rate >= 95%
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", scenario, "-c", "4", "--quiet")
	if code != ExitThreshold {
		t.Fatalf("exit %d, want %d (threshold failed)\nstdout:\n%s\nstderr:\n%s", code, ExitThreshold, stdout, stderr)
	}
	all := stdout + stderr
	if !strings.Contains(all, "rate >= 95%") {
		t.Errorf("the failing threshold is not named:\n%s", all)
	}
	if !strings.Contains(strings.ToLower(all), "behind schedule") || !strings.Contains(all, "send lag") {
		t.Errorf("no behind-schedule warning with the send lag:\n%s", all)
	}
	if !strings.Contains(all, "2000") {
		t.Errorf("the summary does not show all 2000 requests were sent:\n%s", all)
	}
}
