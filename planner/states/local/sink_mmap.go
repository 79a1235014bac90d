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
	mmapReserve = 1 << 36 // 64 GiB of address space; only what the file holds is used
	// The file grows by what it already holds, from 256 KiB to 4 MiB at a time: a
	// small apply maps and later truncates little (populating and truncating 4 MiB
	// cost 7 and 8 ms here), a large one grows in few steps.
	mmapGrowMin = 256 << 10
	mmapGrow    = 4 << 20
)

// newMmapSink maps f. The journal then truncates it to where it appends.
func newMmapSink(f *os.File) (sink, error) {
	// Not every file system has fallocate: probe it without changing the file's size.
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, 1); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, mmapReserve, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &mmapSink{f: f, mem: mem}, nil
}

// reserve makes the file at least n bytes long; the caller holds s.mu.
func (s *mmapSink) reserve(n int64) error {
	if n <= s.alloc {
		return nil
	}
	if n > int64(len(s.mem)) {
		return errors.New("the journal is full (64 GiB); persist the state to empty it")
	}
	page := int64(os.Getpagesize())
	step := (min(max(s.alloc, mmapGrowMin), mmapGrow) + page - 1) &^ (page - 1) // whole pages, for madvise
	size := min((n+step-1)/step*step, int64(len(s.mem)))
	if err := unix.Fallocate(int(s.f.Fd()), 0, s.alloc, size-s.alloc); err != nil {
		return err
	}
	// Map the new pages now, in one call, rather than by a fault on each first write
	// (Linux 5.14 and later; older kernels fault them in as usual).
	_ = unix.Madvise(s.mem[s.alloc&^(page-1):size], unix.MADV_POPULATE_WRITE) // from a page boundary, or it fails
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
