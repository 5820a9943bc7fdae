package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Plan is everything a run needs. Build it by hand, with the cmd flags, or
// with scenarios.Compile.
type Plan struct {
	// Name names the run (scenario name, or "hit").
	Name string
	// RunID names one run shared by its shards; empty derives it from the
	// plan hash and the start instant.
	RunID string
	// Target is the base URL shown in reports.
	Target string
	// Load is the load: which model, how much, for how long, with what
	// warmup and concurrency caps. Its fields are the plan's (plan.Pacer).
	Load
	// Flows are the units of work; each arrival (or VU iteration) runs one,
	// chosen by weight.
	Flows []Flow
	// Client configures the HTTP client.
	Client ClientOptions
	// Transport overrides the HTTP transport built from Client (tests, other
	// protocols). The run does not close a transport it did not create.
	Transport Transport
	// Shard selects the arrivals of one process of a distributed run.
	Shard results.Shard
	// Redact lists secret values replaced by "***" wherever the run's
	// metadata or errors would show them.
	Redact []string
	// Command is the command line recorded in the results metadata.
	Command []string
	// Tags are free-form labels copied into the results metadata.
	Tags map[string]string
}

// arrivalsDueBefore counts the pacer's arrivals due before d.
func arrivalsDueBefore(p Pacer, d time.Duration) uint64 {
	lo, hi := uint64(0), p.Count()
	for lo < hi {
		mid := lo + (hi-lo)/2
		if at, ok := p.Arrival(mid); ok && at < d {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Validate reports the first problem that would make the plan fail to run.
func (p *Plan) Validate() error {
	if len(p.Flows) == 0 {
		return errors.New("plan has no flows")
	}
	total := 0
	for _, f := range p.Flows {
		if len(f.Steps) == 0 {
			return fmt.Errorf("flow %q has no steps", f.Name)
		}
		if f.Weight < 0 {
			return fmt.Errorf("flow %q: negative weight %d", f.Name, f.Weight)
		}
		total += f.Weight
	}
	if total == 0 {
		return errors.New("every flow has weight 0")
	}
	if err := p.Load.Validate(); err != nil {
		return err
	}
	if p.Streams > 0 && !p.Client.HTTP2 && p.Transport == nil {
		return errors.New("streams: concurrent streams per connection need HTTP/2 (--http2, or http2: true in a scenario's defaults)")
	}
	if p.Shard.Count < 0 || (p.Shard.Count > 0 && (p.Shard.Index < 0 || p.Shard.Index >= p.Shard.Count)) {
		return fmt.Errorf("shard %d/%d: index must be in [0, count)", p.Shard.Index, p.Shard.Count)
	}
	return nil
}

// Flow is a named sequence of steps run in order per iteration.
type Flow struct {
	Name   string
	Weight int
	Steps  []Step
	// Timed makes the flow's iterations a series of their own in the
	// results (results.Result.Flows): latency from the arrival's intended
	// time to the end of its last step. A scenario's flows are timed; a
	// request that runs alone as a one-step flow is not, its request's
	// series already says everything.
	Timed bool
}

// Step is one request of a flow. Implementations must be safe for concurrent
// use by many workers: per-iteration state belongs in the Iteration.
type Step interface {
	// Prepare fills req for this iteration. The engine reuses req across
	// iterations of one worker, so Prepare may reuse its buffers.
	Prepare(it *Iteration, req *Request) error
	// Inspect checks the response, capturing values into it.Vars. An error
	// marks the iteration failed and skips its remaining steps; wrap it in a
	// *StepError to name its kind.
	Inspect(it *Iteration, res *Response) error
}

// Thinker is implemented by steps that pause after their response before the
// next step of the flow.
type Thinker interface {
	ThinkTime(it *Iteration) time.Duration
}

// Iteration is the state of one flow iteration, owned by one worker.
type Iteration struct {
	// Seq is the arrival index (open model) or the run-wide iteration count
	// (closed model).
	Seq uint64
	// Worker is the index of the worker or VU running the iteration.
	Worker int
	// Rand is the worker's random source; not safe to share.
	Rand *rand.Rand
	// Vars holds captured values; it is cleared before every iteration.
	Vars map[string]string
	// Intended is when the iteration was planned to start.
	Intended time.Time
}

// Header is one request header.
type Header struct {
	Name, Value string
}

// Request is one HTTP request. The engine reuses it per worker.
type Request struct {
	// Name is the request's series name in the results.
	Name string
	// Group is the tag group, e.g. "depth=100" ("" for none); results are
	// kept per Name and per Name+Group.
	Group  string
	Method string
	// URL is absolute: scheme, host, path and query.
	URL    string
	Header []Header
	Body   []byte
	// KeepBody is how many bytes of the response body to keep in
	// Response.Body for Inspect; the rest is read, counted and discarded.
	KeepBody int
	// KeepHeaders asks the client to fill Response.Header.
	KeepHeaders bool
	// GroupBy, when set, adds a part of the response to Group once the
	// response is in (respgroup.go); for a header, the client fills
	// Response.GroupValue.
	GroupBy *GroupBy
}

// Response is what a client saw of one request.
type Response struct {
	Status int
	// Header is filled only when the request asked for KeepHeaders.
	Header []Header
	// Body holds up to Request.KeepBody bytes of the body.
	Body []byte
	// BodySize counts the bytes of the body (after chunked decoding), all
	// of it, not only what Body keeps.
	BodySize int64
	// GroupValue is the first value of the header Request.GroupBy names
	// (empty when the response has none).
	GroupValue []byte
	// BytesIn counts every byte read (status line, headers, body).
	BytesIn int64
	// BytesOut counts every byte written.
	BytesOut int64
	// Quota is the rate-limit quota the response reported (see Quota),
	// read whether or not headers are kept.
	Quota Quota
	// quotaParts is what the headers said of the quota so far, by form.
	quotaParts quotaParts
}

// HeaderValue returns the first value of the named header, case-insensitively.
func (r *Response) HeaderValue(name string) (string, bool) {
	for _, h := range r.Header {
		if equalFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// Reset clears the response for reuse, keeping its buffers.
func (r *Response) Reset() {
	r.Status = 0
	r.Header = r.Header[:0]
	r.Body = r.Body[:0]
	r.GroupValue = r.GroupValue[:0]
	r.BodySize = 0
	r.BytesIn = 0
	r.BytesOut = 0
	r.resetQuota()
}

// StaticStep sends the same request every time; it is what `tailgate hit`
// runs. It allocates nothing per request.
type StaticStep struct {
	Request Request
}

// Prepare implements Step.
func (s *StaticStep) Prepare(_ *Iteration, req *Request) error {
	*req = s.Request
	return nil
}

// Inspect implements Step; a static step accepts every response.
func (s *StaticStep) Inspect(*Iteration, *Response) error { return nil }

// Client sends requests for one worker; it is used from one goroutine only.
type Client interface {
	// Do sends req and reads the whole response into res. The context
	// carries the request timeout. Errors are classified with Classify.
	Do(ctx context.Context, req *Request, res *Response) error
	// Close releases the client's connections.
	Close() error
}

// Transport makes clients. One transport serves a whole run.
type Transport interface {
	// NewClient returns a client for one worker.
	NewClient() (Client, error)
	// Close releases everything the transport holds.
	Close() error
}

// ClientOptions configures the HTTP client of a run.
type ClientOptions struct {
	// Timeout bounds each request, body included. Zero means 30s.
	Timeout time.Duration
	// HTTP2 uses HTTP/2 (h2c for http:// URLs).
	HTTP2 bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// FollowRedirects is how many redirects to follow (0: none).
	FollowRedirects int
	// AllowHosts are hosts besides the target's that requests and
	// redirects may reach; a redirect to any other host fails with kind
	// redirect (docs/security.md).
	AllowHosts []string
	// SecretHeaders are header names, besides IsSecretHeader's own list,
	// whose values are credentials: never sent across a redirect to
	// another host.
	SecretHeaders []string
	// CACert, Cert and Key are PEM file paths: a CA bundle to trust, and a
	// client certificate and key.
	CACert, Cert, Key string
	// Connections caps connections per target host; for HTTP/2 it is
	// how many connections to each origin are opened.
	Connections int
	// Streams caps concurrent streams per HTTP/2 connection; zero means 1.
	// A server's lower SETTINGS_MAX_CONCURRENT_STREAMS wins.
	Streams int
	// DisableKeepAlive opens a new connection per request.
	DisableKeepAlive bool
}

// DefaultTimeout is the request timeout when none is set.
const DefaultTimeout = 30 * time.Second

// TimeoutOrDefault returns the request timeout in force.
func (o ClientOptions) TimeoutOrDefault() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// Meta describes the run the plan asks for: everything of the results
// metadata that follows from the plan alone (the run adds its start, end,
// host and outcome). Secrets named in Redact are masked.
func (p *Plan) Meta() results.Meta {
	m := results.Meta{
		Tool: "tailgate", ToolVersion: Version,
		Command: redactAll(p.Command, p.Redact),
		Name:    p.Name, Target: Redact(p.Target, p.Redact), Model: p.Model(),
		VUs:         p.VUs,
		Connections: p.Connections, Streams: p.Client.Streams, MaxInFlight: p.MaxInFlight,
		HTTP2:           p.Client.HTTP2,
		Timeout:         results.Duration(p.Client.TimeoutOrDefault()),
		PlannedDuration: results.Duration(p.PlannedDuration()),
		Warmup:          results.Duration(p.Warmup),
		GoVersion:       goVersion(), OS: runtime.GOOS + "/" + runtime.GOARCH, NumCPU: runtime.NumCPU(),
		Shard: p.Shard, PlanHash: planHash(p),
		Tags: p.Tags,
	}
	if p.Pacer != nil {
		m.Profile = p.Pacer.String()
		m.PlannedRequests = p.Pacer.Count()
		// The planned rate is the measured part's: a slower warmup must
		// not pull it down (docs/metrics.md).
		measured := p.Pacer.Count() - arrivalsDueBefore(p.Pacer, p.Warmup)
		if d := (p.Pacer.Duration() - p.Warmup).Seconds(); d > 0 {
			m.PlannedRate = float64(measured) / d
		}
	} else {
		m.Profile = closedProfile(&p.Load)
		m.PlannedRequests = p.Iterations
	}
	return m
}

func redactAll(args, secrets []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a, secrets)
	}
	return out
}
