package format_test

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/internal/format"
)

func ExampleDuration() {
	for _, d := range []time.Duration{850 * time.Microsecond, 4 * time.Millisecond, 12345 * time.Microsecond, 999700 * time.Microsecond} {
		fmt.Println(format.Duration(d))
	}
	// Output:
	// 850µs
	// 4.00ms
	// 12.3ms
	// 1.00s
}

func ExampleRate() {
	fmt.Println(format.Rate(100.0/60), format.RateSpec(100.0/60), format.Percent(0.004))
	// Output: 1.67/s 100/m 0.40%
}
