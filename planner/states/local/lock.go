package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/gofrs/flock"
)

// The lock is an exclusive flock(2) on path.lock, held for the whole writing run. The
// kernel releases it when the holder exits, however it exits, so a killed fabrica never
// leaves the state locked. Who holds it is written to path.lock.info (JSON LockInfo,
// replaced atomically) for the message others get; an info file left by a killed holder
// is stale and ignored, since only the flock decides.

// Lock takes the lock. See states.Backend.
func (b *Backend) Lock(ctx context.Context, info states.LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock != nil {
		return "", &states.LockedError{Info: b.info}
	}
	if info.ID == "" {
		info.ID = states.NewLockID()
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC().Truncate(time.Second)
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
		return "", fmt.Errorf("locking state: %w", err)
	}
	fl := flock.New(b.lockPath(), flock.SetPermissions(0o644))
	delay := 10 * time.Millisecond
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return "", fmt.Errorf("locking state %s: %w", b.lockPath(), err)
		}
		if ok {
			break
		}
		if _, wait := ctx.Deadline(); !wait || ctx.Err() != nil {
			return "", b.lockedError()
		}
		select {
		case <-ctx.Done():
			return "", b.lockedError()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
	if err := writeInfo(b.infoPath(), info); err != nil {
		fl.Unlock()
		return "", fmt.Errorf("locking state: %w", err)
	}
	b.flock, b.info = fl, info
	return info.ID, nil
}

// lockedError describes the current holder from its info file. The holder writes the
// file just after taking the flock, so a missing file is retried briefly.
func (b *Backend) lockedError() error {
	for range 20 {
		if info, err := readInfo(b.infoPath()); err == nil {
			return &states.LockedError{Info: info}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &states.LockedError{}
}

// Unlock releases the lock held with id, closing any open journal first.
func (b *Backend) Unlock(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock == nil {
		return errors.New("cannot unlock: this fabrica does not hold the state lock")
	}
	if id != b.info.ID {
		return fmt.Errorf("cannot unlock: lock id %s is not the lock held, %s", id, b.info.ID)
	}
	return b.unlockLocked()
}

func (b *Backend) unlockLocked() error {
	var err error
	if b.journal != nil {
		err = b.journal.closeLocked()
	}
	if rerr := os.Remove(b.infoPath()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	if uerr := b.flock.Unlock(); uerr != nil && err == nil {
		err = uerr
	}
	b.flock, b.info = nil, states.LockInfo{}
	return err
}

// ForceUnlock removes the lock with the given id. A lock held by a process that has
// exited is already free, and ForceUnlock only removes its stale information. A lock
// held by a running process cannot be taken from it: the error names the process to
// stop (the kernel releases its lock when it exits).
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flock != nil && b.info.ID == id {
		return b.unlockLocked()
	}
	fl := flock.New(b.lockPath(), flock.SetPermissions(0o644))
	free, err := fl.TryLock()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("force-unlock: %w", err)
	}
	if free {
		defer fl.Unlock()
	}
	info, ierr := readInfo(b.infoPath())
	switch {
	case ierr != nil && free:
		return fmt.Errorf("cannot force-unlock %s: the state is not locked", id)
	case ierr != nil:
		return fmt.Errorf("cannot force-unlock %s: the state is locked but its lock information cannot be read: %w", id, ierr)
	case info.ID != id:
		return fmt.Errorf("cannot force-unlock: lock id %s is not the current lock; the current lock id is %s (held by %s since %s)",
			id, info.ID, info.Who, info.Created.Format(time.RFC3339))
	case free:
		// The holder is gone; remove what it left.
		if err := os.Remove(b.infoPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("force-unlock: %w", err)
		}
		return nil
	}
	holder := info.Who
	if info.PID != 0 {
		holder = fmt.Sprintf("%s, process %d", info.Who, info.PID)
	}
	return fmt.Errorf("cannot force-unlock %s: the lock is held by a running fabrica (%s, operation %s); a local state lock is released when its process exits, so stop that process",
		id, holder, info.Operation)
}

// writeInfo replaces the info file atomically, so readers never see part of it.
func writeInfo(path string, info states.LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, 0o644, append(data, '\n'))
}

func readInfo(path string) (states.LockInfo, error) {
	var info states.LockInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, err
	}
	if info.ID == "" {
		return info, errors.New("no lock id")
	}
	return info, nil
}
