package scenarios

import (
	"path/filepath"
	"testing"
)

// TestExamples loads and compiles every shipped example.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d examples, want at least 4", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			plan, err := Compile(s, CompileOptions{})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if err := plan.Validate(); err != nil {
				t.Fatalf("plan: %v", err)
			}
		})
	}
}
