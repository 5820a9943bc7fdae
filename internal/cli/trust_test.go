package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateNeverPrintsFileContents: a data feed that names a file
// outside the scenario's directory (/proc/self/environ), or a file whose
// first line is not a header row, is refused without showing any of it.
func TestValidateNeverPrintsFileContents(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scen")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := "GITHUB_TOKEN=ghp_do-not-print"
	writeFile(t, filepath.Join(root, "environ"), secret+"\x00HOME=/root\x00")
	writeFile(t, filepath.Join(dir, "environ.csv"), secret+"\x00HOME=/root\x00")
	for _, tc := range []struct {
		feed  string
		extra []string
		want  string
	}{
		{"/proc/self/environ", nil, "outside the scenario's directory"},
		{"../environ", nil, "outside the scenario's directory"},
		{"../environ", []string{"--allow-dir", root}, "the name of column 1 is not letters"},
		{"environ.csv", nil, "the name of column 1 is not letters"},
	} {
		t.Run(tc.feed, func(t *testing.T) {
			path := filepath.Join(dir, "s.yaml")
			writeFile(t, path, "target: http://127.0.0.1:8080\ndata:\n  e: "+tc.feed+"\nrequests:\n  r:\n    path: /\n")
			code, stdout, stderr := runCLI(t, append([]string{"validate", path}, tc.extra...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, stderr)
			}
			if strings.Contains(stdout+stderr, "ghp_") || strings.Contains(stdout+stderr, "HOME=") {
				t.Fatalf("validate printed the file:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestEnvOnlyWhenNamed: a scenario reads an environment variable only when
// its env list names it or --env allows it.
func TestEnvOnlyWhenNamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	writeFile(t, path, "target: http://127.0.0.1:8080\nrequests:\n  r:\n    path: /\n    headers:\n      X-Token: '{{ env \"TG_TEST_TOKEN\" }}'\n")
	env := map[string]string{"TG_TEST_TOKEN": "t0ken-value"}
	code, _, stderr := runCLIEnv(t, env, "validate", path)
	if code != ExitUsage || !strings.Contains(stderr, "not in the scenario's env list") {
		t.Fatalf("exit %d, want 2 naming the env list:\n%s", code, stderr)
	}
	if code, _, stderr := runCLIEnv(t, env, "validate", path, "--env", "TG_TEST_TOKEN"); code != ExitOK {
		t.Fatalf("--env TG_TEST_TOKEN: exit %d\n%s", code, stderr)
	}
}

// TestRunResultsFileSaysSo: 'tailgate run results.json' says the file is
// a results file.
func TestRunResultsFileSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	writeFile(t, path, `{"version": 1, "meta": {"name": "hit"}, "total": {"requests": 1}}`)
	code, _, stderr := runCLI(t, "run", path)
	if code != ExitUsage || !strings.Contains(stderr, "this is a tailgate results file, not a scenario") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// TestOtherHostsRefusedUnlessAllowed: an absolute URL to a host other than
// the target's is refused before any load; --allow-host lets it through
// and the run names it before sending.
func TestOtherHostsRefusedUnlessAllowed(t *testing.T) {
	path := writeScenario(t, "target: http://127.0.0.1:1\nrequests:\n  r:\n    url: http://127.0.0.2:1/x\nload:\n  rate: 1/s\n  duration: 1s\n")
	code, _, stderr := runCLI(t, "run", path, "--no-tui")
	if code != ExitUsage || !strings.Contains(stderr, "host 127.0.0.2 is not the target's (127.0.0.1); allow it with --allow-host 127.0.0.2") {
		t.Fatalf("exit %d, want 2 naming the host:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "run", path, "--no-tui", "-q", "--allow-host", "127.0.0.2", "--timeout", "1s")
	if code != ExitOK || !strings.Contains(stderr, "besides the target, this run may reach: 127.0.0.2 (--allow-host)") {
		t.Fatalf("exit %d, want 0 announcing the host:\n%s", code, stderr)
	}
}

// TestURLCredentialsAndSecretQueryRedacted: the password of a URL's
// user-info, an X-Api-Key header and the value of a --redact-query
// parameter appear in no output: the run's summary, the results file
// (target, command) and every report format.
func TestURLCredentialsAndSecretQueryRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	const pw, qtoken, apiKey = "pw-7q7q7q-SECRET", "qt-5e5e5e-SECRET", "ak-3c3c3c-SECRET"
	u := strings.Replace(srv.URL, "http://", "http://alice:"+pw+"@", 1) + "/x?token=" + qtoken + "&page=2"
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := runCLI(t, "hit", u, "-r", "20/s", "-d", "200ms", "--no-tui", "-o", out, "--redact-query", "token", "-H", "X-Api-Key: "+apiKey)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	outputs := map[string]string{"hit": stdout + stderr}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	outputs["results.json"] = string(data)
	for _, format := range []string{"text", "markdown", "json"} {
		_, o, e := runCLI(t, "report", out, "--format", format)
		outputs["report "+format] = o + e
	}
	for where, text := range outputs {
		for _, secret := range []string{pw, qtoken, apiKey} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", where, secret, text)
			}
		}
	}
	if !strings.Contains(string(data), "page=2") {
		t.Error("the results lost the query parameters that are not secret")
	}
}

// TestHostileCapturedValueIsEscaped: a target's value with terminal
// controls, captured into a tag, reaches no output raw: the run's summary
// and warnings, and the text and Markdown reports of its results.
func TestHostileCapturedValueIsEscaped(t *testing.T) {
	const evil = `\u001b]0;pwned\u0007\u001b[2J\rALL THRESHOLDS PASS\u009b`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			w.Write([]byte(`{"v": "` + evil + `"}`))
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	path := writeScenario(t, "target: "+srv.URL+`
requests:
  login:
    path: /login
    capture:
      v: {json: v}
  page:
    path: /page
    tags: {v: '{{ .v }}'}
flows:
  f:
    steps: [login, page]
load:
  vus: 1
  iterations: 3
`)
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := runCLI(t, "run", path, "--no-tui", "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	outputs := map[string]string{"run": stdout + stderr}
	for _, format := range []string{"text", "markdown"} {
		_, o, e := runCLI(t, "report", out, "--format", format)
		outputs["report "+format] = o + e
	}
	if !strings.Contains(outputs["report text"], "ALL THRESHOLDS PASS") {
		t.Fatalf("the captured group is not in the report: the test proves nothing\n%s", outputs["report text"])
	}
	for where, text := range outputs {
		for _, bad := range []string{"\x1b", "\r", "\x07", "\u009b"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s holds %q:\n%q", where, bad, text)
			}
		}
	}
}
