package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// runCLIEnv runs the command line in-process with an environment.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func writeScenario(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func okServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fmt.Fprintln(w, `{"ok": true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestRunThresholds checks that run prints every threshold's outcome and
// exits 1 naming the failed ones, and 0 when all pass.
func TestRunThresholds(t *testing.T) {
	srv, _ := okServer(t)
	path := writeScenario(t, fmt.Sprintf(`
target: %s
requests:
  home:
    path: /
load:
  vus: 1
  iterations: 20
thresholds:
  - error_rate < 1%%
  - "home: p99 < 1us"
`, srv.URL))
	code, stdout, stderr := runCLIEnv(t, nil, "run", path, "-q")
	if code != ExitThreshold {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitThreshold, stdout, stderr)
	}
	for _, want := range []string{"pass  error_rate < 1%", "FAIL  home: p99 < 1us"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "1 threshold(s) failed: home: p99 < 1us") {
		t.Errorf("stderr does not name the failed threshold:\n%s", stderr)
	}

	code, stdout, stderr = runCLIEnv(t, nil, "run", path, "-q", "--iterations", "5", "--threshold", "requests >= 5")
	if code != ExitThreshold || !strings.Contains(stdout, "pass  requests >= 5") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	passing := writeScenario(t, fmt.Sprintf(`
target: %s
requests:
  home:
    path: /
load:
  vus: 2
  iterations: 10
thresholds:
  - requests == 10
  - "home: error_rate < 1%%"
`, srv.URL))
	if code, stdout, stderr := runCLIEnv(t, nil, "run", passing, "-q"); code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLIEnv(t, nil, "run", passing, "-q", "--threshold", "nope: p99 < 1s"); code != ExitUsage || !strings.Contains(stderr, `no request named "nope"`) {
		t.Fatalf("unknown request in --threshold: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestRunSecretsRedacted checks that a token from env and the values of
// credential headers appear in none of the outputs, even in error samples
// that quote the URL.
func TestRunSecretsRedacted(t *testing.T) {
	const token, cookie = "sekrit-token-7f3a9", "cookie-secret-b41c"
	var authOK atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+token && r.Header.Get("Cookie") == "session="+cookie {
			authOK.Add(1)
		}
		if r.URL.Path == "/loop" {
			// Redirect to itself: the client gives up, and its error
			// quotes the next URL, which carries the token.
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	path := writeScenario(t, fmt.Sprintf(`
target: %s
env: [TG_TEST_TOKEN]
defaults:
  headers:
    Authorization: 'Bearer {{ env "TG_TEST_TOKEN" }}'
    Cookie: session=%s
  follow_redirects: 1
requests:
  ok:
    path: /ok
  loop:
    path: '/loop?key={{ env "TG_TEST_TOKEN" }}'
load:
  vus: 1
  iterations: 6
`, srv.URL, cookie))
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := runCLIEnv(t, map[string]string{"TG_TEST_TOKEN": token}, "run", path, "-o", out, "--no-tui")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if authOK.Load() == 0 {
		t.Fatal("the server never saw the credentials: nothing was tested")
	}
	results, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(results), "key=***") {
		t.Errorf("results have no redacted error sample; the test did not exercise redaction:\n%s", results)
	}
	outputs := map[string]string{"results file": string(results), "stdout": stdout, "stderr": stderr}
	if code, rep, repErr := runCLIEnv(t, nil, "report", out); code == ExitOK {
		outputs["report"] = rep + repErr
	}
	for name, text := range outputs {
		for _, secret := range []string{token, cookie} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the secret %q", name, secret)
			}
		}
	}
}

// TestRunTargetOverride checks that --target replaces the scenario's base URL.
func TestRunTargetOverride(t *testing.T) {
	srv, n := okServer(t)
	path := writeScenario(t, `
target: http://127.0.0.1:1
requests:
  home:
    path: /
load:
  vus: 1
  iterations: 3
`)
	code, stdout, stderr := runCLIEnv(t, nil, "run", path, "--target", srv.URL, "-q")
	if code != ExitOK || n.Load() != 3 {
		t.Fatalf("exit %d, server saw %d requests, want 3\nstdout:\n%s\nstderr:\n%s", code, n.Load(), stdout, stderr)
	}
	if code, _, stderr := runCLIEnv(t, nil, "run", path, "--target", "ftp://x", "-q"); code != ExitUsage || !strings.Contains(stderr, "unsupported scheme") {
		t.Fatalf("bad --target: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestValidate(t *testing.T) {
	good := writeScenario(t, `
target: http://127.0.0.1:8080
requests:
  a: {path: /a, weight: 3}
  b: {path: /b}
load:
  rate: 10/s
  duration: 5s
thresholds: ["p99 < 1s"]
`)
	code, stdout, stderr := runCLIEnv(t, nil, "validate", good)
	if code != ExitOK || !strings.Contains(stdout, "ok: "+good+": 2 requests, 2 flows, open model, 10/s for 5s, 1 threshold") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	bad := writeScenario(t, `
target: http://127.0.0.1:8080
requests:
  a:
    pth: /a
load:
  rate: 0/s
  duration: 5s
`)
	code, stdout, stderr = runCLIEnv(t, nil, "validate", bad)
	want := bad + ":4:3: request \"a\": give a path (joined to target) or a url\n" +
		bad + ":5:5: unknown key \"pth\" in request \"a\" (did you mean \"path\"?)\n" +
		bad + ":7:9: rate: rate \"0/s\": must be greater than zero\n" +
		"tailgate validate: " + bad + ": 3 problems\n"
	if code != ExitUsage || stderr != want || stdout != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, stdout, stderr, want)
	}
	if code, _, stderr := runCLIEnv(t, nil, "validate", filepath.Join(t.TempDir(), "none.yaml")); code != ExitUsage || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing file: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestValidateExamples validates every shipped example through the CLI.
func TestValidateExamples(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		if code, stdout, stderr := runCLIEnv(t, nil, "validate", f); code != ExitOK {
			t.Errorf("%s: exit %d\n%s%s", f, code, stdout, stderr)
		}
	}
}

// TestHitThreshold checks --threshold on tailgate hit.
func TestHitThreshold(t *testing.T) {
	srv, _ := okServer(t)
	code, stdout, stderr := runCLIEnv(t, nil, "hit", srv.URL+"/", "--vus", "1", "--iterations", "5", "-q",
		"--threshold", "requests == 5", "--threshold", "p99 < 1us")
	if code != ExitThreshold || !strings.Contains(stdout, "pass  requests == 5") || !strings.Contains(stderr, "failed: p99 < 1us") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLIEnv(t, nil, "hit", srv.URL+"/", "--threshold", "p99 <"); code != ExitUsage || !strings.Contains(stderr, "--threshold") {
		t.Fatalf("bad --threshold: exit %d\n%s", code, stderr)
	}
}
