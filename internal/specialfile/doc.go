// Package specialfile makes the special files that tests of tailgate's file
// input and output need, inside a test's temporary directory: a named pipe
// and a character device node. Tests never touch the machine's own /dev.
package specialfile
