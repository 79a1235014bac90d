// Command fabrica is infrastructure as code for AI datacenters.
package main

import (
	"os"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command"
)

func main() {
	os.Exit(command.Main(os.Args[1:], command.SystemStreams()))
}
