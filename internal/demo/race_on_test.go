//go:build race

package demo

// raceEnabled is true when the tests run under the race detector, whose
// instrumentation of the transpiled SQLite slows queries a hundredfold.
const raceEnabled = true
