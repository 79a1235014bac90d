package pg

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
	"github.com/google/go-cmp/cmp"
)

func TestLoad_none(t *testing.T) {
	b := open(t, newSchema(t), "default")
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || s.Serial != 0 || s.Lineage != "" {
		t.Errorf("Load with no state = %d instances, serial %d, lineage %q", s.Len(), s.Serial, s.Lineage)
	}
}

func TestPersist_roundTrip(t *testing.T) {
	b, _ := lockedBackend(t, nil, func(c *Config) { c.Version = "1.2.3" })
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(newInstance("hardware.a"))
	s.Outputs = map[string]json.RawMessage{"gpus": json.RawMessage(`4096`), "site": json.RawMessage(`{"name":"dc1"}`)}
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 || s.Lineage == "" || s.FabricaVersion != "1.2.3" {
		t.Fatalf("after the first Persist: serial %d, lineage %q, version %q", s.Serial, s.Lineage, s.FabricaVersion)
	}
	s.Put(newInstance("hardware.b"))
	if err := s.Remove("hardware.a"); err != nil {
		t.Fatal(err)
	}
	s.Put(newInstance("facility.dc"))
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	got := loadFresh(t, b)
	if !got.SameContent(s) || got.Serial != 2 || got.Lineage != s.Lineage || got.FabricaVersion != "1.2.3" {
		t.Errorf("loaded state differs: serial %d lineage %s, %v", got.Serial, got.Lineage, got.Addresses())
	}
	if string(got.Outputs["site"]) != `{"name":"dc1"}` {
		t.Errorf("outputs = %s", got.Outputs)
	}
	if n := count(t, "SELECT count(*) FROM "+b.cfg.Schema+".instances"); n != 2 {
		t.Errorf("%d instance rows, want 2", n)
	}
}

func TestPersist_requiresLock(t *testing.T) {
	b := open(t, newSchema(t), "default")
	if err := b.Persist(ctx, states.NewState()); !errors.Is(err, states.ErrNotLocked) {
		t.Errorf("Persist without the lock = %v", err)
	}
	if _, err := b.Journal(ctx, states.NewState()); !errors.Is(err, states.ErrNotLocked) {
		t.Errorf("Journal without the lock = %v", err)
	}
	if err := b.Push(ctx, states.NewState(), true); !errors.Is(err, states.ErrNotLocked) {
		t.Errorf("Push without the lock = %v", err)
	}
}

func TestPersist_guards(t *testing.T) {
	b, id := lockedBackend(t, nil)
	s := states.NewState()
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	other := states.NewState()
	other.Serial = 10
	if err := b.Persist(ctx, other); err == nil || !strings.Contains(err.Error(), "holds another state") {
		t.Errorf("Persist of another lineage = %v", err)
	}
	// Someone else writes serial 5 while we do not hold the lock.
	b.Unlock(ctx, id)
	o := reopen(t, b)
	oid, _ := o.Lock(ctx, states.NewLockInfo("apply"))
	newer := s.DeepCopy()
	newer.Serial = 4
	if err := o.Persist(ctx, newer); err != nil {
		t.Fatal(err)
	}
	o.Unlock(ctx, oid)
	b.Lock(ctx, states.NewLockInfo("apply"))
	if err := b.Persist(ctx, s); err == nil || !strings.Contains(err.Error(), "its serial 5 is newer than the serial 1") {
		t.Errorf("Persist over a newer serial = %v", err)
	}
}

func TestPush(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	cur := states.NewState()
	cur.Put(newInstance("hardware.a"))
	if err := b.Persist(ctx, cur); err != nil { // serial 1
		t.Fatal(err)
	}
	if err := b.Persist(ctx, cur); err != nil { // serial 2
		t.Fatal(err)
	}
	older := cur.DeepCopy()
	older.Serial = 1
	if err := b.Push(ctx, older, false); err == nil || !strings.Contains(err.Error(), "older than the stored state's serial 2") {
		t.Errorf("Push of an older serial = %v", err)
	}
	if err := b.Push(ctx, states.NewState(), false); err == nil || !strings.Contains(err.Error(), "different states") {
		t.Errorf("Push of another lineage = %v", err)
	}
	if err := b.Push(ctx, older, true); err != nil {
		t.Fatalf("forced Push = %v", err)
	}
	got, _ := b.Load(ctx)
	if got.Serial != 3 || older.Serial != 3 {
		t.Errorf("a forced push of serial 1 over 2 wrote serial %d (state %d), want 3", got.Serial, older.Serial)
	}
	newer := got.DeepCopy()
	newer.Serial = 9
	newer.Put(newInstance("hardware.b"))
	if err := b.Push(ctx, newer, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Load(ctx); got.Serial != 9 || got.Len() != 2 {
		t.Errorf("after pushing serial 9: serial %d, %d instances", got.Serial, got.Len())
	}
}

// TestPersist_incremental checks that Persist writes only what changed when it knows
// what is stored, and everything when someone else wrote in between.
func TestPersist_incremental(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testPersistIncremental(t, nil) })
	t.Run("encrypted", func(t *testing.T) {
		testPersistIncremental(t, keyring(t, crypt.Config{Key: crypt.KeySource{Passphrase: "a long enough passphrase", Iterations: 1000}}))
	})
}

func testPersistIncremental(t *testing.T, k *crypt.Keyring) {
	s := bigState(300)
	b, id := lockedBackend(t, s, withCrypt(k))
	s, _ = b.Load(ctx)
	s.Put(newInstance("hardware.extra"))
	_ = s.Remove("hardware.node[7]")
	changed := s.Get("hardware.node[8]").DeepCopy()
	changed.ID = "changed"
	s.Put(changed)
	before := xmins(t, b)
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	after := xmins(t, b)
	var rewritten []string
	for a, x := range after {
		if before[a] != x {
			rewritten = append(rewritten, a)
		}
	}
	if diff := cmp.Diff([]string{"hardware.extra", "hardware.node[8]"}, sortedAddrs(rewritten)); diff != "" {
		t.Errorf("rows written by an incremental Persist (-want +got):\n%s", diff)
	}
	if got := loadFresh(t, b); !got.SameContent(s) {
		t.Error("the state differs after an incremental Persist")
	}
	// Another writer changes the state: the next Persist must not trust what it knew.
	b.Unlock(ctx, id)
	o := reopen(t, b)
	oid, _ := o.Lock(ctx, states.NewLockInfo("apply"))
	os, _ := o.Load(ctx)
	os.Put(newInstance("hardware.theirs"))
	o.Persist(ctx, os)
	o.Unlock(ctx, oid)
	b.Lock(ctx, states.NewLockInfo("apply"))
	s.Serial = os.Serial // pretend we read it, but not its content
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := loadFresh(t, b); !got.SameContent(s) || got.Get("hardware.theirs") != nil {
		t.Errorf("Persist after another writer left %v", got.Len())
	}
}

func sortedAddrs(a []string) []string {
	s := states.NewState()
	for _, x := range a {
		s.Put(&states.Instance{Address: x})
	}
	return s.Addresses()
}

// xmins returns each instance row's xmin: it changes when the row is written.
func xmins(t *testing.T, b *Backend) map[string]string {
	t.Helper()
	rows, err := b.pool.Query(ctx, "SELECT address, xmin::text FROM "+b.q.schema+".instances WHERE workspace = $1", b.ws)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var a, x string
		rows.Scan(&a, &x)
		m[a] = x
	}
	return m
}

// TestConcurrentLoads runs twenty Loads at once, from twenty Backends (twenty plans),
// while a writer journals: all succeed and each sees a consistent state.
func TestConcurrentLoads(t *testing.T) {
	b, _ := lockedBackend(t, bigState(2000))
	base, _ := b.Load(ctx)
	j, err := b.Journal(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := j.Put(newInstance("hardware.extra[" + string(rune('0'+i%10)) + "]")); err != nil {
				t.Error(err)
				return
			}
		}
	})
	readers := make([]*Backend, 20)
	for i := range readers {
		readers[i] = reopen(t, b)
	}
	var rg sync.WaitGroup
	for _, r := range readers {
		rg.Go(func() {
			for range 3 {
				s, err := r.Load(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if s.Len() < 2000 || s.Lineage != base.Lineage || s.Serial != base.Serial+1 && s.Serial != base.Serial {
					t.Errorf("Load = %d instances, serial %d", s.Len(), s.Serial)
				}
			}
		})
	}
	rg.Wait()
	close(stop)
	wg.Wait()
}
