// Package demo is tailgate's built-in demo target: a small blog API over an
// embedded SQLite database (pure Go, no cgo) that reproduces the classic
// pagination problem. LIMIT … OFFSET … gets slower with page depth because
// the database walks and skips every earlier row, while keyset (cursor)
// pagination on a (created_at DESC, id DESC) index stays flat.
//
// Library packages must not import it; only the command line does.
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Defaults of Options.
const (
	DefaultRows  = 300_000
	DefaultUsers = 5_000
	DefaultSeed  = 1
)

// schemaVersion changes whenever the schema or the generated data change, so
// that a kept database file (--db) from an older build is rebuilt.
const schemaVersion = 1

// Options says which database to open and how to fill it.
type Options struct {
	// Path keeps the database in this file. If the file already holds a demo
	// database with the same rows, users, seed and schema it is reused as is;
	// another demo database is rebuilt; any other file is refused. Empty: a
	// temporary directory that Close removes.
	Path string
	// Rows is the number of posts (default DefaultRows).
	Rows int
	// Users is the number of users (default DefaultUsers).
	Users int
	// Seed seeds the generator; the same seed gives the same data.
	Seed uint64
	// Progress, if set, is called from the filling goroutine as the fill
	// advances (every few thousand rows, and once at the end of each phase).
	Progress func(Progress)
}

// Progress reports how far the fill is.
type Progress struct {
	// Phase is "users", "posts" or "indexes".
	Phase string
	// Done and Total count rows of the phase (indexes: 0 or 1 of 1).
	Done, Total int
	// Elapsed is the time since the fill started.
	Elapsed time.Duration
}

// FillStats describes how the database was made.
type FillStats struct {
	// Reused is true when an existing --db file was used without filling.
	Reused bool
	// Posts and Users are the row counts.
	Posts, Users int
	// Insert is the time spent inserting rows, Index the time building the
	// secondary indexes afterwards, Total the whole fill.
	Insert, Index, Total time.Duration
}

// RowsPerSecond is the insert rate of the fill (posts and users).
func (f FillStats) RowsPerSecond() float64 {
	if f.Insert <= 0 {
		return 0
	}
	return float64(f.Posts+f.Users) / f.Insert.Seconds()
}

// DB is the filled demo database with its connection pools.
type DB struct {
	path    string
	tempDir string // removed by Close; "" for a kept file
	writer  *sql.DB
	reader  *sql.DB
	fill    FillStats
	opts    Options

	stmtOffset *sql.Stmt
	stmtFirst  *sql.Stmt
	stmtAfter  *sql.Stmt
	stmtAt     *sql.Stmt

	stmtFeedPosts  *sql.Stmt
	stmtFeedAuthor *sql.Stmt
	stmtFeedJoin   *sql.Stmt
	stmts          []*sql.Stmt // every prepared statement, for Close

	// mu guards the cursor-at cache and its generation, which inserts bump so
	// that cached cursors never outlive the rows they point at.
	mu         sync.Mutex
	cursorAt   map[pageKey]string
	generation uint64
	newestTime int64 // created_at of the newest post, for inserts
}

type pageKey struct{ page, perPage int }

// Open creates (or reuses) and fills the demo database. ctx cancels the fill.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Rows == 0 {
		o.Rows = DefaultRows
	}
	if o.Users == 0 {
		o.Users = DefaultUsers
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Rows < 0 || o.Users < 1 {
		return nil, fmt.Errorf("demo database: rows must be ≥ 0 and users ≥ 1 (got %d and %d)", o.Rows, o.Users)
	}
	if o.Rows > 50_000_000 {
		return nil, fmt.Errorf("demo database: %d rows is more than this demo is meant for (at most 50,000,000)", o.Rows)
	}
	d := &DB{opts: o, cursorAt: map[pageKey]string{}}
	if o.Path == "" {
		dir, err := os.MkdirTemp("", "tailgate-demo-*")
		if err != nil {
			return nil, fmt.Errorf("demo database: %w", err)
		}
		d.tempDir = dir
		d.path = filepath.Join(dir, "demo.db")
	} else {
		abs, err := filepath.Abs(o.Path)
		if err != nil {
			return nil, fmt.Errorf("demo database %s: %w", o.Path, err)
		}
		d.path = abs
	}
	if err := d.open(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// dsn builds a modernc.org/sqlite data source name. Every connection gets a
// busy timeout and memory-mapped reads, so that the cost the demo shows is
// the query plan's, not read(2) calls.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "mmap_size(1073741824)")
	q.Add("_pragma", "cache_size(-16000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (d *DB) open(ctx context.Context) error {
	start := time.Now()
	if d.tempDir == "" {
		if err := checkKeptFile(d.path); err != nil {
			return err
		}
	}
	w, err := sql.Open("sqlite", dsn(d.path, false))
	if err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	// One writer: SQLite serialises writes anyway, and one connection keeps
	// the fill's pragmas in force.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	d.writer = w

	reuse, err := d.canReuse(ctx)
	if err != nil {
		return err
	}
	if reuse {
		d.fill = FillStats{Reused: true, Posts: d.opts.Rows, Users: d.opts.Users, Total: time.Since(start)}
	} else {
		if err := d.build(ctx, start); err != nil {
			return err
		}
	}
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("demo database %s: WAL mode: %w", d.path, err)
	}
	if _, err := w.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	if err := w.QueryRowContext(ctx, "SELECT coalesce(max(created_at), 0) FROM posts").Scan(&d.newestTime); err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}

	r, err := sql.Open("sqlite", dsn(d.path, true))
	if err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	// Reads are CPU-bound. A few connections per core let a cheap page-1
	// query run while deep OFFSET scans hold other connections, instead of
	// queueing behind them (which would blur the picture the demo draws).
	n := 4 * runtime.GOMAXPROCS(0)
	if n < 8 {
		n = 8
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	d.reader = r
	return d.prepare(ctx)
}

// checkKeptFile refuses to touch an existing file that is not a demo
// database, so that a mistyped --db never destroys someone's data.
func checkKeptFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo database %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("demo database %s: is a directory", path)
	}
	if fi.Size() == 0 {
		return nil
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return fmt.Errorf("demo database %s: %w", path, err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tailgate_demo_meta'").Scan(&n)
	if err != nil || n == 0 {
		return fmt.Errorf("demo database %s: the file exists and is not a tailgate demo database; choose another --db path", path)
	}
	return nil
}

// canReuse reports whether the file already holds exactly the data asked for.
func (d *DB) canReuse(ctx context.Context) (bool, error) {
	var n int
	err := d.writer.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tailgate_demo_meta'").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("demo database %s: %w", d.path, err)
	}
	if n == 0 {
		return false, nil
	}
	want := map[string]string{
		"schema": strconv.Itoa(schemaVersion),
		"rows":   strconv.Itoa(d.opts.Rows),
		"users":  strconv.Itoa(d.opts.Users),
		"seed":   strconv.FormatUint(d.opts.Seed, 10),
	}
	rows, err := d.writer.QueryContext(ctx, "SELECT key, value FROM tailgate_demo_meta")
	if err != nil {
		return false, fmt.Errorf("demo database %s: %w", d.path, err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return false, fmt.Errorf("demo database %s: %w", d.path, err)
		}
		got[k] = v
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("demo database %s: %w", d.path, err)
	}
	for k, v := range want {
		if got[k] != v {
			return false, nil
		}
	}
	return got["complete"] == "1", nil
}

func (d *DB) prepare(ctx context.Context) error {
	const cols = "id, user_id, title, body, published, created_at"
	stmts := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&d.stmtOffset, "SELECT " + cols + " FROM posts ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"},
		{&d.stmtFirst, "SELECT " + cols + " FROM posts ORDER BY created_at DESC, id DESC LIMIT ?"},
		// The range on created_at uses the index; the OR only filters the
		// few rows that share the cursor's created_at.
		{&d.stmtAfter, "SELECT " + cols + " FROM posts WHERE created_at <= ?1 AND (created_at < ?1 OR id < ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"},
		{&d.stmtAt, "SELECT created_at, id FROM posts ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?"},
		{&d.stmtFeedPosts, feedPostsSQL},
		{&d.stmtFeedAuthor, feedAuthorSQL},
		{&d.stmtFeedJoin, feedJoinSQL},
	}
	for _, s := range stmts {
		st, err := d.reader.PrepareContext(ctx, s.query)
		if err != nil {
			return fmt.Errorf("demo database %s: prepare: %w", d.path, err)
		}
		*s.dst = st
		d.stmts = append(d.stmts, st)
	}
	return nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Stats describes the fill.
func (d *DB) Stats() FillStats { return d.fill }

// Close closes the pools and removes a temporary database.
func (d *DB) Close() error {
	var errs []error
	for _, st := range d.stmts {
		errs = append(errs, st.Close())
	}
	if d.reader != nil {
		errs = append(errs, d.reader.Close())
	}
	if d.writer != nil {
		errs = append(errs, d.writer.Close())
	}
	if d.tempDir != "" {
		errs = append(errs, os.RemoveAll(d.tempDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close demo database: %w", err)
	}
	return nil
}

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) (posts int64, err error) {
	if err := d.reader.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM posts").Scan(&posts); err != nil {
		return 0, fmt.Errorf("demo database: %w", err)
	}
	return posts, nil
}

// InsertPosts adds n posts newer than every existing one (as a live blog
// would while a reader pages through it) and returns their ids. Inserts
// invalidate the cursor-at cache.
func (d *DB) InsertPosts(ctx context.Context, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	tx, err := d.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("insert posts: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	d.mu.Lock()
	created := d.newestTime + 1
	d.mu.Unlock()
	g := newGenerator(d.opts.Seed^uint64(created), d.opts.Users)
	ids := make([]int64, 0, n)
	for i := range n {
		p := g.post(created + int64(i/2)) // pairs share a timestamp, like the fill
		res, err := tx.ExecContext(ctx, "INSERT INTO posts (user_id, title, body, published, created_at) VALUES (?, ?, ?, ?, ?)",
			p.userID, p.title, p.body, p.published, p.createdAt)
		if err != nil {
			return nil, fmt.Errorf("insert posts: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("insert posts: %w", err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("insert posts: %w", err)
	}
	d.mu.Lock()
	d.newestTime = created + int64((n-1)/2)
	d.generation++
	clear(d.cursorAt)
	d.mu.Unlock()
	return ids, nil
}
