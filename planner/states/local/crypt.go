package local

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// Encryption (Backend.Crypt): the state file is one crypt envelope, and each journal
// line is a record's plaintext line sealed in its own envelope, written as "~", the
// envelope in base64 and a newline:
//
//	~RkFCRU5DAAEA…
//
// Lines are read one by one, so a journal may mix plaintext and encrypted lines (a run
// that crashed before encryption was turned on); plaintext lines are subject to the
// Keyring's plaintext rule. A line that does not decrypt is torn, like a line whose CRC
// fails, when nothing after it decrypts; followed by lines that do, it is an error,
// since a crash does not damage the middle of the journal. A line encrypted with an
// unknown key is always an error.

// DecryptError is returned for a state file or journal that cannot be decrypted: a
// wrong or missing key (*crypt.KeyError, crypt.ErrNoKey), modified data
// (crypt.ErrTampered), or plaintext where encryption is required (crypt.ErrPlaintext).
type DecryptError struct {
	// Path is the file.
	Path string
	// Err is the crypt error.
	Err error
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("%s: %v; fabrica did not modify it", e.Path, e.Err)
}

func (e *DecryptError) Unwrap() error { return e.Err }

const encryptedLine = '~'

// sealLine returns line (a plaintext journal line) as an encrypted line, appended to
// dst; without encryption it appends line itself.
func (b *Backend) sealLine(dst, line []byte) ([]byte, error) {
	if !b.Crypt.Encrypts() {
		return append(dst, line...), nil
	}
	env, err := b.Crypt.Encrypt(line)
	if err != nil {
		return dst, err
	}
	dst = append(dst, encryptedLine)
	dst = base64.StdEncoding.AppendEncode(dst, env)
	return append(dst, '\n'), nil
}

// journalText returns the journal's records as plaintext lines. ends maps each
// plaintext line's end offset to the end of its line in data (nil when the two are
// the same: a plaintext journal and no keyring). The result stops at the first line
// that is torn.
func (b *Backend) journalText(data []byte) (plain []byte, ends map[int]int, err error) {
	if b.Crypt == nil && (len(data) == 0 || data[0] != encryptedLine) && !bytes.Contains(data, []byte{'\n', encryptedLine}) {
		return data, nil, nil
	}
	ends = map[int]int{0: 0}
	off, line := 0, 0
	tornAt := -1 // the first line that failed, if any
	var tornErr error
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break // a torn last line
		}
		raw := data[off : off+nl+1]
		line++
		var text []byte
		var derr error
		if raw[0] == encryptedLine {
			env, e := base64.StdEncoding.AppendDecode(nil, raw[1:len(raw)-1])
			if e != nil || !crypt.IsEncrypted(env) {
				derr = crypt.ErrTampered
			} else {
				text, derr = b.Crypt.Decrypt(env)
			}
		} else {
			text, derr = b.Crypt.Decrypt(raw)
		}
		var ke *crypt.KeyError
		switch {
		case derr != nil && (errors.As(derr, &ke) || errors.Is(derr, crypt.ErrNoKey) || errors.Is(derr, crypt.ErrPlaintext)):
			return nil, nil, &DecryptError{Path: b.journalPath(), Err: fmt.Errorf("line %d: %w", line, derr)}
		case derr != nil:
			if tornAt < 0 {
				tornAt, tornErr = line, derr
			}
		case tornAt >= 0:
			return nil, nil, &DecryptError{Path: b.journalPath(), Err: fmt.Errorf("line %d: %w (and later lines are intact, so this is not a crash's torn end)", tornAt, tornErr)}
		default:
			plain = append(plain, text...)
			ends[len(plain)] = off + nl + 1
		}
		off += nl + 1
	}
	return plain, ends, nil
}

// fileOffset maps an offset at the end of a plaintext line (as ScanJournal returns
// it) to the offset in the file.
func fileOffset(ends map[int]int, plainOff int) (int64, error) {
	if ends == nil {
		return int64(plainOff), nil
	}
	off, ok := ends[plainOff]
	if !ok {
		return 0, errors.New("the journal's intact records do not end at a line")
	}
	return int64(off), nil
}
