package statefile

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// Write writes s to w in the current format. See Marshal.
func Write(w io.Writer, s *states.State) error {
	b, err := Marshal(s)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal encodes s in the current format. The bytes depend only on the content of s:
// fields in a fixed order, outputs sorted by name, instances sorted by address (see
// states.CompareAddresses), one instance per line, attribute JSON compacted.
//
// Every Attrs and output value is validated, so Marshal never produces a file that
// Parse would refuse.
func Marshal(s *states.State) ([]byte, error) {
	return Append(nil, s)
}

// Append is Marshal that appends to dst, so a writer can reuse one buffer.
func Append(dst []byte, s *states.State) ([]byte, error) {
	size := 256
	for inst := range s.Instances() {
		size += len(inst.Attrs) + 2*len(inst.Address) + 256
	}
	for k, v := range s.Outputs {
		size += len(k) + len(v) + 16
	}
	b := slices.Grow(dst, size)
	b = append(b, "{\n  \"format_version\": "...)
	b = strconv.AppendInt(b, currentVersion, 10)
	b = append(b, ",\n  \"fabrica_version\": "...)
	b = appendString(b, s.FabricaVersion)
	b = append(b, ",\n  \"serial\": "...)
	b = strconv.AppendUint(b, s.Serial, 10)
	b = append(b, ",\n  \"lineage\": "...)
	b = appendString(b, s.Lineage)
	b = append(b, ",\n  \"outputs\": {"...)
	names := make([]string, 0, len(s.Outputs))
	for k := range s.Outputs {
		names = append(names, k)
	}
	slices.Sort(names)
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
	b = append(b, "},\n  \"resources\": ["...)
	first := true
	for inst := range s.Instances() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, "\n    "...)
		var err error
		if b, err = appendInstance(b, inst); err != nil {
			return nil, err
		}
	}
	if !first {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	return b, nil
}

// appendInstance appends inst as one line of JSON.
func appendInstance(b []byte, inst *states.Instance) ([]byte, error) {
	if inst.Address == "" {
		return nil, fmt.Errorf("a resource instance has no address")
	}
	if inst.Kind == "" {
		return nil, fmt.Errorf("resource instance %s has no kind", inst.Address)
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
		return nil, fmt.Errorf("attributes of %s: not a JSON object", inst.Address)
	}
	var err error
	if b, err = appendJSON(b, inst.Attrs); err != nil {
		return nil, fmt.Errorf("attributes of %s: %w", inst.Address, err)
	}
	if inst.AttrsHash != "" {
		b = append(b, `,"attrs_hash":`...)
		b = appendString(b, inst.AttrsHash)
	}
	if inst.ConfigHash != "" {
		b = append(b, `,"config_hash":`...)
		b = appendString(b, inst.ConfigHash)
	}
	if len(inst.Dependencies) > 0 {
		b = append(b, `,"dependencies":[`...)
		for i, d := range inst.Dependencies {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, d)
		}
		b = append(b, ']')
	}
	if !inst.CreatedAt.IsZero() {
		b = append(b, `,"created_at":`...)
		b = appendTime(b, inst.CreatedAt)
	}
	if !inst.UpdatedAt.IsZero() {
		b = append(b, `,"updated_at":`...)
		b = appendTime(b, inst.UpdatedAt)
	}
	if inst.Tainted {
		b = append(b, `,"tainted":true`...)
	}
	return append(b, '}'), nil
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
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
