package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-dev/tailgate/results"
)

// TestLoad: the two models as Open and Closed build them, and what Validate
// refuses before a run starts.
func TestLoad(t *testing.T) {
	constant := ConstantPacer{PerSecond: 10, Length: 2 * time.Second}
	warm := Closed(4, 10*time.Second)
	warm.Warmup = 3 * time.Second
	for _, tt := range []struct {
		name    string
		load    Load
		model   results.Model
		planned time.Duration
		err     string
	}{
		{"open", Open(constant), results.OpenModel, 2 * time.Second, ""},
		{"closed", Closed(4, 10*time.Second), results.ClosedModel, 10 * time.Second, ""},
		{"closed with warmup", warm, results.ClosedModel, 13 * time.Second, ""},
		{"closed by iterations", Load{VUs: 2, Iterations: 100}, results.ClosedModel, 0, ""},
		{"no VUs", Closed(0, time.Second), results.ClosedModel, time.Second, "at least one VU"},
		{"closed without end", Closed(3, 0), results.ClosedModel, 0, "duration or an iteration count"},
		{"no arrivals", Open(ConstantPacer{PerSecond: 10}), results.OpenModel, 0, "plans no arrivals"},
		{"negative cap", Load{Pacer: constant, MaxInFlight: -1}, results.OpenModel, 2 * time.Second, "must not be negative"},
		{"overload", Load{Pacer: constant, Overload: "shed"}, results.OpenModel, 2 * time.Second, "use queue or drop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if m := tt.load.Model(); m != tt.model {
				t.Errorf("model %s, want %s", m, tt.model)
			}
			if d := tt.load.PlannedDuration(); d != tt.planned {
				t.Errorf("planned %v, want %v", d, tt.planned)
			}
			err := tt.load.Validate()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}
