package demo

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Limits on user input. Beyond them a request gets 400, so no request can ask
// for unbounded work.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	MaxPage        = 100_000
	maxQueryLen    = 2048
	maxLoginBody   = 4 << 10
	maxCacheSize   = 10_000
)

// Post is one post as the API returns it.
type Post struct {
	ID        int64  `json:"id"`
	UserID    int64  `json:"user_id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Published bool   `json:"published"`
	CreatedAt string `json:"created_at"`

	created int64 // created_at in Unix seconds, for the next cursor
}

// OffsetPage is the body of GET /api/posts.
type OffsetPage struct {
	Posts   []Post `json:"posts"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	// Total is set only with ?total=1: counting rows is a full index scan.
	Total *int64 `json:"total,omitempty"`
}

// CursorPage is the body of GET /api/posts/cursor.
type CursorPage struct {
	Posts []Post `json:"posts"`
	// NextCursor starts the next page; null on the last page.
	NextCursor *string `json:"next_cursor"`
	HasNext    bool    `json:"has_next"`
}

// Handler serves the demo API over db.
type Handler struct {
	db     *DB
	auth   *authenticator
	cache  *aggregateCache
	limits *limiters
	jobs   *jobQueue
	mux    *http.ServeMux
	bufs   sync.Pool
}

// NewHandler returns the HTTP API of the demo target:
//
//	GET  /api/posts?page=P&per_page=N[&total=1]   offset pagination
//	GET  /api/posts/cursor?cursor=C&per_page=N    keyset pagination
//	GET  /api/posts/cursor-at?page=P&per_page=N   the cursor that starts page P
//	POST /api/login  {"user": "user1", "password": "demo"}
//	GET  /api/me     with Authorization: Bearer TOKEN
//
// and the labs, each technique before and after:
//
//	GET  /api/feed/n-plus-one?per_page=N      a query per post for its author
//	GET  /api/feed/join?per_page=N            the same page in one JOIN
//	GET  /api/stats/top-authors               an expensive aggregate, uncached
//	GET  /api/stats/top-authors/cached?ttl=D  cached with a TTL (X-Cache, stampedes at expiry)
//	GET  /api/stats/top-authors/single-flight?ttl=D  the same, one computation per expiry
//	GET  /api/limited/{algorithm}?limit=N&window=D[&burst=B]  fixed-window, sliding-window, token-bucket
//	POST /api/exports/sync?user=U&duration=D  a slow job inside the request
//	POST /api/exports?user=U&duration=D       the job queued: 202 and a Location to poll
//	GET  /api/exports/{id}                    the job's status
//	GET  /health                              the database answers
//
// Close stops the background jobs.
func NewHandler(db *DB) (*Handler, error) {
	a, err := newAuthenticator()
	if err != nil {
		return nil, err
	}
	h := &Handler{db: db, auth: a, limits: newLimiters(), jobs: newJobQueue(db.export)}
	h.cache = newAggregateCache(h.encodeTopAuthors)
	h.bufs.New = func() any { return new(bytes.Buffer) }
	// A GET pattern also serves HEAD.
	h.mux = http.NewServeMux()
	h.mux.Handle("GET /{$}", h.query(h.index))
	h.mux.Handle("GET /api/posts", h.query(h.offsetPage))
	h.mux.Handle("GET /api/posts/cursor", h.query(h.cursorPage))
	h.mux.Handle("GET /api/posts/cursor-at", h.query(h.cursorAt))
	h.mux.Handle("POST /api/login", h.query(h.login))
	h.mux.Handle("GET /api/me", h.query(h.me))
	h.mux.Handle("GET /api/feed/n-plus-one", h.query(h.feedNPlusOne))
	h.mux.Handle("GET /api/feed/join", h.query(h.feedJoin))
	h.mux.Handle("GET /api/stats/top-authors", h.query(h.topAuthorsUncached))
	h.mux.Handle("GET /api/stats/top-authors/cached", h.query(h.topAuthorsCached))
	h.mux.Handle("GET /api/stats/top-authors/single-flight", h.query(h.topAuthorsSingleFlight))
	h.mux.Handle("GET /api/limited/{algorithm}", h.query(h.limited))
	h.mux.Handle("POST /api/exports/sync", h.query(h.exportSync))
	h.mux.Handle("POST /api/exports", h.query(h.exportAsync))
	h.mux.Handle("GET /api/exports/{id}", h.query(h.exportStatus))
	h.mux.Handle("GET /health", h.query(h.health))
	return h, nil
}

// Close cancels the export jobs still queued or running and waits for them
// to end; the handler answers new ones with 503.
func (h *Handler) Close() {
	h.jobs.close()
}

// ServeHTTP implements http.Handler. Where the mux finds no route, its
// answer (404, or 405 with the Allow header it computed) gets the JSON
// error body every other answer has.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, pattern := h.mux.Handler(r)
	if pattern != "" {
		// The mux itself serves a route: only its ServeHTTP sets the
		// pattern's wildcards ({id}) in r.PathValue.
		h.mux.ServeHTTP(w, r)
		return
	}
	var miss statusOnly
	route.ServeHTTP(&miss, r)
	switch miss.status {
	case http.StatusMethodNotAllowed:
		allow := miss.Header().Get("Allow")
		w.Header().Set("Allow", allow)
		h.fail(w, miss.status, "%s %s: use %s", r.Method, r.URL.Path, allow)
	case http.StatusNotFound:
		h.fail(w, miss.status, "no such endpoint %s (GET / lists them)", r.URL.Path)
	default:
		h.fail(w, miss.status, "%s %s: %s", r.Method, r.URL.Path, http.StatusText(miss.status))
	}
}

// statusOnly is a ResponseWriter that keeps the status and headers of the
// mux's own answer to a request it has no route for, and drops its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}

func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statusOnly) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// query bounds and parses the query string before fn runs.
func (h *Handler) query(fn func(w http.ResponseWriter, r *http.Request, q url.Values)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxQueryLen {
			h.fail(w, http.StatusBadRequest, "query string longer than %d bytes", maxQueryLen)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			h.fail(w, http.StatusBadRequest, "malformed query string: %v", err)
			return
		}
		fn(w, r, q)
	})
}

func (h *Handler) index(w http.ResponseWriter, _ *http.Request, _ url.Values) {
	h.reply(w, http.StatusOK, map[string]any{
		"name": "tailgate demo target",
		"endpoints": []string{
			"GET /api/posts?page=P&per_page=N[&total=1]",
			"GET /api/posts/cursor?cursor=C&per_page=N",
			"GET /api/posts/cursor-at?page=P&per_page=N",
			"POST /api/login {\"user\": \"user1\", \"password\": \"demo\"}",
			"GET /api/me (Authorization: Bearer TOKEN)",
			"GET /api/feed/n-plus-one?per_page=N",
			"GET /api/feed/join?per_page=N",
			"GET /api/stats/top-authors",
			"GET /api/stats/top-authors/cached?ttl=D",
			"GET /api/stats/top-authors/single-flight?ttl=D",
			"GET /api/limited/{fixed-window|sliding-window|token-bucket}?limit=N&window=D[&burst=B]",
			"POST /api/exports/sync?user=U&duration=D",
			"POST /api/exports?user=U&duration=D",
			"GET /api/exports/{id}",
			"GET /health",
		},
	})
}

// intParam reads an optional positive integer parameter.
func intParam(q url.Values, name string, def, max int) (int, error) {
	vs, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(vs) != 1 {
		return 0, fmt.Errorf("%s given %d times", name, len(vs))
	}
	s := vs[0]
	if s == "" || len(s) > 9 {
		return 0, fmt.Errorf("%s=%q: want a whole number from 1 to %d", name, s, max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%s=%q: want a whole number from 1 to %d", name, s, max)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s=%s: want a whole number from 1 to %d", name, s, max)
	}
	return n, nil
}

func pageParams(q url.Values) (page, perPage int, err error) {
	if page, err = intParam(q, "page", 1, MaxPage); err != nil {
		return 0, 0, err
	}
	if perPage, err = intParam(q, "per_page", DefaultPerPage, MaxPerPage); err != nil {
		return 0, 0, err
	}
	return page, perPage, nil
}

func (h *Handler) offsetPage(w http.ResponseWriter, r *http.Request, q url.Values) {
	page, perPage, err := pageParams(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var wantTotal bool
	switch q.Get("total") {
	case "", "0", "false":
	case "1", "true":
		wantTotal = true
	default:
		h.fail(w, http.StatusBadRequest, "total=%q: use total=1 to count the posts", q.Get("total"))
		return
	}
	start := time.Now()
	posts, err := queryPosts(r.Context(), h.db.stmtOffset, perPage, perPage, (page-1)*perPage)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	out := OffsetPage{Posts: posts, Page: page, PerPage: perPage}
	if wantTotal {
		var n int64
		if err := h.db.reader.QueryRowContext(r.Context(), "SELECT count(*) FROM posts").Scan(&n); err != nil {
			h.dbFail(w, r, err)
			return
		}
		out.Total = &n
	}
	serverTiming(w, start)
	h.reply(w, http.StatusOK, out)
}

func (h *Handler) cursorPage(w http.ResponseWriter, r *http.Request, q url.Values) {
	perPage, err := intParam(q, "per_page", DefaultPerPage, MaxPerPage)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if _, ok := q["page"]; ok {
		h.fail(w, http.StatusBadRequest, "page= is for /api/posts; cursor pagination takes cursor= (or /api/posts/cursor-at?page=P to jump)")
		return
	}
	if len(q["cursor"]) > 1 {
		h.fail(w, http.StatusBadRequest, "cursor given %d times", len(q["cursor"]))
		return
	}
	start := time.Now()
	var posts []Post
	if c := q.Get("cursor"); c == "" {
		posts, err = queryPosts(r.Context(), h.db.stmtFirst, perPage+1, perPage+1)
	} else {
		cur, perr := ParseCursor(c)
		if perr != nil {
			h.fail(w, http.StatusBadRequest, "cursor=%.40q: %v", c, perr)
			return
		}
		posts, err = queryPosts(r.Context(), h.db.stmtAfter, perPage+1, cur.CreatedAt, cur.ID, perPage+1)
	}
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	out := CursorPage{Posts: posts}
	if len(posts) > perPage {
		out.Posts = posts[:perPage]
		last := out.Posts[perPage-1]
		next := Cursor{CreatedAt: last.created, ID: last.ID}.Encode()
		out.NextCursor, out.HasNext = &next, true
	}
	serverTiming(w, start)
	h.reply(w, http.StatusOK, out)
}

func (h *Handler) cursorAt(w http.ResponseWriter, r *http.Request, q url.Values) {
	page, perPage, err := pageParams(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	start := time.Now()
	c, found, err := h.db.CursorAt(r.Context(), page, perPage)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	if !found {
		h.fail(w, http.StatusNotFound, "page %d (per_page %d) is past the last post", page, perPage)
		return
	}
	serverTiming(w, start)
	h.reply(w, http.StatusOK, map[string]any{"cursor": c, "page": page, "per_page": perPage})
}

// CursorAt returns the cursor that starts page (1-based) at perPage rows a
// page: "" for page 1, found=false past the end. Results are cached per
// (page, perPage) until the next insert, so a load test can jump straight to
// a deep page with cursor pagination and pay the OFFSET walk once.
func (d *DB) CursorAt(ctx context.Context, page, perPage int) (cursor string, found bool, err error) {
	if page <= 1 {
		return "", true, nil
	}
	key := pageKey{page, perPage}
	d.mu.Lock()
	c, ok := d.cursorAt[key]
	gen := d.generation
	d.mu.Unlock()
	if ok {
		return c, true, nil
	}
	var cur Cursor
	err = d.stmtAt.QueryRowContext(ctx, (page-1)*perPage-1).Scan(&cur.CreatedAt, &cur.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("cursor for page %d: %w", page, err)
	}
	c = cur.Encode()
	d.mu.Lock()
	if d.generation == gen {
		if len(d.cursorAt) >= maxCacheSize {
			clear(d.cursorAt)
		}
		d.cursorAt[key] = c
	}
	d.mu.Unlock()
	return c, true, nil
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request, _ url.Values) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	n, err := h.db.Ping(ctx)
	if err != nil {
		h.reply(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": err.Error()})
		return
	}
	h.reply(w, http.StatusOK, map[string]any{"status": "ok", "max_post_id": n})
}

func queryPosts(ctx context.Context, st *sql.Stmt, capacity int, args ...any) ([]Post, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("query posts: %w", err)
	}
	defer rows.Close()
	posts := make([]Post, 0, capacity)
	for rows.Next() {
		var p Post
		var published int
		if err := rows.Scan(&p.ID, &p.UserID, &p.Title, &p.Body, &published, &p.created); err != nil {
			return nil, fmt.Errorf("query posts: %w", err)
		}
		p.Published = published != 0
		p.CreatedAt = time.Unix(p.created, 0).UTC().Format(time.RFC3339)
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query posts: %w", err)
	}
	return posts, nil
}

// serverTiming tells clients how long the database took, so a user can see
// how much of a latency is the query and how much the network and client.
func serverTiming(w http.ResponseWriter, start time.Time) {
	w.Header().Set("Server-Timing", "db;dur="+strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64))
}

func (h *Handler) reply(w http.ResponseWriter, status int, v any) {
	buf := h.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			h.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		fmt.Fprintf(buf, "{\"error\":%q}\n", "encode response: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client went away; nothing left to tell it
}

// encodeJSON encodes v as reply does, for a body made once and sent many
// times.
func encodeJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return append(b, '\n'), nil
}

// replyBytes sends a JSON body encoded beforehand.
func (h *Handler) replyBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing left to tell it
}

func (h *Handler) fail(w http.ResponseWriter, status int, format string, args ...any) {
	h.reply(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// dbFail answers a failed query: 500 for a database fault, nothing when the
// client has gone (its context is cancelled and no one would read a reply).
func (h *Handler) dbFail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	h.fail(w, http.StatusInternalServerError, "database: %v", err)
}
