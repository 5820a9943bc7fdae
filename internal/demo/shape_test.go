package demo

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestLatencyShape checks the picture the demo draws, on a smaller table:
// the median OFFSET page at the deepest depth costs at least 10× page 1,
// while the keyset page at the same depth stays within 2× of its first page.
// It compares ratios of medians of interleaved handler calls, never absolute
// times, so a slow or busy machine changes the numbers but not the shape.
func TestLatencyShape(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 50k rows")
	}
	if raceEnabled {
		t.Skip("timings under the race detector say nothing about the shape; it has no concurrency to check")
	}
	const rows, perPage = 50_000, 20
	deepest := rows/perPage - 10 // offset 49,780: nearly the whole index
	_, h := openTest(t, rows)

	_, body := do(t, h, "GET", "/api/posts/cursor-at?per_page=20&page="+strconv.Itoa(deepest), "")
	deepCursor, _ := body["cursor"].(string)
	if deepCursor == "" {
		t.Fatalf("no cursor for page %d: %v", deepest, body)
	}
	targets := map[string]string{
		"offset first": "/api/posts?per_page=20&page=1",
		"offset deep":  "/api/posts?per_page=20&page=" + strconv.Itoa(deepest),
		"cursor first": "/api/posts/cursor?per_page=20",
		"cursor deep":  "/api/posts/cursor?per_page=20&cursor=" + url.QueryEscape(deepCursor),
	}
	names := []string{"offset first", "offset deep", "cursor first", "cursor deep"}
	times := map[string][]time.Duration{}
	time1 := func(target string) time.Duration {
		req := httptest.NewRequest("GET", target, nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return d
	}
	for _, n := range names { // warm the page cache and the prepared statements
		time1(targets[n])
	}
	for range 25 {
		for _, n := range names { // interleaved, so machine noise hits all alike
			times[n] = append(times[n], time1(targets[n]))
		}
	}
	median := func(n string) time.Duration {
		s := slices.Clone(times[n])
		slices.Sort(s)
		return s[len(s)/2]
	}
	offsetRatio := float64(median("offset deep")) / float64(median("offset first"))
	cursorRatio := float64(median("cursor deep")) / float64(median("cursor first"))
	t.Logf("median: offset page 1 %v, page %d %v (%.1f×); cursor first %v, deep %v (%.2f×)",
		median("offset first"), deepest, median("offset deep"), offsetRatio,
		median("cursor first"), median("cursor deep"), cursorRatio)
	if offsetRatio < 10 {
		t.Errorf("offset page %d is only %.1f× page 1, want ≥ 10×", deepest, offsetRatio)
	}
	if cursorRatio > 2 {
		t.Errorf("cursor page at depth %d is %.2f× the first page, want ≤ 2×", deepest, cursorRatio)
	}
}
