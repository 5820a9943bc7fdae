package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// writeFiles creates files under dir, making parent directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const secretContent = "SECRET_TOKEN=hunter2-do-not-show"

// TestFileReadsAreConfined: body_file and data feeds read only under the
// scenario's directory (symbolic links followed) unless --allow-dir widens
// it, and no error shows what the refused file holds.
func TestFileReadsAreConfined(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"outside.txt":       secretContent + "\n",
		"outside.csv":       "user\nalice\n",
		"scen/inside.txt":   "hello",
		"scen/data/ok.csv":  "user\nbob\n",
		"scen/sub/deep.txt": "deep",
	})
	if err := os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(root, "scen", "link.txt")); err != nil {
		t.Fatal(err)
	}
	outsideAbs := filepath.Join(root, "outside.txt")
	tests := []struct {
		name, key, path string
		dirs            []string
		wantErr         string
	}{
		{"relative inside", "body_file", "inside.txt", nil, ""},
		{"subdirectory", "body_file", "sub/deep.txt", nil, ""},
		{"feed inside", "feed", "data/ok.csv", nil, ""},
		{"dot-dot", "body_file", "../outside.txt", nil, "outside the scenario's directory"},
		{"absolute", "body_file", outsideAbs, nil, "outside the scenario's directory"},
		{"symlink out", "body_file", "link.txt", nil, "outside the scenario's directory"},
		{"feed dot-dot", "feed", "../outside.csv", nil, "outside the scenario's directory"},
		{"allowed dir", "body_file", "../outside.txt", []string{root}, ""},
		{"allowed feed", "feed", "../outside.csv", []string{root}, ""},
		{"missing", "body_file", "nope.txt", nil, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src string
			if tt.key == "feed" {
				src = "target: http://127.0.0.1:8080\ndata:\n  users: " + tt.path + "\nrequests:\n  r:\n    path: /{{ .user }}\n"
			} else {
				src = "target: http://127.0.0.1:8080\nrequests:\n  r:\n    method: POST\n    path: /\n    body_file: " + tt.path + "\n"
			}
			file := filepath.Join(root, "scen", "s.yaml")
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(file, WithGetenv(testGetenv), WithTrust(Trust{Dirs: tt.dirs}))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want an error with %q, got %v", tt.wantErr, err)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error shows the file's contents: %v", err)
			}
		})
	}
}

// TestFeedErrorsNeverQuoteTheFile: a data feed whose header row is not a
// list of names (the first line of /proc/self/environ, say) is refused
// without showing it.
func TestFeedErrorsNeverQuoteTheFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"env.csv": secretContent + "\x00PATH=/usr/bin\x00HOME=/root\n",
		"dup.csv": "hunter2,hunter2\n1,2\n",
		"bad.csv": "user\n\"hunter2\n",
		"s.yaml":  "target: http://127.0.0.1:8080\ndata:\n  a: env.csv\n  b: dup.csv\n  c: bad.csv\nrequests:\n  r:\n    path: /\n",
	})
	_, err := Load(filepath.Join(dir, "s.yaml"), WithGetenv(testGetenv))
	if err == nil {
		t.Fatal("want errors")
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "PATH=") {
		t.Fatalf("an error shows the file's contents:\n%v", err)
	}
	for _, want := range []string{"the name of column 1 is not", "columns 1 and 2 have the same name", "line 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// TestFeedOverTheCapIsAnError: a CSV file over 256 MiB is refused with a
// clear error instead of being cut mid-row, whether its size shows (a
// sparse file) or not (a reader that keeps going).
func TestFeedOverTheCapIsAnError(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("user\nalice\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFeedBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	writeFiles(t, dir, map[string]string{"s.yaml": "target: http://127.0.0.1:8080\ndata:\n  users: big.csv\nrequests:\n  r:\n    path: /{{ .user }}\n"})
	_, err = Load(filepath.Join(dir, "s.yaml"), WithGetenv(testGetenv))
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("want a size error, got %v", err)
	}
}

// TestSpecialFilesAreRefused: a FIFO or a device as body_file or data feed
// is refused at once instead of blocking or never ending.
func TestSpecialFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	writeFiles(t, dir, map[string]string{
		"s.yaml": "target: http://127.0.0.1:8080\ndata:\n  users: fifo\nrequests:\n  r:\n    method: POST\n    path: /{{ .user }}\n    body_file: fifo\n",
	})
	// Opening a FIFO would block this test until it times out.
	_, err := Load(filepath.Join(dir, "s.yaml"), WithGetenv(testGetenv))
	if err == nil || strings.Count(err.Error(), "not a regular file") != 2 {
		t.Fatalf("want two 'not a regular file' errors, got %v", err)
	}
}

// TestAbsoluteURLHostsMustBeAllowed: a request's absolute URL reaches a
// host other than the target's only when --allow-host names it, also when
// --target replaces the scenario's target.
func TestAbsoluteURLHostsMustBeAllowed(t *testing.T) {
	tests := []struct {
		name, url, target string
		allow             []string
		wantErr           string
	}{
		{"same host", "http://127.0.0.1:8080/x", "", nil, ""},
		{"same host other port", "http://127.0.0.1:9/x", "", nil, ""},
		{"other loopback address", "http://127.0.0.2:8080/x", "", nil, "host 127.0.0.2 is not the target's (127.0.0.1); allow it with --allow-host 127.0.0.2"},
		{"localhost", "http://localhost:8080/x", "", nil, "host localhost is not the target's"},
		{"ipv6 loopback", "http://[::1]:8080/x", "", nil, "host ::1 is not the target's"},
		{"allowed", "http://127.0.0.2:8080/x", "", []string{"127.0.0.2"}, ""},
		{"allowed with port", "http://[::1]:8080/x", "", []string{"[::1]:8080"}, ""},
		{"templated path", "http://localhost:8080/{{ seq }}", "", nil, "host localhost is not the target's"},
		{"target replaced", "http://127.0.0.1:8080/x", "http://localhost:8080", nil, "host 127.0.0.1 is not the target's (localhost)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "target: http://127.0.0.1:8080\nrequests:\n  r:\n    url: '" + tt.url + "'\n"
			s, err := Parse("s.yaml", []byte(src), WithGetenv(testGetenv))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Compile(s, CompileOptions{Target: tt.target, AllowHosts: tt.allow})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want an error with %q, got %v", tt.wantErr, err)
			}
		})
	}
}

// TestURLTemplateHostIsWrittenOut: a template cannot extend the host
// (http://localhost{{ .x }} with x = ".elsewhere.example").
func TestURLTemplateHostIsWrittenOut(t *testing.T) {
	src := "target: http://127.0.0.1:8080\nvars:\n  x: .a\nrequests:\n  r:\n    url: 'http://127.0.0.1{{ .x }}/p'\n"
	_, err := Parse("s.yaml", []byte(src), WithGetenv(testGetenv))
	if err == nil || !strings.Contains(err.Error(), "the host must be written out, not templated, and followed by /") {
		t.Fatalf("want a host error, got %v", err)
	}
}

// TestUnboundedTagsWarn: validate warns when a tag takes a new value per
// iteration or from the target.
func TestUnboundedTagsWarn(t *testing.T) {
	src := `target: http://127.0.0.1:8080
vars:
  id: 'n{{ seq }}'
  page: '{{ randInt 1 3 }}'
requests:
  login:
    path: /login
    capture:
      token: {json: token}
  a:
    path: /a
    tags: {id: '{{ .id }}', page: '{{ .page }}', u: '{{ uuid }}', t: '{{ now "unix" }}'}
  b:
    path: /b
    tags: {tok: '{{ .token }}', fixed: x}
flows:
  f:
    steps: [login, a, b]
load:
  rate: 10/s
  duration: 1s
`
	s, err := Parse("s.yaml", []byte(src), WithGetenv(testGetenv))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(s.Warnings(&plan, nil), "\n")
	for _, want := range []string{
		`tag id of request "a" uses seq`,
		`tag u of request "a" uses uuid`,
		`tag t of request "a" uses now`,
		`tag tok of request "b" uses a captured value (.token)`,
		`beyond 1000 groups per request the rest are counted as "other"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"tag page", "tag fixed"} {
		if strings.Contains(got, not) {
			t.Errorf("warnings name a bounded tag (%s):\n%s", not, got)
		}
	}
}

// TestCommandLineSecretHeaders: a header named secret only on the command
// line (--secret-header) has its value written in the file redacted and is
// dropped on a redirect to another host, like the scenario's own.
func TestCommandLineSecretHeaders(t *testing.T) {
	src := "target: http://127.0.0.1:8080\nrequests:\n  r:\n    path: /\n    headers: {X-Internal: int-s3cret-value}\n"
	s, err := Parse("s.yaml", []byte(src), WithGetenv(testGetenv))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Compile(s, CompileOptions{SecretHeaders: []string{"x-internal"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Redact; len(got) == 0 || got[0] != "int-s3cret-value" {
		t.Fatalf("Redact %q lacks the header's value", got)
	}
	if !loadgen.IsSecretHeader("X-Internal", plan.Client.SecretHeaders) {
		t.Fatalf("client secret headers %q lack X-Internal", plan.Client.SecretHeaders)
	}
}
