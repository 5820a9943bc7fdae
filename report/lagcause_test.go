package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/report"
	"github.com/tailgate-dev/tailgate/results"
)

// The behind-schedule warning names the cause it can measure, with its
// figures, instead of blaming the client for a stalled target (issue 12
// item 8).
func TestLagCause(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *results.Result)
		want string
	}{
		{"max in flight", func(r *results.Result) {}, "--max-in-flight was reached (640 arrivals"},
		{"client CPU", func(r *results.Result) {
			r.Schedule.MaxInFlight = 10
			r.Meta.CPU = results.CPU{User: results.Duration(18 * time.Second), System: results.Duration(3 * time.Second)}
		}, "the client's CPU was saturated (21.0 CPU-s in 11s on 2 CPUs, 95.5% busy)"},
		{"slow target", func(r *results.Result) {
			// 1000 responses of 10ms over the 10s measured: one
			// connection busy all the time.
			r.Schedule.MaxInFlight = 10
			r.Meta.Connections = 1
			r.Total.Service, r.Total.FailedLatency = results.NewHistogram(), nil
			for i := 0; i < 1000; i++ {
				r.Total.Service.Record(10 * time.Millisecond)
			}
		}, "the target held every connection (1.00 of 1 busy on average: service time ≈ latency)"},
		{"none of these", func(r *results.Result) {
			r.Schedule.MaxInFlight = 10
		}, "Not the CPU (10.0% busy), --max-in-flight (peak 10 of 640) or the connections (0.732 of 64 busy)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture(t, "behind")
			tt.edit(r)
			if got := report.LagCause(r); !strings.Contains(got, tt.want) {
				t.Errorf("cause %q does not say %q", got, tt.want)
			}
		})
	}
}
