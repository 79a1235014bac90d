package local

import (
	"os"
	"sync"
)

// sink stores the journal's lines in order.
type sink interface {
	// append stores line after the lines before it and returns once it is with the
	// operating system, so it survives the process being killed. It is safe for
	// concurrent use.
	append(line []byte) error
	// truncate cuts the file to n bytes. No append runs meanwhile.
	truncate(n int64) error
	// finish leaves the file holding exactly the lines appended. No append runs
	// meanwhile or afterwards.
	finish() error
}

// fileSink appends with write(2). Concurrent appends share writes (group commit):
// the first goroutine to find no write in progress writes every line gathered so far,
// and the others wait for it.
type fileSink struct {
	f       *os.File // opened with O_APPEND
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte // lines not yet written
	spare   []byte
	seq     uint64 // lines added to buf
	written uint64 // lines written
	writing bool   // a goroutine is writing
	err     error
}

func newFileSink(f *os.File) *fileSink {
	s := &fileSink{f: f}
	s.cond.L = &s.mu
	return s
}

func (s *fileSink) append(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.buf = append(s.buf, line...)
	s.seq++
	mine := s.seq
	for s.written < mine && s.err == nil {
		if s.writing {
			s.cond.Wait()
			continue
		}
		s.writing = true
		data, upto := s.buf, s.seq
		s.buf = s.spare[:0]
		s.mu.Unlock()
		_, err := s.f.Write(data)
		s.mu.Lock()
		s.spare = data
		s.writing = false
		if err != nil {
			s.err = err
		} else {
			s.written = upto
		}
		s.cond.Broadcast()
	}
	return s.err
}

func (s *fileSink) truncate(n int64) error { return s.f.Truncate(n) }

func (s *fileSink) finish() error { return nil }
