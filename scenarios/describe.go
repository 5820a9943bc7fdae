package scenarios

import (
	"fmt"
	"strings"
)

// String describes what a compiled step sends and checks, from the
// scenario's source text (template sources, never rendered values). The
// engine hashes it into the plan hash, so results of shards are merged only
// when every request of their plans is the same.
func (st *step) String() string {
	var b strings.Builder
	src := func(t *tmpl) string {
		if t == nil {
			return ""
		}
		return t.src
	}
	fmt.Fprintf(&b, "%s %s base=%q url=%q", st.name, st.method, st.base, src(st.url))
	for _, q := range st.query {
		fmt.Fprintf(&b, " query %q=%q", q.prefix, src(q.value))
	}
	for _, h := range st.headers {
		fmt.Fprintf(&b, " header %q=%q", h.name, src(h.value))
	}
	fmt.Fprintf(&b, " body=%q", src(st.body))
	for _, t := range st.tags {
		fmt.Fprintf(&b, " tag %q=%q", t.prefix, src(t.value))
	}
	for _, c := range st.captures {
		fmt.Fprintf(&b, " capture %q kind=%d path=%q", c.name, c.kind, c.path)
		if c.re != nil {
			fmt.Fprintf(&b, " re=%q", c.re.String())
		}
	}
	fmt.Fprintf(&b, " expect=%v think=%s", st.expect, st.think)
	return b.String()
}
