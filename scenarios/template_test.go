package scenarios

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tailgate-dev/tailgate/loadgen"
)

// renderOne compiles src with every variable bound to a capture and renders
// it with vars as the captured values.
func renderOne(t testing.TB, src string, vars map[string]string, seq uint64) (string, error) {
	t.Helper()
	p := &problems{file: "t"}
	tm := compileTemplate(src, Pos{File: "t", Line: 1, Col: 1}, 'p', testLookupEnv, p)
	if tm == nil {
		return "", p.err()
	}
	for _, e := range tm.vars {
		e.ref = refCapture
	}
	c := &compiled{}
	st := c.state(0)
	it := &loadgen.Iteration{Seq: seq, Rand: rand.New(rand.NewPCG(1, 2)), Vars: vars}
	st.r.it = it
	b, err := tm.render(nil, &st.r)
	return string(b), err
}

func TestRender(t *testing.T) {
	vars := map[string]string{"page": "100", "q": "a b&c", "lo": "5", "hi": "5"}
	tests := []struct {
		src, want string
	}{
		{"plain text", "plain text"},
		{"/posts?page={{ .page }}", "/posts?page=100"},
		{"{{ .q | urlquery }}", "a+b%26c"},
		{"{{ urlquery .q }}", "a+b%26c"},
		{"{{ seq }}", "42"},
		{"{{ randInt 7 7 }}", "7"},
		{"{{ randInt .lo .hi }}", "5"},
		{"{{ pick \"x\" }}", "x"},
		{"{{ pick 3 }}-{{ pick (urlquery .q) }}", "3-a+b%26c"},
		{`{{ env "TG_TEST_TOKEN" }}`, "s3cr3t-t0ken"},
		{"{{/* comment */}}a", "a"},
		{"{{ \"lit\" }}", "lit"},
	}
	for _, tt := range tests {
		got, err := renderOne(t, tt.src, vars, 42)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%q = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestRenderShapes(t *testing.T) {
	got, err := renderOne(t, "{{ uuid }}", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 36 || got[14] != '4' || strings.Count(got, "-") != 4 || !strings.ContainsRune("89ab", rune(got[19])) {
		t.Errorf("uuid %q is not a version 4 UUID", got)
	}
	for i := range 200 {
		got, err := renderOne(t, "{{ randInt 1 3 }}", nil, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if got != "1" && got != "2" && got != "3" {
			t.Fatalf("randInt 1 3 = %q", got)
		}
	}
	got, err = renderOne(t, `{{ now "unix" }}`, nil, 0)
	if err != nil || len(got) < 10 {
		t.Errorf("now unix = %q, %v", got, err)
	}
	if _, err := renderOne(t, "{{ randInt .q 5 }}", map[string]string{"q": "x"}, 0); err == nil {
		t.Error("randInt of a non-number rendered without error")
	}
	if _, err := renderOne(t, "{{ .absent }}", map[string]string{}, 0); err == nil {
		t.Error("a missing capture rendered without error")
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{{ .a.b }}", "use a plain variable"},
		{"{{ . }}", "not supported"},
		{"{{ $x := 1 }}", "not supported"},
		{"{{ range .a }}{{ end }}", "not supported"},
		{"{{ nope }}", `unknown template function "nope"`},
		{"{{ randInt 1 }}", "takes 2 arguments"},
		{"{{ randInt 1.5 2 }}", "whole numbers"},
		{"{{ pick }}", "at least one"},
		{`{{ env "TG_NOT_SET" }}`, "not set"},
		{"{{ env .x }}", "in quotes"},
		{"{{ 1 | 2 }}", "pipeline"},
		{"{{ 1 | .a }}", "only a function"},
		{"{{ .a 1 }}", "takes no arguments"},
		{"{{", "template:"},
		{"{{ " + strings.Repeat("urlquery (", 12) + "1" + strings.Repeat(")", 12) + " }}", "nested too deeply"},
		{"{{ 1 " + strings.Repeat("| urlquery ", 12) + "}}", "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := renderOne(t, tt.src, nil, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.src, err, tt.want)
		}
	}
}

// FuzzTemplate compiles and renders arbitrary templates: no panics, and a
// template without actions renders to itself.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"/posts?page={{ .page }}", "{{ randInt 1 10 }}", "{{ pick 1 10 100 }}", "{{ .q | urlquery }}",
		"{{ uuid }}-{{ seq }}", `{{ now "unix" }}`, `{{ env "TG_TEST_TOKEN" }}`, "{{ urlquery (pick .a .b) }}",
		"{{ if 1 }}x{{ end }}", "{{", "}}", "plain",
	} {
		f.Add(s)
	}
	vars := map[string]string{"page": "3", "q": "x y", "a": "1", "b": "-7"}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := renderOne(t, src, vars, 7)
		if err == nil && !strings.Contains(src, "{{") && got != src {
			t.Fatalf("static %q rendered as %q", src, got)
		}
	})
}
