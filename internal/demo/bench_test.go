package demo

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

// BenchmarkFill measures the fill: go test -bench Fill -benchtime 3x ./internal/demo
func BenchmarkFill(b *testing.B) {
	const rows = 100_000
	for b.Loop() {
		db, err := Open(context.Background(), Options{Rows: rows})
		if err != nil {
			b.Fatal(err)
		}
		st := db.Stats()
		b.ReportMetric(st.RowsPerSecond(), "rows/s")
		b.ReportMetric(float64(st.Index.Milliseconds()), "index-ms")
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPage measures one API page through the handler, offset vs
// cursor, at growing depth: the demo's picture as numbers.
//
//	go test -run XXX -bench Page -benchmem ./internal/demo
func BenchmarkPage(b *testing.B) {
	_, h := openTest(b, 50_000)
	for _, depth := range []int{1, 100, 1000, 2400} {
		at := "/api/posts/cursor-at?per_page=20&page=" + strconv.Itoa(depth)
		_, body := do(b, h, "GET", at, "")
		cursor, _ := body["cursor"].(string)
		for _, c := range []struct{ name, target string }{
			{"offset", "/api/posts?per_page=20&page=" + strconv.Itoa(depth)},
			{"cursor", "/api/posts/cursor?per_page=20&cursor=" + url.QueryEscape(cursor)},
		} {
			b.Run(c.name+"/depth="+strconv.Itoa(depth), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", c.target, nil))
					if rec.Code != 200 {
						b.Fatalf("%s: %d", c.target, rec.Code)
					}
				}
			})
		}
	}
}
