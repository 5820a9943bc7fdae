package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// handSection is a section of BENCHMARKS.md written by hand (from a script
// of its own, such as bench/metrics.sh or bench/soak.sh), kept in a file of
// its own so that regenerating the document keeps it.
type handSection struct {
	title string // the file's first line without "## "
	body  string // everything after it
}

// readHandwritten reads every *.md of dir in name order. Each must start
// with a "## Title" line; the document numbers the titles. A missing dir
// has no sections.
func readHandwritten(dir string) ([]handSection, error) {
	if dir == "" {
		return nil, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, fmt.Errorf("--sections-dir %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	slices.Sort(paths)
	var out []handSection
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("hand-written section: %w", err)
		}
		first, rest, _ := strings.Cut(string(raw), "\n")
		title, ok := strings.CutPrefix(first, "## ")
		if !ok || strings.TrimSpace(title) == "" {
			return nil, fmt.Errorf("%s:1:1: a hand-written section starts with its \"## Title\" line", p)
		}
		out = append(out, handSection{title: strings.TrimSpace(title), body: strings.TrimLeft(rest, "\n")})
	}
	return out, nil
}

// writeHandwritten writes the hand-written sections after the measured
// ones, numbered on from lastSection.
func writeHandwritten(w io.Writer, hand []handSection) {
	for i, h := range hand {
		fmt.Fprintf(w, "## %d. %s\n\n%s", lastSection+1+i, h.title, strings.TrimRight(h.body, "\n")+"\n\n")
	}
}
