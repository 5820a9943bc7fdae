package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// baseTime is the created_at of the oldest post (2020-09-13T12:26:40Z).
const baseTime = 1_600_000_000

// insertBatch is the number of rows per multi-row INSERT: one prepared
// statement binding insertBatch×5 parameters amortises the per-statement cost
// of the driver, which dominates single-row inserts.
const insertBatch = 200

// progressEvery is how many rows pass between progress callbacks.
const progressEvery = 10_000

const schema = `
CREATE TABLE tailgate_demo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE posts (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	title      TEXT NOT NULL,
	body       TEXT NOT NULL,
	published  INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);`

// indexes are built after the rows are in: one sort is much cheaper than
// keeping the B-trees ordered through every insert.
const indexes = `
CREATE INDEX posts_created_at_id ON posts (created_at DESC, id DESC);
CREATE INDEX posts_user_id ON posts (user_id);`

// build (re)creates the schema and fills it in one transaction.
func (d *DB) build(ctx context.Context, start time.Time) error {
	o := d.opts
	conn, err := d.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	defer conn.Close()
	// The fill needs no durability: a crash leaves the meta row "complete"
	// unset and the next run rebuilds.
	for _, p := range []string{"PRAGMA journal_mode=MEMORY", "PRAGMA synchronous=OFF"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("demo database %s: %s: %w", d.path, p, err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, t := range []string{"tailgate_demo_meta", "posts", "users"} {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return fmt.Errorf("demo database %s: %w", d.path, err)
		}
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("demo database %s: schema: %w", d.path, err)
	}
	report := func(phase string, done, total int) {
		if o.Progress != nil {
			o.Progress(Progress{Phase: phase, Done: done, Total: total, Elapsed: time.Since(start)})
		}
	}
	insertStart := time.Now()
	g := newGenerator(o.Seed, o.Users)
	userRow := func(i int, args []any) []any {
		id := i + 1
		return append(args, id, "user"+strconv.Itoa(id), "user"+strconv.Itoa(id)+"@example.com", int64(baseTime-86400*30+id))
	}
	if err := insertRows(ctx, tx, "users", []string{"id", "name", "email", "created_at"}, o.Users, userRow, report); err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	created := int64(baseTime)
	postRow := func(_ int, args []any) []any {
		// About a third of the posts share their created_at with the previous
		// one, so a cursor on created_at alone would skip or repeat rows:
		// the id is the tie-breaker.
		if g.r.IntN(3) != 0 {
			created += 1 + g.r.Int64N(90)
		}
		p := g.post(created)
		return append(args, p.userID, p.title, p.body, p.published, p.createdAt)
	}
	if err := insertRows(ctx, tx, "posts", []string{"user_id", "title", "body", "published", "created_at"}, o.Rows, postRow, report); err != nil {
		return fmt.Errorf("demo database %s: %w", d.path, err)
	}
	insertTime := time.Since(insertStart)

	report("indexes", 0, 1)
	indexStart := time.Now()
	if _, err := tx.ExecContext(ctx, indexes); err != nil {
		return fmt.Errorf("demo database %s: indexes: %w", d.path, err)
	}
	// ANALYZE gives the planner real statistics, so it never prefers a full
	// scan and sort over the index.
	if _, err := tx.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("demo database %s: analyze: %w", d.path, err)
	}
	indexTime := time.Since(indexStart)
	report("indexes", 1, 1)

	meta := map[string]string{
		"schema":   strconv.Itoa(schemaVersion),
		"rows":     strconv.Itoa(o.Rows),
		"users":    strconv.Itoa(o.Users),
		"seed":     strconv.FormatUint(o.Seed, 10),
		"complete": "1",
	}
	for k, v := range meta {
		if _, err := tx.ExecContext(ctx, "INSERT INTO tailgate_demo_meta (key, value) VALUES (?, ?)", k, v); err != nil {
			return fmt.Errorf("demo database %s: %w", d.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo database %s: commit: %w", d.path, err)
	}
	d.fill = FillStats{Posts: o.Rows, Users: o.Users, Insert: insertTime, Index: indexTime, Total: time.Since(start)}
	return nil
}

// insertRows inserts n rows made by row with a prepared multi-row INSERT.
func insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, n int,
	row func(i int, args []any) []any, report func(phase string, done, total int)) error {
	report(table, 0, n)
	full, err := tx.PrepareContext(ctx, insertSQL(table, cols, insertBatch))
	if err != nil {
		return fmt.Errorf("prepare %s insert: %w", table, err)
	}
	defer full.Close()
	args := make([]any, 0, insertBatch*len(cols))
	nextReport := progressEvery
	for i := 0; i < n; {
		batch := min(insertBatch, n-i)
		args = args[:0]
		for j := range batch {
			args = row(i+j, args)
		}
		if batch == insertBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			// The last, shorter batch: one statement of its own size.
			_, err = tx.ExecContext(ctx, insertSQL(table, cols, batch), args...)
		}
		if err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
		i += batch
		if i >= nextReport || i == n {
			report(table, i, n)
			nextReport = i + progressEvery
		}
	}
	return nil
}

func insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(") VALUES ")
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// generator makes deterministic posts from a seeded PRNG.
type generator struct {
	r     *rand.Rand
	users int
	b     strings.Builder
}

func newGenerator(seed uint64, users int) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, 0x7a11_6a7e)), users: users}
}

type genPost struct {
	userID    int
	title     string
	body      string
	published int
	createdAt int64
}

func (g *generator) post(created int64) genPost {
	published := 1
	if g.r.IntN(10) == 0 {
		published = 0
	}
	return genPost{
		userID:    1 + g.r.IntN(g.users),
		title:     g.words(4+g.r.IntN(5), true),
		body:      g.words(20+g.r.IntN(20), false),
		published: published,
		createdAt: created,
	}
}

// words returns n words from the vocabulary, as a title or a sentence.
func (g *generator) words(n int, title bool) string {
	g.b.Reset()
	for i := range n {
		w := vocabulary[g.r.IntN(len(vocabulary))]
		if i > 0 {
			g.b.WriteByte(' ')
		}
		if title || i == 0 {
			g.b.WriteString(strings.ToUpper(w[:1]))
			g.b.WriteString(w[1:])
		} else {
			g.b.WriteString(w)
		}
	}
	if !title {
		g.b.WriteByte('.')
	}
	return g.b.String()
}

var vocabulary = strings.Fields(`
latency tail percentile cursor offset page index query database request
response server client queue throughput benchmark histogram budget regression
deploy rollback cache miss hit shard replica leader follower timeout retry
backoff window bucket sample stream batch commit transaction lock row column
table scan seek sort merge join plan cost estimate metric alert dashboard
incident postmortem capacity headroom saturation spike ramp steady warm cold
`)
