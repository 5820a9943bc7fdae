package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// WriteFile writes the result to path by the rule of Output: a regular
// file (or a missing path) is replaced atomically, so a reader never sees
// a half-written file; a symbolic link's target is; a device or a named
// pipe is written straight through.
func (r *Result) WriteFile(path string) error {
	var w resultWriter
	return w.writeFile(r, path)
}

// ReadResultFile reads and decodes a results file; errors name the file.
// Only a regular file of at most MaxResultFileSize bytes is read (see
// OpenInput), and one that does not start as JSON is refused from its
// first bytes.
func ReadResultFile(path string) (*Result, error) {
	f, size, err := OpenInput(path, MaxResultFileSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head [4096]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, bareError(err))
	}
	if n == len(head) {
		if err := sniffJSON(head[:n]); err != nil {
			return nil, inFile(path, err)
		}
	}
	data, err := ReadOpenedInput(io.MultiReader(bytes.NewReader(head[:n]), f), path, size, MaxResultFileSize)
	if err != nil {
		return nil, err
	}
	r, err := decodeResult(data)
	if err != nil {
		return nil, inFile(path, err)
	}
	return r, nil
}

// inFile names the file err is about: "file:line:col: msg" for an error at
// a position, "file: msg" otherwise. Only err itself counts: a position
// wrapped in more text is not where the message starts.
func inFile(path string, err error) error {
	if _, ok := err.(*posError); ok {
		return fmt.Errorf("%s:%w", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
