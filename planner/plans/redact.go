package plans

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Redacted is what a sensitive value shows as.
const Redacted = "(sensitive)"

// Redact returns a copy of the plan whose sensitive attributes read "(sensitive)" in
// before and after: the form every output and the policy input use. The plan file keeps
// the real values.
func Redact(p *Plan) *Plan {
	cp := *p // shares encoded (see KeepEncoding)
	cp.ResourceChanges = make([]*ResourceChange, len(p.ResourceChanges))
	for i, rc := range p.ResourceChanges {
		if len(rc.SensitiveAttributes) == 0 {
			cp.ResourceChanges[i] = rc
			continue
		}
		before := redactAttrs(rc.Before, rc.SensitiveAttributes)
		after := before
		// An unchanged instance's after is its before, byte for byte: comparing is
		// much cheaper than scanning it again.
		if !bytes.Equal(rc.After, rc.Before) {
			after = redactAttrs(rc.After, rc.SensitiveAttributes)
		}
		if sameBytes(before, rc.Before) && (sameBytes(after, rc.After) || sameBytes(after, rc.Before)) {
			cp.ResourceChanges[i] = rc // nothing secret in it (yet: a create's secret is unknown)
			continue
		}
		r := *rc
		r.Before, r.After = before, after
		cp.ResourceChanges[i] = &r
	}
	return &cp
}

// sameBytes reports whether a and b are the same slice (redactAttrs returns its input
// when it changes nothing).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// redactAttrs returns attrs with the values of the named top-level members replaced by
// "(sensitive)", every other byte as it was. It scans the object once without decoding
// it: a plan of 100,000 servers, each with a secret, is redacted more than once per
// command. Attributes that are not a JSON object are returned as they are.
func redactAttrs(attrs json.RawMessage, sensitive []string) json.RawMessage {
	if attrs == nil || (!mentionsAny(attrs, sensitive) && bytes.IndexByte(attrs, '\\') < 0) {
		return attrs // no name in it, not even written with escapes
	}
	var out []byte
	last := 0
	_, ok := scanObject(attrs, true, func(key []byte, vStart, vEnd int) {
		if isSensitiveKey(key, sensitive) {
			out = append(out, attrs[last:vStart]...)
			out = append(out, `"`+Redacted+`"`...)
			last = vEnd
		}
	})
	if !ok || out == nil {
		return attrs
	}
	return append(out, attrs[last:]...)
}

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

// mentionsAny reports whether any name occurs in attrs at all (the common case is no).
func mentionsAny(attrs []byte, names []string) bool {
	for _, n := range names {
		if bytes.Contains(attrs, []byte(n)) {
			return true
		}
	}
	return false
}

// isSensitiveKey reports whether a quoted JSON key is one of names.
func isSensitiveKey(quoted []byte, names []string) bool {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		for _, n := range names {
			if string(raw) == n { // compared without allocating
				return true
			}
		}
		return false
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return false
	}
	return slices.Contains(names, k)
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
