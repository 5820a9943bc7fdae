// Package suggest finds the closest known name to a misspelt one, for the
// "did you mean" hints of the command line and the scenario decoder.
package suggest

import (
	"fmt"
	"strings"
)

// DidYouMean returns ` (did you mean "x"?)` for the candidate closest to
// name (case-insensitively, within a third of its length and at least 2
// edits), or "" when none is close.
func DidYouMean(name string, candidates []string) string {
	best, bestD := "", 0
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		d := Distance(strings.ToLower(name), strings.ToLower(c))
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Distance is the Levenshtein distance between a and b. Strings longer than
// 64 bytes are compared only for equality (distance 0 or 64): hints are for
// names, and the quadratic cost must stay bounded on hostile input.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
