package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback starts writing a range of f to disk without waiting for it.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE) // only a hint
}
