//go:build !linux || !(amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package local

import (
	"errors"
	"os"
)

// newMmapSink is available on 64-bit Linux only; elsewhere the journal uses write(2).
func newMmapSink(f *os.File) (sink, error) {
	return nil, errors.New("no mmap journal on this platform")
}
