package statefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a problem at a position in a state file or journal.
type Error struct {
	// Offset is the 0-based byte offset of the problem.
	Offset int
	// Line and Column are 1-based; Column counts bytes.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d (byte %d): %s", e.Line, e.Column, e.Offset, e.Msg)
}

// VersionError is returned for a state written in a format newer than this fabrica reads.
type VersionError struct {
	// Version is the format_version found.
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("state was written by a newer fabrica (format %d); this fabrica reads format %d and older: upgrade fabrica",
		e.Version, currentVersion)
}

// maxDepth bounds the nesting of JSON values, so a hostile file cannot exhaust the stack.
const maxDepth = 1000

// scanner is a small JSON reader over a byte slice that validates as it goes and never
// copies: values are returned as sub-slices of data.
type scanner struct {
	data []byte
	pos  int
	err  *Error
	// space is set when skipValue met whitespace inside a value.
	space bool
}

// special marks the bytes that end the fast path of a string: quote, backslash, and
// control characters.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// fail records the first error, at offset off, and returns false.
func (s *scanner) fail(off int, format string, args ...any) bool {
	if s.err == nil {
		line, col := 1, 1
		if off > len(s.data) {
			off = len(s.data)
		}
		if i := bytes.LastIndexByte(s.data[:off], '\n'); i >= 0 {
			line = bytes.Count(s.data[:off], []byte{'\n'}) + 1
			col = off - i
		} else {
			col = off + 1
		}
		s.err = &Error{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	return false
}

// failHere reports an unexpected byte (or end of input) at the current position.
func (s *scanner) failHere(want string) bool {
	if s.pos >= len(s.data) {
		return s.fail(s.pos, "unexpected end of input, expected %s", want)
	}
	return s.fail(s.pos, "unexpected %s, expected %s", quoteByte(s.data[s.pos]), want)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// ws skips whitespace and reports whether there was any.
func (s *scanner) ws() bool {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return false
	}
	start := s.pos
	s.pos = skipSpace(s.data, s.pos)
	return s.pos > start
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.data[s.pos]
	}
	s.pos = skipSpace(s.data, s.pos)
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// consume skips whitespace and the byte c, or fails.
func (s *scanner) consume(c byte, want string) bool {
	if s.peek() != c {
		return s.failHere(want)
	}
	s.pos++
	return true
}

// str reads a string and returns its raw content (between the quotes) and whether it
// must be decoded: it has escapes, or bytes that are not UTF-8 (which decoding
// replaces with U+FFFD, as encoding/json does, so what is read is what is written).
func (s *scanner) str() (raw []byte, esc bool, ok bool) {
	if s.peek() != '"' {
		return nil, false, s.failHere("a string")
	}
	start := s.pos
	end, esc, high, msg := validStringEsc(s.data, start)
	if msg != "" {
		return nil, false, s.fail(end, "%s", msg)
	}
	s.pos = end
	raw = s.data[start+1 : end-1]
	return raw, esc || high && !utf8.Valid(raw), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// text reads a string and decodes it.
func (s *scanner) text() (string, bool) {
	raw, esc, ok := s.str()
	if !ok {
		return "", false
	}
	if !esc {
		return string(raw), true
	}
	return s.unescape(raw)
}

// unescape decodes the escapes of a string already validated by str.
func (s *scanner) unescape(raw []byte) (string, bool) {
	var v string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if err := json.Unmarshal(q, &v); err != nil {
		return "", s.fail(s.pos-len(raw)-2, "invalid string: %v", err)
	}
	return v, true
}

// uint reads a non-negative integer.
func (s *scanner) uint(what string) (uint64, bool) {
	s.ws()
	start := s.pos
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
	if start == s.pos {
		return 0, s.failHere(what + " (a non-negative integer)")
	}
	n, err := strconv.ParseUint(string(s.data[start:s.pos]), 10, 64)
	if err != nil || (s.pos-start > 1 && s.data[start] == '0') {
		return 0, s.fail(start, "%s must be a non-negative integer", what)
	}
	if s.pos < len(s.data) {
		if c := s.data[s.pos]; c == '.' || c == 'e' || c == 'E' {
			return 0, s.fail(start, "%s must be a non-negative integer", what)
		}
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// boolean reads true or false.
func (s *scanner) boolean() (bool, bool) {
	s.ws()
	switch {
	case bytes.HasPrefix(s.data[s.pos:], []byte("true")):
		s.pos += 4
		return true, true
	case bytes.HasPrefix(s.data[s.pos:], []byte("false")):
		s.pos += 5
		return false, true
	}
	return false, s.failHere("true or false")
}

// more is called after a member or element: it consumes a comma and reports true, or
// consumes the closing byte and reports false.
func (s *scanner) more(closing byte) (more, ok bool) {
	switch s.peek() {
	case ',':
		s.pos++
		return true, true
	case closing:
		s.pos++
		return false, true
	}
	return false, s.failHere(fmt.Sprintf("',' or '%c'", closing))
}

// key reads an object key and its colon. It returns the raw key (escapes decoded).
func (s *scanner) key() ([]byte, bool) {
	raw, esc, ok := s.str()
	if !ok {
		return nil, false
	}
	if esc {
		v, ok := s.unescape(raw)
		if !ok {
			return nil, false
		}
		raw = []byte(v)
	}
	return raw, s.consume(':', "':'")
}

// value reads any JSON value, validating it, and returns its bytes; p.space reports
// whitespace inside it. The result is capped, so appending to it never overwrites the
// data that follows.
func (s *scanner) value() ([]byte, bool) {
	s.ws()
	start := s.pos
	end, space, msg := validValue(s.data, start)
	if msg != "" {
		return nil, s.fail(end, "%s", msg)
	}
	s.space = space
	s.pos = end
	return s.data[start:end:end], true
}

// compactValue validates raw as one JSON value and returns it without insignificant
// whitespace (raw itself when it has none).
func compactValue(raw []byte) ([]byte, error) {
	i := 0
	if len(raw) > 0 && isSpace(raw[0]) {
		i = skipSpace(raw, 0)
	}
	end, space, msg := validValue(raw, i)
	if msg == "" && end < len(raw) {
		if e := skipSpace(raw, end); e < len(raw) {
			end, msg = e, "unexpected "+quoteByte(raw[e])+" after the value"
		}
	}
	if msg != "" {
		return nil, fmt.Errorf("invalid JSON at byte %d: %s", end, msg)
	}
	if !space && i == 0 && end == len(raw) {
		return raw, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return b.Bytes(), nil
}
