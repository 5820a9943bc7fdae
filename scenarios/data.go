package scenarios

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
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

// maxFeedRows bounds a data file; feeds are loaded into memory.
const maxFeedRows = 1_000_000

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
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(d.dir, p)
		}
		if err := f.read(full); err != nil {
			d.errf(fileNode, "data feed %q: %v", name, err)
			d.unsure = true
			return
		}
		out = append(out, f)
	})
	return out
}

// read loads a CSV file with a header row.
func (f *feed) read(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", f.file, unwrapPathError(err))
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err != nil {
		return fmt.Errorf("cannot read %s: %w", f.file, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot read %s: not a regular file", f.file)
	}
	r := csv.NewReader(io.LimitReader(fh, 256<<20))
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is empty; want a header row and at least one data row", f.file)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.file, csvErr(err))
	}
	seen := map[string]bool{}
	for i, c := range header {
		if !isIdent(c) {
			return fmt.Errorf("%s: column %d name %q: use letters, digits and _ (it is written {{ .%s }} in templates)", f.file, i+1, c, "name")
		}
		if seen[c] {
			return fmt.Errorf("%s: column %q appears twice", f.file, c)
		}
		seen[c] = true
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
	return err
}
