// Package crypt encrypts state and plan data at rest: AES-256-GCM with a key given
// directly (32 bytes, as hex or base64, from the configuration, an environment variable
// or a key file) or derived from a passphrase with PBKDF2-HMAC-SHA256.
//
// A Keyring holds one write key and any number of older read keys, so a key is rotated
// by configuring the new key and keeping the old one as a fallback: everything is read
// with whichever key wrote it and written again with the new one. A Keyring with no
// write key decrypts and writes plaintext (turning encryption off); a nil *Keyring means
// no encryption at all and refuses encrypted data with ErrNoKey.
//
// # Envelope
//
// Encrypt returns an envelope, all of which but the ciphertext is authenticated as
// additional data:
//
//	"FABENC\x00"  7 bytes   magic: data that does not start with it is plaintext
//	version       1 byte    1
//	kdf           1 byte    0: a raw key; 1: PBKDF2-HMAC-SHA256 of a passphrase
//	key id        8 bytes   SHA-256("fabrica key id" || key)[:8], names the key used
//	iterations    4 bytes   big-endian, PBKDF2 only
//	salt          16 bytes  PBKDF2 only
//	nonce         12 bytes  random
//	ciphertext    n+16 bytes, the last 16 the GCM tag
//
// The key id tells a wrong key (KeyError, nothing decrypted) from damaged or modified
// data (ErrTampered: the tag does not match). A passphrase is derived once per salt
// and the result cached; a Keyring that reads data written with its own passphrase
// reuses that salt for what it writes, so a state is normally under one salt and
// costs one derivation per process.
//
// Random 96-bit nonces bound how much one key should encrypt to about 2^32 envelopes;
// rotate keys well before that.
package crypt
