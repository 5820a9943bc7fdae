package cli

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssKiB reads the resident set size of a process from /proc.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// TestLongRunMemoryIsFlat runs the real binary at a steady rate for a minute
// and compares its resident memory after 10s and after 60s: recording keeps
// histograms, not samples, so memory must not grow with the run's length.
func TestLongRunMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for a minute")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	out := t.TempDir() + "/r.json"
	// GOGC=25 keeps the garbage collector's sawtooth small, so resident
	// memory tracks live memory: the quantity that must not grow. With the
	// default GOGC the heap swings between live and twice live, and where a
	// window catches the swing decides the comparison more than any growth.
	p := startTailgateEnv(t, []string{"GOGC=25"}, "hit", srv.URL, "-r", "2000/s", "-d", "62s", "-c", "16", "-o", out, "--quiet")
	pid := p.cmd.Process.Pid
	begin := time.Now()
	var early, late int64
	for {
		el := time.Since(begin)
		if el > 61*time.Second {
			break
		}
		rss, err := rssKiB(pid)
		if err != nil {
			t.Fatalf("process ended early: %v\n%s", err, p.stderr.String())
		}
		switch {
		case el >= 6*time.Second && el < 14*time.Second:
			early = max(early, rss)
		case el >= 52*time.Second:
			late = max(late, rss)
		}
		if os.Getenv("SOAK_TRACE") != "" && int(el/time.Millisecond)%5000 < 250 {
			t.Logf("%5.1fs rss %d KiB", el.Seconds(), rss)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code := p.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	t.Logf("RSS after ~10s: %d KiB, after ~60s: %d KiB (%.1f%%)", early, late, 100*float64(late-early)/float64(early))
	if float64(late) > 1.10*float64(early) {
		t.Fatalf("RSS grew from %d KiB at 10s to %d KiB at 60s (> 10%%)", early, late)
	}
}
