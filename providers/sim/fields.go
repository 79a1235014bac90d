package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"

	"github.com/fabrica-iac/fabrica/providers"
)

// At 100,000 instances encoding/json's map decoding and encoding dominated Plan and
// Apply. Attrs are canonical JSON (compact, keys sorted), so a top-level attribute can be
// found, dropped or set by splitting the object into fields and joining them again,
// without decoding the values. Input that is not canonical goes through encoding/json.

// field is one top-level attribute of a JSON object.
type field struct {
	key []byte // unescaped
	val []byte // canonical JSON
}

// maxStackFields is how many fields callers keep on the stack before splitObject and
// merge allocate.
const maxStackFields = 24

// splitObject splits a JSON object into its top-level fields, in key order, appending
// them to dst[:0].
func splitObject(dst []field, a []byte) ([]field, error) {
	if fs, ok := splitCanonical(dst[:0], a); ok {
		return fs, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("attributes must be a JSON object, not null")
	}
	fs := dst[:0]
	for _, k := range sortedKeys(m) {
		v, err := providers.Canonical(m[k])
		if err != nil {
			return nil, err
		}
		fs = append(fs, field{key: []byte(k), val: v})
	}
	return fs, nil
}

// splitCanonical splits a compact JSON object whose keys are sorted and unescaped,
// appending to fs; it reports false for anything else.
func splitCanonical(fs []field, a []byte) ([]field, bool) {
	n := len(a)
	if n < 2 || a[0] != '{' || a[n-1] != '}' {
		return nil, false
	}
	if n == 2 {
		return fs, true
	}
	for i := 1; ; {
		if a[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < n && a[j] != '"' {
			if a[j] == '\\' || a[j] < 0x20 {
				return nil, false
			}
			j++
		}
		if j+2 >= n || a[j+1] != ':' {
			return nil, false
		}
		key := a[i+1 : j]
		if len(fs) > 0 && bytes.Compare(fs[len(fs)-1].key, key) >= 0 {
			return nil, false
		}
		end, ok := skipValue(a, j+2)
		if !ok || end >= n {
			return nil, false
		}
		fs = append(fs, field{key: key, val: a[j+2 : end]})
		switch {
		case a[end] == '}' && end == n-1:
			return fs, true
		case a[end] == ',' && end+1 < n-1:
			i = end + 1
		default:
			return nil, false
		}
	}
}

// skipValue returns the end of the compact JSON value starting at a[i].
func skipValue(a []byte, i int) (int, bool) {
	if i >= len(a) {
		return 0, false
	}
	switch a[i] {
	case '"':
		return skipString(a, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(a); j++ {
			switch a[j] {
			case '"':
				k, ok := skipString(a, j)
				if !ok {
					return 0, false
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, json.Valid(a[i : j+1])
				}
			case ' ', '\t', '\n', '\r':
				return 0, false
			}
		}
		return 0, false
	}
	j := i
	for j < len(a) && a[j] != ',' && a[j] != '}' && a[j] != ']' {
		j++
	}
	tok := a[i:j]
	switch string(tok) {
	case "true", "false", "null":
		return j, true
	}
	return j, len(tok) > 0 && (tok[0] == '-' || tok[0] >= '0' && tok[0] <= '9') && json.Valid(tok)
}

// skipString returns the end of the JSON string starting at a[i], just past its quote.
func skipString(a []byte, i int) (int, bool) {
	for j := i + 1; j < len(a); j++ {
		switch c := a[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(a) {
				return 0, false
			}
			switch a[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(a) || !isHex4(a[j+2:j+6]) {
					return 0, false
				}
				j += 5
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// lookup returns the value of key, or nil.
func lookup(fs []field, key string) []byte {
	for _, f := range fs {
		if string(f.key) == key {
			return f.val
		}
	}
	return nil
}

// merge returns the fields of base without the keys in drop, with set's fields added
// or replacing base's, as a canonical JSON object.
func merge(base []field, drop []string, set []field) []byte {
	var buf [maxStackFields]field
	out := buf[:0]
	size := 2
	for _, f := range base {
		if slices.Contains(drop, string(f.key)) || lookup(set, string(f.key)) != nil {
			continue
		}
		out = append(out, f)
		size += len(f.key) + len(f.val) + 4
	}
	for _, f := range set { // insert in key order; set is short
		i := len(out)
		out = append(out, f)
		for ; i > 0 && bytes.Compare(out[i-1].key, f.key) > 0; i-- {
			out[i] = out[i-1]
		}
		out[i] = f
		size += len(f.key) + len(f.val) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, f := range out {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		b = append(b, f.val...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, exactly as encoding/json writes it.
func appendString[S ~string | ~[]byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(string(s)) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// stringField returns a field whose value is the JSON string s.
func stringField(key, s string) field {
	return field{key: []byte(key), val: appendString(nil, s)}
}
