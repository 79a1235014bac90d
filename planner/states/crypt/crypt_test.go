package crypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testPass = "correct horse battery staple"

func mustNew(t *testing.T, cfg Config) *Keyring {
	t.Helper()
	k, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pass(p string) KeySource { return KeySource{Passphrase: p, Iterations: 1000} }

func TestRoundTrip(t *testing.T) {
	hexKey := GenerateKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	raw, _ := ParseKey(hexKey)
	if err := os.WriteFile(keyFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	textFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(textFile, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FABRICA_TEST_KEY", hexKey)
	t.Setenv("FABRICA_TEST_PASS", testPass)
	for name, src := range map[string]KeySource{
		"hex":        {Key: hexKey},
		"base64":     {Key: base64.RawURLEncoding.EncodeToString(raw)},
		"file":       {KeyFile: keyFile},
		"text file":  {KeyFile: textFile},
		"env":        {KeyEnv: "FABRICA_TEST_KEY"},
		"passphrase": pass(testPass),
		"pass env":   {PassphraseEnv: "FABRICA_TEST_PASS", Iterations: 1000},
	} {
		t.Run(name, func(t *testing.T) {
			k := mustNew(t, Config{Key: src})
			for _, plain := range [][]byte{nil, []byte("{}"), bytes.Repeat([]byte("state "), 10000)} {
				env, err := k.Encrypt(plain)
				if err != nil {
					t.Fatal(err)
				}
				if !IsEncrypted(env) || bytes.Contains(env, []byte("state state")) {
					t.Fatalf("not an envelope: %q", env[:min(len(env), 40)])
				}
				if len(env) > len(plain)+Overhead {
					t.Errorf("envelope of %d bytes for %d bytes", len(env), len(plain))
				}
				got, err := k.Decrypt(env)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("Decrypt = %q, %v", got[:min(len(got), 40)], err)
				}
				// A second Keyring with the same key (another process) reads it.
				if got, err := mustNew(t, Config{Key: src}).Decrypt(env); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("Decrypt by another keyring = %v", err)
				}
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	k := mustNew(t, Config{Key: KeySource{Key: GenerateKey()}})
	env, _ := k.Encrypt([]byte("secret"))
	other := mustNew(t, Config{Key: KeySource{Key: GenerateKey()}})
	_, err := other.Decrypt(env)
	var ke *KeyError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "another key") {
		t.Errorf("Decrypt with a wrong key = %v", err)
	}
	pk := mustNew(t, Config{Key: pass(testPass)})
	penv, _ := pk.Encrypt([]byte("secret"))
	_, err = mustNew(t, Config{Key: pass("not the right passphrase")}).Decrypt(penv)
	if !errors.As(err, &ke) || !ke.Passphrase || !strings.Contains(err.Error(), "another passphrase") {
		t.Errorf("Decrypt with a wrong passphrase = %v", err)
	}
	var nilRing *Keyring
	if _, err := nilRing.Decrypt(env); !errors.Is(err, ErrNoKey) {
		t.Errorf("Decrypt without a keyring = %v", err)
	}
}

func TestTampered(t *testing.T) {
	for name, src := range map[string]KeySource{"key": {Key: GenerateKey()}, "passphrase": pass(testPass)} {
		t.Run(name, func(t *testing.T) {
			k := mustNew(t, Config{Key: src})
			env, _ := k.Encrypt([]byte(`{"password":"hunter2"}`))
			for i := len(Magic) + 2; i < len(env); i++ { // every byte after version and kdf
				if src.Passphrase != "" && i >= rawHead && i < rawHead+3 {
					continue // the high bytes of the iteration count: a slow derivation
				}
				bad := bytes.Clone(env)
				bad[i] ^= 0x01
				got, err := k.Decrypt(bad)
				var ke *KeyError
				var fe *FormatError
				if err == nil || got != nil {
					t.Fatalf("flipping byte %d: Decrypt succeeded", i)
				}
				if !errors.Is(err, ErrTampered) && !errors.As(err, &ke) && !errors.As(err, &fe) {
					t.Fatalf("flipping byte %d: %v", i, err)
				}
			}
			if _, err := k.Decrypt(env[:len(env)-1]); !errors.Is(err, ErrTampered) {
				t.Errorf("cut envelope = %v", err)
			}
			if _, err := k.Decrypt(env[:20]); err == nil {
				t.Error("a header alone decrypted")
			}
			bad := bytes.Clone(env)
			bad[len(Magic)] = 9
			if _, err := k.Decrypt(bad); err == nil || !strings.Contains(err.Error(), "envelope format 9") {
				t.Errorf("newer envelope version = %v", err)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldSrc, newSrc := KeySource{Key: GenerateKey()}, pass(testPass)
	old := mustNew(t, Config{Key: oldSrc})
	env, _ := old.Encrypt([]byte("v1"))
	if !old.Current(env) {
		t.Error("data written with the write key is not current")
	}
	rotated := mustNew(t, Config{Key: newSrc, Old: []KeySource{oldSrc}})
	got, err := rotated.Decrypt(env)
	if err != nil || string(got) != "v1" {
		t.Fatalf("Decrypt with the old key as fallback = %q, %v", got, err)
	}
	if rotated.Current(env) {
		t.Error("data under the old key is current after rotation")
	}
	env2, _ := rotated.Encrypt(got)
	if !rotated.Current(env2) {
		t.Error("rewritten data is not current")
	}
	// Once rewritten, the old key is no longer needed.
	if got, err := mustNew(t, Config{Key: newSrc}).Decrypt(env2); err != nil || string(got) != "v1" {
		t.Errorf("Decrypt with the new key only = %q, %v", got, err)
	}
	if _, err := old.Decrypt(env2); err == nil {
		t.Error("the old key decrypts data written after rotation")
	}
	// Turning encryption off: no write key, the old key as fallback.
	off := mustNew(t, Config{Old: []KeySource{newSrc}})
	if got, err := off.Decrypt(env2); err != nil || string(got) != "v1" {
		t.Errorf("Decrypt by a decrypt-only keyring = %q, %v", got, err)
	}
	if plain, _ := off.Encrypt([]byte("v2")); string(plain) != "v2" || !off.Current(plain) || off.Current(env2) {
		t.Errorf("a decrypt-only keyring encrypts: %q", plain)
	}
}

func TestPlaintext(t *testing.T) {
	plain := []byte(`{"format_version": 1}`)
	var nilRing *Keyring
	if got, err := nilRing.Decrypt(plain); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("nil keyring Decrypt of plaintext = %q, %v", got, err)
	}
	if got, _ := nilRing.Encrypt(plain); !bytes.Equal(got, plain) || !nilRing.Current(plain) {
		t.Errorf("nil keyring Encrypt = %q", got)
	}
	src := KeySource{Key: GenerateKey()}
	if _, err := mustNew(t, Config{Key: src}).Decrypt(plain); !errors.Is(err, ErrPlaintext) {
		t.Errorf("plaintext with encryption configured = %v", err)
	}
	k := mustNew(t, Config{Key: src, AllowPlaintext: true})
	if got, err := k.Decrypt(plain); err != nil || !bytes.Equal(got, plain) || k.Current(plain) {
		t.Errorf("plaintext allowed = %q, %v", got, err)
	}
}

func TestPassphraseSaltIsAdopted(t *testing.T) {
	a := mustNew(t, Config{Key: pass(testPass)})
	env, _ := a.Encrypt([]byte("x"))
	b := mustNew(t, Config{Key: pass(testPass)})
	if !b.Current(env) {
		t.Error("data under this passphrase is not current for a fresh keyring")
	}
	env2, _ := b.Encrypt([]byte("y"))
	ha, _ := parseHeader(env)
	hb, _ := parseHeader(env2)
	if ha.salt != hb.salt || ha.id != hb.id {
		t.Error("the second keyring did not reuse the salt it read")
	}
	// Another iteration count: the next write derives anew, and old data is not current.
	c := mustNew(t, Config{Key: KeySource{Passphrase: testPass, Iterations: 2000}})
	if _, err := c.Decrypt(env); err != nil {
		t.Fatal(err)
	}
	if c.Current(env) {
		t.Error("data derived with 1000 iterations is current for a keyring asking for 2000")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "without any key"},
		{Config{Key: KeySource{Key: "not-a-key!"}}, "neither 64 hex digits nor base64"},
		{Config{Key: KeySource{Key: base64.StdEncoding.EncodeToString(make([]byte, 16))}}, "16 bytes"},
		{Config{Key: KeySource{Passphrase: "short"}}, "at least 16"},
		{Config{Key: KeySource{Passphrase: testPass, Key: GenerateKey()}}, "exactly one"},
		{Config{Key: KeySource{KeyEnv: "FABRICA_TEST_UNSET_VAR"}}, "FABRICA_TEST_UNSET_VAR"},
		{Config{Key: KeySource{KeyFile: "/nonexistent/key"}}, "reading the key file"},
		{Config{Key: KeySource{Passphrase: testPass, Iterations: 10}}, "iterations"},
		{Config{Key: KeySource{Key: GenerateKey()}, Old: []KeySource{{Key: "x"}}}, "old encryption key 1"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

func TestConcurrent(t *testing.T) {
	k := mustNew(t, Config{Key: pass(testPass)})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				msg := []byte(strings.Repeat("x", i*j))
				env, err := k.Encrypt(msg)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := k.Decrypt(env); err != nil || !bytes.Equal(got, msg) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEncrypt600B(b *testing.B) {
	k, _ := New(Config{Key: KeySource{Key: GenerateKey()}})
	msg := bytes.Repeat([]byte("a"), 600)
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf, _ = k.AppendEncrypt(buf[:0], msg)
	}
}
