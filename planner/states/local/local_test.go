package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/statefile"
)

var ctx = context.Background()

func newInstance(addr string) *states.Instance {
	kind, _, _ := strings.Cut(addr, ".")
	return &states.Instance{Address: addr, Kind: kind, Provider: "sim", ID: "id-" + addr,
		Attrs: json.RawMessage(`{"name":"` + addr + `"}`), CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoad_none(t *testing.T) {
	b := New(filepath.Join(t.TempDir(), ".fabrica", "state.json"))
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || s.Serial != 0 || s.Lineage != "" {
		t.Errorf("Load with no state = %d instances, serial %d, lineage %q", s.Len(), s.Serial, s.Lineage)
	}
	if _, err := os.Stat(filepath.Dir(b.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created files: %v", err)
	}
}

func TestPersist_roundTripAndBackup(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(newInstance("hardware.a"))
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 1 || s.Lineage == "" {
		t.Fatalf("after the first Persist: serial %d, lineage %q", s.Serial, s.Lineage)
	}
	if _, err := os.Stat(b.backupPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup exists after the first Persist: %v", err)
	}
	first := readFile(t, b.Path())

	s.Put(newInstance("hardware.b"))
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.Serial != 2 {
		t.Errorf("serial = %d, want 2", s.Serial)
	}
	if got := readFile(t, b.backupPath()); !bytes.Equal(got, first) {
		t.Errorf("backup is not the previous state:\n%s\n---\n%s", got, first)
	}
	got, err := New(b.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SameContent(s) || got.Serial != 2 || got.Lineage != s.Lineage {
		t.Errorf("loaded state differs: serial %d lineage %s, %v", got.Serial, got.Lineage, got.Addresses())
	}
	if entries, _ := filepath.Glob(b.Path() + ".tmp*"); len(entries) > 0 {
		t.Errorf("temporary files left: %v", entries)
	}
	if fi, err := os.Stat(b.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", fi.Mode(), err)
	}
}

func TestPersist_requiresLock(t *testing.T) {
	b := New(filepath.Join(t.TempDir(), "state.json"))
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

func TestCorruptStateIsNeverOverwritten(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	corrupt := []byte("{\n  \"format_version\": 1,\n  \"serial\": 3,,\n}\n")
	if err := os.WriteFile(b.Path(), corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := b.Load(ctx)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want a CorruptError", err)
	}
	for _, want := range []string{b.Path(), "line 3, column 15", "did not modify it", "state.json.backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	if err := b.Persist(ctx, s); !errors.As(err, &ce) {
		t.Errorf("Persist over a corrupt file = %v", err)
	}
	if err := b.Push(ctx, s, true); !errors.As(err, &ce) {
		t.Errorf("forced Push over a corrupt file = %v", err)
	}
	if _, err := b.Journal(ctx, s); !errors.As(err, &ce) {
		t.Errorf("Journal over a corrupt file = %v", err)
	}
	if got := readFile(t, b.Path()); !bytes.Equal(got, corrupt) {
		t.Errorf("the corrupt file was changed:\n%s", got)
	}
}

func TestLoad_newerFormat(t *testing.T) {
	b := New(filepath.Join(t.TempDir(), "state.json"))
	if err := os.WriteFile(b.Path(), []byte(`{"format_version": 3, "whatever": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := b.Load(ctx)
	var ve *statefile.VersionError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "state was written by a newer fabrica (format 3)") {
		t.Errorf("Load = %v", err)
	}
}

func TestPersist_guards(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	s := states.NewState()
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	other := states.NewState()
	other.Serial = 10
	if err := b.Persist(ctx, other); err == nil || !strings.Contains(err.Error(), "holds another state") {
		t.Errorf("Persist of another lineage = %v", err)
	}
	// Someone else wrote serial 5 behind our back.
	newer := s.DeepCopy()
	newer.Serial = 4
	if err := New(b.Path()).writeUnlocked(newer); err != nil {
		t.Fatal(err)
	}
	if err := b.Persist(ctx, s); err == nil || !strings.Contains(err.Error(), "its serial 5 is newer than the serial 1") {
		t.Errorf("Persist over a newer serial = %v", err)
	}
}

// writeUnlocked writes s as another fabrica would, for tests.
func (b *Backend) writeUnlocked(s *states.State) error {
	_, err := os.Stat(b.path)
	return b.write(s, s.Serial+1, diskState{exists: err == nil})
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
	other := states.NewState()
	if err := b.Push(ctx, other, false); err == nil || !strings.Contains(err.Error(), "different states") {
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

func TestLoad_emptyFile(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	if err := os.WriteFile(b.Path(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := b.Load(ctx)
	if err != nil || s.Len() != 0 || s.Lineage != "" {
		t.Fatalf("Load of an empty file = %v, %v", s, err)
	}
	s.Put(newInstance("hardware.a"))
	if err := b.Persist(ctx, s); err != nil {
		t.Errorf("Persist over an empty file = %v", err)
	}
}

func TestPersist_version(t *testing.T) {
	b, _ := lockedBackend(t, nil)
	b.Version = "1.2.3"
	s := states.NewState()
	if err := b.Persist(ctx, s); err != nil {
		t.Fatal(err)
	}
	if s.FabricaVersion != "1.2.3" || !bytes.Contains(readFile(t, b.Path()), []byte(`"fabrica_version": "1.2.3"`)) {
		t.Errorf("version not stamped: %q\n%s", s.FabricaVersion, readFile(t, b.Path()))
	}
}
