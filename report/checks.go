package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// Failed response checks (error kind check), counted per check: every
// report lists them per request name, most frequent first.

// checkItems lists a series' failed checks as "name ×n", most frequent
// first.
func checkItems(st *results.Stats) []string {
	names := make([]string, 0, len(st.Checks))
	for k := range st.Checks {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if st.Checks[names[i]] != st.Checks[names[j]] {
			return st.Checks[names[i]] > st.Checks[names[j]]
		}
		return names[i] < names[j]
	})
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%s ×%d", format.Clean(n), st.Checks[n])
	}
	return out
}

// writeTextChecks writes a "checks" line per request name with failed
// checks.
func writeTextChecks(w io.Writer, r *results.Result) {
	first := "  checks     "
	for _, s := range r.Requests {
		if len(s.Checks) == 0 {
			continue
		}
		writeItems(w, first+format.Clean(s.Key())+": ", "               ", checkItems(s))
		first = "             "
	}
}

// markdownChecks is the "Checks failed" sentence of the Markdown report,
// empty when no check failed.
func markdownChecks(r *results.Result) string {
	var parts []string
	for _, s := range r.Requests {
		if len(s.Checks) == 0 {
			continue
		}
		items := checkItems(s)
		for i := range items {
			items[i] = format.Markdown(items[i])
		}
		parts = append(parts, "`"+format.MarkdownCode(s.Key())+"` "+strings.Join(items, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Checks failed: " + strings.Join(parts, "; ")
}
