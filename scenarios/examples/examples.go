// Package examples embeds the example scenarios shipped with tailgate, so a
// command can run one (tailgate demo runs the labs' scenarios) from any
// working directory, without the source tree.
package examples

import "embed"

// FS holds the example scenario files and their data files.
//
//go:embed *.yaml *.csv
var FS embed.FS

// Dir is the examples' directory in the repository, used to name a file in
// messages and results.
const Dir = "scenarios/examples/"

// PaginationPath is the path of the pagination example in the repository.
const PaginationPath = Dir + "pagination.yaml"

// Read returns the example file named name (e.g. "cache.yaml").
func Read(name string) ([]byte, error) {
	return FS.ReadFile(name)
}
