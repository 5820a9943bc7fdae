//go:build !linux

package loadgen

import "errors"

// newFineTimer reports that this platform has no fine timer; the waiter
// then uses time.Timer alone.
func newFineTimer() (fineTimer, error) {
	return nil, errors.New("no fine timer on this platform")
}
