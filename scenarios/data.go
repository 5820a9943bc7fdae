package scenarios

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/tailgate-dev/tailgate/results"
)

// feedMode says which row of a data feed an iteration gets.
type feedMode uint8

const (
	// modeSequential gives iteration k row k mod rows: deterministic per
	// arrival, so shards of one plan read the same rows as one process.
	modeSequential feedMode = iota
	// modeRandom gives a random row.
	modeRandom
	// modeUnique gives iteration k row k and fails the iteration when the
	// rows run out, for data that must not be reused (sign-ups).
	modeUnique
)

// maxFeedRows and maxFeedBytes bound a data file; feeds are loaded into
// memory.
const (
	maxFeedRows  = 1_000_000
	maxFeedBytes = 256 << 20
)

type feed struct {
	name    string
	pos     Pos
	file    string
	mode    feedMode
	columns []string
	rows    [][]string
}

func (d *decoder) feeds(n *yaml.Node) []*feed {
	var out []*feed
	d.fields(n, "data", nil, func(name string, k, v *yaml.Node) {
		if !isIdent(name) {
			d.errf(k, "data feed name %q: use letters, digits and _", name)
			return
		}
		f := &feed{name: name, pos: d.pos(k)}
		var fileNode *yaml.Node
		if v.Kind == yaml.ScalarNode {
			fileNode = v
		} else {
			d.fields(v, fmt.Sprintf("data feed %q", name), []string{"file", "mode"}, func(key string, kk, vv *yaml.Node) {
				switch key {
				case "file":
					fileNode = vv
				case "mode":
					if m, ok := d.str(key, vv); ok {
						switch m {
						case "sequential":
							f.mode = modeSequential
						case "random":
							f.mode = modeRandom
						case "unique":
							f.mode = modeUnique
						default:
							d.errf(vv, "mode: %q: use sequential, random or unique%s", m, suggest(m, []string{"sequential", "random", "unique"}))
						}
					}
				}
			})
			if v.Kind == yaml.MappingNode && fileNode == nil {
				d.errf(k, "data feed %q: no file", name)
				return
			}
		}
		if fileNode == nil {
			return
		}
		p, ok := d.str("file", fileNode)
		if !ok {
			return
		}
		f.file = p
		if err := f.read(d, p); err != nil {
			d.errf(fileNode, "data feed %q: %v", name, err)
			d.unsure = true
			return
		}
		out = append(out, f)
	})
	return out
}

// read loads a CSV file with a header row. Its errors name lines and
// columns but never quote the file: a scenario must not be able to show
// the contents of a file it was not meant to read.
func (f *feed) read(d *decoder, p string) error {
	fh, _, real, err := d.openConfined(p, maxFeedBytes)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", f.file, err)
	}
	defer fh.Close()
	r := csv.NewReader(results.LimitInput(fh, real, maxFeedBytes))
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is empty; want a header row and at least one data row", f.file)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.file, csvErr(err))
	}
	seen := map[string]int{}
	for i, c := range header {
		if !isIdent(c) {
			return fmt.Errorf("%s: the name of column %d is not letters, digits and _ (the header row names the columns, written {{ .name }} in templates)", f.file, i+1)
		}
		if j, dup := seen[c]; dup {
			return fmt.Errorf("%s: columns %d and %d have the same name", f.file, j+1, i+1)
		}
		seen[c] = i
	}
	f.columns = header
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.file, csvErr(err))
		}
		if len(f.rows) >= maxFeedRows {
			return fmt.Errorf("%s: more than %d rows", f.file, maxFeedRows)
		}
		f.rows = append(f.rows, rec)
	}
	if len(f.rows) == 0 {
		return fmt.Errorf("%s has a header row but no data rows", f.file)
	}
	return nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	if errors.Is(err, results.ErrTooLarge) {
		return fmt.Errorf("more than %d MiB; a data feed is held in memory", maxFeedBytes>>20)
	}
	return err
}
