package live

import (
	"github.com/charmbracelet/x/ansi"

	tea "charm.land/bubbletea/v2"

	"github.com/tailgate-dev/tailgate/results"
)

// Frame renders the screen the dashboard shows after the given snapshots
// of a run, in order, at width×height and without colours. It runs the
// dashboard's own model, tick by tick, so what it returns is what the
// terminal would show. Tests use it to check a frame's figures against the
// other outputs, and a program embedding the engine can log a run's state
// with it.
func Frame(plan results.Meta, snaps []*results.Snapshot, width, height int) string {
	var cur *results.Snapshot
	m := newModel(infoOf(plan), func() *results.Snapshot { return cur }, func() {}, config{refresh: redrawEvery})
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	for _, s := range snaps {
		cur = s
		m.Update(tickMsg(s.Time))
	}
	return ansi.Strip(m.View().Content)
}
