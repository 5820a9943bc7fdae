package lint

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxLines is the most lines a non-test Go file may have. A file longer
// than this holds more than one idea; bench/ is exempt, its programs are
// measurements kept whole on purpose.
const maxLines = 650

// tooLong are the files over maxLines today, each with the length it may
// not exceed while it waits for its split (issue 13). An entry is removed
// when its file is split; until then the test logs it, so that a split
// landing elsewhere does not fail on this list.
var tooLong = map[string]int{}

// TestFilesStayShort fails on a non-test Go file outside bench/ longer
// than maxLines (or, for a file in tooLong, longer than it is today).
func TestFilesStayShort(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || rel == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n := bytes.Count(src, []byte("\n"))
		limit, listed := tooLong[rel]
		seen[rel] = listed
		switch {
		case listed && n <= maxLines:
			t.Logf("%s: %d lines, within the limit now: remove it from tooLong", rel, n)
		case listed && n > limit:
			t.Errorf("%s: %d lines, more than its %d while it waits for its split", rel, n, limit)
		case !listed && n > maxLines:
			t.Errorf("%s: %d lines, more than %d: split it along its seams", rel, n, maxLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range tooLong {
		if !seen[rel] {
			t.Logf("%s: listed in tooLong but gone: remove the entry", rel)
		}
	}
}
