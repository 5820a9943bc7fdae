// Package lint holds repository-wide checks that run as tests: rules of this
// codebase that the compiler and go vet do not enforce.
package lint
