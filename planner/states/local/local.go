package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
	"github.com/gofrs/flock"
)

// DefaultPath is where a configuration keeps its state when no backend is configured,
// relative to the configuration directory.
const DefaultPath = ".fabrica/state.json"

// DefaultSyncInterval is how often an open journal is flushed to stable storage.
const DefaultSyncInterval = 100 * time.Millisecond

// Backend stores a state in a local file. The zero value is not usable; call New.
type Backend struct {
	path string

	// SyncInterval bounds how long a journal record may stay in the operating system's
	// cache before it is flushed to disk (fsync); see Journal. Set it before the first
	// Journal call.
	SyncInterval time.Duration
	// Version is stamped as fabrica_version into every state written, unless empty.
	Version string
	// Crypt, when set, encrypts the state file and the journal (see crypt.go) and
	// decrypts them when read. Set it before the first call. A file that cannot be
	// decrypted is a *DecryptError and, like a corrupt file, is never overwritten.
	Crypt *crypt.Keyring

	mu      sync.Mutex
	flock   *flock.Flock // held lock, or nil
	info    states.LockInfo
	journal *journal // open journal, or nil
	disk    diskState
	// sessions counts the sessions in the journal, besides the open one, that recorded
	// something on top of disk: Load shows the state with a serial that much higher.
	sessions uint64
	buf      []byte // reused by write: a state of 100,000 instances is ~60 MB
}

var _ states.Backend = (*Backend)(nil)

// diskState is what the backend knows of the stored state file.
type diskState struct {
	known   bool // the fields below describe the file as fi identifies it
	exists  bool
	lineage string
	serial  uint64
	fi      fs.FileInfo
}

// New returns a backend for the state file at path (e.g. DefaultPath). Next to it live
// path.backup (the previous state), path.journal (apply's journal), path.lock and
// path.lock.info (the lock). Nothing is created until the first Lock.
func New(path string) *Backend {
	return &Backend{path: path, SyncInterval: DefaultSyncInterval}
}

// Path returns the state file's path.
func (b *Backend) Path() string { return b.path }

func (b *Backend) backupPath() string  { return b.path + ".backup" }
func (b *Backend) journalPath() string { return b.path + ".journal" }
func (b *Backend) lockPath() string    { return b.path + ".lock" }
func (b *Backend) infoPath() string    { return b.path + ".lock.info" }

// Load reads the state file and replays any journal left by a run that did not finish.
// It takes no lock and changes no file. A state file that cannot be read is an error
// that names it; it is left as it is.
func (b *Backend) Load(ctx context.Context) (*states.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, disk, err := b.readState()
	if err != nil {
		return nil, err
	}
	b.disk = disk
	if err := b.replay(st, disk); err != nil {
		return nil, err
	}
	return st, nil
}

// readState reads and parses the state file.
func (b *Backend) readState() (*states.State, diskState, error) {
	f, err := os.Open(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return emptyState(), diskState{known: true}, nil
	}
	if err != nil {
		return nil, diskState{}, fmt.Errorf("reading state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, diskState{}, fmt.Errorf("reading state: %w", err)
	}
	data := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, diskState{}, fmt.Errorf("reading state: %w", err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		// An empty file holds no state, as in Terraform.
		return emptyState(), diskState{known: true, fi: fi}, nil
	}
	if data, err = b.Crypt.Decrypt(data); err != nil {
		return nil, diskState{}, &DecryptError{Path: b.path, Err: err}
	}
	st, err := statefile.Parse(data)
	if err != nil {
		return nil, diskState{}, &CorruptError{Path: b.path, Err: err}
	}
	return st, diskState{known: true, exists: true, lineage: st.Lineage, serial: st.Serial, fi: fi}, nil
}

func emptyState() *states.State { return states.NewBuilder(0).State() }

// CorruptError is returned for a state file that cannot be read as a state.
type CorruptError struct {
	// Path is the state file.
	Path string
	// Err is what is wrong with it: a *statefile.Error with the position, or a
	// *statefile.VersionError.
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s cannot be read: %v; fabrica did not modify it (fix it, or restore %s.backup)",
		e.Path, e.Err, filepath.Base(e.Path))
}

func (e *CorruptError) Unwrap() error { return e.Err }

// stored returns what is known of the stored state, reading the file only when it
// changed since it was last read or written here. A file that cannot be parsed is an
// error: nothing may overwrite it.
func (b *Backend) stored() (diskState, error) {
	fi, err := os.Stat(b.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return diskState{known: true}, nil
	case err != nil:
		return diskState{}, err
	}
	if d := b.disk; d.known && d.fi != nil && os.SameFile(d.fi, fi) && d.fi.Size() == fi.Size() &&
		d.fi.ModTime().Equal(fi.ModTime()) {
		return d, nil
	}
	_, disk, err := b.readState()
	if err != nil {
		return diskState{}, err
	}
	b.disk = disk
	return disk, nil
}

// Persist writes s atomically, keeps the previous file as path.backup, and clears the
// journal. See states.Backend.
func (b *Backend) Persist(ctx context.Context, s *states.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock == nil {
		return states.ErrNotLocked
	}
	if j := b.journal; j != nil {
		j.pause()
		defer j.resume()
	}
	disk, err := b.stored()
	if err != nil {
		return err
	}
	if disk.exists {
		if s.Lineage != disk.lineage {
			return fmt.Errorf("refusing to overwrite state file %s: it holds another state (lineage %s) than the one being written (lineage %s); it was replaced since it was read",
				b.path, disk.lineage, s.Lineage)
		}
		if disk.serial > s.Serial {
			return fmt.Errorf("refusing to overwrite state file %s: its serial %d is newer than the serial %d of the state being written; it changed since it was read",
				b.path, disk.serial, s.Serial)
		}
	}
	pending := b.sessions
	if b.journal != nil && b.journal.recorded.Load() {
		pending++
	}
	return b.write(s, max(s.Serial, disk.serial+pending)+1, disk)
}

// Push replaces the stored state with s if states.CheckPush allows it.
func (b *Backend) Push(ctx context.Context, s *states.State, force bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock == nil {
		return states.ErrNotLocked
	}
	if j := b.journal; j != nil {
		j.pause()
		defer j.resume()
	}
	current, disk, err := b.readState()
	if err != nil {
		return err
	}
	b.disk = disk
	if err := b.replay(current, disk); err != nil {
		return err
	}
	if err := states.CheckPush(current, s, force); err != nil {
		return err
	}
	// Keep serials growing: a forced push of an older serial gets the next one.
	serial := s.Serial
	if serial < current.Serial || serial == current.Serial && !s.SameContent(current) {
		serial = current.Serial + 1
	}
	return b.write(s, serial, disk)
}

// write stores s with the given serial, then clears the journal.
func (b *Backend) write(s *states.State, serial uint64, disk diskState) error {
	if s.Lineage == "" {
		s.Lineage = states.NewLineage()
	}
	old, oldVersion := s.Serial, s.FabricaVersion
	s.Serial = serial
	if b.Version != "" {
		s.FabricaVersion = b.Version
	}
	fill := func(w io.Writer) error { return statefile.Write(w, s) }
	if b.Crypt.Encrypts() {
		// The whole file is one envelope: encode, then seal, then write.
		fill = func(w io.Writer) error {
			w2 := &bufWriter{b: b.buf[:0]}
			if err := statefile.Write(w2, s); err != nil {
				return err
			}
			b.buf = w2.b
			env, err := b.Crypt.Encrypt(w2.b)
			if err != nil {
				return fmt.Errorf("encrypting: %w", err)
			}
			_, err = w.Write(env)
			return err
		}
	}
	err := writeFile(b.path, b.backupPath(), fill, disk.exists)
	if err != nil {
		s.Serial, s.FabricaVersion = old, oldVersion
		b.disk = diskState{}
		return fmt.Errorf("writing state %s: %w", b.path, err)
	}
	s.FormatVersion = states.FormatVersion
	b.disk = diskState{known: true, exists: true, lineage: s.Lineage, serial: serial}
	b.sessions = 0
	if fi, err := os.Stat(b.path); err == nil {
		b.disk.fi = fi
	} else {
		b.disk.known = false
	}
	if b.journal != nil {
		return b.journal.rebase(s.Lineage, serial)
	}
	if err := os.Remove(b.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clearing the journal: %w", err)
	}
	return nil
}

// writeFile replaces path atomically and durably with what fill writes (see
// internal/atomicfile); the old file is first linked (or copied) to backup.
func writeFile(path, backup string, fill func(io.Writer) error, hadOld bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	var keep func() error
	if hadOld {
		keep = func() error {
			if err := keepBackup(path, backup); err != nil {
				return fmt.Errorf("keeping a backup: %w", err)
			}
			return nil
		}
	}
	return atomicfile.WriteKeeping(path, mode, func(f *os.File) error { return fill(atomicfile.NewFlushingWriter(f)) }, keep)
}

// keepBackup makes backup a copy of path: a hard link when the file system allows,
// which costs nothing, else a copy; either way it replaces the old backup atomically.
func keepBackup(path, backup string) error {
	tmp := backup + ".tmp"
	os.Remove(tmp)
	if err := os.Link(path, tmp); err != nil {
		if err := copyFile(path, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return os.Rename(tmp, backup)
}

// bufWriter collects what is written in b.
type bufWriter struct{ b []byte }

func (w *bufWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
