package results

import (
	"bytes"
	"errors"
	"fmt"
)

// sniffResults refuses, with what it looks like instead, a file that is
// not a results file at all: a scenario, an HdrHistogram log, a CSV. A JSON
// parser's "invalid character 't' in literal true" says nothing useful
// about a YAML file given to 'tailgate report'.
func sniffResults(data []byte) error {
	head := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	switch {
	case len(head) == 0:
		return errors.New("not a tailgate results file: the file is empty")
	case head[0] == '{':
		return nil
	case bytes.HasPrefix(head, []byte("#[")) || bytes.HasPrefix(head, []byte("Tag=")):
		return errors.New("not a tailgate results file: it looks like an HdrHistogram interval log")
	case looksLikeScenario(head):
		return errors.New("not a tailgate results file: it looks like a scenario (YAML); run it with 'tailgate run'")
	}
	return fmt.Errorf("not a tailgate results file: it is not a JSON object (it starts with %q)", clipBytes(head, 12))
}

// looksLikeScenario reports a YAML document with a scenario's keys.
func looksLikeScenario(b []byte) bool {
	for _, key := range []string{"target:", "requests:", "flows:", "load:"} {
		if bytes.HasPrefix(b, []byte(key)) || bytes.Contains(b, []byte("\n"+key)) {
			return true
		}
	}
	return false
}

func clipBytes(b []byte, n int) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i <= n {
		return string(bytes.TrimRight(b[:i], "\r"))
	}
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
