//go:build !linux

package atomicfile

import "os"

// startWriteback does nothing where sync_file_range does not exist; fsync does it all.
func startWriteback(f *os.File, off, n int64) {}
