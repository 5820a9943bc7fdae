package live

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/internal/golden"
	"github.com/tailgate-dev/tailgate/results"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// pcts is a made-up latency summary around base milliseconds. A reported
// percentile without a factor here lies between p99.9 and the max.
func pcts(base float64) results.Percentiles {
	factor := map[results.Percentile]float64{50: 1, 90: 1.8, 95: 2.4, 99: 4, 99.9: 9}
	p := results.Percentiles{Max: ms(base * 15), Mean: ms(base * 1.2)}
	for _, q := range results.Reported() {
		f, ok := factor[q]
		if !ok {
			f = 12
		}
		p = p.With(q, ms(base*f))
	}
	return p
}

// scenarioSnaps returns n snapshots of a made-up scenario run: two requests
// and a tag group, a latency wave, errors from second 10 on.
func scenarioSnaps(n int, behind bool) []*results.Snapshot {
	var out []*results.Snapshot
	var list, create, hit uint64
	for i := 1; i <= n; i++ {
		wave := 2 + 1.5*math.Sin(float64(i)/4)
		el := time.Duration(i) * time.Second
		s := &results.Snapshot{
			Time: t0.Add(el), Elapsed: el, Planned: time.Minute,
			Name: "pagination", Target: "http://127.0.0.1:8080", Model: results.OpenModel,
			Profile: "100/s@10s,400/s@50s", Stage: "warm", TargetRate: 100,
			Rate: 99.5, InFlight: 3, SendLag: results.Percentiles{Max: ms(1.3)}.With(99, 180*time.Microsecond),
		}
		if i > 10 {
			s.Stage, s.TargetRate, s.Rate = "main", 400, 398.7
		}
		if behind && i > n-5 {
			s.SendLag = results.Percentiles{Max: ms(120)}.With(99, ms(42))
			s.Dropped = uint64(17 * (i - n + 5))
			s.Rate = 311.2
		}
		s.ArrivalRate = s.Rate
		li, ci := uint64(s.Rate*0.8), uint64(s.Rate*0.2)
		list += li
		create += ci
		hit += li * 3 / 4
		s.Sent = list + create
		s.PlannedArrivals = s.Sent
		var errs uint64
		if i > 10 {
			errs = uint64(i - 10)
			s.Errors = []results.ErrorCount{
				{Kind: "status 503", Count: errs * 2 / 3, Message: "503 Service Unavailable"},
				{Kind: "timeout", Count: errs - errs*2/3, Message: "Get \"http://127.0.0.1:8080/items?cursor=abc\": context deadline exceeded\n(Client.Timeout exceeded)"},
			}
		}
		s.Series = []results.SeriesSnapshot{
			{
				Name: "GET /items", Requests: list, Errors: errs, IntervalRequests: li, Rate: float64(li),
				Interval: pcts(wave), Cumulative: pcts(2.1),
				Status: map[int]uint64{200: list - errs*2/3, 503: errs * 2 / 3},
			},
			{
				Name: "POST /items", Requests: create, IntervalRequests: ci, Rate: float64(ci),
				Interval: pcts(wave * 3), Cumulative: pcts(6.3), Status: map[int]uint64{201: create},
			},
			{
				Name: "GET /items", Group: "cache=hit", Requests: hit,
				Cumulative: pcts(0.4), Status: map[int]uint64{200: hit},
			},
		}
		s.Total = results.SeriesSnapshot{
			Requests: list + create, Errors: errs, IntervalRequests: li + ci, Rate: s.Rate,
			Interval: pcts(wave * 1.3), Cumulative: pcts(2.8),
			Status: map[int]uint64{200: list - errs*2/3, 201: create, 503: errs * 2 / 3},
		}
		out = append(out, s)
	}
	return out
}

// flowSnaps is scenarioSnaps with a flow: checkout, whose iterations run
// both requests with a think time between them.
func flowSnaps(n int) []*results.Snapshot {
	out := scenarioSnaps(n, false)
	var its uint64
	for i, s := range out {
		wave := 2 + 1.5*math.Sin(float64(i+1)/4)
		iv := uint64(s.Rate * 0.2)
		its += iv
		s.Flows = []results.SeriesSnapshot{{
			Name: "checkout", Flow: true, Requests: its, IntervalRequests: iv, Rate: float64(iv),
			Interval: pcts(wave*4 + 250), Cumulative: pcts(258),
		}}
	}
	return out
}

// hitSnaps is a one-request `tailgate hit` run, or a closed-model one.
func hitSnaps(n int, closed bool) []*results.Snapshot {
	var out []*results.Snapshot
	var total uint64
	for i := 1; i <= n; i++ {
		el := time.Duration(i) * time.Second
		total += 200
		ser := results.SeriesSnapshot{
			Name: "GET /", Requests: total, IntervalRequests: 200, Rate: 200,
			Interval: pcts(0.3 + 0.05*float64(i%5)), Cumulative: pcts(0.32), Status: map[int]uint64{200: total},
		}
		s := &results.Snapshot{
			Time: t0.Add(el), Elapsed: el, Planned: 20 * time.Second,
			Name: "hit", Target: "http://127.0.0.1:8080/", Model: results.OpenModel,
			Profile: "200/s for 20s", Stage: "200/s for 20s", TargetRate: 200, Rate: 200, ArrivalRate: 200, InFlight: 1,
			Sent: total, PlannedArrivals: total, SendLag: results.Percentiles{Max: 400 * time.Microsecond}.With(99, 90*time.Microsecond),
			Total: ser, Series: []results.SeriesSnapshot{ser},
		}
		s.Total.Name = ""
		if closed {
			s.Model, s.Profile, s.Stage, s.TargetRate, s.SendLag = results.ClosedModel, "20 VUs for 20s", "", 0, results.Percentiles{}
			s.InFlight = 20
		}
		if i == n && n >= 20 {
			s.Done = true
		}
		out = append(out, s)
	}
	return out
}

type fixture struct {
	snaps []*results.Snapshot
	info  planInfo
	keys  []string
	stop  func()
}

// feed runs a model through the snapshots the way the program does: one
// tick per published snapshot, plus the keys at the end.
func feed(t *testing.T, f fixture, w, h int) *model {
	t.Helper()
	var cur *results.Snapshot
	cfg := config{refresh: 200 * time.Millisecond}
	m := newModel(f.info, func() *results.Snapshot { return cur }, f.stop, cfg)
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for _, s := range f.snaps {
		cur = s
		m.Update(tickMsg(s.Time))
	}
	for _, k := range f.keys {
		m.key(k)
	}
	return m
}

func screen(m *model) string { return ansi.Strip(m.View().Content) }

func TestViewGolden(t *testing.T) {
	pinfo := planInfo{name: "pagination", target: "http://127.0.0.1:8080", model: results.OpenModel, profile: "100/s@10s,400/s@50s", planned: time.Minute}
	hinfo := planInfo{name: "hit", target: "http://127.0.0.1:8080/", model: results.OpenModel, profile: "200/s for 20s", planned: 20 * time.Second}
	cinfo := planInfo{name: "hit", target: "http://127.0.0.1:8080/", model: results.ClosedModel, profile: "20 VUs for 20s", planned: 20 * time.Second, vus: 20}
	many := scenarioSnaps(30, false)
	for _, s := range many {
		for i := range 12 {
			s.Series = append(s.Series, results.SeriesSnapshot{Name: fmt.Sprintf("GET /extra/%02d", i), Requests: 10, Rate: 1, Interval: pcts(1), Cumulative: pcts(1)})
		}
	}
	checkpointFailed := hitSnaps(12, false)
	checkpointFailed[len(checkpointFailed)-1].CheckpointError = "checkpoint: write results /srv/out/r.json: write /srv/out/.r.json.tmp-1234: no space left on device"
	// The hypervisor took 28% of the tool's CPU in the last second.
	stolen := hitSnaps(12, false)
	stolen[len(stolen)-1].Steal = 0.28
	cases := []struct {
		name string
		f    fixture
	}{
		{"scenario", fixture{snaps: scenarioSnaps(45, false), info: pinfo}},
		{"scenario-selected", fixture{snaps: scenarioSnaps(45, false), info: pinfo, keys: []string{"tab", "tab"}}},
		{"behind", fixture{snaps: scenarioSnaps(40, true), info: pinfo}},
		{"stalled", fixture{snaps: stalled(scenarioSnaps(40, false)), info: pinfo}},
		{"hit", fixture{snaps: hitSnaps(12, false), info: hinfo}},
		{"hit-done", fixture{snaps: hitSnaps(20, false), info: hinfo}},
		{"closed", fixture{snaps: hitSnaps(12, true), info: cinfo}},
		{"stopping", fixture{snaps: hitSnaps(12, false), info: hinfo, keys: []string{"q"}}},
		{"help", fixture{snaps: hitSnaps(3, false), info: hinfo, keys: []string{"?"}}},
		{"waiting", fixture{info: hinfo}},
		{"many", fixture{snaps: many, info: pinfo, keys: []string{"up", "up"}}},
		{"checkpoint-failed", fixture{snaps: checkpointFailed, info: hinfo}},
		{"stolen", fixture{snaps: stolen, info: hinfo}},
		// The flow is the last row; up from the first selects it.
		{"flows", fixture{snaps: flowSnaps(45), info: pinfo, keys: []string{"up"}}},
	}
	sizes := [][2]int{{80, 24}, {160, 48}}
	for _, c := range cases {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s-%dx%d", c.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				got := screen(feed(t, c.f, sz[0], sz[1]))
				checkSize(t, got, sz[0], sz[1])
				checkScreen(t, name, got)
			})
		}
	}
}

// checkScreen compares a screen with testdata/name.txt.
func checkScreen(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".txt"), []byte(got+"\n"))
}

// checkSize asserts the screen is exactly w×h cells, so that a redraw after
// a resize covers every cell.
func checkSize(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, n, w, l)
		}
	}
}

// TestResize draws every fixture at many sizes, tiny ones included: the
// screen must always fill the window exactly and never panic.
func TestResize(t *testing.T) {
	f := fixture{snaps: scenarioSnaps(50, true), info: planInfo{name: "x"}}
	m := feed(t, f, 80, 24)
	for w := 1; w <= 220; w += 7 {
		for h := 1; h <= 60; h += 5 {
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			for _, help := range []bool{false, true} {
				m.help = help
				got := m.View().Content
				checkSize(t, got, w, h)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	stops := 0
	f := fixture{snaps: scenarioSnaps(5, false), stop: func() { stops++ }}
	m := feed(t, f, 80, 24)
	if m.selected().Key() != "total" {
		t.Fatalf("first selection %q, want total", m.selected().Key())
	}
	var seen []string
	for range 4 {
		m.Update(tea.KeyPressMsg{Code: tea.KeyTab})
		seen = append(seen, m.sel)
	}
	want := []string{"GET /items", "GET /items{cache=hit}", "POST /items", "total"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("tab goes through %v, want %v", seen, want)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyUp})
	if m.sel != "POST /items" {
		t.Errorf("up from the first row selects %q, want the last", m.sel)
	}
	m.Update(tea.KeyPressMsg{Code: '?', Text: "?"})
	if !m.help {
		t.Error("? does not open the help")
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	if m.help {
		t.Error("esc does not close the help")
	}

	_, cmd := m.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	if stops != 1 || cmd != nil || !m.stopping {
		t.Fatalf("ctrl+c: %d stop calls, cmd %v; want 1 call and the dashboard still open", stops, cmd)
	}
	_, cmd = m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if stops != 1 || cmd == nil || !m.leftEarly {
		t.Fatalf("second q: %d stop calls, cmd %v; want no new call and quit", stops, cmd)
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Errorf("second q returns %T, want tea.QuitMsg", cmd())
	}
}

// TestHistoryBounded checks memory stays constant in run length.
func TestHistoryBounded(t *testing.T) {
	var h history
	for i := range 10 * historyCap {
		h.add(point{elapsed: time.Duration(i)})
	}
	if len(h.pts) > 2*historyCap || cap(h.pts) > 4*historyCap {
		t.Errorf("history holds %d points (cap %d) after %d adds", len(h.pts), cap(h.pts), 10*historyCap)
	}
	last := h.last(5)
	if len(last) != 5 || last[4].elapsed != time.Duration(10*historyCap-1) {
		t.Errorf("last points %v", last)
	}
}

// TestIngestOncePerSnapshot: ticks faster than snapshots must not repeat
// points in the charts.
func TestIngestOncePerSnapshot(t *testing.T) {
	snaps := hitSnaps(3, false)
	var cur *results.Snapshot
	m := newModel(planInfo{}, func() *results.Snapshot { return cur }, nil, config{refresh: time.Second})
	for _, s := range snaps {
		cur = s
		for range 5 {
			m.Update(tickMsg(t0))
		}
	}
	if n := len(m.hist["GET /"].pts); n != 3 {
		t.Errorf("%d points after 3 snapshots, want 3", n)
	}
}

// TestObserveConcurrent runs Observe from the engine side while the model
// reads on ticks; with -race this proves the hand-off is safe.
func TestObserveConcurrent(t *testing.T) {
	d := New(results.Meta{Name: "x"}, nil)
	m := newModel(d.info, d.latest.Load, nil, d.cfg)
	snaps := scenarioSnaps(50, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, s := range snaps {
			d.Observe(s)
		}
	}()
	for range 200 {
		m.Update(tickMsg(t0))
		_ = m.View()
	}
	wg.Wait()
	m.Update(tickMsg(t0))
	if m.snap != snaps[len(snaps)-1] {
		t.Error("the model does not show the latest snapshot")
	}
}

// TestRunEndsWhenDone runs the real program on a buffer and checks that
// closing done ends it and restores the terminal (leaves the alt screen).
func TestRunEndsWhenDone(t *testing.T) {
	var out bytes.Buffer
	d := New(results.Meta{Name: "x"}, nil, WithInput(nil), WithOutput(&out), WithEnvironment([]string{"TERM=xterm-256color"}))
	for _, s := range hitSnaps(3, false) {
		d.Observe(s)
	}
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- d.Run(done) }()
	close(done)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after done was closed")
	}
	if s := out.String(); !strings.Contains(s, "\x1b[?1049l") {
		t.Errorf("output does not leave the alternate screen: %q", s)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtLatency(0), "-"},
		{fmtLatency(850 * time.Microsecond), "850µs"},
		{fmtLatency(ms(1.234)), "1.23ms"},
		{fmtLatency(ms(12.34)), "12.3ms"},
		{fmtLatency(ms(123.4)), "123ms"},
		{fmtLatency(1234 * time.Millisecond), "1.23s"},
		{fmtLatency(200 * time.Second), "200s"},
		{fmtClock(65 * time.Second), "1m05s"},
		{fmtClock(3725 * time.Second), "1h02m"},
		{format.Count(1234567), "1,234,567"},
		{format.Count(999), "999"},
		{format.Count(123_456_789), "123.5M"},
		{format.Number(5.5), "5.50"},
		{format.Number(398.7), "399"},
		{format.Number(12345), "12345"},
		{fmtPercent(1, 3), "33.3%"},
		{fmtPercent(0, 3), "0%"},
		{fmtPercent(1, 0), "-"},
		{fit("abcdef", 4), "abc…"},
		{right("ab", 4), "  ab"},
		{hbar(0.5, 4), "██"},
		{hbar(1.0/16, 2), "▏"},
		{fmtAxisRate(2500), "2500"},
		{fmtAxisRate(25000), "25k"},
		{fmtAxisRate(2.5e6), "2.5M"},
		{fmtAxisRate(0.5), "0.5"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	if v := niceCeil(3.7); v != 5 {
		t.Errorf("niceCeil(3.7) = %v", v)
	}
	if v := niceCeil(2100); v != 2500 {
		t.Errorf("niceCeil(2100) = %v", v)
	}
}

func TestCanvas(t *testing.T) {
	c := newCanvas(2, 1)
	c.line(0, 3, 3, 0, 0)
	got := ansi.Strip(strings.Join(c.rows(nil), ""))
	// Dots (0,3) (1,2) on the first cell, (2,1) (3,0) on the second.
	if got != string(rune(0x2800+0x40+0x20))+string(rune(0x2800+0x02+0x08)) {
		t.Errorf("diagonal = %q", got)
	}
	cols := columns([]float64{0, 1, 8, 16}, 16, 2)
	if cols[0] != "   █" || cols[1] != " ▁██" {
		t.Errorf("columns = %q", cols)
	}
}

// BenchmarkFrame is the cost of one redraw of a busy dashboard, when a new
// snapshot arrived (once a second) and between snapshots (the other ticks);
// it bounds the CPU the dashboard takes from the load generator.
func BenchmarkFrame(b *testing.B) {
	for _, sz := range [][2]int{{80, 24}, {200, 50}} {
		for _, fresh := range []bool{true, false} {
			name := fmt.Sprintf("%dx%d/new-snapshot", sz[0], sz[1])
			if !fresh {
				name = fmt.Sprintf("%dx%d/same-snapshot", sz[0], sz[1])
			}
			b.Run(name, func(b *testing.B) {
				snaps := scenarioSnaps(300, false)
				var cur *results.Snapshot
				m := newModel(planInfo{}, func() *results.Snapshot { return cur }, nil, config{refresh: 200 * time.Millisecond})
				m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				for _, s := range snaps {
					cur = s
					m.Update(tickMsg(t0))
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if fresh {
						// A copy is a new snapshot to the model.
						c := *snaps[i%len(snaps)]
						cur = &c
						i++
					}
					m.Update(tickMsg(t0))
					_ = m.View()
				}
			})
		}
	}
}

// TestWidth checks the fast cell count against the full measure.
func TestWidth(t *testing.T) {
	st := newStyles()
	for _, s := range []string{
		"", "plain", st.bad.Render("12") + " ms", "⣀⠤⠒ ▁▂█ ── ▸ µs 200×3 …", "日本語", "e\u0301", "tab\there",
		st.warn.Render(" BEHIND ") + "x", "emoji 🚀", "\x1b[1;97;41mx\x1b[m",
	} {
		if got, want := width(s), ansi.StringWidth(s); got != want {
			t.Errorf("width(%q) = %d, want %d", s, got, want)
		}
	}
}

// BenchmarkObserve is the dashboard's whole cost on the engine's collector
// goroutine: one atomic store, no allocation.
func BenchmarkObserve(b *testing.B) {
	d := New(results.Meta{Name: "x"}, nil)
	s := hitSnaps(1, false)[0]
	b.ReportAllocs()
	for b.Loop() {
		d.Observe(s)
	}
}

// stalled makes the last snapshots those of a target that stopped
// answering: nothing completes, nothing late has been sent yet, arrivals
// queue and the oldest grows older, and the dashboard must say so while it
// happens (issue 12 item 8).
func stalled(snaps []*results.Snapshot) []*results.Snapshot {
	for i, s := range snaps[len(snaps)-3:] {
		s.Rate, s.ArrivalRate = 0, 0
		s.Queued = int64(400 * (i + 1))
		s.OldestQueued = time.Duration(i+1) * time.Second
		s.CPU = 0.04
	}
	return snaps
}
