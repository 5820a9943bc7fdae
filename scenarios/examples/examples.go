// Package examples embeds the example scenarios shipped with tailgate, so a
// command can run one (tailgate demo runs pagination.yaml) from any working
// directory, without the source tree.
package examples

import "embed"

// FS holds the example scenario files and their data files.
//
//go:embed *.yaml *.csv
var FS embed.FS

// PaginationPath is the path of the pagination example in the repository,
// used to name it in messages and results.
const PaginationPath = "scenarios/examples/pagination.yaml"

// Pagination returns the pagination example: offset vs cursor pagination at
// page depths 1 to 10000 against the demo target.
func Pagination() ([]byte, error) {
	return FS.ReadFile("pagination.yaml")
}
