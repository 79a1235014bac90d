// Package atomicfile replaces files so that neither a reader nor a crash ever sees part
// of one: state files, plan files, the sim world, job files, formatted sources. It is
// renameio's pending file (a temporary file in the same directory, synced, then renamed
// over the target) plus the directory sync that makes the rename itself durable.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// Write replaces path with what fill writes to the new file (a temporary file until it
// replaces path), with permissions mode.
func Write(path string, mode fs.FileMode, fill func(*os.File) error) error {
	return WriteKeeping(path, mode, fill, nil)
}

// WriteBytes replaces path with data, with permissions mode.
func WriteBytes(path string, mode fs.FileMode, data []byte) error {
	return Write(path, mode, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteKeeping is Write with keep, when not nil, run once the new content is durable and
// before it replaces the old: the local state backend links the old file to its backup
// there. An error from keep leaves the old file in place.
func WriteKeeping(path string, mode fs.FileMode, fill func(*os.File) error, keep func() error) (err error) {
	dir := filepath.Dir(path)
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(mode))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Cleanup()
		}
	}()
	if err = fill(f.File); err != nil {
		return err
	}
	if keep != nil {
		if err = f.Sync(); err != nil {
			return err
		}
		if err = keep(); err != nil {
			return err
		}
	}
	if err = f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes a rename or removal in dir durable. File systems that cannot sync a
// directory (EINVAL) need not.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// FlushingWriter writes to a file and asks the kernel to start writing it to disk
// every few megabytes, so that the final sync has little left to wait for (a 100 MB
// plan file's took 0.2 s).
type FlushingWriter struct {
	f       *os.File
	off     int64 // bytes written
	flushed int64 // bytes whose writeback was started
}

// NewFlushingWriter returns a FlushingWriter that writes to f, which is empty.
func NewFlushingWriter(f *os.File) *FlushingWriter { return &FlushingWriter{f: f} }

const flushEvery = 8 << 20

func (w *FlushingWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= flushEvery {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}
