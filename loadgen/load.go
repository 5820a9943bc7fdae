package loadgen

import (
	"errors"
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// Load is the load of a run, in one form whichever way it was asked for: a
// scenario's load section decodes into it, the command line's load flags
// edit it, and a Plan carries it. It is the open model when Pacer is set
// (arrivals at planned instants, whatever the responses do) and the closed
// model otherwise (VUs, each starting its next iteration after the last).
// Open and Closed build the common cases.
type Load struct {
	// Pacer plans the arrivals of an open-model run. Nil means closed model.
	Pacer Pacer
	// VUs is the number of virtual users of a closed-model run.
	VUs int
	// Iterations bounds a closed-model run (0: bounded by Duration only).
	Iterations uint64
	// Duration bounds the measured part of a closed-model run, which runs
	// Warmup + Duration in all. Open-model runs take the pacer's.
	Duration time.Duration
	// Think is the pause of a closed-model VU between iterations.
	Think time.Duration
	// Warmup is the leading part of the run recorded separately and left out
	// of the summary: the first Warmup of an open-model pacer (SetWarmup
	// puts a warmup stage in front of the load), and time run before
	// Duration by a closed-model run. See warmup.go for the rule.
	Warmup time.Duration
	// Connections caps concurrent connections (and workers for HTTP/1.1).
	// For HTTP/2 it is the number of connections the run opens per
	// origin. Zero means DefaultConnections.
	Connections int
	// Streams is the number of concurrent HTTP/2 streams per connection
	// (h2load's -m). An open-model HTTP/2 run has Connections×Streams
	// workers; zero means 1. A closed-model run has one worker per VU,
	// and zero means as many streams as the VUs on a connection need.
	Streams int
	// MaxInFlight caps arrivals that are due but not finished (running or
	// waiting for a worker). Zero means 10×Connections.
	MaxInFlight int
	// Overload is the policy when MaxInFlight is reached.
	Overload Overload
}

// Overload says what the open-model scheduler does when MaxInFlight arrivals
// are already waiting or running.
type Overload string

const (
	// OverloadQueue waits for room; the wait shows up as send lag and latency.
	// Nothing is skipped. This is the default.
	OverloadQueue Overload = "queue"
	// OverloadDrop gives up on the arrival and counts it as dropped.
	OverloadDrop Overload = "drop"
)

// Open returns the open-model load whose arrivals p plans, e.g.
// Open(ConstantPacer{PerSecond: 500, Length: 30 * time.Second}).
func Open(p Pacer) Load { return Load{Pacer: p} }

// Closed returns the closed-model load of vus virtual users looping for d.
func Closed(vus int, d time.Duration) Load { return Load{VUs: vus, Duration: d} }

// Model returns which model the load runs.
func (l *Load) Model() results.Model {
	if l.Pacer == nil {
		return results.ClosedModel
	}
	return results.OpenModel
}

// PlannedDuration is how long the run is planned to take, warmup included.
func (l *Load) PlannedDuration() time.Duration {
	if l.Pacer != nil {
		return l.Pacer.Duration()
	}
	if l.Duration == 0 {
		return 0
	}
	return l.Warmup + l.Duration
}

// Validate reports the first problem that would make the load fail to run.
func (l *Load) Validate() error {
	if l.Pacer == nil {
		if l.VUs <= 0 {
			return errors.New("closed model needs at least one VU")
		}
		if l.Duration <= 0 && l.Iterations == 0 {
			return errors.New("closed model needs a duration or an iteration count")
		}
	} else if l.Pacer.Count() == 0 {
		return fmt.Errorf("profile %s plans no arrivals", l.Pacer)
	}
	if l.Connections < 0 || l.MaxInFlight < 0 || l.Streams < 0 {
		return errors.New("connections, streams and max-in-flight must not be negative")
	}
	if l.Overload != "" && l.Overload != OverloadQueue && l.Overload != OverloadDrop {
		return fmt.Errorf("overload policy %q: use queue or drop", l.Overload)
	}
	return nil
}
