package pg

import (
	"errors"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

func keyring(t *testing.T, cfg crypt.Config) *crypt.Keyring {
	t.Helper()
	k, err := crypt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func withCrypt(k *crypt.Keyring) func(*Config) { return func(c *Config) { c.Crypt = k } }

func TestCrypt_roundTrip(t *testing.T) {
	pass := crypt.KeySource{Passphrase: "a team passphrase, long enough", Iterations: 1000}
	k := keyring(t, crypt.Config{Key: pass})
	s := states.NewState()
	s.Put(newInstance("hardware.secret"))
	b, _ := lockedBackend(t, s, withCrypt(k))
	j, _ := b.Journal(ctx, s)
	if err := j.Put(newInstance("hardware.journaled")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, "SELECT count(*) FROM "+b.cfg.Schema+".instances WHERE position('\"name\"'::bytea in data) > 0 OR substr(data, 1, 7) <> '\\x464142454e4300'::bytea"); n != 0 {
		t.Errorf("%d instance rows are not encrypted", n)
	}
	if n := count(t, "SELECT count(*) FROM "+b.cfg.Schema+".states WHERE substr(outputs, 1, 7) <> '\\x464142454e4300'::bytea"); n != 0 {
		t.Error("outputs are not encrypted")
	}
	// Another fabrica with the same passphrase (another salt until it reads one).
	got, err := reopen(t, b, withCrypt(keyring(t, crypt.Config{Key: pass}))).Load(ctx)
	if err != nil || got.Len() != 2 || got.Serial != 2 {
		t.Fatalf("Load = %v, %v", got, err)
	}
}

func TestCrypt_wrongKeyWritesNothing(t *testing.T) {
	k := keyring(t, crypt.Config{Key: crypt.KeySource{Key: crypt.GenerateKey()}})
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	b, id := lockedBackend(t, s, withCrypt(k))
	b.Unlock(ctx, id)

	var ke *crypt.KeyError
	wrong := reopen(t, b, withCrypt(keyring(t, crypt.Config{Key: crypt.KeySource{Key: crypt.GenerateKey()}})))
	if _, err := wrong.Load(ctx); !errors.As(err, &ke) || !strings.Contains(err.Error(), "did not modify") {
		t.Errorf("Load with a wrong key = %v", err)
	}
	if _, err := reopen(t, b, withCrypt(nil)).Load(ctx); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("Load without a key = %v", err)
	}
	wid, _ := wrong.Lock(ctx, states.NewLockInfo("apply"))
	if err := wrong.Persist(ctx, states.NewState()); !errors.As(err, &ke) {
		t.Errorf("Persist with a wrong key = %v", err)
	}
	if err := wrong.Push(ctx, s, true); !errors.As(err, &ke) {
		t.Errorf("forced Push with a wrong key = %v", err)
	}
	wrong.Unlock(ctx, wid)
	if got, err := reopen(t, b).Load(ctx); err != nil || !got.SameContent(s) {
		t.Errorf("the state changed: %v", err)
	}
}

func TestCrypt_tampered(t *testing.T) {
	k := keyring(t, crypt.Config{Key: crypt.KeySource{Key: crypt.GenerateKey()}})
	s := states.NewState()
	s.Put(newInstance("hardware.a"))
	s.Put(newInstance("hardware.b"))
	b, _ := lockedBackend(t, s, withCrypt(k))
	sql(t, "UPDATE "+b.cfg.Schema+".instances SET data = set_byte(data, length(data) - 5, get_byte(data, length(data) - 5) # 1) WHERE address = 'hardware.b'")
	if _, err := reopen(t, b).Load(ctx); !errors.Is(err, crypt.ErrTampered) {
		t.Errorf("Load of a tampered row = %v", err)
	}
}

func TestCrypt_rotationAndTurningOn(t *testing.T) {
	s := bigState(50)
	b, id := lockedBackend(t, s) // unencrypted
	b.Unlock(ctx, id)
	oldKey := crypt.KeySource{Key: crypt.GenerateKey()}
	if _, err := reopen(t, b, withCrypt(keyring(t, crypt.Config{Key: oldKey}))).Load(ctx); !errors.Is(err, crypt.ErrPlaintext) {
		t.Errorf("Load of plaintext with encryption required = %v", err)
	}
	rewrite := func(k *crypt.Keyring) {
		t.Helper()
		w := reopen(t, b, withCrypt(k))
		wid, _ := w.Lock(ctx, states.NewLockInfo("apply"))
		got, err := w.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Persist(ctx, got); err != nil {
			t.Fatal(err)
		}
		w.Unlock(ctx, wid)
	}
	encrypted := func() int {
		return count(t, "SELECT count(*) FROM "+b.cfg.Schema+".instances WHERE substr(data, 1, 7) = '\\x464142454e4300'::bytea")
	}
	rewrite(keyring(t, crypt.Config{Key: oldKey, AllowPlaintext: true}))
	if n := encrypted(); n != 50 {
		t.Fatalf("%d of 50 rows encrypted after turning encryption on", n)
	}
	newKey := crypt.KeySource{Passphrase: "the new passphrase, long enough", Iterations: 1000}
	rewrite(keyring(t, crypt.Config{Key: newKey, Old: []crypt.KeySource{oldKey}}))
	if got, err := reopen(t, b, withCrypt(keyring(t, crypt.Config{Key: newKey}))).Load(ctx); err != nil || !got.SameContent(s) {
		t.Errorf("Load with the new key only = %v", err)
	}
	rewrite(keyring(t, crypt.Config{Old: []crypt.KeySource{newKey}}))
	if n := encrypted(); n != 0 {
		t.Errorf("%d rows still encrypted after turning encryption off", n)
	}
}
