//go:build unix

package loadgen

import (
	"strings"
	"testing"
)

func TestDescriptorsFit(t *testing.T) {
	for _, tc := range []struct {
		conns     int
		need, max uint64
		fits      bool
	}{
		{50, 114, 1024, true},
		{960, 1024, 1024, true},
		{961, 1025, 1024, false},
		{10000, 10064, 1 << 20, true},
	} {
		err := descriptorsFit(tc.conns, tc.need, tc.max)
		if (err == nil) != tc.fits {
			t.Errorf("descriptorsFit(%d, %d, %d) = %v, want fits=%v", tc.conns, tc.need, tc.max, err, tc.fits)
		}
		if err != nil && !strings.Contains(err.Error(), "RLIMIT_NOFILE hard limit 1024") {
			t.Errorf("the error does not name the limit: %v", err)
		}
	}
}
