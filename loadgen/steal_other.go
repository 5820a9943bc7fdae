//go:build !linux

package loadgen

// procStealReader returns nil: steal time is read from Linux's /proc/stat,
// and elsewhere the results carry none.
func procStealReader() func() (stealClock, error) { return nil }
