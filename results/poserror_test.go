package results

import (
	"errors"
	"fmt"
	"testing"
)

// TestInFileNamesTheFile: a file's name goes before an error's position,
// or before its message when it has none, whatever the message starts with.
func TestInFileNamesTheFile(t *testing.T) {
	at := &posError{line: 3, col: 14, err: errors.New("invalid character 'x'")}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{at, "r.json:3:14: invalid character 'x'"},
		{errors.New("2 shards disagree"), "r.json: 2 shards disagree"},
		{fmt.Errorf("results: %w", at), "r.json: results: 3:14: invalid character 'x'"},
	} {
		if got := inFile("r.json", tt.err).Error(); got != tt.want {
			t.Errorf("inFile(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
