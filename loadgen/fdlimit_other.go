//go:build !unix

package loadgen

// ensureDescriptors has nothing to check where there is no RLIMIT_NOFILE.
func ensureDescriptors(int) error { return nil }
