package cli

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTLSDefaultsAndInsecure: a self-signed certificate fails by default
// with a TLS error the user can act on; --insecure runs and says it did not
// verify.
func TestTLSDefaultsAndInsecure(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	srv.StartTLS()
	defer srv.Close()

	code, stdout, stderr := runCLI(t, "hit", srv.URL, "-r", "20/s", "-d", "1s", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "tls") || !strings.Contains(stdout, "--insecure") {
		t.Fatalf("summary does not show TLS errors with advice:\n%s", stdout)
	}
	if strings.Contains(stderr, "not verified") {
		t.Fatalf("warned about --insecure without it: %s", stderr)
	}

	code, stdout, stderr = runCLI(t, "hit", srv.URL, "-r", "20/s", "-d", "1s", "--quiet", "--insecure")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: --insecure: TLS certificates are not verified") {
		t.Fatalf("no --insecure warning on stderr: %q", stderr)
	}
	if !strings.Contains(stdout, "200 ×20") && !strings.Contains(stdout, "200×20") {
		t.Fatalf("requests did not succeed with --insecure:\n%s", stdout)
	}
}
