package statefile

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/fabrica-iac/fabrica/internal/ordered"
	"github.com/fabrica-iac/fabrica/planner/states"
)

// Write writes s to w in the current format (see Marshal). Instances are encoded in
// chunks, on several cores when there are many, and each chunk is written as soon as
// it and those before it are ready, so a large state is never held whole in memory.
func Write(w io.Writer, s *states.State) error {
	head, err := appendHead(make([]byte, 0, 1024), s)
	if err != nil {
		return err
	}
	insts := slices.Collect(s.Instances())
	if _, err := w.Write(head); err != nil {
		return err
	}
	err = encodeChunks(insts, func(chunk []byte) error {
		_, err := w.Write(chunk)
		return err
	})
	if err != nil {
		return err
	}
	tail := "]\n}\n"
	if len(insts) > 0 {
		tail = "\n  ]\n}\n"
	}
	_, err = io.WriteString(w, tail)
	return err
}

// Marshal encodes s in the current format. The bytes depend only on the content of s:
// fields in a fixed order, outputs sorted by name, instances sorted by address (see
// states.CompareAddresses), one instance per line, attribute JSON compacted.
//
// Every Attrs and output value is validated, so Marshal never produces a file that
// Parse would refuse.
func Marshal(s *states.State) ([]byte, error) {
	var w appendWriter
	if err := Write(&w, s); err != nil {
		return nil, err
	}
	return w.b, nil
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// appendHead appends everything before the first instance.
func appendHead(b []byte, s *states.State) ([]byte, error) {
	b = append(b, "{\n  \"format_version\": "...)
	b = strconv.AppendInt(b, currentVersion, 10)
	b = append(b, ",\n  \"fabrica_version\": "...)
	b = appendString(b, s.FabricaVersion)
	b = append(b, ",\n  \"serial\": "...)
	b = strconv.AppendUint(b, s.Serial, 10)
	b = append(b, ",\n  \"lineage\": "...)
	b = appendString(b, s.Lineage)
	b = append(b, ",\n  \"outputs\": {"...)
	names := slices.Sorted(maps.Keys(s.Outputs))
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendString(b, k)
		b = append(b, ": "...)
		var err error
		if b, err = appendJSON(b, s.Outputs[k]); err != nil {
			return nil, fmt.Errorf("output %s: %w", k, err)
		}
	}
	if len(names) > 0 {
		b = append(b, "\n  "...)
	}
	return append(b, "},\n  \"resources\": ["...), nil
}

// chunkSize is the number of instances encoded together: about 1.5 MB.
const chunkSize = 2048

// encodeChunks encodes insts in chunks and passes them to emit in order. Chunks are
// encoded concurrently, at most a few ahead of the one being emitted.
func encodeChunks(insts []*states.Instance, emit func([]byte) error) error {
	n := (len(insts) + chunkSize - 1) / chunkSize
	encode := func(c int, buf []byte) ([]byte, error) {
		lo, hi := c*chunkSize, min((c+1)*chunkSize, len(insts))
		var err error
		for g := lo; g < hi; g++ {
			if g > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, "\n    "...)
			if buf, err = appendInstance(buf, insts[g]); err != nil {
				return buf[:0], err
			}
		}
		return buf, nil
	}
	return ordered.Encode(n, min(runtime.GOMAXPROCS(0), n, 8), encode, emit)
}

// InvalidInstanceError is returned for an instance that cannot be written: no address
// or kind, or attributes that are not a valid JSON object.
type InvalidInstanceError struct {
	// Address is the instance's address, if it has one.
	Address string
	// Msg says what is wrong.
	Msg string
}

func (e *InvalidInstanceError) Error() string { return e.Msg }

// appendInstance appends inst as one line of JSON.
func appendInstance(b []byte, inst *states.Instance) ([]byte, error) {
	if inst.Address == "" {
		return nil, &InvalidInstanceError{Msg: "a resource instance has no address"}
	}
	if inst.Kind == "" {
		return nil, &InvalidInstanceError{Address: inst.Address, Msg: "resource instance " + inst.Address + " has no kind"}
	}
	b = append(b, `{"address":`...)
	b = appendString(b, inst.Address)
	b = append(b, `,"kind":`...)
	b = appendString(b, inst.Kind)
	b = append(b, `,"provider":`...)
	b = appendString(b, inst.Provider)
	b = append(b, `,"id":`...)
	b = appendString(b, inst.ID)
	b = append(b, `,"attrs":`...)
	if len(inst.Attrs) > 0 && inst.Attrs[0] != '{' && inst.Attrs[0] != 'n' {
		return nil, &InvalidInstanceError{Address: inst.Address, Msg: "attributes of " + inst.Address + ": not a JSON object"}
	}
	var err error
	if b, err = appendJSON(b, inst.Attrs); err != nil {
		return nil, &InvalidInstanceError{Address: inst.Address, Msg: "attributes of " + inst.Address + ": " + err.Error()}
	}
	if inst.AttrsHash != "" {
		b = append(b, `,"attrs_hash":`...)
		b = appendString(b, inst.AttrsHash)
	}
	if inst.ConfigHash != "" {
		b = append(b, `,"config_hash":`...)
		b = appendString(b, inst.ConfigHash)
	}
	b = appendStrings(b, `,"dependencies":`, inst.Dependencies)
	ok := true
	if !inst.CreatedAt.IsZero() {
		b = append(b, `,"created_at":`...)
		b, ok = appendTime(b, inst.CreatedAt)
	}
	if !inst.UpdatedAt.IsZero() && ok {
		b = append(b, `,"updated_at":`...)
		b, ok = appendTime(b, inst.UpdatedAt)
	}
	if !ok {
		return nil, &InvalidInstanceError{Address: inst.Address, Msg: "resource instance " + inst.Address + " has a timestamp outside the years 0 to 9999"}
	}
	if inst.Tainted {
		b = append(b, `,"tainted":true`...)
	}
	b = appendStrings(b, `,"sensitive_attributes":`, inst.Sensitive)
	return append(b, '}'), nil
}

// appendStrings appends key and the list of strings, unless the list is empty.
func appendStrings(b []byte, key string, list []string) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendJSON appends a JSON value, validated and compacted; empty is null.
func appendJSON(b, v []byte) ([]byte, error) {
	if len(v) == 0 {
		return append(b, "null"...), nil
	}
	c, err := compactValue(v)
	if err != nil {
		return nil, err
	}
	return append(b, c...), nil
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	if !plainASCII(s) {
		q, _ := json.Marshal(s) // a string always marshals
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainASCII reports whether s is printable ASCII with no quote or backslash, so it
// needs no escaping. It checks eight bytes at a time.
func plainASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q := x ^ (lo8 * '"')
		bs := x ^ (lo8 * '\\')
		if (x|(q-lo8)&^q|(bs-lo8)&^bs|(x-lo8*0x20)&^x)&hi8 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
