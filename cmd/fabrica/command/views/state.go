package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/planner/states"
)

// StateInstance prints one instance in state, its sensitive attributes redacted.
func StateInstance(w io.Writer, inst *states.Instance) {
	fmt.Fprintf(w, "# %s\n", inst.Address)
	fmt.Fprintf(w, "kind     = %q\nprovider = %q\nid       = %q\n", inst.Kind, inst.Provider, inst.ID)
	if inst.Tainted {
		fmt.Fprintln(w, "tainted  = true")
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(inst.Attrs, &m)
	keys := make([]string, 0, len(m))
	width := 0
	for k := range m {
		keys = append(keys, k)
		width = max(width, len(k))
	}
	sort.Strings(keys)
	fmt.Fprintln(w)
	for _, k := range keys {
		v := OutputValue(m[k], false)
		if slices.Contains(inst.Sensitive, k) {
			v = plans.Redacted
		}
		fmt.Fprintf(w, "%-*s = %s\n", width, k, v)
	}
}

// OutputValue renders a JSON value: strings unquoted unless asJSON.
func OutputValue(v json.RawMessage, asJSON bool) string {
	if !asJSON {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return strconv.Quote(s)
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return string(v)
	}
	return buf.String()
}

// Outputs prints every output, sorted.
func Outputs(w io.Writer, outs map[string]json.RawMessage) {
	keys := make([]string, 0, len(outs))
	for k := range outs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s = %s\n", k, OutputValue(outs[k], false))
	}
}
