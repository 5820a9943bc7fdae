package live

import "strings"

// helpText is the help screen: sections of (term, explanation) pairs.
var helpText = []struct {
	section string
	items   [][2]string
}{
	{"keys", [][2]string{
		{"q, ctrl+c", "stop the run: requests in flight finish, then the results and the summary are written. Press again to close the dashboard at once; the run still drains."},
		{"tab, ↓, j", "select the next request (shift+tab, ↑, k: the previous one)"},
		{"?, esc", "show or hide this help"},
	}},
	{"figures", [][2]string{
		{"latency", "completion − intended send time: waiting caused by a slow target or by the client falling behind counts (no coordinated omission)"},
		{"send lag", "actual send − intended send time; above 10ms the client is BEHIND SCHEDULE and the arrival counts as late"},
		{"last second", "percentiles of the last one-second interval; whole run: since the start (warmup excluded once it is over)"},
		{"rate", "completed requests per second in the last interval, against the planned (target) rate"},
		{"in flight", "arrivals running or waiting for a connection"},
		{"err%", "failed requests (transport errors, error statuses, failed checks) of all requests"},
	}},
}

func (m *model) helpLines(w int) []string {
	lines := []string{m.rule("help", w)}
	const termW = 14
	for i, sec := range helpText {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, m.st.title.Render(sec.section))
		for _, it := range sec.items {
			for j, l := range wrap(it[1], max(w-termW-2, 20)) {
				term := ""
				if j == 0 {
					term = it[0]
				}
				lines = append(lines, "  "+fit(term, termW)+l)
			}
		}
	}
	return lines
}

// wrap breaks s into lines of at most w cells at spaces.
func wrap(s string, w int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
