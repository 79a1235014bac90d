package pg

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
)

func TestLock_contention(t *testing.T) {
	a := open(t, newSchema(t), "default")
	b := reopen(t, a)
	info := states.LockInfo{ID: "lock-a", Who: "ana@host1", Operation: "apply",
		Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), PID: 4242}
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
	if le.Info.PID != 4242 {
		t.Errorf("LockedError.Info = %+v", le.Info)
	}
	if _, err := a.Lock(ctx, info); !errors.As(err, &le) {
		t.Errorf("Lock twice on one backend = %v", err)
	}
	if _, err := b.Load(ctx); err != nil {
		t.Errorf("Load while locked = %v", err)
	}
	if err := a.Unlock(ctx, "wrong"); err == nil || !strings.Contains(err.Error(), "lock-a") {
		t.Errorf("Unlock with a wrong id = %v", err)
	}
	if err := a.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := count(t, "SELECT count(*) FROM "+a.cfg.Schema+".locks"); n != 0 {
		t.Errorf("%d lock rows after Unlock", n)
	}
	id2, err := b.Lock(ctx, states.NewLockInfo("plan"))
	if err != nil {
		t.Fatalf("Lock after Unlock = %v", err)
	}
	if err := b.Unlock(ctx, id2); err != nil {
		t.Fatal(err)
	}
}

// TestLock_concurrentWriters races two writers for the lock, many times: exactly one
// gets it each time, the other gets the holder's LockedError.
func TestLock_concurrentWriters(t *testing.T) {
	schema := newSchema(t)
	a, b := open(t, schema, "default"), open(t, schema, "default")
	for range 20 {
		var won atomic.Int32
		var wg sync.WaitGroup
		ids := make([]string, 2)
		for i, be := range []*Backend{a, b} {
			wg.Go(func() {
				id, err := be.Lock(ctx, states.NewLockInfo("apply"))
				var le *states.LockedError
				switch {
				case err == nil:
					won.Add(1)
					ids[i] = id
				case errors.As(err, &le):
					if !strings.HasPrefix(err.Error(), "state is locked by ") {
						t.Errorf("message = %q", err)
					}
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d writers got the lock", won.Load())
		}
		for i, be := range []*Backend{a, b} {
			if ids[i] != "" {
				be.Unlock(ctx, ids[i])
			}
		}
	}
}

func TestLock_wait(t *testing.T) {
	a := open(t, newSchema(t), "default")
	b := reopen(t, a)
	id, err := a.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Lock(short, states.NewLockInfo("apply"))
	var le *states.LockedError
	if !errors.As(err, &le) || le.Info.ID != id {
		t.Fatalf("Lock with a deadline = %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("Lock gave up after %v, before its deadline", waited)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
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

func TestLock_workspacesAreIndependent(t *testing.T) {
	schema := newSchema(t)
	a, b := open(t, schema, "default"), open(t, schema, "staging")
	if _, err := a.Lock(ctx, states.NewLockInfo("apply")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, states.NewLockInfo("apply")); err != nil {
		t.Errorf("Lock of another workspace = %v", err)
	}
}

func TestForceUnlock(t *testing.T) {
	a := open(t, newSchema(t), "default")
	b := reopen(t, a)
	if err := b.ForceUnlock(ctx, "nothing"); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock with no lock = %v", err)
	}
	s := states.NewState()
	id, err := a.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock(ctx, "wrong-id"); err == nil || !strings.Contains(err.Error(), "the current lock id is "+id) {
		t.Errorf("ForceUnlock with a wrong id = %v", err)
	}
	// The holder is alive (a hung fabrica): force-unlock ends its session.
	if err := b.ForceUnlock(ctx, id); err != nil {
		t.Fatalf("ForceUnlock of a live lock = %v", err)
	}
	if n := count(t, "SELECT count(*) FROM "+a.cfg.Schema+".locks"); n != 0 {
		t.Errorf("%d lock rows after ForceUnlock", n)
	}
	id2, err := b.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after ForceUnlock = %v", err)
	}
	// The old holder can no longer write.
	s.Put(newInstance("hardware.late"))
	if err := a.Persist(ctx, s); err == nil || !strings.Contains(err.Error(), "lock was lost") {
		t.Errorf("Persist by the forced-out holder = %v", err)
	}
	if err := a.Unlock(ctx, id); err != nil {
		t.Errorf("Unlock by the forced-out holder = %v", err)
	}
	if n := count(t, "SELECT count(*) FROM "+a.cfg.Schema+".locks WHERE id = $1", id2); n != 1 {
		t.Error("the forced-out holder's Unlock removed the new holder's row")
	}
	if got := loadFresh(t, a); got.Get("hardware.late") != nil {
		t.Error("the forced-out holder wrote")
	}
}
