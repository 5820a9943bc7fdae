package report_test

import (
	"fmt"
	"time"

	"github.com/tailgate-dev/tailgate/report"
)

func ExampleFormatDuration() {
	for _, d := range []time.Duration{850 * time.Microsecond, 4 * time.Millisecond, 12345 * time.Microsecond, 1500 * time.Millisecond} {
		fmt.Println(report.FormatDuration(d))
	}
	// Output:
	// 850µs
	// 4.00ms
	// 12.3ms
	// 1.50s
}
