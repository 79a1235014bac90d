package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
)

// replay applies the journal's records that belong to the stored state disk to st,
// and raises st.Serial by one for each session that recorded something.
func (b *Backend) replay(st *states.State, disk diskState) error {
	data, err := os.ReadFile(b.journalPath())
	if errors.Is(err, fs.ErrNotExist) || len(data) == 0 {
		if b.journal == nil {
			b.sessions = 0
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the journal: %w", err)
	}
	if data, _, err = b.journalText(data); err != nil {
		return err
	}
	active, recorded := false, false
	var sessions uint64
	_, err = statefile.ScanJournal(data, func(r *statefile.JournalRecord) error {
		switch r.Op {
		case statefile.JournalOpen:
			if recorded {
				sessions++
			}
			recorded = false
			if !disk.exists && st.Lineage == "" && r.BaseSerial == 0 {
				st.Lineage = r.Lineage // the journal of a first apply
			}
			active = r.Lineage == st.Lineage && r.BaseSerial == disk.serial
		case statefile.JournalPut:
			if active {
				st.Put(r.Instance)
				recorded = true
			}
		case statefile.JournalRemove:
			if active {
				_ = st.Remove(r.Address) // already gone is fine
				recorded = true
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the journal %s: %w", b.journalPath(), err)
	}
	if recorded {
		sessions++
	}
	st.Serial += sessions
	if b.journal == nil {
		b.sessions = sessions
	}
	return nil
}

// Journal opens the journal at path.journal. Records are appended as one line each.
//
// Durability: Put and Remove return once the record is with the operating system, so
// it survives the fabrica process being killed, SIGKILL included. On 64-bit Linux the
// record is copied into a shared memory mapping of the file, which is the kernel's page
// cache (no system call per record); elsewhere it is written with write(2), and
// concurrent Puts share their writes (group commit). Records reach stable storage
// (fsync) in the background at most SyncInterval apart, and at Close and Persist, so a
// power loss or kernel crash loses at most the last SyncInterval of records. A crash
// in the middle of a record leaves it torn, and Load ignores it and anything after it.
//
// Calling Persist before Close at the end of a run is cheapest: Persist empties the
// journal, so Close has nothing left to flush.
func (b *Backend) Journal(ctx context.Context, base *states.State) (states.Journal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock == nil {
		return nil, states.ErrNotLocked
	}
	if b.journal != nil {
		return nil, errors.New("a journal is already open")
	}
	disk, err := b.stored()
	if err != nil {
		return nil, err
	}
	if disk.exists && base.Lineage != disk.lineage {
		return nil, fmt.Errorf("cannot journal changes to state %s: it holds another state (lineage %s) than the one being changed (lineage %s)",
			b.path, disk.lineage, base.Lineage)
	}
	if base.Lineage == "" {
		base.Lineage = states.NewLineage()
	}
	keep, sessions, err := b.journalPrefix(base.Lineage, disk.serial)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(b.journalPath(), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the journal: %w", err)
	}
	j := newJournal(b, f, b.SyncInterval)
	if err := j.start(keep, base.Lineage, disk.serial); err != nil {
		f.Close()
		return nil, err
	}
	b.journal = j
	b.sessions = sessions
	return j, nil
}

// journalPrefix returns how much of the existing journal to keep, and how many
// sessions in it recorded something: its intact records if they all apply to the
// stored state, nothing otherwise.
func (b *Backend) journalPrefix(lineage string, serial uint64) (int64, uint64, error) {
	data, err := os.ReadFile(b.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading the journal: %w", err)
	}
	data, ends, err := b.journalText(data)
	if err != nil {
		return 0, 0, err
	}
	match, recorded := true, false
	var sessions uint64
	valid, err := statefile.ScanJournal(data, func(r *statefile.JournalRecord) error {
		if r.Op != statefile.JournalOpen {
			recorded = true
			return nil
		}
		if recorded {
			sessions++
		}
		recorded = false
		if r.Lineage != lineage || r.BaseSerial != serial {
			match = false
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("reading the journal %s: %w", b.journalPath(), err)
	}
	if recorded {
		sessions++
	}
	if !match {
		return 0, 0, nil
	}
	keep, err := fileOffset(ends, valid)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the journal %s: %w", b.journalPath(), err)
	}
	return keep, sessions, nil
}

// journal is the local backend's states.Journal.
type journal struct {
	b        *Backend
	f        *os.File
	out      sink
	interval time.Duration

	// gate is held shared by Put and Remove, exclusively by Close and Persist.
	gate   sync.RWMutex
	closed bool
	// recorded is set once this session has written a record since it started or
	// was rebased.
	recorded atomic.Bool
	// failed holds the first write or sync error; the journal is then unusable.
	failed atomic.Pointer[error]

	dirty atomic.Bool   // records were written since the last sync
	kick  chan struct{} // wakes the syncer after a write
	done  chan struct{}
	wg    sync.WaitGroup
}

// useMmap selects the mmap sink where it works (a variable for tests).
var useMmap = true

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func newJournal(b *Backend, f *os.File, interval time.Duration) *journal {
	if interval <= 0 {
		interval = DefaultSyncInterval
	}
	return &journal{b: b, f: f, interval: interval, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// start keeps the first keep bytes of the file, appends an open record and starts
// the syncer, which syncs that record in the background: a record written after it is
// durable only through a sync of the same file, which makes the open record durable
// too, and before that sync a crash leaves what the journal held before this session.
// The first sync of a new journal also commits its creation and allocation (20 ms
// here), which would otherwise hold up the first change of every apply.
func (j *journal) start(keep int64, lineage string, serial uint64) error {
	var out sink
	err := errors.ErrUnsupported
	if useMmap {
		out, err = newMmapSink(j.f)
	}
	if err != nil {
		out = newFileSink(j.f) // no mmap here: write(2) for each group of records
	}
	j.out = out
	if err := j.open(keep, lineage, serial); err != nil {
		out.finish()
		return err
	}
	j.dirty.Store(true)
	j.kick <- struct{}{}
	j.wg.Add(1)
	go j.syncer()
	return nil
}

// reset truncates the file to keep bytes and appends an open record, durably.
func (j *journal) reset(keep int64, lineage string, serial uint64) error {
	if err := j.open(keep, lineage, serial); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return j.fail(fmt.Errorf("writing the journal: %w", err))
	}
	return nil
}

// open truncates the file to keep bytes and appends an open record.
func (j *journal) open(keep int64, lineage string, serial uint64) error {
	line, err := statefile.AppendJournalRecord(nil, &statefile.JournalRecord{
		Op: statefile.JournalOpen, Lineage: lineage, BaseSerial: serial})
	if err == nil {
		line, err = j.b.sealLine(nil, line)
	}
	if err == nil {
		err = j.out.truncate(keep)
	}
	if err == nil {
		err = j.out.append(line)
	}
	if err != nil {
		return j.fail(fmt.Errorf("writing the journal: %w", err))
	}
	return nil
}

// fail records err as the journal's first error and returns the first error.
func (j *journal) fail(err error) error {
	j.failed.CompareAndSwap(nil, &err)
	return *j.failed.Load()
}

// Put records inst.
func (j *journal) Put(inst *states.Instance) error {
	return j.record(&statefile.JournalRecord{Op: statefile.JournalPut, Instance: inst})
}

// Remove records that addr is gone.
func (j *journal) Remove(addr string) error {
	return j.record(&statefile.JournalRecord{Op: statefile.JournalRemove, Address: addr})
}

func (j *journal) record(r *statefile.JournalRecord) error {
	j.gate.RLock()
	defer j.gate.RUnlock()
	if j.closed {
		return errors.New("the journal is closed")
	}
	if err := j.failed.Load(); err != nil {
		return *err
	}
	bp := linePool.Get().(*[]byte)
	line, err := statefile.AppendJournalRecord((*bp)[:0], r)
	if err == nil && j.b.Crypt.Encrypts() {
		sp := linePool.Get().(*[]byte)
		var sealed []byte
		if sealed, err = j.b.sealLine((*sp)[:0], line); err == nil {
			err = j.out.append(sealed)
		}
		if cap(sealed) <= 64<<10 {
			*sp = sealed
		}
		linePool.Put(sp)
		if err != nil {
			err = fmt.Errorf("encrypting: %w", err)
		}
	} else if err == nil {
		err = j.out.append(line)
	}
	if cap(line) <= 64<<10 {
		*bp = line
	}
	linePool.Put(bp)
	if err != nil {
		if _, invalid := err.(*statefile.InvalidInstanceError); invalid {
			return err // the instance cannot be recorded; the journal is fine
		}
		return j.fail(fmt.Errorf("writing the journal: %w", err))
	}
	j.recorded.Store(true)
	if !j.dirty.Load() {
		j.dirty.Store(true)
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// syncer flushes written records to stable storage, at most once per interval.
func (j *journal) syncer() {
	defer j.wg.Done()
	for {
		select {
		case <-j.kick:
		case <-j.done:
			return
		}
		j.dirty.Store(false)
		if err := j.f.Sync(); err != nil {
			j.fail(fmt.Errorf("syncing the journal: %w", err))
		}
		select {
		case <-time.After(j.interval):
		case <-j.done:
			return
		}
	}
}

// pause waits for records in progress and holds new ones until resume.
func (j *journal) pause()  { j.gate.Lock() }
func (j *journal) resume() { j.gate.Unlock() }

// rebase empties the journal after a persist (the caller holds it paused): the records
// are now in the stored state of the given serial.
func (j *journal) rebase(lineage string, serial uint64) error {
	if err := j.reset(0, lineage, serial); err != nil {
		return err
	}
	j.recorded.Store(false)
	return nil
}

// Close syncs and closes the journal.
func (j *journal) Close() error {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	return j.closeLocked()
}

// closeLocked closes the journal; the caller holds j.b.mu.
func (j *journal) closeLocked() error {
	j.gate.Lock()
	defer j.gate.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	close(j.done)
	j.wg.Wait()
	var err error
	if e := j.failed.Load(); e != nil {
		err = *e
	}
	if ferr := j.out.finish(); err == nil && ferr != nil {
		err = fmt.Errorf("closing the journal: %w", ferr)
	}
	if serr := j.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("syncing the journal: %w", serr)
	}
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if j.b.journal == j {
		j.b.journal = nil
		if j.recorded.Load() {
			j.b.sessions++
		}
	}
	return err
}
