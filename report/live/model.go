package live

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tailgate-dev/tailgate/results"
)

// historyCap bounds the points kept per series: the widest chart shows two
// points per cell, so a few hundred cover any terminal and memory stays
// constant however long the run is.
const historyCap = 600

// point is one interval of one series, as drawn in the charts.
type point struct {
	elapsed      time.Duration
	p50, p99     float64 // microseconds
	rate, target float64 // per second
}

// history is the recent points of one series, oldest first.
type history struct{ pts []point }

func (h *history) add(p point) {
	if len(h.pts) == 2*historyCap {
		n := copy(h.pts, h.pts[historyCap:])
		h.pts = h.pts[:n]
	}
	h.pts = append(h.pts, p)
}

// last returns at most n of the newest points.
func (h *history) last(n int) []point {
	if h == nil {
		return nil
	}
	if len(h.pts) > n {
		return h.pts[len(h.pts)-n:]
	}
	return h.pts
}

// cumPoint remembers a series' cumulative count, to derive the rate of
// series that have no interval figures (tag groups).
type cumPoint struct {
	requests uint64
	elapsed  time.Duration
}

type tickMsg time.Time

// model is the bubbletea model of the dashboard. It owns everything it
// draws; the only shared state is the snapshot source, read on each tick.
type model struct {
	info    planInfo
	source  func() *results.Snapshot
	stop    func()
	refresh time.Duration
	st      styles

	w, h  int
	snap  *results.Snapshot
	hist  map[string]*history
	prev  map[string]cumPoint
	rates map[string]float64 // derived rates of tag groups
	sel   string
	help  bool
	// stopping is set once the user asked to stop; leftEarly when they
	// closed the dashboard before the run finished draining.
	stopping, leftEarly bool
	// cache holds the last screen: ticks between snapshots redraw nothing.
	cache struct {
		key    frameKey
		screen string
	}
}

func newModel(info planInfo, source func() *results.Snapshot, stop func(), cfg config) *model {
	return &model{
		info: info, source: source, stop: stop, refresh: cfg.refresh,
		st:   newStyles(),
		hist: map[string]*history{}, prev: map[string]cumPoint{}, rates: map[string]float64{},
	}
}

func (m *model) tick() tea.Cmd {
	return tea.Tick(m.refresh, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd {
	m.ingest(m.source())
	return m.tick()
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tickMsg:
		m.ingest(m.source())
		return m, m.tick()
	case tea.KeyPressMsg:
		return m, m.key(msg.String())
	}
	return m, nil
}

func (m *model) key(k string) tea.Cmd {
	switch k {
	case "q", "ctrl+c":
		if m.stopping {
			m.leftEarly = true
			return tea.Quit
		}
		m.stopping = true
		if m.stop != nil {
			m.stop()
		}
	case "tab", "down", "j":
		m.move(1)
	case "shift+tab", "up", "k":
		m.move(-1)
	case "?", "h":
		m.help = !m.help
	case "esc":
		m.help = false
	}
	return nil
}

// move changes the selected request by delta, wrapping around.
func (m *model) move(delta int) {
	keys := m.keys()
	if len(keys) == 0 {
		return
	}
	i := 0
	for j, k := range keys {
		if k == m.sel {
			i = j
		}
	}
	m.sel = keys[((i+delta)%len(keys)+len(keys))%len(keys)]
}

// rows returns the series shown in the table: the total only when it is not
// the same as the single request, and the flows last.
func (m *model) rows() []*results.SeriesSnapshot {
	if m.snap == nil {
		return nil
	}
	var out []*results.SeriesSnapshot
	if len(m.snap.Series) != 1 {
		out = append(out, &m.snap.Total)
	}
	// Each tag group goes under its request.
	for i := range m.snap.Series {
		s := &m.snap.Series[i]
		if s.Group != "" {
			continue
		}
		out = append(out, s)
		for j := range m.snap.Series {
			if g := &m.snap.Series[j]; g.Group != "" && g.Name == s.Name {
				out = append(out, g)
			}
		}
	}
	for i := range m.snap.Series {
		s := &m.snap.Series[i]
		if s.Group == "" {
			continue
		}
		orphan := true
		for j := range m.snap.Series {
			if o := &m.snap.Series[j]; o.Group == "" && o.Name == s.Name {
				orphan = false
			}
		}
		if orphan {
			out = append(out, s)
		}
	}
	// Flows after the requests, each its own series (flow:NAME).
	for i := range m.snap.Flows {
		out = append(out, &m.snap.Flows[i])
	}
	return out
}

func (m *model) keys() []string {
	rows := m.rows()
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.Key()
	}
	return keys
}

// selected returns the selected series, falling back to the first row.
func (m *model) selected() *results.SeriesSnapshot {
	rows := m.rows()
	for _, r := range rows {
		if r.Key() == m.sel {
			return r
		}
	}
	if len(rows) > 0 {
		m.sel = rows[0].Key()
		return rows[0]
	}
	return nil
}

// ingest takes a new snapshot into the history; the same snapshot seen on
// several ticks counts once.
func (m *model) ingest(s *results.Snapshot) {
	if s == nil || s == m.snap {
		return
	}
	m.snap = s
	add := func(ser *results.SeriesSnapshot, target float64) {
		key := ser.Key()
		h := m.hist[key]
		if h == nil {
			h = &history{}
			m.hist[key] = h
		}
		p := point{elapsed: s.Elapsed, rate: ser.Rate, target: target}
		lat := ser.Interval
		if ser.Group != "" {
			// Groups carry whole-run figures only: derive the rate from the
			// count and chart the cumulative percentiles.
			lat = ser.Cumulative
			if prev, ok := m.prev[key]; ok && s.Elapsed > prev.elapsed && ser.Requests >= prev.requests {
				p.rate = float64(ser.Requests-prev.requests) / (s.Elapsed - prev.elapsed).Seconds()
			}
			m.prev[key] = cumPoint{requests: ser.Requests, elapsed: s.Elapsed}
			m.rates[key] = p.rate
		}
		p.p50 = float64(lat.Of(50)) / float64(time.Microsecond)
		p.p99 = float64(lat.Of(99)) / float64(time.Microsecond)
		h.add(p)
	}
	target := s.TargetRate
	if s.Done {
		// The last snapshot's TargetRate is the run's average, not a
		// point of the plan, which has ended.
		target = 0
	}
	add(&s.Total, target)
	for i := range s.Series {
		add(&s.Series[i], 0)
	}
	for i := range s.Flows {
		add(&s.Flows[i], 0)
	}
}

// rate is the rate shown for a series.
func (m *model) rate(s *results.SeriesSnapshot) float64 {
	if s.Group != "" {
		return m.rates[s.Key()]
	}
	return s.Rate
}

// elapsed is the run time shown. It moves with the snapshots, once a
// second: moving the progress bar in between would change the screen five
// times as often, and redrawing it is most of what the dashboard costs.
func (m *model) elapsed() time.Duration {
	if m.snap == nil {
		return 0
	}
	return m.snap.Elapsed
}

func (m *model) planned() time.Duration {
	if m.snap != nil && m.snap.Planned > 0 {
		return m.snap.Planned
	}
	return m.info.planned
}

// View implements tea.Model.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "tailgate " + m.info.name
	return v
}
