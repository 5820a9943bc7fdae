//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package loadgen

import (
	"syscall"
	"time"
)

// cpuUse is processor time used by the process.
type cpuUse struct{ user, system time.Duration }

// processCPU returns the user and system time the process has used so
// far, recorded in the results so that a run can tell a saturated client
// from a slow target.
func processCPU() cpuUse {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuUse{}
	}
	return cpuUse{user: time.Duration(ru.Utime.Nano()), system: time.Duration(ru.Stime.Nano())}
}
