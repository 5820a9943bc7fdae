package scenarios

import (
	"fmt"
	"strings"

	"github.com/tailgate-dev/tailgate/loadgen"
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
	if st.groupBy != nil {
		fmt.Fprintf(&b, " group_by=%s", st.groupBy)
	}
	for _, c := range st.checks {
		fmt.Fprintf(&b, " check %s", c)
	}
	if r := st.repeat; r != nil {
		if r.Retry != nil {
			fmt.Fprintf(&b, " retry on=%v max=%d backoff=%d/%s", r.Retry.On, r.Retry.Max, r.Retry.Backoff.Kind, r.Retry.Backoff.Base)
		}
		if u := r.Until; u != nil {
			fmt.Fprintf(&b, " until %q every=%s timeout=%s", u.Describe, u.Every, u.Timeout)
		}
	}
	return b.String()
}

// Describe summarises the load section, e.g. "open model, 4 stages over
// 1m30s (warmup 10s)": the measured part, then the warmup run before it.
func (s *Scenario) Describe() string {
	l := s.Load
	var out string
	switch {
	case l.Pacer != nil:
		out = "open model, " + describePacer(l)
	case l.VUs > 0:
		out = fmt.Sprintf("closed model, %d VUs", l.VUs)
		if l.Iterations > 0 {
			out += fmt.Sprintf(", %d iterations", l.Iterations)
		}
		if l.Duration > 0 {
			out += fmt.Sprintf(", for %s", l.Duration)
		}
	default:
		return "no load section (give --rate or --vus)"
	}
	if l.Warmup > 0 {
		out += fmt.Sprintf(" (warmup %s)", l.Warmup)
	}
	return out
}

// describePacer describes the measured arrivals of an open-model load,
// uniform or Poisson alike.
func describePacer(l loadgen.Load) string {
	if pp, ok := l.Pacer.(*loadgen.PoissonPacer); ok {
		l.Pacer = pp.Base()
	}
	m := l.MeasuredPacer()
	if sp, ok := m.(*loadgen.StagedPacer); ok {
		if len(sp.Stages()) != 1 {
			return fmt.Sprintf("%d stages over %s", len(sp.Stages()), sp.Duration())
		}
		m = sp.Stages()[0].Pacer
	}
	switch p := m.(type) {
	case loadgen.ConstantPacer:
		return fmt.Sprintf("%s for %s", formatRate(p.PerSecond), p.Length)
	case loadgen.RampPacer:
		return fmt.Sprintf("ramp %s→%s over %s", formatRate(p.From), formatRate(p.To), p.Length)
	}
	return m.String()
}
