package plans

import (
	"bytes"
	"encoding/json"
)

// A scanner of JSON objects that finds members without decoding their values: what
// redaction, the plan views and plan file decoding need of attribute objects that may
// hold a fabric's thousands of endpoints.

// MemberNames returns the keys of a JSON object in order (nil when attrs is not a
// well-formed object), reading none of the values.
func MemberNames(attrs json.RawMessage) []string {
	var names []string
	ok := wholeObject(attrs, func(key []byte, _, _ int) {
		if k, ok := unquoteKey(key); ok {
			names = append(names, k)
		}
	})
	if !ok {
		return nil
	}
	return names
}

// Members returns the members of a JSON object, each value a slice of attrs (not a
// copy), or nil when attrs is not a well-formed object. It is json.Unmarshal into a
// map[string]json.RawMessage without copying or validating the values, which for a
// fabric's list of thousands of endpoints is most of the cost.
func Members(attrs json.RawMessage) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	ok := wholeObject(attrs, func(key []byte, vStart, vEnd int) {
		if k, ok := unquoteKey(key); ok {
			m[k] = attrs[vStart:vEnd:vEnd]
		}
	})
	if !ok {
		return nil
	}
	return m
}

// wholeObject is scanMembers for a b that must hold the object and nothing else.
func wholeObject(b []byte, fn func(key []byte, vStart, vEnd int)) bool {
	end, ok := scanMembers(b, fn)
	return ok && skipSpace(b, end) == len(b)
}

func unquoteKey(quoted []byte) (string, bool) {
	k := string(quoted[1 : len(quoted)-1])
	if bytes.IndexByte(quoted, '\\') >= 0 && json.Unmarshal(quoted, &k) != nil {
		return "", false
	}
	return k, true
}

// scanMembers calls fn with each member of the JSON object in b: its key as written
// (quoted) and where its value starts and ends. It scans b once without decoding it,
// and returns where the object ends, or false when b does not start with a well-formed
// object.
func scanMembers(b []byte, fn func(key []byte, vStart, vEnd int)) (end int, ok bool) {
	return scanObject(b, false, fn)
}

// scanObject is scanMembers; lenient accepts a comma before the closing brace, so that
// redaction hides what it can even in an object with that flaw.
func scanObject(b []byte, lenient bool, fn func(key []byte, vStart, vEnd int)) (end int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for i < len(b) {
		kEnd, ok := skipString(b, i)
		if !ok {
			return 0, false
		}
		key := b[i:kEnd]
		if i = skipSpace(b, kEnd); i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		vEnd, ok := skipValue(b, i)
		if !ok {
			return 0, false
		}
		fn(key, i, vEnd)
		switch i = skipSpace(b, vEnd); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
			if lenient && i < len(b) && b[i] == '}' {
				return i + 1, true
			}
		case i < len(b) && b[i] == '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
	return 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the JSON string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(b), false
}

// skipValue returns the end of the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return end, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(b), false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, j > i
}
