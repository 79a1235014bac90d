package local

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

func keyring(t testing.TB, write crypt.KeySource, old ...crypt.KeySource) *crypt.Keyring {
	t.Helper()
	k, err := crypt.NewKeyring(write, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKey() crypt.KeySource { return crypt.KeySource{Key: crypt.GenerateKey()} }

// encryptedBackend returns a locked backend with Crypt set and s persisted.
func encryptedBackend(t *testing.T, k *crypt.Keyring, s *states.State) (*Backend, string) {
	t.Helper()
	b := New(filepath.Join(t.TempDir(), "state.json"))
	b.Crypt = k
	id, err := b.Lock(ctx, states.NewLockInfo("test"))
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		if err := b.Persist(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return b, id
}

func loadWith(t *testing.T, path string, k *crypt.Keyring) (*states.State, error) {
	t.Helper()
	b := New(path)
	b.Crypt = k
	return b.Load(ctx)
}

func TestCrypt_roundTrip(t *testing.T) { bothSinks(t, testCryptRoundTrip) }

func testCryptRoundTrip(t *testing.T) {
	k := keyring(t, crypt.KeySource{Passphrase: "a passphrase of some length", Iterations: 1000})
	s := states.NewState()
	s.Put(newInstance("hardware.secret"))
	b, id := encryptedBackend(t, k, s)
	data := readFile(t, b.Path())
	if !crypt.IsEncrypted(data) || bytes.Contains(data, []byte("hardware.secret")) {
		t.Fatalf("state file is not encrypted:\n%s", data)
	}
	j, err := b.Journal(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Put(newInstance("hardware.journaled")); err != nil {
		t.Fatal(err)
	}
	if err := j.Remove("hardware.secret"); err != nil {
		t.Fatal(err)
	}
	// crash: no Close
	if jd := readFile(t, b.journalPath()); bytes.Contains(jd, []byte("hardware")) || bytes.Contains(jd, []byte(s.Lineage)) {
		t.Errorf("journal is not encrypted:\n%s", jd)
	}
	got, err := loadWith(t, b.Path(), keyring(t, crypt.KeySource{Passphrase: "a passphrase of some length", Iterations: 1000}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 1 || got.Get("hardware.journaled") == nil || got.Serial != 2 || got.Lineage != s.Lineage {
		t.Errorf("Load = %v serial %d", got.Addresses(), got.Serial)
	}
	b.Unlock(ctx, id)

	// The next run continues the encrypted journal, then persists.
	b2 := New(b.Path())
	b2.Crypt = k
	id2, _ := b2.Lock(ctx, states.NewLockInfo("apply"))
	s2, err := b2.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := b2.Journal(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	j2.Put(newInstance("hardware.more"))
	j2.Close()
	if got, _ := loadWith(t, b.Path(), k); got.Len() != 2 || got.Serial != 3 {
		t.Errorf("after a second run: %v serial %d", got.Addresses(), got.Serial)
	}
	s2.Put(newInstance("hardware.more"))
	if err := b2.Persist(ctx, s2); err != nil {
		t.Fatal(err)
	}
	b2.Unlock(ctx, id2)
	if got, _ := loadWith(t, b.Path(), k); !got.SameContent(s2) || got.Serial != s2.Serial {
		t.Errorf("after Persist: %v", got.Addresses())
	}
}

func TestCrypt_wrongOrMissingKey(t *testing.T) {
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	b, bid := encryptedBackend(t, keyring(t, newKey()), s)
	j, _ := b.Journal(ctx, s)
	j.Put(newInstance("hardware.b"))
	j.Close()
	b.Unlock(ctx, bid)
	before, beforeJ := readFile(t, b.Path()), readFile(t, b.journalPath())

	var ke *crypt.KeyError
	var de *DecryptError
	_, err := loadWith(t, b.Path(), keyring(t, newKey()))
	if !errors.As(err, &ke) || !errors.As(err, &de) || !strings.Contains(err.Error(), "did not modify it") {
		t.Errorf("Load with a wrong key = %v", err)
	}
	if _, err := loadWith(t, b.Path(), nil); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("Load without a key = %v", err)
	}
	// A writer with the wrong key writes nothing.
	w, id := encryptedBackend(t, keyring(t, newKey()), nil)
	w.Unlock(ctx, id)
	w.path = b.Path()
	if _, err := w.Lock(ctx, states.NewLockInfo("apply")); err != nil {
		t.Fatal(err)
	}
	if err := w.Persist(ctx, s); !errors.As(err, &ke) {
		t.Errorf("Persist with a wrong key = %v", err)
	}
	if err := w.Push(ctx, s, true); !errors.As(err, &ke) {
		t.Errorf("forced Push with a wrong key = %v", err)
	}
	if _, err := w.Journal(ctx, s); !errors.As(err, &ke) {
		t.Errorf("Journal with a wrong key = %v", err)
	}
	if !bytes.Equal(readFile(t, b.Path()), before) || !bytes.Equal(readFile(t, b.journalPath()), beforeJ) {
		t.Error("a backend with the wrong key changed the files")
	}
}

func TestCrypt_tampered(t *testing.T) {
	k := keyring(t, newKey())
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	b, _ := encryptedBackend(t, k, s)
	data := readFile(t, b.Path())
	data[len(data)-20] ^= 1
	if err := os.WriteFile(b.Path(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadWith(t, b.Path(), k); !errors.Is(err, crypt.ErrTampered) {
		t.Errorf("Load of a tampered state = %v", err)
	}
	if err := b.Persist(ctx, s); !errors.Is(err, crypt.ErrTampered) {
		t.Errorf("Persist over a tampered state = %v", err)
	}
	if !bytes.Equal(readFile(t, b.Path()), data) {
		t.Error("the tampered file was overwritten")
	}
}

func TestCrypt_tamperedJournal(t *testing.T) { bothSinks(t, testCryptTamperedJournal) }

func testCryptTamperedJournal(t *testing.T) {
	k := keyring(t, newKey())
	b, _ := encryptedBackend(t, k, states.NewState())
	s, _ := b.Load(ctx)
	j, _ := b.Journal(ctx, s)
	for _, a := range []string{"hardware.a", "hardware.b", "hardware.c"} {
		j.Put(newInstance(a))
	}
	j.Close()
	good := readFile(t, b.journalPath())
	lines := bytes.SplitAfter(good, []byte("\n"))
	// A damaged last line is a torn end: ignored.
	torn := bytes.Clone(good)
	torn[len(torn)-10] ^= 1
	os.WriteFile(b.journalPath(), torn, 0o600)
	if got, err := loadWith(t, b.Path(), k); err != nil || got.Len() != 2 {
		t.Errorf("Load with a torn last line = %v, %v", got, err)
	}
	// A damaged line with intact lines after it was modified: an error.
	mid := bytes.Clone(good)
	mid[len(lines[0])+len(lines[1])+5] ^= 1
	os.WriteFile(b.journalPath(), mid, 0o600)
	if _, err := loadWith(t, b.Path(), k); !errors.Is(err, crypt.ErrTampered) || !strings.Contains(err.Error(), "later lines are intact") {
		t.Errorf("Load with a damaged middle line = %v", err)
	}
	// Plaintext records slipped into an encrypted journal are refused.
	plain := New(filepath.Join(t.TempDir(), "p.json"))
	plain.Lock(ctx, states.NewLockInfo("x"))
	pj, _ := plain.Journal(ctx, s)
	pj.Put(newInstance("hardware.evil"))
	pj.Close()
	os.WriteFile(b.journalPath(), append(bytes.Clone(good), readFile(t, plain.journalPath())...), 0o600)
	if _, err := loadWith(t, b.Path(), k); !errors.Is(err, crypt.ErrPlaintext) {
		t.Errorf("Load with plaintext records = %v", err)
	}
}

func TestCrypt_rotationAndTurningOn(t *testing.T) {
	// An unencrypted state; encryption is turned on with AllowPlaintext.
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	b, id := lockedBackend(t, s)
	b.Unlock(ctx, id)
	oldKey := newKey()
	strict := keyring(t, oldKey)
	if _, err := loadWith(t, b.Path(), strict); !errors.Is(err, crypt.ErrPlaintext) {
		t.Errorf("Load of plaintext with encryption required = %v", err)
	}
	on, err := crypt.New(crypt.Config{Key: oldKey, AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Crypt = on
	id, _ = b.Lock(ctx, states.NewLockInfo("apply"))
	got, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	b.Unlock(ctx, id)
	if !crypt.IsEncrypted(readFile(t, b.Path())) {
		t.Fatal("Persist did not encrypt")
	}
	// Rotate: the new key writes, the old one still reads.
	newK := crypt.KeySource{Passphrase: "the new passphrase, long enough", Iterations: 1000}
	b.Crypt = keyring(t, newK, oldKey)
	id, _ = b.Lock(ctx, states.NewLockInfo("apply"))
	if got, err = b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	b.Unlock(ctx, id)
	if got, err := loadWith(t, b.Path(), keyring(t, newK)); err != nil || got.Get("hardware.a") == nil {
		t.Errorf("Load with the new key only = %v", err)
	}
	if _, err := loadWith(t, b.Path(), strict); err == nil {
		t.Error("the old key still reads the rotated state")
	}
	// Turning encryption off: a keyring without a write key.
	off, _ := crypt.New(crypt.Config{Old: []crypt.KeySource{newK}})
	b.Crypt = off
	id, _ = b.Lock(ctx, states.NewLockInfo("apply"))
	got, _ = b.Load(ctx)
	if err := b.Persist(ctx, got); err != nil {
		t.Fatal(err)
	}
	b.Unlock(ctx, id)
	if crypt.IsEncrypted(readFile(t, b.Path())) {
		t.Error("still encrypted after turning encryption off")
	}
}
