//go:build !race

package demo

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
