//go:build linux

package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// TestReadProcFileGrows reads a file longer than the buffer it is given.
func TestReadProcFileGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stat")
	text := "cpu0 1 2 3 4 5 6 7 8\ncpu1 1 2 3 4 5 6 7 8\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	n, err := readProcFile(path, &buf)
	if err != nil || string(buf[:n]) != text {
		t.Fatalf("read %q, %v; want %q", buf[:n], err, text)
	}
	if _, err := readProcFile(filepath.Join(t.TempDir(), "missing"), &buf); err == nil {
		t.Error("reading a missing file did not fail")
	}
}

// TestStealSmoke: a run on Linux reads the steal of the CPUs it may run
// on. Only that it was measured is checked; how much was stolen is the
// machine's business.
func TestStealSmoke(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat:", err)
	}
	synctest.Test(t, func(t *testing.T) {
		target := &fakeTarget{start: time.Now(), service: time.Millisecond}
		res, err := Run(context.Background(), fakePlan(target, ConstantPacer{PerSecond: 10, Length: 2 * time.Second}), WithClock(FakeClock))
		if err != nil {
			t.Fatal(err)
		}
		st := res.Meta.Steal
		if st == nil {
			t.Fatal("no steal measured")
		}
		if st.CPUs < 1 || st.CPUs > runtime.NumCPU() || st.Stolen > st.Time {
			t.Errorf("steal %+v: want 1 to %d CPUs, stolen within their time", st, runtime.NumCPU())
		}
	})
}
