//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package loadgen

import "time"

// cpuUse is processor time used by the process.
type cpuUse struct{ user, system time.Duration }

// processCPU reports no CPU time where getrusage is not available; the
// results then carry zero and no CPU diagnosis is made.
func processCPU() cpuUse { return cpuUse{} }
