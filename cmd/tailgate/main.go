// Command tailgate is a load generator that reports honest latency
// percentiles. See 'tailgate --help'.
package main

import (
	"os"

	"github.com/tailgate-dev/tailgate/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], cli.OSEnv())) }
