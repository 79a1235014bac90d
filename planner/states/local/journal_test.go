package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/google/go-cmp/cmp"
)

// loadFresh loads the state as a new fabrica process would.
func loadFresh(t *testing.T, path string) *states.State {
	t.Helper()
	s, err := New(path).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bothSinks runs a test with the mmap sink and with the write(2) sink.
func bothSinks(t *testing.T, test func(t *testing.T)) {
	t.Run("mmap", test)
	t.Run("write", func(t *testing.T) {
		useMmap = false
		defer func() { useMmap = true }()
		test(t)
	})
}

// tear makes the journal end with a record cut short, as a crash in the middle of an
// append leaves it: the partial line replaces the first bytes after the last complete
// line (zeros with the mmap sink, nothing with the write(2) sink).
func tear(t *testing.T, path, partial string) {
	t.Helper()
	data := readFile(t, path)
	end := bytes.LastIndexByte(data, '\n') + 1
	torn := append([]byte(nil), data[:end]...)
	torn = append(torn, partial...)
	if len(data) > len(torn) {
		torn = append(torn, data[len(torn):]...)
	}
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJournal_replayAfterCrash(t *testing.T) { bothSinks(t, testReplayAfterCrash) }

func testReplayAfterCrash(t *testing.T) {
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
	// The run crashes here: no Close, no Persist, and a record was being written.
	crashed := readFile(t, b.journalPath())
	if err := b.Unlock(ctx, id); err != nil { // the kernel would release the lock
		t.Fatal(err)
	}
	if err := os.WriteFile(b.journalPath(), crashed, 0o600); err != nil {
		t.Fatal(err)
	}
	tear(t, b.journalPath(), `0badc0de {"op":"put","instance":{"address":"hardware.torn",`)

	got := loadFresh(t, b.Path())
	if diff := cmp.Diff([]string{"hardware.b", "hardware.c"}, got.Addresses()); diff != "" {
		t.Errorf("replayed addresses (-want +got):\n%s", diff)
	}
	if got.Serial != 2 {
		t.Errorf("serial after replay = %d, want 2 (stored 1, one interrupted run)", got.Serial)
	}
	if got.Lineage != base.Lineage {
		t.Errorf("lineage changed")
	}

	// The next run continues the journal: the torn line goes, the records stay.
	b2 := New(b.Path())
	id2, err := b2.Lock(ctx, states.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b2.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := b2.Journal(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	if err := j2.Put(newInstance("hardware.d")); err != nil {
		t.Fatal(err)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(readFile(t, b.journalPath()), []byte("hardware.torn")) {
		t.Error("the torn record is still in the journal")
	}
	got = loadFresh(t, b.Path())
	if diff := cmp.Diff([]string{"hardware.b", "hardware.c", "hardware.d"}, got.Addresses()); diff != "" {
		t.Errorf("after a second run (-want +got):\n%s", diff)
	}
	if got.Serial != 3 {
		t.Errorf("serial after two interrupted runs = %d, want 3", got.Serial)
	}

	// Persist folds the journal into the state file and removes it.
	s2.Put(newInstance("hardware.d"))
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.journalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left after Persist: %v", err)
	}
	got = loadFresh(t, b.Path())
	if got.Serial != 4 || !got.SameContent(s2) {
		t.Errorf("after Persist: serial %d, %v", got.Serial, got.Addresses())
	}
	b2.Unlock(ctx, id2)
}

func TestJournal_persistRebases(t *testing.T) { bothSinks(t, testJournal_persistRebases) }

func testJournal_persistRebases(t *testing.T) {
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
	// crash
	got := loadFresh(t, b.Path())
	if diff := cmp.Diff([]string{"hardware.x", "hardware.y"}, got.Addresses()); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if got.Serial != s.Serial+1 {
		t.Errorf("serial = %d, want %d", got.Serial, s.Serial+1)
	}
}

func TestJournal_firstApply(t *testing.T) { bothSinks(t, testJournal_firstApply) }

func testJournal_firstApply(t *testing.T) {
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
	// crash before the first Persist
	got := loadFresh(t, b.Path())
	if got.Lineage != s.Lineage || got.Serial != 1 || got.Get("facility.dc") == nil {
		t.Errorf("Load = lineage %q (want %q), serial %d, %v", got.Lineage, s.Lineage, got.Serial, got.Addresses())
	}
	if err := b.Persist(ctx, got); err != nil {
		t.Errorf("Persist of the replayed state = %v", err)
	}
}

func TestJournal_staleIsIgnored(t *testing.T) { bothSinks(t, testJournal_staleIsIgnored) }

func testJournal_staleIsIgnored(t *testing.T) {
	b, _ := lockedBackend(t, states.NewState())
	s, _ := b.Load(ctx)
	j, _ := b.Journal(ctx, s)
	j.Put(newInstance("hardware.old"))
	j.Close()
	stale := readFile(t, b.journalPath())
	if err := b.Persist(ctx, s); err != nil { // s lacks hardware.old on purpose
		t.Fatal(err)
	}
	// A crash between the rename and the journal's removal leaves the old journal.
	if err := os.WriteFile(b.journalPath(), stale, 0o600); err != nil {
		t.Fatal(err)
	}
	got := loadFresh(t, b.Path())
	if got.Len() != 0 || got.Serial != s.Serial {
		t.Errorf("a stale journal was replayed: %v, serial %d", got.Addresses(), got.Serial)
	}
	j2, err := b.Journal(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	j2.Close()
	if bytes.Contains(readFile(t, b.journalPath()), []byte("hardware.old")) {
		t.Error("a new journal kept the stale records")
	}
}

func TestJournal_concurrentPuts(t *testing.T) { bothSinks(t, testJournal_concurrentPuts) }

func testJournal_concurrentPuts(t *testing.T) {
	b, _ := lockedBackend(t, states.NewState())
	s, _ := b.Load(ctx)
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Go(func() {
			for i := range 100 {
				if err := j.Put(newInstance(fmt.Sprintf("hardware.n%d[%d]", w, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// An instance that cannot be recorded is refused, and the journal goes on.
	if err := j.Put(&states.Instance{Address: "hardware.nokind"}); err == nil {
		t.Error("Put of an instance without kind succeeded")
	}
	if got := loadFresh(t, b.Path()); got.Len() != 1000 {
		t.Errorf("%d instances replayed before Close, want 1000", got.Len())
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
}
