package planner

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/zclconf/go-cty/cty"
)

// appendJSON writes a cty value as canonical JSON (object keys sorted, compact), the form
// state, plans and providers share. Unknown values are written as null; callers list
// them separately.
func appendJSON(buf *bytes.Buffer, v cty.Value) {
	v, _ = v.UnmarkDeep()
	switch {
	case v == cty.NilVal || v.IsNull() || !v.IsKnown():
		buf.WriteString("null")
	case v.Type() == cty.String:
		b, _ := json.Marshal(v.AsString())
		buf.Write(b)
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			buf.WriteString(bf.Text('f', 0))
		} else {
			f, _ := bf.Float64()
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case v.Type() == cty.Bool:
		buf.WriteString(strconv.FormatBool(v.True()))
	case v.Type().IsObjectType() || v.Type().IsMapType():
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			b, _ := json.Marshal(k)
			buf.Write(b)
			buf.WriteByte(':')
			appendJSON(buf, m[k])
		}
		buf.WriteByte('}')
	case v.CanIterateElements():
		buf.WriteByte('[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			_, e := it.Element()
			appendJSON(buf, e)
		}
		buf.WriteByte(']')
	default:
		buf.WriteString("null")
	}
}

// valueJSON returns a cty value as canonical JSON.
func valueJSON(v cty.Value) json.RawMessage {
	var buf bytes.Buffer
	appendJSON(&buf, v)
	return buf.Bytes()
}
