package live

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
	"github.com/tailgate-dev/tailgate/results"
)

// style is a text attribute as a ready SGR escape sequence. lipgloss
// styles cost most of a frame (a full layout pass per call); the dashboard
// only needs colours and bold, so it writes the codes itself and lets
// bubbletea adapt them to the terminal's colour profile.
type style struct{ sgr string }

// Render wraps s in the style. Styles do not nest: the reset at the end
// ends every attribute.
func (st style) Render(s string) string {
	if st.sgr == "" || s == "" {
		return s
	}
	return st.sgr + s + "\x1b[m"
}

// styles are the few colours of the dashboard. Basic ANSI colours only, so
// the terminal's own theme decides how they look.
type styles struct {
	title, label, rule, sel, warn, bad, ok, p50, p99, bars, badge style
}

func newStyles() styles {
	return styles{
		title: style{"\x1b[1m"},
		label: style{"\x1b[2m"},
		rule:  style{"\x1b[90m"},
		sel:   style{"\x1b[1;36m"},
		warn:  style{"\x1b[1;97;41m"},
		bad:   style{"\x1b[31m"},
		ok:    style{"\x1b[32m"},
		p50:   style{"\x1b[36m"},
		p99:   style{"\x1b[35m"},
		bars:  style{"\x1b[32m"},
		badge: style{"\x1b[1;7m"},
	}
}

// frameKey is everything the screen depends on.
type frameKey struct {
	snap           *results.Snapshot
	w, h           int
	sel            string
	help, stopping bool
}

// Default size before the terminal reports its own.
const defaultW, defaultH = 80, 24

// render returns the screen, drawn again only when what it shows changed:
// the model ticks five times a second, snapshots come once.
func (m *model) render() string {
	key := frameKey{m.snap, m.w, m.h, m.sel, m.help, m.stopping}
	if m.cache.screen == "" || m.cache.key != key {
		m.cache.screen = m.draw()
		// Drawing may settle the selection on a row; key the cache on that.
		key.sel = m.sel
		m.cache.key = key
	}
	return m.cache.screen
}

// draw draws the whole screen: exactly h lines of exactly w cells, so a
// resize never leaves stale characters behind.
func (m *model) draw() string {
	w, h := m.w, m.h
	if w <= 0 || h <= 0 {
		w, h = defaultW, defaultH
	}
	top := append(m.header(w), m.throughput(w)...)
	foot := m.footer(w)
	avail := h - len(top) - len(foot)

	var body []string
	switch {
	case m.help:
		body = m.helpLines(w)
	case m.snap == nil:
		body = []string{"", fit(m.st.label.Render("  waiting for the first measurements…"), w)}
	default:
		body = m.body(w, avail)
	}
	lines := append(top, body...)
	if len(lines) > h-len(foot) {
		lines = lines[:max(h-len(foot), 0)]
	}
	for len(lines) < h-len(foot) {
		lines = append(lines, "")
	}
	lines = append(lines, foot...)
	if len(lines) > h {
		lines = lines[len(lines)-h:]
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// body lays out the table, the charts and the errors in avail lines. The
// table and errors get what they need first, the charts take the rest, and
// when space is short the charts go before the errors and the table shrink.
func (m *model) body(w, avail int) []string {
	wide := w >= 130
	rows := m.rows()
	tableHead := 2
	if wide {
		tableHead = 3
	}
	tableWant := tableHead + len(rows)
	errCap := 3
	if avail >= 40 {
		errCap = 8
	}
	errWant := 1 + min(len(m.snap.Errors), errCap)
	const chartMin = 7

	tableH := min(tableWant, max(tableHead+1, avail-errWant-chartMin))
	rest := avail - tableH
	errH := min(errWant, max(1, rest-chartMin))
	chartH := rest - errH
	if chartH < chartMin-2 {
		chartH = 0
	}
	out := m.table(w, tableH, wide)
	if chartH > 0 {
		out = append(out, m.charts(w, chartH)...)
	}
	if errH > 0 {
		out = append(out, m.errors(w, errH)...)
	}
	return out
}

// rule is a section title drawn as a horizontal line.
func (m *model) rule(title string, w int) string {
	return m.st.rule.Render("── ") + m.st.title.Render(title) + " " +
		m.st.rule.Render(strings.Repeat("─", max(w-width(title)-4, 0)))
}

func (m *model) header(w int) []string {
	s := m.snap
	name, target, profile, mdl := m.info.name, m.info.target, m.info.profile, m.info.model
	if s != nil {
		name, target, profile, mdl = s.Name, s.Target, s.Profile, s.Model
	}
	// Names, targets and messages come from files and servers: Clean
	// keeps their control characters off the terminal.
	name, target, profile = format.Clean(name), format.Clean(target), format.Clean(profile)
	left := m.st.title.Render("tailgate "+name) + "  " + target
	rightTxt := string(mdl) + " model · " + profile
	var lines []string
	if width(left)+width(rightTxt)+2 <= w {
		lines = append(lines, spread(left, m.st.label.Render(rightTxt), w))
	} else {
		lines = append(lines, fit(left, w), fit(m.st.label.Render(rightTxt), w))
	}

	el, planned := m.elapsed(), m.planned()
	var pre []string
	if s != nil && s.Stage != "" && s.Stage != s.Profile {
		pre = append(pre, m.st.label.Render("stage ")+format.Clean(s.Stage))
	}
	switch {
	case s != nil && s.Done:
		pre = append(pre, m.st.badge.Render(" DONE "))
	case m.stopping:
		pre = append(pre, m.st.warn.Render(" STOPPING "))
	case s != nil && s.Warmup:
		pre = append(pre, m.st.badge.Render(" WARMUP "))
	}
	post := fmtClock(el)
	if planned > 0 {
		frac := min(float64(el)/float64(planned), 1)
		post += " / " + fmtClock(planned) + fmt.Sprintf("  %3.0f%%", 100*frac)
		if s == nil || !s.Done {
			post += "  ETA " + fmtClock(planned-el)
		}
	} else {
		post += " elapsed"
	}
	head := strings.Join(pre, "  ")
	if head != "" {
		head += "  "
	}
	barW := w - width(head) - width(post) - 4
	line := head + post
	if planned > 0 && barW >= 8 {
		frac := min(float64(el)/float64(planned), 1)
		bar := hbar(frac, barW)
		line = head + "▕" + m.st.ok.Render(bar) + m.st.rule.Render(strings.Repeat("░", barW-width(bar))) + "▏ " + post
	}
	return append(lines, fit(line, w))
}

// behind reports whether the client falls behind its schedule: sends are
// late or arrivals are dropped.
func (m *model) behind() bool {
	s := m.snap
	return s != nil && s.Model == results.OpenModel && (s.SendLag.Of(99) > results.LateThreshold || s.Dropped > 0 || s.OldestQueued > results.LateThreshold)
}

func (m *model) throughput(w int) []string {
	s := m.snap
	if s == nil {
		return nil
	}
	lb := m.st.label.Render
	var items []string
	if m.behind() {
		items = append(items, m.st.warn.Render(" BEHIND SCHEDULE "))
	}
	if s.Model == results.OpenModel {
		// Iterations (arrivals) are what the plan schedules; a flow of
		// several steps sends more requests than arrivals, so requests
		// get their own item (docs/metrics.md).
		r := lb("iterations ") + format.Rate(s.ArrivalRate) + lb(" of ") + format.Rate(s.TargetRate)
		if s.TargetRate > 0 && !s.Done {
			r += lb(" (" + format.Percent(s.ArrivalRate/s.TargetRate) + ")")
		}
		items = append(items, r, lb("requests ")+format.Rate(s.Rate))
	} else {
		items = append(items, lb("rate ")+format.Number(s.Rate)+"/s", lb("VUs ")+strconv.Itoa(m.info.vus))
	}
	items = append(items, m.clientItems(s)...)
	if s.Model == results.OpenModel {
		late := format.Count(s.Late)
		if s.Late > 0 {
			late = m.st.bad.Render(late)
		}
		dropped := format.Count(s.Dropped)
		if s.Dropped > 0 {
			dropped = m.st.bad.Render(dropped)
		}
		lag := fmtLatency(s.SendLag.Of(99))
		if s.SendLag.Of(99) > results.LateThreshold {
			lag = m.st.bad.Render(lag)
		}
		items = append(items, lb("late ")+late, lb("dropped ")+dropped,
			lb("send lag p99 ")+lag+lb(" max ")+fmtLatency(s.SendLag.Max))
	}
	errs := fmtPercent(s.Total.Errors, s.Total.Requests)
	if s.Total.Errors > 0 {
		errs = m.st.bad.Render(errs)
	}
	items = append(items, lb("errors ")+errs)
	if s.CheckpointError != "" {
		// Measurements are safe in memory, but the file on disk is stale:
		// a crash now would lose what was measured since the last good one.
		const head = " CHECKPOINT FAILED "
		items = append(items, m.st.warn.Render(head)+" "+m.st.bad.Render(fit(oneLine(s.CheckpointError), max(w-width(head)-1, 0))))
	}
	if s.MetricsError != "" {
		// The run and its results are fine; the live metrics are not
		// reaching their receiver.
		const head = " METRICS PUSH FAILED "
		items = append(items, m.st.warn.Render(head)+" "+m.st.bad.Render(fit(oneLine(s.MetricsError), max(w-width(head)-1, 0))))
	}
	return flow(items, "   ", w)
}

// tableColumns are the percentiles of the series table, four of
// results.Reported: room for the last second and the whole run side by side.
var tableColumns = [...]results.Percentile{50, 95, 99, 99.9}

// table lists the series with their percentiles, in h lines.
func (m *model) table(w, h int, wide bool) []string {
	const cnt, rte, errc, pc = 9, 10, 8, 8
	fixed := 2 + cnt + rte + errc + len(tableColumns)*pc
	nameW := w - fixed
	statusW := 0
	if wide {
		fixed += 2 + len(tableColumns)*pc + 2
		nameW = min(max((w-fixed)/2, 20), 44)
		statusW = w - fixed - nameW
	}
	pcts := func(p results.Percentiles) string {
		var b strings.Builder
		for _, q := range tableColumns {
			b.WriteString(right(fmtLatency(p.Of(q)), pc))
		}
		return b.String()
	}
	what := "requests"
	if len(m.snap.Flows) > 0 {
		// Flows count iterations, timed from the arrival's intended
		// time to the end of their last step (docs/metrics.md).
		what = "requests and flows"
	}
	title := what + " · latency percentiles of the last second"
	if wide {
		title = what + " · latency percentiles"
	}
	lines := []string{m.rule(title, w)}
	lb := m.st.label.Render
	if wide {
		pre := 2 + nameW + cnt + rte + errc
		lines = append(lines, strings.Repeat(" ", pre)+
			lb(right("─── last second ───", len(tableColumns)*pc)+"  "+right("──── whole run ────", len(tableColumns)*pc)))
	}
	var colHead string
	for _, q := range tableColumns {
		colHead += right(q.String(), pc)
	}
	head := "  " + fit("request", nameW) + right("count", cnt) + right("rate/s", rte) + right("err%", errc) + colHead
	if wide {
		head += "  " + colHead + "  " + fit("status codes", statusW)
	}
	lines = append(lines, lb(head))

	rows := m.rows()
	room := h - len(lines)
	first, last := 0, len(rows)
	more := 0
	if len(rows) > room {
		// Keep the selected row in view, and say how many are hidden.
		sel := 0
		for i, r := range rows {
			if r.Key() == m.sel {
				sel = i
			}
		}
		n := max(room-1, 1)
		first = min(max(sel-n/2, 0), max(len(rows)-n, 0))
		last = min(first+n, len(rows))
		more = len(rows) - (last - first)
	}
	selKey := ""
	if s := m.selected(); s != nil {
		selKey = s.Key()
	}
	for _, r := range rows[first:last] {
		marker, name := "  ", format.Clean(r.Key())
		if r.Group != "" {
			name = "  ↳ " + format.Clean(r.Group) // listed under its request
		}
		if r.Key() == selKey {
			marker = m.st.sel.Render("▸ ")
			name = m.st.sel.Render(name)
		}
		errs := fmtPercent(r.Errors, r.Requests)
		if r.Errors > 0 {
			errs = m.st.bad.Render(errs)
		}
		iv := r.Interval
		if r.Group != "" {
			iv = results.Percentiles{}
		}
		line := marker + fit(name, nameW) + right(format.Count(r.Requests), cnt) + right(format.Number(m.rate(r)), rte) +
			right(errs, errc) + pcts(iv)
		if wide {
			line += "  " + pcts(r.Cumulative) + "  " + fit(statusCodes(r.Status), statusW)
		}
		lines = append(lines, line)
	}
	if more > 0 {
		lines = append(lines, lb(fmt.Sprintf("  … %d more (tab or ↑↓ to scroll)", more)))
	}
	return lines
}

// statusCodes formats counts by status code, most frequent first.
func statusCodes(st map[int]uint64) string {
	codes := make([]int, 0, len(st))
	for c := range st {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if st[codes[i]] != st[codes[j]] {
			return st[codes[i]] > st[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = strconv.Itoa(c) + "×" + format.Count(st[c])
	}
	return strings.Join(parts, " ")
}

// charts draws the latency-over-time chart with the throughput under it on
// the left, and the percentile bars of the selected request on the right.
func (m *model) charts(w, h int) []string {
	rw := 0
	if w >= 70 {
		rw = min(max(w/3, 30), 50)
	}
	lw := w - rw
	if rw > 0 {
		lw-- // gap
	}
	left := m.latencyChart(lw, h)
	if rw == 0 {
		return left
	}
	rightPanel := m.percentileBars(rw, h)
	out := make([]string, h)
	for i := range out {
		l, r := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(rightPanel) {
			r = rightPanel[i]
		}
		out[i] = fit(l, lw) + " " + fit(r, rw)
	}
	return out
}

func (m *model) latencyChart(w, h int) []string {
	sel := m.selected()
	if sel == nil {
		return nil
	}
	const yl = 7 // y-axis label width
	pw := w - yl - 1
	rateH := 2
	ph := h - 2 - rateH // title and x axis
	if ph < 3 {
		rateH, ph = 0, h-2
	}
	if pw < 4 || ph < 2 {
		return nil
	}
	pts := m.hist[sel.Key()].last(2 * pw)
	what := "per second"
	if sel.Group != "" {
		what = "whole run"
	}
	legend := m.st.p50.Render("⣀ p50") + " " + m.st.p99.Render("⣀ p99")
	if rateH > 0 {
		legend += " " + m.st.bars.Render("▆ rate")
	}
	key := format.Clean(sel.Key())
	title := "latency over time · " + key + " · " + what + "  " + legend
	if width(title)+4 > w {
		title = "latency · " + key + "  " + legend
	}
	lines := []string{m.rule(title, w)}
	// Few points are stretched over the width; once there are more than
	// dot columns the chart scrolls.
	dw := 2 * pw
	xs := make([]int, len(pts))
	for i := range pts {
		xs[i] = i
		if len(pts) > 1 && len(pts) < dw {
			xs[i] = i * (dw - 1) / (len(pts) - 1)
		}
	}

	p50 := make([]float64, len(pts))
	p99 := make([]float64, len(pts))
	topLat := 0.0
	for i, p := range pts {
		p50[i], p99[i] = p.p50, p.p99
		topLat = math.Max(topLat, p.p99)
	}
	topLat = niceCeil(topLat)
	c := newCanvas(pw, ph)
	c.plot(xs, p50, topLat, 0)
	c.plot(xs, p99, topLat, 1)
	plot := c.rows([]style{m.st.p50, m.st.p99})
	lb := m.st.label.Render
	for r, row := range plot {
		label, axis := "", "│"
		switch {
		case r == 0:
			label, axis = fmtLatency(time.Duration(topLat*float64(time.Microsecond))), "┤"
		case r == ph-1:
			label, axis = "0", "┤"
		case ph >= 5 && r == ph/2 && ph%2 == 1:
			label, axis = fmtLatency(time.Duration(topLat/2*float64(time.Microsecond))), "┤"
		}
		if topLat == 0 && r == 0 {
			label = ""
		}
		lines = append(lines, lb(right(label, yl)+axis)+row)
	}
	span := ""
	if len(pts) > 1 {
		span = "-" + fmtClock(pts[len(pts)-1].elapsed-pts[0].elapsed) + " "
	}
	span = " " + span
	axis := span + strings.Repeat("─", max(pw-width(span)-4, 0)) + " now"
	lines = append(lines, lb(strings.Repeat(" ", yl)+"└"+axis))
	if rateH > 0 {
		// One bar per cell: the highest rate of the points drawn in it; a
		// cell between stretched points repeats the one before.
		var rates []float64
		topRate := 0.0
		if len(pts) > 0 {
			rates = make([]float64, xs[len(xs)-1]/2+1)
			filled := make([]bool, len(rates))
			for i, p := range pts {
				col := xs[i] / 2
				if !filled[col] || p.rate > rates[col] {
					rates[col] = p.rate
				}
				filled[col] = true
				topRate = math.Max(topRate, math.Max(p.rate, p.target))
			}
			for col := 1; col < len(rates); col++ {
				if !filled[col] {
					rates[col] = rates[col-1]
				}
			}
		}
		topRate = niceCeil(topRate * 1.05) // headroom shows dips and peaks
		bars := columns(rates, topRate, rateH)
		for r, row := range bars {
			label := ""
			if r == 0 {
				label = fmtAxisRate(topRate) + "/s"
			}
			lines = append(lines, lb(right(label, yl)+"│")+m.st.bars.Render(row))
		}
	}
	return lines
}

// percentileBars draws the whole-run percentiles of the selected request as
// bars on a log scale (tails are often 100× the median), then its status
// codes.
func (m *model) percentileBars(w, h int) []string {
	sel := m.selected()
	if sel == nil {
		return nil
	}
	title := format.Clean(sel.Key()) + " · whole run, log scale"
	if width(title)+4 > w {
		title = format.Clean(sel.Key()) + " · log scale"
	}
	lines := []string{m.rule(title, w)}
	p := sel.Cumulative
	type item struct {
		name string
		v    time.Duration
		tail bool // drawn in the tail's colour
	}
	var items []item
	for i, q := range results.Reported() {
		items = append(items, item{q.String(), p.At[i], q > 90})
	}
	items = append(items, item{"max", p.Max, true})
	lo, hi := math.Inf(1), 0.0
	for _, it := range items {
		if v := float64(it.v); v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	lo /= 2 // the smallest bar is not empty
	labelW := len("mean") + 2
	for _, it := range items {
		labelW = max(labelW, len(it.name)+1)
	}
	barW := w - labelW - 8
	for _, it := range items {
		frac := 0.0
		if it.v > 0 && hi > lo {
			frac = math.Log(float64(it.v)/lo) / math.Log(hi/lo)
		}
		st := m.st.p50
		if it.tail {
			st = m.st.p99
		}
		lines = append(lines, m.st.label.Render(fit(it.name, labelW))+st.Render(fit(hbar(frac, barW), barW))+right(fmtLatency(it.v), 8))
	}
	lines = append(lines, m.st.label.Render(fit("mean", labelW))+strings.Repeat(" ", barW)+right(fmtLatency(p.Mean), 8))
	if codes := statusCodes(sel.Status); codes != "" {
		lines = append(lines, flow(append([]string{m.st.label.Render("status")}, strings.Fields(codes)...), " ", w)...)
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	return lines
}

// errors lists the error kinds seen so far, most frequent first, in h lines.
func (m *model) errors(w, h int) []string {
	errs := m.snap.Errors
	if len(errs) == 0 {
		return []string{m.rule("errors: none", w)}
	}
	var total uint64
	for _, e := range errs {
		total += e.Count
	}
	kinds := "kinds"
	if len(errs) == 1 {
		kinds = "kind"
	}
	lines := []string{m.rule(fmt.Sprintf("errors: %s in %d %s", format.Count(total), len(errs), kinds), w)}
	n := min(len(errs), h-1)
	if n < len(errs) && n > 0 {
		n-- // room for the "more" line
	}
	for _, e := range errs[:n] {
		kindW := min(24, max(w/4, 12))
		lines = append(lines, m.st.bad.Render(right(format.Count(e.Count), 10))+"  "+fit(e.Kind, kindW)+"  "+
			m.st.label.Render(fit(oneLine(e.Message), max(w-14-kindW, 0))))
	}
	if n < len(errs) && h > 1 {
		lines = append(lines, m.st.label.Render(fmt.Sprintf("  … %d more kinds", len(errs)-n)))
	}
	return lines
}

// oneLine keeps an error message on one line.
func oneLine(s string) string { return format.Clean(s) }

func (m *model) footer(w int) []string {
	lb := m.st.label.Render
	keys := lb("q") + " stop  " + lb("tab/↑↓") + " select  " + lb("?") + " help"
	if m.help {
		keys = lb("?/esc") + " close help  " + lb("q") + " stop"
	}
	status := ""
	switch {
	case m.snap != nil && m.snap.Done:
		status = "finished: writing results"
	case m.stopping:
		n := int64(0)
		if m.snap != nil {
			n = m.snap.InFlight
		}
		status = m.st.warn.Render(fmt.Sprintf(" stopping: waiting for %d in flight · q again to close ", n))
	}
	return []string{spread(keys, status, w)}
}
