//go:build race

package kubernetes_test

// raceEnabled is true under the race detector, whose slowdown makes the
// per-second counts of the simulation the machine's, not the schedule's.
const raceEnabled = true
