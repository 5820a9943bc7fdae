package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
	"github.com/tailgate-dev/tailgate/report/chart"
	"github.com/tailgate-dev/tailgate/results"
	"github.com/tailgate-dev/tailgate/scenarios"
)

const (
	envToken    = "tok-9f8e7d6c5b4a-SECRET"
	cookieValue = "session=ck-1a2b3c4d-SECRET"
	headerToken = "hdr-00aa11bb22cc-SECRET"
)

// TestSecretsNeverLeak runs a scenario whose requests carry a token from the
// environment (in a header and the URL), an Authorization header and a
// Cookie, including against a dead port so that error messages quote the
// URL; none of the secrets may appear in the results file, any report
// format, the comparison, chart subtitles, the live snapshots or the logs.
func TestSecretsNeverLeak(t *testing.T) {
	var authSeen atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Token") == envToken && r.Header.Get("Cookie") == cookieValue {
			authSeen.Store(true)
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	scenario := filepath.Join(dir, "secrets.yaml")
	writeFile(t, scenario, fmt.Sprintf(`name: secrets
target: %s
env: [TG_TEST_SECRET]
requests:
  api:
    path: /api
    query:
      key: '{{ env "TG_TEST_SECRET" }}'
    headers:
      X-Api-Token: '{{ env "TG_TEST_SECRET" }}'
      Authorization: Bearer %s
      Cookie: %s
  dead:
    url: 'http://%s/x?key={{ env "TG_TEST_SECRET" }}'
    headers:
      Authorization: Bearer %s
load:
  rate: 50/s
  duration: 1s
`, srv.URL, headerToken, cookieValue, dead, headerToken))
	t.Setenv("TG_TEST_SECRET", envToken)
	out := filepath.Join(dir, "r.json")
	var stdout, stderr bytes.Buffer
	env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv}
	if code := Main([]string{"run", scenario, "-o", out}, env); code != 0 {
		t.Fatalf("run exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !authSeen.Load() {
		t.Fatal("the secrets did not reach the server: the test proves nothing")
	}
	outputs := map[string]string{"run stdout": stdout.String(), "run stderr": stderr.String()}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	outputs["results.json"] = string(data)
	if !strings.Contains(string(data), "refused") {
		t.Fatal("the dead endpoint produced no errors: error messages are not exercised")
	}
	for _, format := range []string{"text", "markdown", "json", "hlog"} {
		code, o, e := runCLI(t, "report", out, "--format", format)
		if code != 0 {
			t.Fatalf("report --format %s: exit %d: %s", format, code, e)
		}
		outputs["report "+format] = o + e
	}
	code, o, e := runCLI(t, "compare", out, out, "--md", filepath.Join(dir, "cmp.md"))
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, e)
	}
	outputs["compare"] = o + e
	if md, err := os.ReadFile(filepath.Join(dir, "cmp.md")); err == nil {
		outputs["compare.md"] = string(md)
	}
	res, err := results.ReadResultFile(out)
	if err != nil {
		t.Fatal(err)
	}
	outputs["chart subtitle"] = chart.Describe("run", []*results.Result{res})

	// The live view is drawn from snapshots and the plan's redacted target.
	s, err := scenarios.Load(scenario, scenarios.WithGetenv(os.Getenv))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := scenarios.Compile(s, scenarios.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var snaps strings.Builder
	_, err = loadgen.Run(context.Background(), plan, loadgen.WithObserver(loadgen.ObserverFunc(func(s *results.Snapshot) {
		fmt.Fprintf(&snaps, "%+v\n", *s)
	})))
	if err != nil {
		t.Fatal(err)
	}
	outputs["live snapshots"] = snaps.String()
	outputs["live target"] = loadgen.Redact(plan.Target, plan.Redact)

	for where, text := range outputs {
		for _, secret := range []string{envToken, headerToken, cookieValue, "ck-1a2b3c4d"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains the secret %q", where, secret)
			}
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
