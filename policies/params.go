package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// paramsFile is the file of a bundle that declares its parameters with their defaults.
const paramsFile = "params.json"

// paramSet is the declared parameters: name → default, and name → the bundle that
// declared it.
type paramSet struct {
	defaults map[string]any
	origin   map[string]string
}

// declare adds a bundle's params.json.
func (ps *paramSet) declare(bundle, file string, data []byte) error {
	var decl map[string]any
	if err := decodeJSON(data, &decl); err != nil {
		return fmt.Errorf("%s: %s must be a JSON object of parameter names and their defaults: %v", file, paramsFile, err)
	}
	for name, v := range decl {
		if prev, ok := ps.origin[name]; ok {
			return fmt.Errorf("%s: parameter %q is already declared by bundle %s; a parameter has one declaration (set values in policy { params = {...} })", file, name, prev)
		}
		ps.defaults[name] = v
		ps.origin[name] = bundle
	}
	return nil
}

// names returns the declared parameter names, sorted.
func (ps *paramSet) names() []string { return slices.Sorted(maps.Keys(ps.defaults)) }

// merge returns the defaults with the given values laid over them: an object value
// merges key by key into an object default (recursively), anything else replaces the
// default. Every name must be declared, and every value must have its default's JSON
// type (number, string, bool, list or object).
func (ps *paramSet) merge(values map[string]any) (map[string]any, []error) {
	norm, err := normalize(values)
	if err != nil {
		return nil, []error{fmt.Errorf("policy params must be JSON values: %v", err)}
	}
	out := make(map[string]any, len(ps.defaults))
	for k, v := range ps.defaults {
		out[k] = v
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(norm)) {
		v := norm[name]
		def, ok := ps.defaults[name]
		if !ok {
			errs = append(errs, unknownParamError(name, ps.names()))
			continue
		}
		if jt, dt := jsonType(v), jsonType(def); jt != dt && def != nil {
			errs = append(errs, fmt.Errorf("policy parameter %q must be a %s (its default is %s), not a %s", name, dt, compactJSON(def), jt))
			continue
		}
		out[name] = mergeValue(def, v)
	}
	return out, errs
}

// UnknownParamError reports a parameter that no loaded bundle declares.
type UnknownParamError struct {
	Name       string
	Suggestion string
	Known      []string
}

// Error names the parameter, suggests a close known one and lists them all.
func (e *UnknownParamError) Error() string {
	msg := fmt.Sprintf("unknown policy parameter %q", e.Name)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	} else {
		msg += "."
	}
	return msg + " Known parameters: " + strings.Join(e.Known, ", ") + ". A user bundle declares its own parameters, with defaults, in its params.json."
}

func unknownParamError(name string, known []string) error {
	e := &UnknownParamError{Name: name, Known: known}
	best := 4
	for _, k := range known {
		if d := levenshtein.Distance(name, k, nil); d < best {
			best, e.Suggestion = d, k
		}
	}
	return e
}

func mergeValue(def, v any) any {
	dm, ok1 := def.(map[string]any)
	vm, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return v
	}
	out := make(map[string]any, len(dm)+len(vm))
	for k, x := range dm {
		out[k] = x
	}
	for k, x := range vm {
		out[k] = mergeValue(dm[k], x)
	}
	return out
}

// normalize round-trips values through JSON, so any JSON-marshalable Go values
// (float64, int, json.Number, []any, map[string]any, json.RawMessage...) come out as
// the types decodeJSON produces.
func normalize(values map[string]any) (map[string]any, error) {
	if len(values) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, decodeJSON(b, &out)
}

func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func jsonType(v any) string {
	switch v.(type) {
	case json.Number, float64, int:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
