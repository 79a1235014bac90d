package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// Magic starts every envelope; data without it is plaintext.
const Magic = "FABENC\x00"

// Version is the envelope format this package writes and the newest it reads.
const Version = 1

const (
	kdfRaw    = 0
	kdfPBKDF2 = 1

	idLen     = 8
	saltLen   = 16
	nonceLen  = 12
	tagLen    = 16
	rawHead   = len(Magic) + 2 + idLen // magic, version, kdf, key id
	pbkdfHead = rawHead + 4 + saltLen  // + iterations, salt
	minIter   = 1_000                  // refused below: not a real passphrase setting
	maxIter   = 10_000_000             // refused above: a header that would take minutes
)

// Overhead is the most that Encrypt adds to the length of its input.
const Overhead = pbkdfHead + nonceLen + tagLen

// IsEncrypted reports whether data is an envelope (starts with Magic).
func IsEncrypted(data []byte) bool { return bytes.HasPrefix(data, []byte(Magic)) }

// Errors of Decrypt. KeyError and FormatError are the other two.
var (
	// ErrNoKey: the data is encrypted but the Keyring is nil.
	ErrNoKey = errors.New("the data is encrypted, but no encryption key is configured")
	// ErrPlaintext: the data is not encrypted but the Keyring requires encryption.
	ErrPlaintext = errors.New("the data is not encrypted, but encryption is configured; to encrypt an existing unencrypted state, allow reading plaintext once (allow_plaintext), then write the state")
	// ErrTampered: the key is right but the data does not authenticate.
	ErrTampered = errors.New("decryption failed: the encrypted data was modified or damaged (its authentication tag does not match)")
)

// KeyError is returned for data encrypted with a key that is not in the Keyring.
type KeyError struct {
	// ID is the id of the key the data was encrypted with (hex).
	ID string
	// Passphrase is set when that key was derived from a passphrase.
	Passphrase bool
}

func (e *KeyError) Error() string {
	what := "key"
	if e.Passphrase {
		what = "passphrase"
	}
	return fmt.Sprintf("cannot decrypt: the data was encrypted with another %s (key id %s) than those configured; check the %s, and when rotating keys keep the old one configured as a fallback",
		what, e.ID, what)
}

// FormatError is returned for an envelope that is cut short or malformed.
type FormatError struct {
	// Msg says what is wrong.
	Msg string
}

func (e *FormatError) Error() string { return "cannot decrypt: " + e.Msg }

// Keyring encrypts with its write key and decrypts with any of its keys. Its methods
// are safe for concurrent use; a nil *Keyring does no encryption.
type Keyring struct {
	write          *slot   // nil: Encrypt returns plaintext
	read           []*slot // write first
	allowPlaintext bool
}

// slot is one configured key.
type slot struct {
	kdf  byte
	aead cipher.AEAD // raw keys
	id   [idLen]byte // raw keys

	// passphrase keys
	pass       string
	iterations int // for writing
	mu         sync.Mutex
	derived    map[[saltLen]byte]*derivedKey
	current    *derivedKey // the salt used for writing, once chosen
}

// derivedKey is a passphrase derived with one salt and iteration count.
type derivedKey struct {
	once       sync.Once
	salt       [saltLen]byte
	iterations int
	aead       cipher.AEAD
	id         [idLen]byte
	err        error
}

func keyID(key []byte) [idLen]byte {
	h := sha256.New()
	h.Write([]byte("fabrica key id"))
	h.Write(key)
	var id [idLen]byte
	copy(id[:], h.Sum(nil))
	return id
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func rawSlot(key []byte) (*slot, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("an encryption key must be 32 bytes (AES-256), not %d", len(key))
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &slot{kdf: kdfRaw, aead: aead, id: keyID(key)}, nil
}

func passSlot(pass string, iterations int) *slot {
	return &slot{kdf: kdfPBKDF2, pass: pass, iterations: iterations, derived: map[[saltLen]byte]*derivedKey{}}
}

// derive returns the key for salt and iterations, deriving it once.
func (s *slot) derive(salt [saltLen]byte, iterations int) (*derivedKey, error) {
	s.mu.Lock()
	d := s.derived[salt]
	if d == nil || d.iterations != iterations {
		d = &derivedKey{salt: salt, iterations: iterations}
		s.derived[salt] = d
	}
	s.mu.Unlock()
	d.once.Do(func() {
		key, err := pbkdf2.Key(sha256.New, s.pass, salt[:], iterations, 32)
		if err == nil {
			d.aead, err = newAEAD(key)
		}
		d.id, d.err = keyID(key), err
	})
	return d, d.err
}

// writeKey returns the key Encrypt uses: for a passphrase, the salt adopted from data
// it decrypted, or a new random salt.
func (s *slot) writeKey() (cipher.AEAD, [idLen]byte, *derivedKey, error) {
	if s.kdf == kdfRaw {
		return s.aead, s.id, nil, nil
	}
	s.mu.Lock()
	cur := s.current
	if cur == nil {
		var salt [saltLen]byte
		_, _ = rand.Read(salt[:])
		cur = &derivedKey{salt: salt, iterations: s.iterations}
		s.derived[salt] = cur
		s.current = cur
	}
	s.mu.Unlock()
	d, err := s.derive(cur.salt, cur.iterations)
	if err != nil {
		return nil, [idLen]byte{}, nil, err
	}
	return d.aead, d.id, d, nil
}

// adopt makes d the salt s writes with, if s has not chosen one and d uses the
// configured iteration count.
func (s *slot) adopt(d *derivedKey) {
	s.mu.Lock()
	if s.current == nil && d.iterations == s.iterations {
		s.current = d
	}
	s.mu.Unlock()
}

// Encrypts reports whether Encrypt encrypts (the Keyring has a write key).
func (k *Keyring) Encrypts() bool { return k != nil && k.write != nil }

// Encrypt returns plaintext sealed in an envelope with the write key. Without a write
// key (or with a nil Keyring) it returns plaintext itself.
func (k *Keyring) Encrypt(plaintext []byte) ([]byte, error) {
	return k.AppendEncrypt(nil, plaintext)
}

// AppendEncrypt appends what Encrypt returns to dst.
func (k *Keyring) AppendEncrypt(dst, plaintext []byte) ([]byte, error) {
	if !k.Encrypts() {
		return append(dst, plaintext...), nil
	}
	aead, id, d, err := k.write.writeKey()
	if err != nil {
		return nil, fmt.Errorf("deriving the encryption key: %w", err)
	}
	start := len(dst)
	dst = append(dst, Magic...)
	dst = append(dst, Version, k.write.kdf)
	dst = append(dst, id[:]...)
	if d != nil {
		dst = binary.BigEndian.AppendUint32(dst, uint32(d.iterations))
		dst = append(dst, d.salt[:]...)
	}
	nonceAt := len(dst)
	dst = append(dst, make([]byte, nonceLen)...)
	_, _ = rand.Read(dst[nonceAt:])
	head := len(dst)
	// The header is the additional data; it must not move while Seal appends, so
	// grow dst first.
	dst = growCap(dst, len(plaintext)+tagLen)
	return aead.Seal(dst, dst[nonceAt:head], plaintext, dst[start:head]), nil
}

func growCap(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := make([]byte, len(b), len(b)+n)
	copy(c, b)
	return c
}

// header is a parsed envelope header.
type header struct {
	kdf        byte
	id         [idLen]byte
	iterations int
	salt       [saltLen]byte
	aad        []byte // everything up to and including the nonce
	nonce      []byte
	sealed     []byte
}

func parseHeader(data []byte) (*header, error) {
	if len(data) < len(Magic)+1 {
		return nil, &FormatError{"the envelope is cut short"}
	}
	if v := data[len(Magic)]; v != Version {
		return nil, &FormatError{fmt.Sprintf("the data is encrypted in envelope format %d, which this fabrica does not read (it reads %d); use a newer fabrica", v, Version)}
	}
	if len(data) < rawHead {
		return nil, &FormatError{"the envelope is cut short"}
	}
	h := &header{kdf: data[len(Magic)+1]}
	copy(h.id[:], data[len(Magic)+2:])
	off := rawHead
	switch h.kdf {
	case kdfRaw:
	case kdfPBKDF2:
		if len(data) < pbkdfHead {
			return nil, &FormatError{"the envelope is cut short"}
		}
		it := binary.BigEndian.Uint32(data[rawHead:])
		if it < minIter || it > maxIter {
			return nil, &FormatError{fmt.Sprintf("the envelope asks for %d PBKDF2 iterations, outside %d to %d", it, minIter, maxIter)}
		}
		h.iterations = int(it)
		copy(h.salt[:], data[rawHead+4:])
		off = pbkdfHead
	default:
		return nil, &FormatError{fmt.Sprintf("unknown key derivation %d in the envelope", h.kdf)}
	}
	if len(data) < off+nonceLen+tagLen {
		return nil, &FormatError{"the envelope is cut short"}
	}
	h.nonce = data[off : off+nonceLen]
	h.aad = data[:off+nonceLen]
	h.sealed = data[off+nonceLen:]
	return h, nil
}

// Decrypt returns the plaintext of an envelope, with whichever configured key wrote it.
// Plaintext data is returned as it is if the Keyring allows it (a nil Keyring, one
// without a write key, or one built with AllowPlaintext), else ErrPlaintext. A wrong
// key is a *KeyError, damaged or modified data ErrTampered, a malformed envelope a
// *FormatError; encrypted data with a nil Keyring is ErrNoKey.
func (k *Keyring) Decrypt(data []byte) ([]byte, error) {
	return k.AppendDecrypt(nil, data)
}

// AppendDecrypt appends what Decrypt returns to dst (for plaintext data: data itself
// when dst is empty, so nothing is copied).
func (k *Keyring) AppendDecrypt(dst, data []byte) ([]byte, error) {
	if !IsEncrypted(data) {
		if k != nil && k.write != nil && !k.allowPlaintext {
			return nil, ErrPlaintext
		}
		if len(dst) == 0 {
			return data, nil
		}
		return append(dst, data...), nil
	}
	if k == nil {
		return nil, ErrNoKey
	}
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	aead, _, err := k.keyFor(h)
	if err != nil {
		return nil, err
	}
	out, err := aead.Open(dst, h.nonce, h.sealed, h.aad)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// keyFor finds the key an envelope names, and reports whether it is the write key.
func (k *Keyring) keyFor(h *header) (cipher.AEAD, bool, error) {
	for _, s := range k.read {
		if s.kdf != h.kdf {
			continue
		}
		if s.kdf == kdfRaw {
			if s.id == h.id {
				return s.aead, s == k.write, nil
			}
			continue
		}
		d, err := s.derive(h.salt, h.iterations)
		if err != nil {
			return nil, false, err
		}
		if d.id == h.id {
			if s == k.write {
				s.adopt(d)
			}
			return d.aead, s == k.write, nil
		}
	}
	return nil, false, &KeyError{ID: hex.EncodeToString(h.id[:]), Passphrase: h.kdf == kdfPBKDF2}
}

// Current reports whether data is as Encrypt writes it now: encrypted with the write
// key (for a passphrase, with the salt it writes with), or plaintext when the Keyring
// has no write key. Backends rewrite data that is not current, which completes a key
// rotation or turns encryption on or off.
func (k *Keyring) Current(data []byte) bool {
	enc := IsEncrypted(data)
	if !k.Encrypts() {
		return !enc
	}
	if !enc {
		return false
	}
	h, err := parseHeader(data)
	if err != nil || h.kdf != k.write.kdf {
		return false
	}
	if k.write.kdf == kdfRaw {
		return h.id == k.write.id
	}
	k.write.mu.Lock()
	cur := k.write.current
	k.write.mu.Unlock()
	if cur == nil {
		// Nothing written or read yet: adopt this salt if it is this passphrase's.
		if _, isWrite, err := k.keyFor(h); err != nil || !isWrite {
			return false
		}
		k.write.mu.Lock()
		cur = k.write.current
		k.write.mu.Unlock()
	}
	return cur != nil && cur.salt == h.salt && cur.iterations == h.iterations
}

// KeyID returns the id of the write key as it appears in envelopes (hex), or "" when
// the Keyring does not encrypt. For a passphrase it derives the key if needed.
func (k *Keyring) KeyID() (string, error) {
	if !k.Encrypts() {
		return "", nil
	}
	_, id, _, err := k.write.writeKey()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}
