// Package live is the live terminal dashboard of a running load test. It is
// fed the engine's one-second interval snapshots through loadgen.Observer and
// redraws at a few frames per second from the latest one. Observing only
// stores a pointer, so a slow terminal drops frames, never requests.
package live

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tailgate-dev/tailgate/results"
)

// Option configures a Dashboard.
type Option func(*config)

// redrawEvery is the redraw period, 5 frames a second: snapshots arrive
// once a second, so faster redraws only cost CPU that the load generator
// needs, and slower ones make the clock stutter.
const redrawEvery = 200 * time.Millisecond

type config struct {
	refresh  time.Duration
	input    io.Reader
	inputSet bool
	output   io.Writer
	messages io.Writer
	environ  []string
}

// WithInput sets where keys are read from (default: the terminal on stdin).
// Nil disables keys.
func WithInput(r io.Reader) Option {
	return func(c *config) { c.input, c.inputSet = r, true }
}

// WithOutput sets the terminal the dashboard draws on (default: stdout).
func WithOutput(w io.Writer) Option { return func(c *config) { c.output = w } }

// WithMessages sets where the dashboard writes the one line it prints after
// it closes while the run is still draining (default: nowhere).
func WithMessages(w io.Writer) Option { return func(c *config) { c.messages = w } }

// WithEnvironment sets the environment used to detect the terminal's
// colour support (default: the process environment).
func WithEnvironment(env []string) Option { return func(c *config) { c.environ = env } }

// Dashboard shows a run in the terminal. Give it to the engine as an
// observer (loadgen.WithObserver) and call Run while the run goes.
type Dashboard struct {
	cfg    config
	info   planInfo
	stop   func()
	latest atomic.Pointer[results.Snapshot]
}

// New returns a dashboard for the run that plan (the metadata the run
// will have, e.g. loadgen.Plan.Meta) describes. stop is called when the user asks to end
// the run (q or Ctrl-C); the run should then drain and finish as usual.
func New(plan results.Meta, stop func(), opts ...Option) *Dashboard {
	d := &Dashboard{info: infoOf(plan), stop: stop}
	d.cfg = config{refresh: redrawEvery}
	for _, o := range opts {
		o(&d.cfg)
	}
	return d
}

// Observe implements loadgen.Observer. It only publishes the snapshot for the
// next frame, so it never blocks the engine; snapshots the screen had no time
// to draw are skipped.
func (d *Dashboard) Observe(s *results.Snapshot) { d.latest.Store(s) }

// Run shows the dashboard on the alternate screen until done is closed, and
// then restores the terminal. If the user closes the dashboard early (q
// twice) Run returns at once and the run goes on draining.
func (d *Dashboard) Run(done <-chan struct{}) error {
	m := newModel(d.info, d.latest.Load, d.stop, d.cfg)
	opts := []tea.ProgramOption{
		// The command's own signal handling stops the run gracefully; with
		// the terminal in raw mode Ctrl-C arrives here as a key instead.
		tea.WithoutSignalHandler(),
		tea.WithFPS(10), // frames change at most at the 5 Hz tick
	}
	if d.cfg.inputSet {
		opts = append(opts, tea.WithInput(d.cfg.input))
	}
	if d.cfg.output != nil {
		opts = append(opts, tea.WithOutput(d.cfg.output))
	}
	if d.cfg.environ != nil {
		opts = append(opts, tea.WithEnvironment(d.cfg.environ))
	}
	p := tea.NewProgram(m, opts...)
	exited := make(chan struct{})
	go func() {
		select {
		case <-done:
			p.Quit()
		case <-exited:
		}
	}()
	_, err := p.Run()
	close(exited)
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("dashboard: %w", err)
	}
	if m.leftEarly && d.cfg.messages != nil {
		select {
		case <-done:
		default:
			fmt.Fprintln(d.cfg.messages, "stopping: waiting for requests in flight")
		}
	}
	return nil
}

// planInfo is what the header shows before the first snapshot arrives.
type planInfo struct {
	name, target, profile string
	model                 results.Model
	planned               time.Duration
	vus                   int
}

func infoOf(m results.Meta) planInfo {
	return planInfo{
		name: m.Name, target: m.Target, profile: m.Profile,
		model: m.Model, planned: m.PlannedDuration.D(), vus: m.VUs,
	}
}
