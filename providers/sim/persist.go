package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
	"github.com/gofrs/flock"
)

// Journal operations.
const (
	opApply  = "apply"  // an Apply began; N is its number
	opPut    = "put"    // an object was created or changed
	opDelete = "delete" // an object was deleted
)

// journalEntry is one line of the journal.
type journalEntry struct {
	Op      string          `json:"op"`
	N       uint64          `json:"n,omitempty"`
	ID      string          `json:"id,omitempty"`
	Kind    string          `json:"kind,omitempty"`
	Address string          `json:"address,omitempty"`
	Attrs   providers.Attrs `json:"attrs,omitempty"`
}

// appendJSON appends the entry as one line of JSON, as encoding/json would, but without
// reflection or checking Attrs again.
func (e journalEntry) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"op":`...)
	dst = appendString(dst, e.Op)
	if e.N != 0 {
		dst = append(dst, `,"n":`...)
		dst = strconv.AppendUint(dst, e.N, 10)
	}
	for _, f := range [...]struct{ name, val string }{{"id", e.ID}, {"kind", e.Kind}, {"address", e.Address}} {
		if f.val != "" {
			dst = append(dst, ',', '"')
			dst = append(dst, f.name...)
			dst = append(dst, '"', ':')
			dst = appendString(dst, f.val)
		}
	}
	if len(e.Attrs) > 0 {
		dst = append(dst, `,"attrs":`...)
		dst = append(dst, e.Attrs...)
	}
	return append(dst, '}')
}

// journal appends entries to the journal file. Appends are committed in groups: the
// first caller to find no write in progress writes every line queued so far in one
// write, while the others wait for it; a caller returns once its line is written. So
// 100,000 changes cost far fewer than 100,000 system calls, and a process killed at
// any moment leaves every reported change on disk and at most one torn last line.
type journal struct {
	f *os.File

	mu      sync.Mutex
	cond    sync.Cond // signalled when a write ends
	pending []byte    // lines queued but not written
	spare   []byte    // the last written buffer, reused
	queued  uint64    // lines ever queued
	written uint64    // lines ever written
	writing bool
	err     error // the first write error; every later append fails with it
}

// openJournal starts an empty journal; the caller has folded any earlier one.
func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f}
	j.cond.L = &j.mu
	return j, nil
}

// append writes one entry, returning when it is in the file.
func (j *journal) append(e journalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pending = append(e.appendJSON(j.pending), '\n')
	j.queued++
	mine := j.queued
	for j.written < mine && j.err == nil {
		if j.writing {
			j.cond.Wait()
			continue
		}
		buf, upto := j.pending, j.queued
		j.pending, j.writing = j.spare[:0], true
		j.mu.Unlock()
		_, err := j.f.Write(buf)
		j.mu.Lock()
		j.spare, j.writing, j.written = buf, false, upto
		if err != nil {
			j.err = fmt.Errorf("writing %s: %w", j.f.Name(), err)
		}
		j.cond.Broadcast()
	}
	return j.err
}

func (j *journal) close() error { return j.f.Close() }

// lockWorld takes the exclusive lock of the world in dir, creating dir, waiting up to
// wait (or until ctx ends) while another process holds it; wait 0 tries once.
func lockWorld(ctx context.Context, dir string, wait time.Duration) (*flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lk := flock.New(filepath.Join(dir, lockName))
	ok, err := lk.TryLock()
	if !ok && err == nil && wait > 0 {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		ok, err = lk.TryLockContext(ctx, 20*time.Millisecond)
	}
	if ok {
		return lk, nil
	}
	lk.Close()
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("the sim world in %s is in use by another fabrica process (an apply?); try again when it has finished", dir)
	}
	return nil, fmt.Errorf("locking the sim world in %s: %w", dir, err)
}

// stamp identifies the versions of the world file and journal that were loaded, so a
// provider notices changes made by another process (fabrica sim drift) and reloads.
type stamp struct {
	world, journal fileStamp
}

// fileStamp identifies a version of a file. Size and modification time can repeat
// within the clock's granularity, so the world file's serial is compared too.
type fileStamp struct {
	exists bool
	size   int64
	mod    time.Time
	serial uint64
}

func stampOf(dir string) stamp {
	st := stamp{world: fileStampOf(filepath.Join(dir, worldName)), journal: fileStampOf(filepath.Join(dir, journalName))}
	if st.world.exists {
		st.world.serial = readSerial(filepath.Join(dir, worldName))
	}
	return st
}

// readSerial returns the serial at the head of a world file, or 0.
func readSerial(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var buf [128]byte
	n, _ := io.ReadFull(f, buf[:])
	head := buf[:n]
	_, rest, ok := bytes.Cut(head, []byte(`"serial":`))
	if !ok {
		return 0
	}
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0
	}
	serial, _ := strconv.ParseUint(string(bytes.TrimSpace(rest[:end])), 10, 64)
	return serial
}

func fileStampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fileStamp{exists: true, size: -1} // unreadable: never equal, so reload reports it
		}
		return fileStamp{}
	}
	return fileStamp{exists: true, size: fi.Size(), mod: fi.ModTime()}
}

func (s stamp) equal(o stamp) bool {
	return s.world.equal(o.world) && s.journal.equal(o.journal)
}

func (s fileStamp) equal(o fileStamp) bool {
	return s.exists == o.exists && s.size == o.size && s.mod.Equal(o.mod) && s.serial == o.serial && s.size >= 0
}
