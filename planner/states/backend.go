package states

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"
)

// Backend stores states: the local file backend (planner/states/local) and, later,
// PostgreSQL. A Backend's methods are safe for concurrent use, and an open Journal's
// Put and Remove may run while Persist checkpoints; separate Backend values, in one
// process or several, coordinate through Lock.
//
// A writing operation runs: Lock, Load, then Journal and Persist as it goes, Unlock.
// Read-only operations (plan, show, output, state list, state pull) only Load.
type Backend interface {
	// Load reads the latest state without locking. With no state stored it returns an
	// empty state with serial 0 and no lineage. Changes journaled by a run that did
	// not finish are replayed on top, and Serial is then raised past the stored serial,
	// so a plan made before that run is detected as stale.
	Load(ctx context.Context) (*State, error)
	// Lock takes the exclusive write lock and returns its ID (info.ID, or a new ID when
	// that is empty). If another holder has it, Lock returns a *LockedError naming the
	// holder. Without a context deadline Lock tries once; with one it retries until the
	// deadline (--lock-timeout) and then returns the *LockedError.
	Lock(ctx context.Context, info LockInfo) (string, error)
	// Unlock releases the lock taken by this Backend with the given ID, closing any
	// open journal first.
	Unlock(ctx context.Context, id string) error
	// ForceUnlock removes a lock this Backend does not hold (force-unlock ID). An ID
	// that is not the current lock's is an error that names the current ID.
	ForceUnlock(ctx context.Context, id string) error
	// Persist atomically replaces the stored state with s and clears the journal
	// (an open journal continues, now based on s). It requires the lock, sets s.Serial
	// to the serial written (above both s.Serial and the stored serial), and refuses to
	// overwrite a stored state of another lineage, of a newer serial than s, or one it
	// cannot read.
	Persist(ctx context.Context, s *State) error
	// Push replaces the stored state with s, as `state push` does: CheckPush decides,
	// and force allows another lineage or an older serial. The serial written is
	// s.Serial, or one above the stored serial if that is not already higher. Push
	// requires the lock.
	Push(ctx context.Context, s *State, force bool) error
	// Journal opens a journal of changes on top of base, the state Load returned (and
	// gives base a lineage if it has none). It requires the lock. Only one journal is
	// open per Backend at a time.
	Journal(ctx context.Context, base *State) (Journal, error)
}

// Journal records each resource instance's result as apply completes it, so that a
// crash loses only what was in flight. Put and Remove are safe for concurrent use; a
// record is stored when they return (see the backend for how durably).
type Journal interface {
	// Put records inst as it is now; later changes to *inst are not recorded.
	Put(inst *Instance) error
	// Remove records that the instance at addr is gone.
	Remove(addr string) error
	// Close makes every record durable and closes the journal. The records stay until
	// the next Persist.
	Close() error
}

// LockInfo describes who holds a state lock.
type LockInfo struct {
	// ID identifies the lock; force-unlock takes it.
	ID string `json:"id"`
	// Who is user@host of the holder.
	Who string `json:"who"`
	// Operation is the command that took the lock, e.g. "apply".
	Operation string `json:"operation"`
	// Created is when the lock was taken.
	Created time.Time `json:"created"`
	// PID is the holder's process ID, when known.
	PID int `json:"pid,omitempty"`
}

// NewLockInfo returns a LockInfo for operation by this process: a new ID, user@host,
// the current time and PID.
func NewLockInfo(operation string) LockInfo {
	who := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		who = v
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		who += "@" + h
	}
	return LockInfo{
		ID:        NewLockID(),
		Who:       who,
		Operation: operation,
		Created:   time.Now().UTC().Truncate(time.Second),
		PID:       os.Getpid(),
	}
}

// LockedError is returned by Lock when another holder has the lock.
type LockedError struct {
	// Info describes the holder; it is zero when the holder could not be identified.
	Info LockInfo
}

func (e *LockedError) Error() string {
	if e.Info.ID == "" {
		return "state is locked by another process (its lock information could not be read)"
	}
	return fmt.Sprintf("state is locked by %s since %s, lock id %s (operation %s)",
		e.Info.Who, e.Info.Created.Format(time.RFC3339), e.Info.ID, e.Info.Operation)
}

// ErrNotLocked is returned by writing operations called without holding the lock.
var ErrNotLocked = errors.New("the state is not locked; a writing operation must take the lock first")

// CheckPush decides whether incoming may replace current (`state push`): it refuses
// another lineage, an older serial, or the same serial with different content, unless
// force is set. A current state with no lineage (none stored) accepts anything.
func CheckPush(current, incoming *State, force bool) error {
	if incoming == nil {
		return errors.New("cannot push: no state given")
	}
	if force || current == nil || current.Lineage == "" {
		return nil
	}
	switch {
	case incoming.Lineage != current.Lineage:
		return fmt.Errorf("cannot push: the state has lineage %s but the stored state has lineage %s; they are different states (use --force to replace it)",
			incoming.Lineage, current.Lineage)
	case incoming.Serial < current.Serial:
		return fmt.Errorf("cannot push: the state has serial %d, older than the stored state's serial %d (pull the newer state first, or use --force)",
			incoming.Serial, current.Serial)
	case incoming.Serial == current.Serial && !incoming.SameContent(current):
		return fmt.Errorf("cannot push: the state has serial %d like the stored state, but different content (use --force to replace it)",
			incoming.Serial)
	}
	return nil
}
