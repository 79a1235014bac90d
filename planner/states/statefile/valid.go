package statefile

import (
	"encoding/binary"
	"math/bits"
)

// validValue checks the JSON value that starts at d[i] (after any whitespace) and
// returns the index just after it. It is the hot path of reading and writing states:
// one loop with an explicit stack instead of a call per token. space reports
// whitespace inside the value; on error, end is the offset of the problem and msg
// says what it is.
func validValue(d []byte, i int) (end int, space bool, msg string) {
	var stackBuf [32]byte
	stack := stackBuf[:0]
	n := len(d)
value:
	if i >= n {
		return i, space, "unexpected end of input, expected a JSON value"
	}
	switch c := d[i]; c {
	case '"':
		if i, msg = validString(d, i); msg != "" {
			return i, space, msg
		}
	case '{', '[':
		if len(stack) >= maxDepth {
			return i, space, "JSON nested too deeply"
		}
		stack = append(stack, c)
		i++
		if i < n && isSpace(d[i]) {
			i, space = skipSpace(d, i), true
		}
		if i < n && d[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			stack = stack[:len(stack)-1]
			i++
			break
		}
		if c == '[' {
			goto value
		}
		goto key
	case 't', 'f', 'n':
		if i, msg = validLiteral(d, i); msg != "" {
			return i, space, msg
		}
	default:
		if c != '-' && !isDigit(c) {
			return i, space, "unexpected " + quoteByte(c) + ", expected a JSON value"
		}
		if i, msg = validNumber(d, i); msg != "" {
			return i, space, msg
		}
	}
	// After a value: a comma, or the end of its container.
	for len(stack) > 0 {
		if i < n && isSpace(d[i]) {
			i, space = skipSpace(d, i), true
		}
		if i >= n {
			return i, space, "unexpected end of input inside a JSON value"
		}
		top := stack[len(stack)-1]
		switch d[i] {
		case ',':
			i++
			if i < n && isSpace(d[i]) {
				i, space = skipSpace(d, i), true
			}
			if top == '[' {
				goto value
			}
			goto key
		case top + 2:
			stack = stack[:len(stack)-1]
			i++
			continue
		}
		return i, space, "unexpected " + quoteByte(d[i]) + ", expected ',' or '" + string(top+2) + "'"
	}
	return i, space, ""
key:
	if i >= n || d[i] != '"' {
		if i >= n {
			return i, space, "unexpected end of input, expected an object key"
		}
		return i, space, "unexpected " + quoteByte(d[i]) + ", expected an object key"
	}
	if i, msg = validString(d, i); msg != "" {
		return i, space, msg
	}
	if i < n && isSpace(d[i]) {
		i, space = skipSpace(d, i), true
	}
	if i >= n || d[i] != ':' {
		return i, space, "expected ':' after an object key"
	}
	i++
	if i < n && isSpace(d[i]) {
		i, space = skipSpace(d, i), true
	}
	goto value
}

// validLiteral checks the true, false or null that starts at d[i].
func validLiteral(d []byte, i int) (int, string) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if lit[0] == d[i] {
			if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
				return i, "invalid literal, expected " + lit
			}
			return i + len(lit), ""
		}
	}
	return i, "invalid literal"
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// validString checks the string whose opening quote is d[i] and returns the index after
// its closing quote.
func validString(d []byte, i int) (int, string) {
	end, _, _, msg := validStringEsc(d, i)
	return end, msg
}

// validStringEsc is validString that also reports whether the string has escapes and
// whether it has bytes outside ASCII.
func validStringEsc(d []byte, i int) (end int, esc, high bool, msg string) {
	start := i
	i++
	var or uint64 // the bytes seen, or-ed together, to find any above 0x7f
	for {
		// Eight bytes at a time: the lowest flagged byte of the mask is the first quote,
		// backslash or control byte (false positives only occur above a true one).
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			q := x ^ (lo8 * '"')
			b := x ^ (lo8 * '\\')
			if m := ((q-lo8)&^q | (b-lo8)&^b | (x-lo8*0x20)&^x) & hi8; m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				or |= x & (1<<(8*k) - 1)
				i += k
				goto special
			}
			or |= x
			i += 8
		}
		for i < len(d) && !special[d[i]] {
			or |= uint64(d[i])
			i++
		}
	special:
		if i >= len(d) {
			return start, esc, false, "unterminated string"
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, esc, or&hi8 != 0, ""
		case c == '\\':
			esc = true
			if i+1 >= len(d) {
				return start, esc, false, "unterminated string"
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return i, esc, false, "invalid \\u escape in string"
				}
				i += 6
			default:
				return i, esc, false, "invalid escape \\" + string(d[i+1]) + " in string"
			}
		default:
			return i, esc, false, "control character " + quoteByte(c) + " in string (it must be escaped)"
		}
	}
}

// validNumber checks the number that starts at d[i] and returns the index after it.
func validNumber(d []byte, i int) (int, string) {
	start := i
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return start, "invalid number"
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return start, "invalid number"
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return start, "invalid number"
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	return i, ""
}
