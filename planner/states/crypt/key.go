package crypt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// DefaultIterations is the PBKDF2-HMAC-SHA256 iteration count for a passphrase (OWASP's
// recommendation as of 2023): about 0.2 s to derive, once per process.
const DefaultIterations = 600_000

// MinPassphrase is the shortest passphrase accepted, in characters.
const MinPassphrase = 16

// KeySource says where one key comes from. Exactly one of its sources must be set.
type KeySource struct {
	// Passphrase is a passphrase the key is derived from (PBKDF2-HMAC-SHA256).
	Passphrase string
	// PassphraseEnv names an environment variable holding the passphrase.
	PassphraseEnv string
	// Key is the key itself: 32 bytes written as 64 hex digits or in base64.
	Key string
	// KeyEnv names an environment variable holding the key, as for Key.
	KeyEnv string
	// KeyFile is a file holding the key: 32 raw bytes, or hex or base64 text.
	KeyFile string
	// Iterations is the PBKDF2 iteration count used when writing with a passphrase;
	// 0 means DefaultIterations. Reading uses the count stored with the data.
	Iterations int
}

// IsZero reports whether no source is set.
func (s KeySource) IsZero() bool {
	return s.Passphrase == "" && s.PassphraseEnv == "" && s.Key == "" && s.KeyEnv == "" && s.KeyFile == ""
}

// Config configures a Keyring (the `encryption` settings).
type Config struct {
	// Key is the key to write with. Left zero, the Keyring writes plaintext and
	// decrypts with Old: that is how encryption is turned off.
	Key KeySource
	// Old are keys that are only read: the keys being rotated away from.
	Old []KeySource
	// AllowPlaintext lets a Keyring with a write key read unencrypted data, to
	// encrypt an existing state. Without it, plaintext is refused (ErrPlaintext), so an
	// unencrypted file cannot be slipped in place of an encrypted one.
	AllowPlaintext bool
}

// New builds a Keyring from cfg. It returns an error naming the source at fault for a
// key of the wrong length or encoding, a missing file or variable, a short passphrase,
// or a source that sets more than one thing. Passphrases are derived lazily.
func New(cfg Config) (*Keyring, error) {
	k := &Keyring{allowPlaintext: cfg.AllowPlaintext}
	if !cfg.Key.IsZero() {
		s, err := cfg.Key.slot()
		if err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		k.write = s
		k.read = append(k.read, s)
	}
	for i, src := range cfg.Old {
		s, err := src.slot()
		if err != nil {
			return nil, fmt.Errorf("old encryption key %d: %w", i+1, err)
		}
		k.read = append(k.read, s)
	}
	if len(k.read) == 0 {
		return nil, errors.New("encryption is configured without any key")
	}
	return k, nil
}

// NewKeyring is New with a write key and older read keys.
func NewKeyring(write KeySource, old ...KeySource) (*Keyring, error) {
	return New(Config{Key: write, Old: old})
}

func (s KeySource) slot() (*slot, error) {
	n := 0
	for _, v := range []string{s.Passphrase, s.PassphraseEnv, s.Key, s.KeyEnv, s.KeyFile} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("set exactly one of passphrase, passphrase_env, key, key_env and key_file")
	}
	iter := s.Iterations
	if iter == 0 {
		iter = DefaultIterations
	}
	if iter < minIter || iter > maxIter {
		return nil, fmt.Errorf("PBKDF2 iterations must be between %d and %d, not %d", minIter, maxIter, iter)
	}
	switch {
	case s.Passphrase != "":
		return passphraseSlot(s.Passphrase, iter, "the passphrase")
	case s.PassphraseEnv != "":
		v, ok := os.LookupEnv(s.PassphraseEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("environment variable %s (the passphrase) is not set", s.PassphraseEnv)
		}
		return passphraseSlot(v, iter, "the passphrase in "+s.PassphraseEnv)
	case s.Key != "":
		key, err := ParseKey(s.Key)
		if err != nil {
			return nil, err
		}
		return rawSlot(key)
	case s.KeyEnv != "":
		v, ok := os.LookupEnv(s.KeyEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("environment variable %s (the key) is not set", s.KeyEnv)
		}
		key, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", s.KeyEnv, err)
		}
		return rawSlot(key)
	default:
		data, err := os.ReadFile(s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading the key file: %w", err)
		}
		key := data
		if len(data) != 32 {
			if key, err = ParseKey(string(data)); err != nil {
				return nil, fmt.Errorf("key file %s: %w", s.KeyFile, err)
			}
		}
		return rawSlot(key)
	}
}

func passphraseSlot(p string, iter int, what string) (*slot, error) {
	if n := utf8.RuneCountInString(p); n < MinPassphrase {
		return nil, fmt.Errorf("%s has %d characters; use at least %d", what, n, MinPassphrase)
	}
	return passSlot(p, iter), nil
}

// ParseKey decodes a 32-byte key written as 64 hex digits or in base64 (standard or
// URL alphabet, padded or not). Surrounding white space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("the key decodes to %d bytes; an AES-256 key is 32 bytes", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is neither 64 hex digits nor base64 of 32 bytes (generate one with: head -c 32 /dev/urandom | base64)")
}

// GenerateKey returns a new random key as 64 hex digits, for KeySource.Key.
func GenerateKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
