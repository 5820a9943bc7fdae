package kubernetes_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/tailgate-dev/tailgate/results"
)

// The simulated run: small enough for CI, uneven across 4 shards (150/s
// each) and long enough for a shard to be killed after its first
// checkpoint.
const (
	simRate     = 600
	simDuration = 3 * time.Second
	simPlanned  = simRate * 3
	// simLead is how far ahead the start instant is: the time every
	// process has to start, load the plan and get ready.
	simLead = 2500 * time.Millisecond
)

const simScenario = `name: simulation
target: http://127.0.0.1:8080
requests:
  item:
    path: /item
    query:
      seq: "{{ seq }}"
load:
  rate: 600/s
  duration: 3s
thresholds:
  - error_rate < 1%
  - rate >= 95%
`

// simTarget counts requests per second of the run, as the target of a load
// test sees them, and answers after 2·((seq mod 9)+1) ms: a service time that
// depends on the arrival only, so that one process and four shards must
// measure the same latency distribution.
type simTarget struct {
	srv     *httptest.Server
	start   time.Time
	total   atomic.Int64
	seconds [4]atomic.Int64
	// reached is closed when the target has seen at least `at` requests.
	at      int64
	reached chan struct{}
	once    sync.Once
}

func newSimTarget(t *testing.T, start time.Time, at int64) *simTarget {
	st := &simTarget{start: start, at: at, reached: make(chan struct{})}
	st.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec := int(time.Since(st.start) / time.Second)
		if sec >= 0 && sec < len(st.seconds) {
			st.seconds[sec].Add(1)
		}
		if n := st.total.Add(1); st.at > 0 && n >= st.at {
			st.once.Do(func() { close(st.reached) })
		}
		seq, _ := strconv.Atoi(r.URL.Query().Get("seq"))
		time.Sleep(time.Duration(seq%9+1) * 2 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(st.srv.Close)
	return st
}

// pod is one simulated container: the command line and environment
// Kubernetes would give it, with the volumes as directories.
type pod struct {
	name  string
	cmd   *exec.Cmd
	out   bytes.Buffer
	done  chan struct{}
	err   error
	state *os.ProcessState
}

// podCommand builds the process Kubernetes would run for a Job's pod of
// the given completion index: env resolved in order (values, $(VAR)
// references to earlier variables, the completion-index annotation), then
// $(VAR) expanded in command and args, the image's tailgate replaced by
// the binary built from this repository and every mount path by the
// directory that stands for its volume.
func podCommand(t *testing.T, j *batchv1.Job, index int, bin string, volumes map[string]string) *exec.Cmd {
	t.Helper()
	c := container(t, j)
	vars := map[string]string{}
	var env []string
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = expandK8s(e.Value, vars)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
			v = strconv.Itoa(index)
		default:
			t.Fatalf("Job %s: env %s comes from %+v, which the simulation cannot resolve", j.Name, e.Name, e.ValueFrom)
		}
		vars[e.Name] = v
		env = append(env, e.Name+"="+v)
	}
	var argv []string
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		a = expandK8s(a, vars)
		for _, m := range c.VolumeMounts {
			dir, ok := volumes[m.Name]
			if !ok {
				t.Fatalf("Job %s mounts volume %q, which the simulation does not have", j.Name, m.Name)
			}
			a = strings.ReplaceAll(a, m.MountPath+"/", dir+"/")
		}
		argv = append(argv, a)
	}
	if len(argv) == 0 || argv[0] != "tailgate" {
		t.Fatalf("Job %s runs %q, not tailgate", j.Name, argv)
	}
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Env = env
	return cmd
}

// expandK8s expands $(VAR) as Kubernetes does in env values, command and
// args: a defined variable is replaced, an undefined reference is kept as
// written, and $$ is a literal $.
func expandK8s(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				if v, ok := vars[s[i+2:i+end]]; ok {
					b.WriteString(v)
					i += end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestExpandK8s(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"x-$(A).json":   "x-1.json",
		"$(A)$(B)":      "1two",
		"$(C)":          "$(C)",
		"$$(A)":         "$(A)",
		"cost $":        "cost $",
		"$(A":           "$(A",
		"--s=$(B)/$(A)": "--s=two/1",
	} {
		if got := expandK8s(in, vars); got != want {
			t.Errorf("expandK8s(%q) = %q, want %q", in, got, want)
		}
	}
}

func startPod(t *testing.T, name string, cmd *exec.Cmd) *pod {
	t.Helper()
	p := &pod{name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait returns the pod's exit status (-1 when killed by a signal).
func (p *pod) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("%s still running after a minute:\n%s", p.name, p.out.String())
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return p.state.ExitCode()
}

// cluster is one rendered kustomization with its volumes.
type cluster struct {
	r       *rendered
	volumes map[string]string
	target  *simTarget
}

// newCluster renders the manifests with the knobs for one simulated run
// and lays out its volumes: the ConfigMap's files and an empty results
// directory that every pod shares.
func newCluster(t *testing.T, shards int, startAt time.Time, killAt int64) *cluster {
	t.Helper()
	target := newSimTarget(t, startAt, killAt)
	dir := withKnobs(t, knobs{
		shards:  strconv.Itoa(shards),
		startAt: startAt.UTC().Format(time.RFC3339Nano),
		target:  target.srv.URL,
	})
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(simScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	r := render(t, dir)
	vols := map[string]string{"scenario": filepath.Join(dir, "vol-scenario"), "results": filepath.Join(dir, "vol-results")}
	for _, d := range vols {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range r.scenario.Data {
		if err := os.WriteFile(filepath.Join(vols["scenario"], name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &cluster{r: r, volumes: vols, target: target}
}

// startShards starts one pod per completion index of the shards' Job.
func (c *cluster) startShards(t *testing.T, bin string) []*pod {
	t.Helper()
	n := int(*c.r.shards.Spec.Completions)
	pods := make([]*pod, n)
	for i := range pods {
		pods[i] = startPod(t, fmt.Sprintf("%s shard %d/%d", c.target.srv.URL, i, n), podCommand(t, c.r.shards, i, bin, c.volumes))
	}
	return pods
}

// merge runs the merge Job's pod and returns its exit status and output.
func (c *cluster) merge(t *testing.T, bin string) (int, string) {
	t.Helper()
	p := startPod(t, "merge", podCommand(t, c.r.merge, 0, bin, c.volumes))
	return p.wait(t), p.out.String()
}

func (c *cluster) result(t *testing.T, name string) *results.Result {
	t.Helper()
	r, err := results.ReadResultFile(filepath.Join(c.volumes["results"], name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// buildTailgate builds the binary the image would contain.
func buildTailgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tailgate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tailgate-dev/tailgate/cmd/tailgate").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSimulatedClusterRun runs the Job's pods as Kubernetes would, as real
// processes against local targets, all waiting for one start instant: one
// process of the plan (shards=1), four shards, and four shards of which
// one is killed mid-run. Then it runs the merge Job's command line.
func TestSimulatedClusterRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes for several seconds")
	}
	bin := buildTailgate(t)
	startAt := time.Now().Add(simLead).Round(time.Millisecond)
	single := newCluster(t, 1, startAt, 0)
	sharded := newCluster(t, 4, startAt, 0)
	// Kill a shard once the target has seen 2.3 of the 3 seconds, after
	// the shards' first checkpoint (every 2s).
	killed := newCluster(t, 4, startAt, simRate*23/10)

	singlePods := single.startShards(t, bin)
	shardPods := sharded.startShards(t, bin)
	killedPods := killed.startShards(t, bin)

	select {
	case <-killed.target.reached:
	case <-time.After(simLead + simDuration + 30*time.Second):
		t.Fatalf("the target of the killed run saw only %d requests", killed.target.total.Load())
	}
	victim := killedPods[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, group := range [][]*pod{singlePods, shardPods, killedPods} {
		for _, p := range group {
			code := p.wait(t)
			if p == victim {
				continue
			}
			if code != 0 {
				t.Fatalf("%s: exit %d\n%s", p.name, code, p.out.String())
			}
		}
	}

	// The target saw the same load from one process and from four shards,
	// second by second from the first. The per-second counts are a timing
	// check: beside other test binaries, or under the race detector, one
	// stall of the machine moves requests from one second into the next
	// (CI saw 578 and 570 of 600 in one second, for the single run and the
	// shards alike). .ci/run checks them with this test run alone, without
	// -race, with TAILGATE_TIMING_TESTS=1.
	timingChecks := !raceEnabled && os.Getenv("TAILGATE_TIMING_TESTS") != ""
	for _, c := range []*cluster{single, sharded} {
		if got := c.target.total.Load(); got != simPlanned {
			t.Errorf("%d shard(s): the target counted %d requests, want %d", *c.r.shards.Spec.Completions, got, simPlanned)
		}
		if !timingChecks {
			continue
		}
		for s := 0; s < int(simDuration/time.Second); s++ {
			got := c.target.seconds[s].Load()
			if math.Abs(float64(got-simRate)) > 0.02*simRate {
				t.Errorf("%d shard(s): second %d had %d requests, want %d ± 2%%", *c.r.shards.Spec.Completions, s, got, simRate)
			}
		}
	}

	code, out := sharded.merge(t, bin)
	if code != 0 {
		t.Fatalf("merge of four shards: exit %d\n%s", code, out)
	}
	merged := sharded.result(t, "merged.json")
	whole := single.result(t, "shard-0.json")
	if merged.Meta.Partial || merged.Total.Requests != simPlanned || whole.Total.Requests != simPlanned {
		t.Fatalf("merged %d requests (partial %v), single run %d; want %d", merged.Total.Requests, merged.Meta.Partial, whole.Total.Requests, simPlanned)
	}
	if !merged.Meta.PlannedStart.Equal(startAt) || merged.Meta.StartSpread.D() > time.Second {
		t.Errorf("merged planned start %v (want %v), start spread %s", merged.Meta.PlannedStart, startAt, merged.Meta.StartSpread.D())
	}
	if !strings.Contains(out, "start spread across 4 shards") {
		t.Errorf("merge does not report the start spread:\n%s", out)
	}
	// The merge is lossless: its histogram is exactly the sum of the four
	// shards' files, whatever the machine's load did to the latencies.
	var shards []*results.Result
	for i := range 4 {
		shards = append(shards, sharded.result(t, fmt.Sprintf("shard-%d.json", i)))
	}
	summed, err := results.Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if !merged.Total.Latency.Equal(summed.Total.Latency) || !merged.Total.Service.Equal(summed.Total.Service) {
		t.Errorf("the merge Job's latency histograms differ from the sum of the shards' files")
	}
	// The same arrivals got the same service times, so the percentiles of
	// the two runs agree within HDR precision (3 significant digits) plus
	// the noise of the machine: 1ms, and the larger send-lag p99 of the
	// two runs, since how late a client process got to send is part of
	// latency. Two runs' p99 is a timing figure: under -race beside other
	// test binaries CI saw them 4.2 ms apart against a 3.9 ms tolerance, so
	// it is checked with the per-second counts.
	if timingChecks {
		noise := max(merged.Total.SendLag.Percentile(99), whole.Total.SendLag.Percentile(99)) + time.Millisecond
		for _, q := range []float64{50, 99} {
			a, b := merged.Total.Latency.Percentile(q), whole.Total.Latency.Percentile(q)
			if tol := 0.001*math.Max(float64(a), float64(b)) + float64(noise); math.Abs(float64(a-b)) > tol {
				t.Errorf("p%g: merged %s, single run %s (tolerance %s)", q, a, b, time.Duration(tol))
			}
		}
	}
	for _, name := range []string{"report.md", "charts"} {
		if _, err := os.Stat(filepath.Join(sharded.volumes["results"], name)); err != nil {
			t.Errorf("the merge step wrote no %s: %v", name, err)
		}
	}

	// A lost shard: the merge is partial and fails the rate threshold.
	code, out = killed.merge(t, bin)
	if code != 1 {
		t.Fatalf("merge with a killed shard: exit %d, want 1 (rate threshold)\n%s", code, out)
	}
	partial := killed.result(t, "merged.json")
	if !partial.Meta.Partial || !strings.Contains(out, "rate >= 95%") {
		t.Errorf("merge with a killed shard: partial %v\n%s", partial.Meta.Partial, out)
	}
}
