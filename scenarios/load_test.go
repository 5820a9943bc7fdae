package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/internal/golden"
)

// testGetenv is the environment of the tests: one secret, nothing else.
func testGetenv(name string) string {
	if name == "TG_TEST_TOKEN" {
		return "s3cr3t-t0ken"
	}
	return ""
}

// testLookupEnv is testGetenv for templates compiled without a scenario:
// every name is allowed.
func testLookupEnv(name string) (string, error) {
	if v := testGetenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("environment variable %s is not set (or empty)", name)
}

// TestBadFiles checks the exact messages for a corpus of broken scenarios,
// one mistake (or one kind of mistake) per file.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("found %d broken files, want at least 25", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f, WithGetenv(testGetenv))
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("error is %T (%v), want Errors", err, err)
			}
			got := err.Error() + "\n"
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				if !strings.HasPrefix(line, f+":") {
					t.Errorf("line %q does not start with %s:line:col", line, f)
				}
				if strings.Contains(line, "yaml.Node") || strings.Contains(line, "[]interface") || strings.Contains(line, "map[string]") {
					t.Errorf("line %q shows a Go type", line)
				}
			}
			golden.Check(t, strings.TrimSuffix(f, ".yaml")+".golden", []byte(got))
		})
	}
}

func osWriteFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
