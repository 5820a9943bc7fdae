//go:build !unix

package results

// writable is not checked where access(2) is missing: the write itself
// reports the error.
func writable(string) error { return nil }

// lockFile takes no lock where flock(2) is missing.
func lockFile(string, string, string) (*Lock, error) { return nil, nil }
