package demo

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openTest opens a small demo database for one test.
func openTest(t testing.TB, rows int) (*DB, *Handler) {
	t.Helper()
	db, err := Open(context.Background(), Options{Rows: rows, Users: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	h, err := NewHandler(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close) // before the database closes: cleanups run last first
	return db, h
}

// do sends one request straight to the handler and decodes the JSON reply.
func do(t testing.TB, h http.Handler, method, target, body string, header ...string) (int, map[string]any) {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json", method, target, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", method, target, rec.Code, err, rec.Body)
	}
	return rec.Code, out
}

type postRef struct {
	ID      int64
	Created string
}

func postIDs(t testing.TB, body map[string]any) []postRef {
	t.Helper()
	list, ok := body["posts"].([]any)
	if !ok {
		t.Fatalf("no posts array in %v", body)
	}
	out := make([]postRef, len(list))
	for i, p := range list {
		m := p.(map[string]any)
		out[i] = postRef{ID: int64(m["id"].(float64)), Created: m["created_at"].(string)}
	}
	return out
}

// allPosts reads every post in the API's order straight from the database.
func allPosts(t testing.TB, db *DB) []postRef {
	t.Helper()
	rows, err := db.reader.Query("SELECT id, created_at FROM posts")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct{ id, created int64 }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.created); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The order is computed here in Go, independently of the SQL under test.
	slices.SortFunc(all, func(a, b row) int {
		if a.created != b.created {
			return int(b.created - a.created)
		}
		return int(b.id - a.id)
	})
	out := make([]postRef, len(all))
	for i, r := range all {
		out[i] = postRef{ID: r.id, Created: time.Unix(r.created, 0).UTC().Format(time.RFC3339)}
	}
	return out
}

func TestFillIsDeterministicWithTies(t *testing.T) {
	db1, _ := openTest(t, 3000)
	db2, _ := openTest(t, 3000)
	a, b := allPosts(t, db1), allPosts(t, db2)
	if len(a) != 3000 {
		t.Fatalf("got %d posts, want 3000", len(a))
	}
	if !slices.Equal(a, b) {
		t.Fatal("two fills with the same seed differ")
	}
	ties := 0
	for i := 1; i < len(a); i++ {
		if a[i].Created == a[i-1].Created {
			ties++
		}
	}
	// About a third of the posts share created_at with a neighbour.
	if ties < len(a)/5 {
		t.Fatalf("only %d of %d posts share created_at: the id tie-breaker would go untested", ties, len(a))
	}
	if st := db1.Stats(); st.Posts != 3000 || st.Users != 50 || st.Reused || st.RowsPerSecond() <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOffsetAndCursorAgree(t *testing.T) {
	db, h := openTest(t, 1000)
	want := allPosts(t, db)
	var viaOffset, viaCursor []postRef
	cursor := ""
	for page := 1; page <= 6; page++ {
		code, body := do(t, h, "GET", "/api/posts?per_page=17&page="+strconv.Itoa(page), "")
		if code != 200 {
			t.Fatalf("offset page %d: status %d %v", page, code, body)
		}
		if body["page"].(float64) != float64(page) || body["per_page"].(float64) != 17 {
			t.Fatalf("offset page %d: echoed %v/%v", page, body["page"], body["per_page"])
		}
		if _, ok := body["total"]; ok {
			t.Fatal("total present without ?total=1")
		}
		viaOffset = append(viaOffset, postIDs(t, body)...)

		code, body = do(t, h, "GET", "/api/posts/cursor?per_page=17&cursor="+url.QueryEscape(cursor), "")
		if code != 200 {
			t.Fatalf("cursor page %d: status %d %v", page, code, body)
		}
		if body["has_next"] != true {
			t.Fatalf("cursor page %d: has_next %v", page, body["has_next"])
		}
		viaCursor = append(viaCursor, postIDs(t, body)...)
		cursor = body["next_cursor"].(string)

		// The cursor-at endpoint jumps to the same place the walk reached.
		_, at := do(t, h, "GET", "/api/posts/cursor-at?per_page=17&page="+strconv.Itoa(page+1), "")
		if at["cursor"] != cursor {
			t.Fatalf("cursor-at page %d = %v, walk reached %q", page+1, at["cursor"], cursor)
		}
	}
	if !slices.Equal(viaOffset, viaCursor) {
		t.Fatalf("offset and cursor pages differ:\n%v\n%v", viaOffset, viaCursor)
	}
	if !slices.Equal(viaOffset, want[:len(viaOffset)]) {
		t.Fatal("pages are not in created_at DESC, id DESC order")
	}
	_, body := do(t, h, "GET", "/api/posts?total=1", "")
	if body["total"] != float64(1000) {
		t.Fatalf("total = %v, want 1000", body["total"])
	}
	_, at := do(t, h, "GET", "/api/posts/cursor-at?page=1", "")
	if at["cursor"] != "" {
		t.Fatalf("cursor-at page 1 = %v, want empty", at["cursor"])
	}
}

func TestCursorWalkReachesTheEnd(t *testing.T) {
	db, h := openTest(t, 95)
	want := allPosts(t, db)
	var got []postRef
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("walk does not end")
		}
		_, body := do(t, h, "GET", "/api/posts/cursor?per_page=10&cursor="+url.QueryEscape(cursor), "")
		got = append(got, postIDs(t, body)...)
		if body["has_next"] == false {
			if body["next_cursor"] != nil {
				t.Fatalf("last page has next_cursor %v", body["next_cursor"])
			}
			break
		}
		cursor = body["next_cursor"].(string)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("walk returned %d posts, want all %d in order", len(got), len(want))
	}
	code, body := do(t, h, "GET", "/api/posts/cursor-at?page=11&per_page=10", "")
	if code != http.StatusNotFound {
		t.Fatalf("cursor-at past the end: %d %v", code, body)
	}
}

// TestCursorStableUnderInserts is the reason cursor pagination exists: rows
// inserted at the top while a client pages do not shift its pages. Offset
// pagination, in the same situation, shows some rows twice.
func TestCursorStableUnderInserts(t *testing.T) {
	const perPage, pages = 10, 8
	walk := func(t *testing.T, next func(h http.Handler, page int, cursor string) (map[string]any, string)) []int64 {
		db, h := openTest(t, 300)
		var ids []int64
		cursor := ""
		for page := 1; page <= pages; page++ {
			body, c := next(h, page, cursor)
			cursor = c
			for _, p := range postIDs(t, body) {
				ids = append(ids, p.ID)
			}
			if _, err := db.InsertPosts(context.Background(), 3); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	var original []int64
	{
		db, _ := openTest(t, 300)
		for _, p := range allPosts(t, db)[:perPage*pages] {
			original = append(original, p.ID)
		}
	}

	cursorIDs := walk(t, func(h http.Handler, _ int, cursor string) (map[string]any, string) {
		_, body := do(t, h, "GET", "/api/posts/cursor?per_page=10&cursor="+url.QueryEscape(cursor), "")
		return body, body["next_cursor"].(string)
	})
	if !slices.Equal(cursorIDs, original) {
		t.Fatalf("cursor pages skipped or repeated rows while rows were inserted:\n got %v\nwant %v", cursorIDs, original)
	}

	offsetIDs := walk(t, func(h http.Handler, page int, _ string) (map[string]any, string) {
		_, body := do(t, h, "GET", "/api/posts?per_page=10&page="+strconv.Itoa(page), "")
		return body, ""
	})
	seen := map[int64]bool{}
	repeats := 0
	for _, id := range offsetIDs {
		if seen[id] {
			repeats++
		}
		seen[id] = true
	}
	// 3 inserts before each of pages 2…8 shift the rows down 3 places each
	// time: 3 rows of every later page were already shown.
	if repeats != 3*(pages-1) {
		t.Fatalf("offset pagination repeated %d rows, want %d (3 per page after the first)", repeats, 3*(pages-1))
	}
}

func TestBadInput(t *testing.T) {
	_, h := openTest(t, 200)
	enc := func(s string) string { return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(s))) }
	tests := []struct {
		name, method, target string
		status               int
	}{
		{"page zero", "GET", "/api/posts?page=0", 400},
		{"page negative", "GET", "/api/posts?page=-1", 400},
		{"page text", "GET", "/api/posts?page=abc", 400},
		{"page fraction", "GET", "/api/posts?page=1.5", 400},
		{"page empty", "GET", "/api/posts?page=", 400},
		{"page huge", "GET", "/api/posts?page=99999999999999999999", 400},
		{"page over max", "GET", "/api/posts?page=100001", 400},
		{"page twice", "GET", "/api/posts?page=1&page=2", 400},
		{"per_page over max", "GET", "/api/posts?per_page=101", 400},
		{"per_page zero", "GET", "/api/posts?per_page=0", 400},
		{"per_page plus sign", "GET", "/api/posts?per_page=%2B5", 400},
		{"total bad", "GET", "/api/posts?total=yes", 400},
		{"bad escape", "GET", "/api/posts?page=%zz", 400},
		{"query too long", "GET", "/api/posts?x=" + strings.Repeat("a", 3000), 400},
		{"cursor junk", "GET", "/api/posts/cursor?cursor=!!!", 400},
		{"cursor padded", "GET", "/api/posts/cursor?cursor=" + url.QueryEscape(base64.URLEncoding.EncodeToString([]byte("v1:1:12"))), 400},
		{"cursor std alphabet", "GET", "/api/posts/cursor?cursor=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("v1:1600000000:1>?"))), 400},
		{"cursor version", "GET", "/api/posts/cursor?cursor=" + enc("v2:1600000000:5"), 400},
		{"cursor negative", "GET", "/api/posts/cursor?cursor=" + enc("v1:-1:5"), 400},
		{"cursor leading zero", "GET", "/api/posts/cursor?cursor=" + enc("v1:01:5"), 400},
		{"cursor id zero", "GET", "/api/posts/cursor?cursor=" + enc("v1:1600000000:0"), 400},
		{"cursor extra field", "GET", "/api/posts/cursor?cursor=" + enc("v1:1:2:3"), 400},
		{"cursor overflow", "GET", "/api/posts/cursor?cursor=" + enc("v1:99999999999999999999:1"), 400},
		{"cursor with a line break", "GET", "/api/posts/cursor?cursor=" + url.QueryEscape("\r"+enc("v1:3:4")), 400},
		{"cursor too long", "GET", "/api/posts/cursor?cursor=" + strings.Repeat("A", 100), 400},
		{"cursor twice", "GET", "/api/posts/cursor?cursor=a&cursor=b", 400},
		{"cursor with page", "GET", "/api/posts/cursor?page=3", 400},
		{"cursor per_page bad", "GET", "/api/posts/cursor?per_page=x", 400},
		{"cursor-at page bad", "GET", "/api/posts/cursor-at?page=-4", 400},
		{"unknown path", "GET", "/api/nope", 404},
		{"trailing slash", "GET", "/api/posts/cursor/", 404},
		{"wrong method", "POST", "/api/posts", 405},
		{"login by GET", "GET", "/api/login", 405},
		{"valid cursor far in the past", "GET", "/api/posts/cursor?cursor=" + Cursor{CreatedAt: 1, ID: 1}.Encode(), 200},
		{"empty cursor is the first page", "GET", "/api/posts/cursor?cursor=", 200},
		{"deep page past the end", "GET", "/api/posts?page=100000&per_page=100", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, h, tt.method, tt.target, "")
			if code != tt.status {
				t.Fatalf("status %d, want %d: %v", code, tt.status, body)
			}
			if msg, _ := body["error"].(string); tt.status >= 400 && msg == "" {
				t.Fatalf("no error message: %v", body)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	db, h := openTest(t, 10)
	code, body := do(t, h, "GET", "/health", "")
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("healthy: %d %v", code, body)
	}
	if err := db.reader.Close(); err != nil {
		t.Fatal(err)
	}
	code, body = do(t, h, "GET", "/health", "")
	if code != 503 || body["status"] != "unavailable" || body["error"] == "" {
		t.Fatalf("database closed: %d %v", code, body)
	}
}

func TestLoginAndMe(t *testing.T) {
	_, h := openTest(t, 100)
	code, body := do(t, h, "POST", "/api/login", `{"user": "user7", "password": "demo"}`, "Content-Type", "application/json")
	if code != 200 {
		t.Fatalf("login: %d %v", code, body)
	}
	token := body["token"].(string)
	code, body = do(t, h, "GET", "/api/me", "", "Authorization", "Bearer "+token)
	if code != 200 || body["name"] != "user7" || body["id"] != float64(7) {
		t.Fatalf("me: %d %v", code, body)
	}
	if _, ok := body["posts"].(float64); !ok {
		t.Fatalf("me: no post count: %v", body)
	}

	tampered := []byte(token)
	tampered[3] ^= 1
	// An expired token: the same key, a clock a day and a minute later.
	expired := *h.auth
	expired.now = func() time.Time { return time.Now().Add(tokenTTL + time.Minute) }

	tests := []struct {
		name, method, body, auth string
		path                     string
		status                   int
	}{
		{"wrong password", "POST", `{"user": "user7", "password": "nope"}`, "", "/api/login", 401},
		{"unknown user", "POST", `{"user": "mallory", "password": "demo"}`, "", "/api/login", 401},
		{"not JSON", "POST", `user=user7`, "", "/api/login", 400},
		{"unknown field", "POST", `{"user": "user7", "password": "demo", "admin": true}`, "", "/api/login", 400},
		{"two objects", "POST", `{"user": "user7", "password": "demo"} {}`, "", "/api/login", 400},
		{"missing password", "POST", `{"user": "user7"}`, "", "/api/login", 400},
		{"form content type, JSON body", "POST", `{"user": "user7", "password": "demo"}`, "", "/api/login", 200},
		{"body too large", "POST", `{"user": "` + strings.Repeat("x", 5000) + `", "password": "demo"}`, "", "/api/login", 413},
		{"no token", "GET", "", "", "/api/me", 401},
		{"not bearer", "GET", "", "Basic dXNlcjpkZW1v", "/api/me", 401},
		{"tampered token", "GET", "", "Bearer " + string(tampered), "/api/me", 401},
		{"junk token", "GET", "", "Bearer a.b.c", "/api/me", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Content-Type", "application/json"}
			if strings.HasPrefix(tt.name, "form") {
				hdr[1] = "application/x-www-form-urlencoded"
			}
			if tt.auth != "" {
				hdr = append(hdr, "Authorization", tt.auth)
			}
			code, body := do(t, h, tt.method, tt.path, tt.body, hdr...)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %v", code, tt.status, body)
			}
		})
	}
	t.Run("expired token", func(t *testing.T) {
		if _, err := expired.check(token); err == nil {
			t.Fatal("a token past its expiry was accepted")
		}
		if uid, err := h.auth.check(token); err != nil || uid != 7 {
			t.Fatalf("fresh token: %d, %v", uid, err)
		}
	})
}

func TestKeptDatabaseFile(t *testing.T) {
	path := t.TempDir() + "/kept.db"
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: path, Rows: 500, Users: 10})
	if err != nil {
		t.Fatal(err)
	}
	first := allPosts(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, Options{Path: path, Rows: 500, Users: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !db.Stats().Reused {
		t.Fatal("same options: the kept file was not reused")
	}
	if !slices.Equal(allPosts(t, db), first) {
		t.Fatal("reused file has other rows")
	}
	db.Close()
	db, err = Open(ctx, Options{Path: path, Rows: 700, Users: 10})
	if err != nil {
		t.Fatal(err)
	}
	if db.Stats().Reused || len(allPosts(t, db)) != 700 {
		t.Fatal("other row count: the kept file was not rebuilt")
	}
	db.Close()

	// A file that is not a demo database is never overwritten.
	foreign := t.TempDir() + "/precious.db"
	other, err := Open(ctx, Options{Path: t.TempDir() + "/x.db", Rows: 1, Users: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.writer.Exec("VACUUM INTO ?", foreign); err != nil {
		t.Fatal(err)
	}
	other.Close()
	raw, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("DROP TABLE tailgate_demo_meta"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if _, err := Open(ctx, Options{Path: foreign, Rows: 10}); err == nil || !strings.Contains(err.Error(), "not a tailgate demo database") {
		t.Fatalf("foreign file: err = %v", err)
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor{CreatedAt: 1600000000, ID: 42}.Encode())
	f.Add("")
	f.Add("djE6MTox")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if got := c.Encode(); got != s {
			t.Fatalf("ParseCursor(%q) = %+v, which encodes as %q", s, c, got)
		}
	})
}

// FuzzQuery checks that no query string makes the API answer 500 (or panic).
func FuzzQuery(f *testing.F) {
	_, h := openTest(f, 50)
	routes := []struct{ method, path string }{
		{"GET", "/api/posts"}, {"GET", "/api/posts/cursor"}, {"GET", "/api/posts/cursor-at"},
		{"GET", "/api/feed/n-plus-one"}, {"GET", "/api/feed/join"},
		{"GET", "/api/stats/top-authors/cached"}, {"GET", "/api/stats/top-authors/single-flight"},
		{"GET", "/api/limited/fixed-window"}, {"GET", "/api/limited/sliding-window"}, {"GET", "/api/limited/token-bucket"},
		{"POST", "/api/exports"},
	}
	for _, s := range []string{"page=2&per_page=5", "cursor=djE6MTox", "page=-1", "total=1", "%zz", "per_page=100&page=100000",
		"ttl=1s", "ttl=-1s", "limit=5&window=1s&burst=2", "window=1e9h", "user=3&duration=10ms", "duration=1ns"} {
		for i := range routes {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		route := routes[int(which)%len(routes)]
		req := httptest.NewRequest(route.method, "/", nil)
		req.URL = &url.URL{Path: route.path, RawQuery: raw}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("?%s: status %d: %s", raw, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("?%s: reply is not JSON: %s", raw, rec.Body)
		}
	})
}

// TestConcurrentRequests runs readers, the cursor-at cache and inserts at
// once, for the race detector.
func TestConcurrentRequests(t *testing.T) {
	db, h := openTest(t, 400)
	srv := httptest.NewServer(h)
	defer srv.Close()
	done := make(chan error, 9)
	for w := range 8 {
		go func() {
			for i := range 15 {
				var target string
				switch i % 3 {
				case 0:
					target = "/api/posts?page=" + strconv.Itoa(1+(w+i)%5)
				case 1:
					target = "/api/posts/cursor-at?page=" + strconv.Itoa(1+(w+i)%5)
				default:
					target = "/api/posts/cursor"
				}
				res, err := srv.Client().Get(srv.URL + target)
				if err != nil {
					done <- err
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					done <- fmt.Errorf("%s: status %d", target, res.StatusCode)
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range 10 {
			if _, err := db.InsertPosts(context.Background(), 2); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 9 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Open(ctx, Options{Rows: 100_000, Users: 10, Progress: func(p Progress) {
		calls++
		if p.Phase == "posts" && p.Done > 0 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("Open finished the fill after its context was cancelled")
	}
	if calls == 0 {
		t.Fatal("no progress reported")
	}
}

// TestWrongMethodSaysWhichWork: the mux's 405 keeps its Allow header (GET
// routes serve HEAD too) and gets a JSON error naming the methods.
func TestWrongMethodSaysWhichWork(t *testing.T) {
	_, h := openTest(t, 10)
	for _, tt := range []struct{ method, target, allow string }{
		{"POST", "/api/posts", "GET, HEAD"},
		{"DELETE", "/health", "GET, HEAD"},
		{"GET", "/api/login", "POST"},
	} {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", tt.method, tt.target, err, rec.Body)
		}
		want := tt.method + " " + tt.target + ": use " + tt.allow
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tt.allow || body["error"] != want {
			t.Fatalf("%s %s: %d, Allow %q, %q; want 405, %q, %q", tt.method, tt.target, rec.Code, rec.Header().Get("Allow"), body["error"], tt.allow, want)
		}
	}
}
