// Command fabrica is infrastructure as code for AI datacenters.
package main

import (
	"os"

	"github.com/fabrica-iac/fabrica/cmd/fabrica/command"
)

func main() {
	// A built-in provider serves the plugin protocol before anything else runs.
	if code, ok := command.MaybeServe(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(command.Main(os.Args[1:], command.SystemStreams()))
}
