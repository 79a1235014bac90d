package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Attribute helpers shared by the scheduler providers, which keep a job's attributes as
// a map of JSON values.

// DecodeObject splits a JSON object into its attributes.
func DecodeObject(a json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("attributes are null, not an object")
	}
	return m, nil
}

// EncodeObject writes attributes as canonical JSON (keys sorted, compact).
func EncodeObject(m map[string]json.RawMessage) json.RawMessage {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("launch: encoding attributes: %v", err)) // values were decoded, so valid
	}
	return b
}

// RawJSON encodes a value, which must be encodable.
func RawJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Normalized re-encodes a JSON value so equal values have equal bytes.
func Normalized(v json.RawMessage) string {
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return string(v)
	}
	return string(RawJSON(x))
}

// OrNull returns v, or JSON null when v is empty.
func OrNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// ChangedArgs returns the attributes not in computed whose values differ between prior
// and desired, sorted; an absent attribute equals null.
func ChangedArgs(prior, desired map[string]json.RawMessage, computed map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range []map[string]json.RawMessage{prior, desired} {
		for k := range m {
			if computed[k] || seen[k] {
				continue
			}
			seen[k] = true
			if Normalized(OrNull(prior[k])) != Normalized(OrNull(desired[k])) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// StringAttr returns a string attribute, "" when absent or not a string.
func StringAttr(m map[string]json.RawMessage, name string) string {
	var s string
	_ = json.Unmarshal(m[name], &s)
	return s
}
