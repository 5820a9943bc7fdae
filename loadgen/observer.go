package loadgen

import "github.com/tailgate-dev/tailgate/results"

// Observer receives snapshots. Observe is called from the engine's collector
// goroutine and must return quickly: store the snapshot and draw elsewhere.
type Observer interface {
	Observe(s *results.Snapshot)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(*results.Snapshot)

// Observe implements Observer.
func (f ObserverFunc) Observe(s *results.Snapshot) { f(s) }
