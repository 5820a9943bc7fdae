package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// manifestFiles are the files of this directory that kustomize reads.
var manifestFiles = []string{"kustomization.yaml", "results-pvc.yaml", "shards-job.yaml", "merge-job.yaml", "scenario.yaml"}

// knobs are the values a user sets in kustomization.yaml; empty ones keep
// what the file says.
type knobs struct {
	shards  string
	startAt string
	target  string
	image   string // name:tag
}

// rendered is what `kubectl apply -k` would create, decoded strictly.
type rendered struct {
	shards, merge *batchv1.Job
	scenario      *corev1.ConfigMap
	results       *corev1.PersistentVolumeClaim
	count         int // objects in the output
}

// decodeStrict decodes one YAML document into v, refusing unknown and
// duplicate fields as the API server's strict field validation does.
func decodeStrict(doc []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

// readKustomization decodes dir's kustomization.yaml strictly.
func readKustomization(t *testing.T, dir string) *types.Kustomization {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k types.Kustomization
	if err := decodeStrict(raw, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	return &k
}

// withKnobs copies the manifests into a temporary directory and sets the
// knobs there the way a user edits kustomization.yaml.
func withKnobs(t *testing.T, k knobs) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range manifestFiles {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kust := readKustomization(t, dir)
	set := map[string]string{"shards": k.shards, "start-at": k.startAt, "target": k.target}
	found := false
	for i := range kust.ConfigMapGenerator {
		g := &kust.ConfigMapGenerator[i]
		if g.Name != "tailgate-run" {
			continue
		}
		found = true
		for j, lit := range g.LiteralSources {
			key, _, _ := strings.Cut(lit, "=")
			if v := set[key]; v != "" {
				g.LiteralSources[j] = key + "=" + v
			}
		}
	}
	if !found {
		t.Fatal("kustomization.yaml has no tailgate-run ConfigMap with the knobs")
	}
	if k.image != "" {
		name, tag, _ := strings.Cut(k.image, ":")
		if len(kust.Images) != 1 || kust.Images[0].Name != "tailgate" {
			t.Fatalf("kustomization.yaml: want one image knob named tailgate, got %+v", kust.Images)
		}
		kust.Images[0].NewName, kust.Images[0].NewTag = name, tag
	}
	out, err := yaml.Marshal(kust)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// renderYAML runs kustomize on dir in-process, as `kubectl kustomize` does.
func renderYAML(t *testing.T, dir string) []byte {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeRendered splits kustomize output into documents and decodes each
// into its k8s.io/api type, strictly.
func decodeRendered(t *testing.T, out []byte) *rendered {
	t.Helper()
	var r rendered
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		r.count++
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("rendered object: %v", err)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		default:
			t.Fatalf("rendered an unexpected %s %s", head.APIVersion, head.Kind)
		}
		if err := decodeStrict(doc, obj); err != nil {
			t.Fatalf("rendered %s: %v\n%s", head.Kind, err, doc)
		}
		switch o := obj.(type) {
		case *batchv1.Job:
			switch o.Name {
			case "tailgate-shards":
				r.shards = o
			case "tailgate-merge":
				r.merge = o
			default:
				t.Fatalf("unexpected Job %q", o.Name)
			}
		case *corev1.ConfigMap:
			r.scenario = o
		case *corev1.PersistentVolumeClaim:
			r.results = o
		}
	}
	if r.shards == nil || r.merge == nil || r.scenario == nil || r.results == nil {
		t.Fatalf("rendered output lacks an object: shards %v, merge %v, scenario %v, results %v",
			r.shards != nil, r.merge != nil, r.scenario != nil, r.results != nil)
	}
	return &r
}

// render renders dir and decodes the result.
func render(t *testing.T, dir string) *rendered {
	t.Helper()
	return decodeRendered(t, renderYAML(t, dir))
}

// container returns the one container of a Job's pods.
func container(t *testing.T, j *batchv1.Job) *corev1.Container {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("Job %s: want exactly one container, got %d", j.Name, len(cs))
	}
	return &cs[0]
}

// envValue returns the literal value of a container's variable.
func envValue(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}
