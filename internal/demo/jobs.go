package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The background-jobs lab: an export of one user's posts, a job that takes
// a while. Its database part is real (the user's posts, summed up); the
// rest of its duration stands for what such a job spends outside the
// database (rendering a file, uploading it, mailing a link), so it is a
// wait of the duration the client asks for. Served two ways:
//
//   - POST /api/exports/sync runs the job inside the request: the request
//     takes the job's duration;
//   - POST /api/exports queues it and answers 202 Accepted at once with a
//     Location to poll; GET /api/exports/{id} says queued, running or done
//     (with the result).

// Bounds of the jobs.
const (
	defaultJobDuration = time.Second
	minJobDuration     = 10 * time.Millisecond
	maxJobDuration     = 10 * time.Second
	// jobWorkers jobs run at once; the others wait, queued.
	jobWorkers = 64
	// maxJobs bounds the jobs kept, queued, running or finished; past it a
	// new job gets 503 until finished ones expire.
	maxJobs = 10_000
	// jobKeep is how long a finished job stays pollable.
	jobKeep = 10 * time.Minute
)

// Job states.
const (
	jobQueued  = "queued"
	jobRunning = "running"
	jobDone    = "done"
	jobFailed  = "failed"
)

// Export is the result of an export job.
type Export struct {
	UserID int64 `json:"user_id"`
	Posts  int64 `json:"posts"`
	Chars  int64 `json:"chars"`
	// DurationMS is how long the job took.
	DurationMS float64 `json:"duration_ms"`
}

// JobStatus is the body of the export endpoints.
type JobStatus struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	StatusURL string  `json:"status_url"`
	Result    *Export `json:"result,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type job struct {
	id       string
	userID   int64
	duration time.Duration
	status   string
	result   *Export
	err      string
	finished time.Time
}

// jobQueue runs export jobs in the background and keeps their state.
type jobQueue struct {
	run   func(ctx context.Context, userID int64, d time.Duration) (Export, error)
	slots chan struct{}
	ctx   context.Context // cancelled by close
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*job
}

func newJobQueue(run func(context.Context, int64, time.Duration) (Export, error)) *jobQueue {
	ctx, stop := context.WithCancel(context.Background())
	return &jobQueue{run: run, slots: make(chan struct{}, jobWorkers), ctx: ctx, stop: stop, jobs: map[string]*job{}}
}

var (
	errTooManyJobs = errors.New("too many export jobs kept")
	errJobsStopped = errors.New("the server is shutting down")
)

// submit queues a job and returns its id.
func (q *jobQueue) submit(userID int64, d time.Duration) (string, error) {
	id, err := newJobID()
	if err != nil {
		return "", err
	}
	q.mu.Lock()
	if len(q.jobs) >= maxJobs {
		now := time.Now()
		for k, j := range q.jobs {
			if !j.finished.IsZero() && now.Sub(j.finished) > jobKeep {
				delete(q.jobs, k)
			}
		}
	}
	if q.ctx.Err() != nil {
		q.mu.Unlock()
		return "", errJobsStopped
	}
	if len(q.jobs) >= maxJobs {
		q.mu.Unlock()
		return "", fmt.Errorf("%w (at most %d)", errTooManyJobs, maxJobs)
	}
	j := &job{id: id, userID: userID, duration: d, status: jobQueued}
	q.jobs[id] = j
	q.wg.Add(1)
	q.mu.Unlock()
	go q.work(j)
	return id, nil
}

// work runs one job once a slot is free.
func (q *jobQueue) work(j *job) {
	defer q.wg.Done()
	select {
	case q.slots <- struct{}{}:
	case <-q.ctx.Done():
		q.finish(j, nil, q.ctx.Err())
		return
	}
	defer func() { <-q.slots }()
	q.mu.Lock()
	j.status = jobRunning
	q.mu.Unlock()
	res, err := q.run(q.ctx, j.userID, j.duration)
	q.finish(j, &res, err)
}

func (q *jobQueue) finish(j *job, res *Export, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j.finished = time.Now()
	if err != nil {
		j.status, j.err = jobFailed, err.Error()
		return
	}
	j.status, j.result = jobDone, res
}

// status returns a job's state, false for an unknown id.
func (q *jobQueue) status(id string) (JobStatus, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return JobStatus{}, false
	}
	return JobStatus{ID: j.id, Status: j.status, StatusURL: jobURL(j.id), Result: j.result, Error: j.err}, true
}

// close cancels the jobs and waits for them to end.
func (q *jobQueue) close() {
	q.stop()
	q.wg.Wait()
}

func newJobID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("job id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func jobURL(id string) string { return "/api/exports/" + id }

// export is the job: the user's posts summed up by the database, then the
// rest of the duration spent as the job's slow outside work.
func (d *DB) export(ctx context.Context, userID int64, dur time.Duration) (Export, error) {
	start := time.Now()
	e := Export{UserID: userID}
	err := d.reader.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(body)), 0) FROM posts WHERE user_id = ?", userID).
		Scan(&e.Posts, &e.Chars)
	if err != nil {
		return Export{}, fmt.Errorf("export of user %d: %w", userID, err)
	}
	t := time.NewTimer(dur - time.Since(start))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return Export{}, fmt.Errorf("export of user %d: %w", userID, ctx.Err())
	}
	e.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return e, nil
}

func exportParams(q url.Values, users int) (userID int64, d time.Duration, err error) {
	u, err := intParam(q, "user", 1, users)
	if err != nil {
		return 0, 0, err
	}
	d = defaultJobDuration
	if vs, ok := q["duration"]; ok {
		v, perr := time.ParseDuration(vs[0])
		if len(vs) != 1 || perr != nil || v < minJobDuration || v > maxJobDuration {
			return 0, 0, fmt.Errorf("duration=%.20q: want one duration from %v to %v, such as 1s", vs[0], minJobDuration, maxJobDuration)
		}
		d = v
	}
	return int64(u), d, nil
}

func (h *Handler) exportSync(w http.ResponseWriter, r *http.Request, q url.Values) {
	uid, d, err := exportParams(q, h.db.opts.Users)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	e, err := h.jobs.run(r.Context(), uid, d)
	if err != nil {
		h.dbFail(w, r, err)
		return
	}
	h.reply(w, http.StatusOK, JobStatus{Status: jobDone, Result: &e})
}

func (h *Handler) exportAsync(w http.ResponseWriter, r *http.Request, q url.Values) {
	uid, d, err := exportParams(q, h.db.opts.Users)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	id, err := h.jobs.submit(uid, d)
	if errors.Is(err, errTooManyJobs) || errors.Is(err, errJobsStopped) {
		w.Header().Set("Retry-After", "10")
		h.fail(w, http.StatusServiceUnavailable, "%v; retry later", err)
		return
	}
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Location", jobURL(id))
	h.reply(w, http.StatusAccepted, JobStatus{ID: id, Status: jobQueued, StatusURL: jobURL(id)})
}

func (h *Handler) exportStatus(w http.ResponseWriter, r *http.Request, _ url.Values) {
	id := r.PathValue("id")
	st, ok := h.jobs.status(id)
	if !ok {
		h.fail(w, http.StatusNotFound, "no export job %.40q (jobs are kept %v after they finish)", id, jobKeep)
		return
	}
	if st.Status == jobQueued || st.Status == jobRunning {
		// A hint for pollers; a second is coarse for the lab's jobs, which
		// poll on their own schedule.
		w.Header().Set("Retry-After", "1")
	}
	h.reply(w, http.StatusOK, st)
}
