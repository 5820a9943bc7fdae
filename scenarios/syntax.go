package scenarios

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// syntax turns a YAML syntax error ("yaml: line 3: …") into a positioned
// problem. The YAML library reports lines only, so the column is 1.
func (d *decoder) syntax(src []byte, err error) {
	line, msg := splitYAMLError(err)
	col := 1
	// The YAML library reports the line where the enclosing block began,
	// not the line that broke it. The shortest prefix of the file that
	// fails with the same message ends at the offending line.
	lines := strings.SplitAfter(string(src), "\n")
	if len(lines) <= 2000 && len(src) <= 64<<10 {
		for k := line; k <= len(lines); k++ {
			var n yaml.Node
			perr := yaml.Unmarshal([]byte(strings.Join(lines[:k], "")), &n)
			if perr == nil {
				continue
			}
			if _, m := splitYAMLError(perr); m == msg {
				line = k
				text := lines[k-1]
				col = len(text) - len(strings.TrimLeft(text, " \t")) + 1
			}
			break
		}
	}
	if lines := strings.SplitAfter(string(src), "\n"); line <= len(lines) && strings.Contains(leadingSpace(lines[line-1]), "\t") {
		d.p.add(line, 1, "YAML syntax: tabs are not allowed for indentation; indent with spaces")
		return
	}
	d.p.add(line, col, "YAML syntax: %s", msg)
}

func leadingSpace(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }

func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			fmt.Sscanf(rest[:i], "%d", &line)
			msg = rest[i+2:]
		}
	}
	return max(line, 1), msg
}
