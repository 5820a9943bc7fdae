package live

import (
	"strconv"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// clientItems are the throughput line's figures of the client's own
// state: arrivals queued for a connection and the age of the oldest (a
// stalled target shows here at once, its send lag only once it answers),
// arrivals in flight and sent, the process's CPU, and the CPU time the
// hypervisor took from 1% on (the stalls are in send lag and latency).
func (m *model) clientItems(s *results.Snapshot) []string {
	lb := m.st.label.Render
	var items []string
	if s.Model == results.OpenModel && s.Queued > 0 {
		q := format.Count(uint64(s.Queued)) + lb(" oldest ") + fmtLatency(s.OldestQueued)
		if s.OldestQueued > results.LateThreshold {
			q = m.st.bad.Render(q)
		}
		items = append(items, lb("queued ")+q)
	}
	items = append(items, lb("in flight ")+strconv.FormatInt(s.InFlight, 10), lb("sent ")+format.Count(s.Sent))
	if s.CPU > 0 {
		items = append(items, lb("CPU ")+format.Percent(s.CPU))
	}
	if s.Steal >= results.StealWarning {
		items = append(items, lb("steal ")+m.st.bad.Render(format.Percent(s.Steal)))
	}
	return items
}
