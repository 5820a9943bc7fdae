package live

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestHostileNamesStayOnTheirCell: names, groups, the target and error
// messages with terminal controls (a retitle, a screen clear, a carriage
// return to overwrite the line) are drawn with the controls replaced; the
// frame keeps only the dashboard's own SGR codes.
func TestHostileNamesStayOnTheirCell(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[2J\rALL THRESHOLDS PASS\u009b"
	info := planInfo{name: "run" + evil, target: "http://127.0.0.1:8080/" + evil, model: results.OpenModel, profile: "10/s for 10s", planned: 10 * time.Second}
	snaps := hitSnaps(5, false)
	for _, s := range snaps {
		s.Name, s.Target = info.name, info.target
		s.Series = append(s.Series,
			results.SeriesSnapshot{Name: "GET /" + evil, Requests: 3, Rate: 1, Interval: pcts(1), Cumulative: pcts(1)},
			results.SeriesSnapshot{Name: "GET /" + evil, Group: "tok=" + evil, Requests: 3, Cumulative: pcts(1)})
		s.Errors = append(s.Errors, results.ErrorCount{Kind: "protocol", Count: 1, Message: "bad status line " + evil})
	}
	for _, keys := range [][]string{nil, {"tab", "tab"}} {
		m := feed(t, fixture{snaps: snaps, info: info, keys: keys}, 160, 48)
		frame := m.View().Content
		for _, bad := range []string{"\x1b]", "\x1b[2J", "\r", "\x07", "\u009b"} {
			if strings.Contains(frame, bad) {
				t.Fatalf("frame (keys %v) holds %q:\n%q", keys, bad, frame)
			}
		}
		if !strings.Contains(screen(m), "ALL THRESHOLDS PASS") {
			t.Fatal("the hostile name is not shown at all: the test proves nothing")
		}
	}
}
