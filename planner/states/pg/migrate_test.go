package pg

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
	"github.com/fabrica-iac/fabrica/planner/states/local"
)

// richState uses every field of the format.
func richState() *states.State {
	s := bigState(500)
	s.FabricaVersion = "0.9.0"
	s.Outputs = map[string]json.RawMessage{"gpus": json.RawMessage(`4096`), "site": json.RawMessage(`{"name":"dc1","tags":["a","ü"]}`)}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	s.Put(&states.Instance{Address: `rack.r["east \"1\""]`, Kind: "rack", Provider: "sim", ID: "r-1",
		Attrs: json.RawMessage(`{"name":"nœud ✓","n":null}`), Dependencies: []string{"facility.dc", "power.p[0]"},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), Tainted: true})
	s.Put(&states.Instance{Address: "facility.dc", Kind: "facility", Provider: "sim"})
	return s
}

// TestMigrate_roundTrip moves a state local → pg → local, and with encryption on
// both sides: the final file is the first one byte for byte.
func TestMigrate_roundTrip(t *testing.T) {
	for _, enc := range []bool{false, true} {
		var k *crypt.Keyring
		if enc {
			k, _ = crypt.NewKeyring(crypt.KeySource{Key: crypt.GenerateKey()})
		}
		dir := t.TempDir()
		src := local.New(filepath.Join(dir, "a", "state.json"))
		id, _ := src.Lock(ctx, states.NewLockInfo("apply"))
		s := richState()
		if err := src.Persist(ctx, s); err != nil {
			t.Fatal(err)
		}
		// Leave a journal of a crashed run behind too: it travels, folded in.
		j, _ := src.Journal(ctx, s)
		j.Put(newInstance("hardware.journaled"))
		j.Close()
		src.Unlock(ctx, id)
		want, _ := src.Load(ctx)
		wantBytes := marshalLocal(t, want)

		p := open(t, newSchema(t), "production", func(c *Config) { c.Crypt = k })
		if err := states.Migrate(ctx, src, p, false); err != nil {
			t.Fatalf("local → pg: %v", err)
		}
		dst := local.New(filepath.Join(dir, "b", "state.json"))
		dst.Crypt = k
		if err := states.Migrate(ctx, p, dst, false); err != nil {
			t.Fatalf("pg → local: %v", err)
		}
		got, err := dst.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gotBytes := marshalLocal(t, got); !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("encrypted=%v: the state differs after local → pg → local", enc)
		}
		if enc != crypt.IsEncrypted(readFile(t, dst.Path())) {
			t.Errorf("encrypted=%v: the target file encryption is wrong", enc)
		}
		if !enc {
			// Same serial, lineage, content: the very same file as one written by src.
			first := local.New(filepath.Join(dir, "c", "state.json"))
			fid, _ := first.Lock(ctx, states.NewLockInfo("x"))
			first.Push(ctx, want, true)
			first.Unlock(ctx, fid)
			if !bytes.Equal(readFile(t, dst.Path()), readFile(t, first.Path())) {
				t.Error("the migrated file is not byte for byte the file of the original state")
			}
		}
	}
}

func marshalLocal(t *testing.T, s *states.State) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.json")
	b := local.New(path)
	id, _ := b.Lock(ctx, states.NewLockInfo("x"))
	c := s.DeepCopy()
	if err := b.Push(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	b.Unlock(ctx, id)
	return readFile(t, path)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMigrate_refusals(t *testing.T) {
	dir := t.TempDir()
	src := local.New(filepath.Join(dir, "state.json"))
	id, _ := src.Lock(ctx, states.NewLockInfo("apply"))
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	src.Persist(ctx, s)
	src.Unlock(ctx, id)

	p := open(t, newSchema(t), "default")
	pid, _ := p.Lock(ctx, states.NewLockInfo("apply"))
	other := states.NewState()
	other.Put(newInstance("hardware.other"))
	p.Persist(ctx, other)
	p.Unlock(ctx, pid)

	err := states.Migrate(ctx, src, p, false)
	if err == nil || !strings.Contains(err.Error(), "already holds another state") {
		t.Fatalf("Migrate onto another lineage = %v", err)
	}
	if got, _ := p.Load(ctx); got.Lineage != other.Lineage {
		t.Error("a refused migration changed the target")
	}
	if err := states.Migrate(ctx, src, p, true); err != nil {
		t.Fatalf("forced Migrate = %v", err)
	}
	if got, _ := p.Load(ctx); got.Lineage != s.Lineage || got.Get("hardware.a") == nil {
		t.Error("a forced migration did not replace the target")
	}
	// The same state, newer in the target: refused.
	pid, _ = p.Lock(ctx, states.NewLockInfo("apply"))
	newer, _ := p.Load(ctx)
	p.Persist(ctx, newer)
	p.Unlock(ctx, pid)
	if err := states.Migrate(ctx, src, p, false); err == nil || !strings.Contains(err.Error(), "newer version") {
		t.Errorf("Migrate onto a newer serial = %v", err)
	}
	// The source locked: Migrate waits as Lock does, here not at all.
	sid, _ := src.Lock(ctx, states.NewLockInfo("apply"))
	var le *states.LockedError
	if err := states.Migrate(ctx, src, p, true); !errors.As(err, &le) {
		t.Errorf("Migrate from a locked state = %v", err)
	}
	src.Unlock(ctx, sid)
	// An empty source does nothing.
	if err := states.Migrate(ctx, local.New(filepath.Join(dir, "none.json")), p, false); err != nil {
		t.Errorf("Migrate of nothing = %v", err)
	}
}
