package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
)

func TestLock_contention(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".fabrica", "state.json")
	a, b := New(path), New(path)
	info := states.LockInfo{ID: "lock-a", Who: "ana@host1", Operation: "apply",
		Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	id, err := a.Lock(ctx, info)
	if err != nil || id != "lock-a" {
		t.Fatalf("Lock = %q, %v", id, err)
	}
	_, err = b.Lock(ctx, states.NewLockInfo("plan"))
	var le *states.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want a LockedError", err)
	}
	want := "state is locked by ana@host1 since 2026-03-01T12:00:00Z, lock id lock-a (operation apply)"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	if _, err := a.Lock(ctx, info); !errors.As(err, &le) {
		t.Errorf("Lock twice on one backend = %v", err)
	}
	// Read-only use is not blocked by the lock.
	if _, err := b.Load(ctx); err != nil {
		t.Errorf("Load while locked = %v", err)
	}
	if err := a.Unlock(ctx, "wrong"); err == nil || !strings.Contains(err.Error(), "lock-a") {
		t.Errorf("Unlock with a wrong id = %v", err)
	}
	if err := a.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.infoPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock info left after Unlock: %v", err)
	}
	id2, err := b.Lock(ctx, states.NewLockInfo("plan"))
	if err != nil {
		t.Fatalf("Lock after Unlock = %v", err)
	}
	if err := b.Unlock(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

func TestLock_wait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	a, b := New(path), New(path)
	id, err := a.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	// With a deadline, Lock retries until it and then reports the holder.
	short, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Lock(short, states.NewLockInfo("apply"))
	var le *states.LockedError
	if !errors.As(err, &le) || le.Info.ID != id {
		t.Fatalf("Lock with a deadline = %v", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("Lock gave up after %v, before its deadline", waited)
	}
	// It gets the lock when the holder lets go within the deadline.
	go func() {
		time.Sleep(30 * time.Millisecond)
		a.Unlock(ctx, id)
	}()
	long, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	id2, err := b.Lock(long, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock while the holder unlocks = %v", err)
	}
	b.Unlock(ctx, id2)
}

func TestForceUnlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	a, b := New(path), New(path)
	if err := b.ForceUnlock(ctx, "nothing"); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock with no lock = %v", err)
	}
	id, err := a.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock(ctx, "wrong-id"); err == nil || !strings.Contains(err.Error(), "the current lock id is "+id) {
		t.Errorf("ForceUnlock with a wrong id = %v", err)
	}
	// The holder is alive: its flock cannot be broken, and the error says whom to stop.
	if err := b.ForceUnlock(ctx, id); err == nil || !strings.Contains(err.Error(), "held by a running fabrica") {
		t.Errorf("ForceUnlock of a live lock = %v", err)
	}
	// The holder itself may force its own lock.
	if err := a.ForceUnlock(ctx, id); err != nil {
		t.Errorf("ForceUnlock by the holder = %v", err)
	}
	if _, err := b.Lock(ctx, states.NewLockInfo("apply")); err != nil {
		t.Errorf("Lock after ForceUnlock = %v", err)
	}
}

func TestLock_staleInfoIsIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	b := New(path)
	// A holder that died left its info; the flock is free.
	stale := states.LockInfo{ID: "dead", Who: "bob@host2", Operation: "apply", Created: time.Now().UTC()}
	if err := writeInfo(b.infoPath(), stale); err != nil {
		t.Fatal(err)
	}
	id, err := b.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock over stale info = %v", err)
	}
	if info, _ := readInfo(b.infoPath()); info.ID != id {
		t.Errorf("info file holds %q, want the new lock %q", info.ID, id)
	}
	if err := b.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	// force-unlock of the stale lock removes its info.
	if err := writeInfo(b.infoPath(), stale); err != nil {
		t.Fatal(err)
	}
	if err := New(path).ForceUnlock(ctx, "other"); err == nil || !strings.Contains(err.Error(), "the current lock id is dead") {
		t.Errorf("ForceUnlock of stale info with a wrong id = %v", err)
	}
	if err := New(path).ForceUnlock(ctx, "dead"); err != nil {
		t.Errorf("ForceUnlock of stale info = %v", err)
	}
	if _, err := os.Stat(b.infoPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale info left after ForceUnlock: %v", err)
	}
}
