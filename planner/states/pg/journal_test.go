package pg

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/google/go-cmp/cmp"
)

func TestJournal_records(t *testing.T) {
	base := states.NewState()
	base.Put(newInstance("hardware.a"))
	b, id := lockedBackend(t, base) // serial 1
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"hardware.b", "hardware.c"} {
		if err := j.Put(newInstance(a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Remove("hardware.a"); err != nil {
		t.Fatal(err)
	}
	// The run crashes here: no Close, no Persist.
	got := loadFresh(t, b)
	if diff := cmp.Diff([]string{"hardware.b", "hardware.c"}, got.Addresses()); diff != "" {
		t.Errorf("addresses after a crash (-want +got):\n%s", diff)
	}
	if got.Serial != 2 || got.Lineage != base.Lineage {
		t.Errorf("serial after a crashed run = %d, want 2 (stored 1, one interrupted run)", got.Serial)
	}
	b.Unlock(ctx, id)

	// A second run that also stops early raises the serial once more.
	b2 := reopen(t, b)
	id2, _ := b2.Lock(ctx, states.NewLockInfo("apply"))
	s2, _ := b2.Load(ctx)
	j2, _ := b2.Journal(ctx, s2)
	j2.Put(newInstance("hardware.d"))
	j2.Put(newInstance("hardware.e"))
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	if got = loadFresh(t, b); got.Serial != 3 || got.Len() != 4 {
		t.Errorf("after a second run: serial %d, %v", got.Serial, got.Addresses())
	}
	// Persist (with a state that lacks hardware.e) replaces what was journaled.
	s2.Put(newInstance("hardware.d"))
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	got = loadFresh(t, b)
	if got.Serial != 4 || !got.SameContent(s2) {
		t.Errorf("after Persist: serial %d, %v", got.Serial, got.Addresses())
	}
	b2.Unlock(ctx, id2)
}

func TestJournal_persistRebases(t *testing.T) {
	b, _ := lockedBackend(t, states.NewState())
	s, _ := b.Load(ctx)
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	x := newInstance("hardware.x")
	s.Put(x)
	j.Put(x)
	if err := b.Persist(ctx, s); err != nil { // a checkpoint while the journal is open
		t.Fatal(err)
	}
	j.Put(newInstance("hardware.y"))
	got := loadFresh(t, b)
	if diff := cmp.Diff([]string{"hardware.x", "hardware.y"}, got.Addresses()); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if got.Serial != s.Serial+1 {
		t.Errorf("serial = %d, want %d", got.Serial, s.Serial+1)
	}
}

func TestJournal_firstApply(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	s, _ := b.Load(ctx)
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lineage == "" {
		t.Fatal("Journal did not give the new state a lineage")
	}
	j.Put(newInstance("facility.dc"))
	got := loadFresh(t, b)
	if got.Lineage != s.Lineage || got.Serial != 1 || got.Get("facility.dc") == nil {
		t.Errorf("Load = lineage %q (want %q), serial %d, %v", got.Lineage, s.Lineage, got.Serial, got.Addresses())
	}
	if err := b.Persist(ctx, got); err != nil {
		t.Errorf("Persist of the loaded state = %v", err)
	}
}

func TestJournal_otherLineage(t *testing.T) {
	b, _ := lockedBackend(t, states.NewState())
	if _, err := b.Journal(ctx, states.NewState()); err == nil || !strings.Contains(err.Error(), "another state") {
		t.Errorf("Journal on another lineage = %v", err)
	}
}

func TestJournal_concurrentPuts(t *testing.T) {
	for _, group := range []bool{true, false} {
		t.Run(fmt.Sprintf("group=%v", group), func(t *testing.T) {
			b, _ := lockedBackend(t, states.NewState())
			b.groupCommit = group
			s, _ := b.Load(ctx)
			j, err := b.Journal(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range 10 {
				wg.Go(func() {
					for i := range 50 {
						if err := j.Put(newInstance(fmt.Sprintf("hardware.n%d[%d]", w, i))); err != nil {
							t.Error(err)
						}
						if i%10 == 9 { // a put and a remove of one address in flight together
							if err := j.Remove(fmt.Sprintf("hardware.n%d[%d]", w, i)); err != nil {
								t.Error(err)
							}
						}
					}
				})
			}
			wg.Wait()
			if err := j.Put(&states.Instance{Address: "hardware.nokind"}); err == nil {
				t.Error("Put of an instance without kind succeeded")
			}
			got := loadFresh(t, b)
			if got.Len() != 450 || got.Serial != s.Serial+1 {
				t.Errorf("%d instances at serial %d before Close, want 450 at %d", got.Len(), got.Serial, s.Serial+1)
			}
			if err := j.Put(newInstance("hardware.n0[0]")); err != nil {
				t.Errorf("Put after a refused instance = %v", err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if err := j.Put(newInstance("hardware.late")); err == nil {
				t.Error("Put after Close succeeded")
			}
			if _, err := b.Journal(ctx, s); err != nil {
				t.Errorf("Journal after Close = %v", err)
			}
			if _, err := b.Journal(ctx, s); err == nil {
				t.Error("a second open journal was allowed")
			}
		})
	}
}
