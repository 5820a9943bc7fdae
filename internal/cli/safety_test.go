package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// TestNonLoopbackTargetIsAnnounced checks only the announcement: nothing is
// sent anywhere.
func TestNonLoopbackTargetIsAnnounced(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   string
	}{
		{"http://127.0.0.1:8080/", ""},
		{"http://localhost:8080/", ""},
		{"http://[::1]:8080/", ""},
		{"http://192.0.2.10/", "target 192.0.2.10 is not this machine"},
		{"https://user:TOKEN@192.0.2.10/", "target 192.0.2.10 is not this machine"},
	} {
		var buf bytes.Buffer
		announceTarget(context.Background(), &buf, &loadgen.Plan{Target: tc.target, Redact: []string{"TOKEN"}})
		got := strings.TrimSpace(buf.String())
		if got != tc.want {
			t.Errorf("%s: announced %q, want %q", tc.target, got, tc.want)
		}
		if strings.Contains(got, "TOKEN") {
			t.Errorf("%s: announcement leaks a secret: %q", tc.target, got)
		}
	}
}

func TestEveryRunIsBounded(t *testing.T) {
	for _, args := range [][]string{
		{"hit", "http://127.0.0.1:1/", "-d", "200h"},
		{"hit", "http://127.0.0.1:1/", "-r", "100/s@200h"},
		{"hit", "http://127.0.0.1:1/", "--vus", "1", "-d", "9999h"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, "maximum") {
			t.Errorf("%v: exit %d, %q; want a usage error naming the maximum", args, code, stderr)
		}
	}
}
