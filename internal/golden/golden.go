// Package golden compares test output with files kept under testdata, or
// rewrites those files when the tests run with -update. Only tests import
// it; it is the one implementation behind the report, chart, dashboard and
// scenario-error golden files.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Want returns the content of the golden file at path, for a comparison the
// caller makes (e.g. a tolerant one for images). With -update it writes got
// to path instead and returns ok false: there is nothing to compare.
func Want(t testing.TB, path string, got []byte) (want []byte, ok bool) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return nil, false
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	return want, true
}

// Check fails t when got differs from the golden file at path (or, with
// -update, rewrites the file).
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	want, ok := Want(t, path, got)
	if ok && string(got) != string(want) {
		t.Errorf("%s differs from the golden file (check, then go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
