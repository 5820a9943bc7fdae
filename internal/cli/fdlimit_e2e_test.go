//go:build linux

package cli

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runWithNofile runs the real binary under /bin/sh with RLIMIT_NOFILE set
// to soft and hard (ulimit -S/-H), and returns its exit status and stderr.
func runWithNofile(t *testing.T, soft, hard int, args ...string) (int, string) {
	t.Helper()
	script := "ulimit -Sn " + strconv.Itoa(soft) + " && ulimit -Hn " + strconv.Itoa(hard) + ` && exec "$0" "$@"`
	p := &proc{cmd: exec.Command("/bin/sh", append([]string{"-c", script, tailgateBinary(t)}, args...)...), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p.wait(t, 30*time.Second), p.stderr.String()
}

// TestConnectionsBeyondTheDescriptorLimit runs tailgate in a child whose
// RLIMIT_NOFILE is low: connections the hard limit cannot hold are refused
// before any request, with an error naming the limit (exit 2); a soft limit
// below the hard one is raised, so the same connections then work.
func TestConnectionsBeyondTheDescriptorLimit(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	code, stderr := runWithNofile(t, 256, 256, "hit", srv.URL, "-c", "500", "-r", "50/s", "-d", "1s", "--quiet")
	if code != ExitUsage {
		t.Fatalf("exit %d with 500 connections under a hard limit of 256, want %d; stderr:\n%s", code, ExitUsage, stderr)
	}
	if !strings.Contains(stderr, "RLIMIT_NOFILE hard limit 256") || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
		t.Errorf("stderr does not name the limit in a short message:\n%s", stderr)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server before the refusal", n)
	}

	code, stderr = runWithNofile(t, 256, 4096, "hit", srv.URL, "-c", "500", "-r", "50/s", "-d", "1s", "--quiet")
	if code != ExitOK {
		t.Fatalf("exit %d with 500 connections, soft limit 256 and hard limit 4096, want %d (soft raised to hard); stderr:\n%s", code, ExitOK, stderr)
	}
	if n := hits.Load(); n != 50 {
		t.Errorf("%d requests reached the server, want 50", n)
	}
}
