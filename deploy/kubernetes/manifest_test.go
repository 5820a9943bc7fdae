// Tests of the Kubernetes manifests: no cluster is needed. Every file
// decodes strictly into its k8s.io/api type, the rendered kustomization
// keeps the invariants a distributed run depends on, and the knobs reach
// every field they must.
package kubernetes_test

import (
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tailgate-dev/tailgate/scenarios"
)

func TestManifestFilesDecodeStrictly(t *testing.T) {
	for name, obj := range map[string]any{
		"shards-job.yaml":  &batchv1.Job{},
		"merge-job.yaml":   &batchv1.Job{},
		"results-pvc.yaml": &corev1.PersistentVolumeClaim{},
	} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeStrict(raw, obj); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	readKustomization(t, ".")
	if _, err := scenarios.Load("scenario.yaml"); err != nil {
		t.Errorf("scenario.yaml: %v", err)
	}
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	doc := []byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completionMode: Indexed\n  backofLimitPerIndex: 0\n")
	if err := decodeStrict(doc, &batchv1.Job{}); err == nil || !strings.Contains(err.Error(), "backofLimitPerIndex") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
	dup := []byte("apiVersion: batch/v1\nkind: Job\nkind: Job\n")
	if err := decodeStrict(dup, &batchv1.Job{}); err == nil {
		t.Fatal("a duplicate field decoded")
	}
}

func TestRenderedJobInvariants(t *testing.T) {
	r := render(t, ".")
	if r.count != 4 {
		t.Errorf("rendered %d objects, want 4 (the knobs' ConfigMap must stay local)", r.count)
	}
	checkShardsJob(t, r)
	checkMergeJob(t, r)
	if !slices.Contains(r.results.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("results volume: access modes %v; shards on different nodes write at once, want ReadWriteMany", r.results.Spec.AccessModes)
	}
	if _, ok := r.scenario.Data["scenario.yaml"]; !ok {
		t.Errorf("scenario ConfigMap has no scenario.yaml: keys %v", r.scenario.Data)
	}
}

func checkShardsJob(t *testing.T, r *rendered) {
	t.Helper()
	j := r.shards
	s := &j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 1 {
		t.Fatalf("completions %v, parallelism %v: want equal, every shard running at once", s.Completions, s.Parallelism)
	}
	// A retried shard would replay its load and double-count it.
	perIndex := s.BackoffLimitPerIndex != nil && *s.BackoffLimitPerIndex == 0 && s.MaxFailedIndexes != nil
	whole := s.BackoffLimit != nil && *s.BackoffLimit == 0
	if !perIndex && !whole {
		t.Errorf("backoffLimitPerIndex %v, maxFailedIndexes %v, backoffLimit %v: a failed shard may be retried",
			s.BackoffLimitPerIndex, s.MaxFailedIndexes, s.BackoffLimit)
	}
	if s.PodReplacementPolicy == nil || *s.PodReplacementPolicy != batchv1.Failed {
		t.Errorf("podReplacementPolicy %v, want Failed", s.PodReplacementPolicy)
	}
	pod := &s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: a restarted container replays its shard; want Never", pod.RestartPolicy)
	}
	if len(pod.InitContainers) != 0 {
		t.Errorf("init containers %d: a sidecar keeps a Job from completing", len(pod.InitContainers))
	}
	c := container(t, j)
	n, ok := envValue(c, "TAILGATE_SHARDS")
	if !ok || n != strconv.Itoa(int(*s.Completions)) {
		t.Errorf("TAILGATE_SHARDS %q, want the completion count %d", n, *s.Completions)
	}
	var index *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "JOB_COMPLETION_INDEX" {
			index = &c.Env[i]
		}
	}
	if index == nil || index.ValueFrom == nil || index.ValueFrom.FieldRef == nil ||
		index.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX is not the pod's completion index: %+v", index)
	}
	for _, want := range []string{"run", "--shard=auto", "--start-at=$(TAILGATE_START_AT)", "--target=$(TAILGATE_TARGET)"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("shard args %q lack %q", c.Args, want)
		}
	}
	out := argAfter(c.Args, "-o")
	if !strings.HasSuffix(out, "/shard-$(JOB_COMPLETION_INDEX).json") {
		t.Errorf("shard output %q: want one file per index", out)
	}
	if mountOf(t, j, out) != "results" {
		t.Errorf("shard output %q is not on the results volume", out)
	}
	if scen := c.Args[slices.Index(c.Args, "run")+1]; mountOf(t, j, scen) != "scenario" {
		t.Errorf("scenario %q is not on the scenario volume", scen)
	}
	checkVolumes(t, r, j)
}

func checkMergeJob(t *testing.T, r *rendered) {
	t.Helper()
	j := r.merge
	s := &j.Spec
	if s.Suspend == nil || !*s.Suspend {
		t.Error("merge Job is not suspended: it would merge before the shards ran")
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("merge backoffLimit %v, want 0", s.BackoffLimit)
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("merge restartPolicy %q, want Never", s.Template.Spec.RestartPolicy)
	}
	c := container(t, j)
	if len(c.Args) == 0 || c.Args[0] != "merge" {
		t.Fatalf("merge args %q do not run tailgate merge", c.Args)
	}
	shardOut := argAfter(container(t, r.shards).Args, "-o")
	pattern := c.Args[len(c.Args)-1]
	if want := strings.Replace(shardOut, "$(JOB_COMPLETION_INDEX)", "*", 1); pattern != want {
		t.Errorf("merge reads %q, want every shard's file %q", pattern, want)
	}
	if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--scenario=") }) {
		t.Errorf("merge args %q check no thresholds", c.Args)
	}
	for _, flag := range []string{"-o", "--md", "--png-dir"} {
		if p := argAfter(c.Args, flag); mountOf(t, j, p) != "results" {
			t.Errorf("merge %s %q is not on the results volume", flag, p)
		}
	}
	checkVolumes(t, r, j)
}

// checkVolumes checks that a Job's volumes are the rendered ConfigMap and
// the results claim, so shards and merge see the same files.
func checkVolumes(t *testing.T, r *rendered, j *batchv1.Job) {
	t.Helper()
	for _, v := range j.Spec.Template.Spec.Volumes {
		switch v.Name {
		case "scenario":
			if v.ConfigMap == nil || v.ConfigMap.Name != r.scenario.Name {
				t.Errorf("Job %s: scenario volume %+v is not the rendered ConfigMap %s", j.Name, v.VolumeSource, r.scenario.Name)
			}
		case "results":
			if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != r.results.Name {
				t.Errorf("Job %s: results volume %+v is not the claim %s", j.Name, v.VolumeSource, r.results.Name)
			}
		default:
			t.Errorf("Job %s: unexpected volume %q", j.Name, v.Name)
		}
	}
}

// mountOf returns the volume that holds path in a Job's container.
func mountOf(t *testing.T, j *batchv1.Job, path string) string {
	t.Helper()
	for _, m := range container(t, j).VolumeMounts {
		if strings.HasPrefix(path, m.MountPath+"/") {
			return m.Name
		}
	}
	return ""
}

// argAfter returns the argument following flag ("--flag=v" counts too).
func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

func TestKnobsReachEveryField(t *testing.T) {
	dir := withKnobs(t, knobs{shards: "7", startAt: "2027-03-04T05:06:07Z", target: "http://svc.example:8080", image: "registry.example/tools/tailgate:v9"})
	r := render(t, dir)
	s := &r.shards.Spec
	if *s.Completions != 7 || *s.Parallelism != 7 {
		t.Errorf("completions %d, parallelism %d, want 7", *s.Completions, *s.Parallelism)
	}
	c := container(t, r.shards)
	for name, want := range map[string]string{"TAILGATE_SHARDS": "7", "TAILGATE_START_AT": "2027-03-04T05:06:07Z", "TAILGATE_TARGET": "http://svc.example:8080"} {
		if got, _ := envValue(c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, j := range []*batchv1.Job{r.shards, r.merge} {
		if img := container(t, j).Image; img != "registry.example/tools/tailgate:v9" {
			t.Errorf("Job %s: image %q", j.Name, img)
		}
	}
	checkShardsJob(t, r)
}

// TestKubectlRendersTheSame renders with the kubectl on this machine, when
// there is one, and expects the objects the in-process kustomize gives.
func TestKubectlRendersTheSame(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl: the in-process kustomize renders the manifests in the other tests")
	}
	out, err := exec.Command(kubectl, "kustomize", ".").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	got, want := decodeRendered(t, out), render(t, ".")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kubectl kustomize renders other objects than the in-process kustomize")
	}
}
