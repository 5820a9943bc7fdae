package loadgen

import (
	"testing"
	"time"
)

// BenchmarkTimerfdArm measures arming the fine timer 200µs ahead, what the
// scheduler does once per wake-up: on a virtual machine a near expiry
// reprograms the CPU's timer through the hypervisor (docs/design.md).
func BenchmarkTimerfdArm(b *testing.B) {
	f, err := newFineTimer()
	if err != nil {
		b.Fatal(err)
	}
	defer f.close()
	for b.Loop() {
		if err := f.wakeAfter(200 * time.Microsecond); err != nil {
			b.Fatal(err)
		}
	}
}
