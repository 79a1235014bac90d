//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package local

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// mmapSink appends by copying into a shared memory mapping of the journal file: the
// pages are the kernel's page cache, so a line is with the operating system as soon
// as it is copied, and survives the process being killed, without a system call per
// line. The file is extended with fallocate ahead of the writes, so running out of
// disk space is an error from fallocate, never a fault on a mapped page. Between
// the last line and the end of the file are zeros until finish, which a reader takes
// for the end of the journal.
//
// Lines are copied under a mutex, so they land in order and a line is never complete
// while one before it is still being copied: a crash tears at most the lines being
// appended at that moment.
type mmapSink struct {
	f     *os.File
	mem   []byte // a reservation of address space: the file is mapped at its start
	mu    sync.Mutex
	end   int64 // bytes holding lines
	alloc int64 // file size
}

const (
	mmapReserve = 1 << 36  // 64 GiB of address space; only what the file holds is used
	mmapGrow    = 16 << 20 // the file grows by this much at a time
)

func newMmapSink(f *os.File, keep int64) (sink, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, mmapReserve, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	s := &mmapSink{f: f, mem: mem}
	// Probe fallocate, which not every file system has.
	if err := s.truncate(keep); err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return s, nil
}

// reserve makes the file at least n bytes long; the caller holds s.mu.
func (s *mmapSink) reserve(n int64) error {
	if n <= s.alloc {
		return nil
	}
	if n > int64(len(s.mem)) {
		return errors.New("the journal is full (64 GiB); persist the state to empty it")
	}
	size := min((n+mmapGrow-1)/mmapGrow*mmapGrow, int64(len(s.mem)))
	if err := unix.Fallocate(int(s.f.Fd()), 0, s.alloc, size-s.alloc); err != nil {
		return err
	}
	s.alloc = size
	return nil
}

func (s *mmapSink) append(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.end + int64(len(line))
	if err := s.reserve(end); err != nil {
		return err
	}
	copy(s.mem[s.end:end], line)
	s.end = end
	return nil
}

func (s *mmapSink) truncate(n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.f.Truncate(n); err != nil {
		return err
	}
	s.end, s.alloc = n, n
	return s.reserve(n + 1)
}

func (s *mmapSink) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.f.Truncate(s.end)
	if uerr := unix.Munmap(s.mem); err == nil {
		err = uerr
	}
	s.mem = nil
	return err
}
