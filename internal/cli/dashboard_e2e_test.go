package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestDashboardTmux drives the real binary in a tmux terminal: the dashboard
// appears with a non-zero rate and percentiles, q (or Ctrl-C, which reaches
// the dashboard as a key in raw mode) stops the run gracefully, the results
// file is written and the process exits 0.
//
// Set TAILGATE_E2E_CAPTURES to a directory to keep the screen captures.
func TestDashboardTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test; skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux); skipping the dashboard end-to-end test")
	}
	bin := dashboardBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer srv.Close()

	for _, tc := range []struct {
		size [2]int
		key  string
	}{{[2]int{80, 24}, "C-c"}, {[2]int{160, 48}, "q"}} {
		size := tc.size
		t.Run(fmt.Sprintf("%dx%d-%s", size[0], size[1], tc.key), func(t *testing.T) {
			dir := t.TempDir()
			tm := newTmux(t)
			out, status := filepath.Join(dir, "r.json"), filepath.Join(dir, "status")
			script := fmt.Sprintf("%s hit %s/ -r 200/s -d 20s -o %s; echo $? > %s",
				shellQuote(bin), srv.URL, shellQuote(out), shellQuote(status))
			tm.run("new-session", "-d", "-x", strconv.Itoa(size[0]), "-y", strconv.Itoa(size[1]), "-s", "dash", script)

			screen := tm.waitFor(15*time.Second, dashboardLive)
			if dirName := os.Getenv("TAILGATE_E2E_CAPTURES"); dirName != "" {
				name := filepath.Join(dirName, fmt.Sprintf("dashboard-%dx%d.txt", size[0], size[1]))
				if err := os.WriteFile(name, []byte(screen), 0o644); err != nil {
					t.Error(err)
				}
			}
			for i, line := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
				if n := len([]rune(line)); n > size[0] {
					t.Errorf("line %d is %d cells wide in a %d-column terminal", i, n, size[0])
				}
			}

			tm.run("send-keys", "-t", "dash", tc.key)
			deadline := time.Now().Add(15 * time.Second)
			for tm.alive() {
				if time.Now().After(deadline) {
					t.Fatalf("the session did not end 15s after %s; screen:\n%s", tc.key, tm.capture())
				}
				time.Sleep(100 * time.Millisecond)
			}
			b, err := os.ReadFile(status)
			if err != nil {
				t.Fatalf("exit status not written: %v", err)
			}
			if s := strings.TrimSpace(string(b)); s != "0" {
				t.Errorf("exit status %s after %s, want 0", s, tc.key)
			}
			res, err := results.ReadResultFile(out)
			if err != nil {
				t.Fatalf("results: %v", err)
			}
			if res.Total == nil || res.Total.Requests == 0 {
				t.Errorf("results hold no requests: %+v", res.Total)
			}
			if !strings.Contains(res.Meta.StopReason, "stopped by the user") {
				t.Errorf("stop reason %q, want the user's stop", res.Meta.StopReason)
			}
			if el := res.Meta.End.Sub(res.Meta.Start); el >= 15*time.Second {
				t.Errorf("run lasted %v: %s did not stop it early", el, tc.key)
			}
		})
	}
}

var (
	liveRate = regexp.MustCompile(`iterations ([0-9][0-9.,]*)/s of`)
	liveRow  = regexp.MustCompile(`▸ GET /\s+[0-9,]+\s+[0-9.,]+\s+\S+\s+[0-9.]+(µs|ms|s)\s+[0-9.]+(µs|ms|s)\s+[0-9.]+(µs|ms|s)`)
)

// dashboardLive reports whether a screen shows a non-zero achieved rate and
// the percentiles of the request.
func dashboardLive(screen string) bool {
	m := liveRate.FindStringSubmatch(screen)
	if m == nil {
		return false
	}
	r, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	return err == nil && r > 0 && liveRow.MatchString(screen)
}

// tmux runs commands against a private tmux server, killed at the end of
// the test, so that the user's sessions are never touched.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	tm := &tmux{t: t, socket: fmt.Sprintf("tailgate-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() { _ = tm.cmd("kill-server").Run() })
	return tm
}

func (tm *tmux) cmd(args ...string) *exec.Cmd {
	c := exec.Command("tmux", append([]string{"-L", tm.socket, "-f", "/dev/null"}, args...)...)
	c.Env = append(os.Environ(), "TERM=xterm-256color")
	return c
}

func (tm *tmux) run(args ...string) {
	tm.t.Helper()
	if out, err := tm.cmd(args...).CombinedOutput(); err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (tm *tmux) alive() bool { return tm.cmd("has-session", "-t", "dash").Run() == nil }

func (tm *tmux) capture() string {
	out, _ := tm.cmd("capture-pane", "-p", "-t", "dash").Output()
	return string(out)
}

// waitFor polls the screen until ok accepts it.
func (tm *tmux) waitFor(limit time.Duration, ok func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(limit)
	var screen string
	for time.Now().Before(deadline) {
		screen = tm.capture()
		if ok(screen) {
			return screen
		}
		time.Sleep(200 * time.Millisecond)
	}
	tm.t.Fatalf("the dashboard did not show a rate and percentiles within %v; last screen:\n%s", limit, screen)
	return ""
}

// dashboardBinary builds the real binary once per test.
func dashboardBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tailgate")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tailgate-dev/tailgate/cmd/tailgate").CombinedOutput()
	if err != nil {
		t.Fatalf("build tailgate: %v\n%s", err, out)
	}
	return bin
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
