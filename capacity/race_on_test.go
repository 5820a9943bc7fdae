//go:build race

package capacity

// raceEnabled is true under the race detector, whose instrumentation
// slows the client several times over: a search then measures the client.
const raceEnabled = true
