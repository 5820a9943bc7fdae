package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The N+1 lab: a page of posts, each with its author. Loading the authors
// one query per post (what a lazy-loading ORM does when a template touches
// post.author) costs a round trip to the database per row; one JOIN gets
// the same page in one query.

// Author is the author of a post, as the feed endpoints embed it.
type Author struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// FeedPost is a post with its author: a feed lists titles and who wrote
// them.
type FeedPost struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Author Author `json:"author"`
}

// FeedPage is the body of GET /api/feed/n-plus-one and GET /api/feed/join.
type FeedPage struct {
	Posts   []FeedPost `json:"posts"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	// Queries is how many SQL statements the page took.
	Queries int `json:"queries"`
}

// maxFeedPage bounds the feed's page so that both variants stay cheap
// reads of the newest posts (the lab is about the queries per row, not
// about OFFSET depth).
const maxFeedPage = 100

const (
	feedPostsSQL  = "SELECT id, user_id, title FROM posts ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
	feedAuthorSQL = "SELECT id, name FROM users WHERE id = ?"
	feedJoinSQL   = "SELECT p.id, p.title, u.id, u.name FROM posts p JOIN users u ON u.id = p.user_id ORDER BY p.created_at DESC, p.id DESC LIMIT ? OFFSET ?"
)

func feedParams(q url.Values) (page, perPage int, err error) {
	if page, err = intParam(q, "page", 1, maxFeedPage); err != nil {
		return 0, 0, err
	}
	if perPage, err = intParam(q, "per_page", DefaultPerPage, MaxPerPage); err != nil {
		return 0, 0, err
	}
	return page, perPage, nil
}

// feedNPlusOne answers with one query for the page and then one query per
// post for its author, each on whatever pooled connection is free, as an
// ORM's lazy loading would.
func (h *Handler) feedNPlusOne(w http.ResponseWriter, r *http.Request, q url.Values) {
	page, perPage, err := feedParams(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	start := time.Now()
	posts, authorIDs, err := h.db.feedPosts(r.Context(), page, perPage)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	for i := range posts {
		a, err := h.db.author(r.Context(), authorIDs[i])
		if err != nil {
			h.dbFail(w, r, err)
			return
		}
		posts[i].Author = a
	}
	h.replyFeed(w, start, FeedPage{Posts: posts, Page: page, PerPage: perPage, Queries: 1 + len(posts)})
}

// feedJoin answers the same page with one JOIN.
func (h *Handler) feedJoin(w http.ResponseWriter, r *http.Request, q url.Values) {
	page, perPage, err := feedParams(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	start := time.Now()
	posts, err := h.db.feedJoined(r.Context(), page, perPage)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	h.replyFeed(w, start, FeedPage{Posts: posts, Page: page, PerPage: perPage, Queries: 1})
}

// replyFeed tells the client, besides the body, how many queries the page
// took and how long they took together.
func (h *Handler) replyFeed(w http.ResponseWriter, start time.Time, p FeedPage) {
	w.Header().Set("X-DB-Queries", strconv.Itoa(p.Queries))
	serverTiming(w, start)
	h.reply(w, http.StatusOK, p)
}

// feedPosts reads a page of posts and their authors' ids.
func (d *DB) feedPosts(ctx context.Context, page, perPage int) ([]FeedPost, []int64, error) {
	rows, err := d.stmtFeedPosts.QueryContext(ctx, perPage, (page-1)*perPage)
	if err != nil {
		return nil, nil, fmt.Errorf("feed posts: %w", err)
	}
	defer rows.Close()
	posts := make([]FeedPost, 0, perPage)
	ids := make([]int64, 0, perPage)
	for rows.Next() {
		var p FeedPost
		var uid int64
		if err := rows.Scan(&p.ID, &uid, &p.Title); err != nil {
			return nil, nil, fmt.Errorf("feed posts: %w", err)
		}
		posts = append(posts, p)
		ids = append(ids, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("feed posts: %w", err)
	}
	return posts, ids, nil
}

// author reads one user.
func (d *DB) author(ctx context.Context, id int64) (Author, error) {
	var a Author
	err := d.reader.QueryRowContext(ctx, feedAuthorSQL, id).Scan(&a.ID, &a.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("author %d: no such user", id)
	}
	if err != nil {
		return a, fmt.Errorf("author %d: %w", id, err)
	}
	return a, nil
}

// feedJoined reads a page of posts with their authors in one statement.
func (d *DB) feedJoined(ctx context.Context, page, perPage int) ([]FeedPost, error) {
	rows, err := d.stmtFeedJoin.QueryContext(ctx, perPage, (page-1)*perPage)
	if err != nil {
		return nil, fmt.Errorf("feed join: %w", err)
	}
	defer rows.Close()
	posts := make([]FeedPost, 0, perPage)
	for rows.Next() {
		var p FeedPost
		if err := rows.Scan(&p.ID, &p.Title, &p.Author.ID, &p.Author.Name); err != nil {
			return nil, fmt.Errorf("feed join: %w", err)
		}
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feed join: %w", err)
	}
	return posts, nil
}
