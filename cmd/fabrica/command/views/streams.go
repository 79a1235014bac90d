// Package views renders what commands show: diagnostics, validation summaries and JSON
// documents. Renderers write to injected streams, never to os.Stdout, so tests can read
// them.
package views

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Streams are a command's input and output, and whether colour may be used on them.
type Streams struct {
	In    io.Reader
	Out   io.Writer
	Err   io.Writer
	Color bool
	Env   []string
	Getwd func() (string, error)
}

// System returns the process's real streams; colour only on a terminal and never with
// NO_COLOR set.
func System() *Streams {
	color := isatty.IsTerminal(os.Stdout.Fd()) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Color: color, Env: os.Environ()}
}

// Test returns streams backed by buffers, for tests.
func Test() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	out, errb := &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: &bytes.Buffer{}, Out: out, Err: errb}, out, errb
}
