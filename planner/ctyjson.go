package planner

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"

	"github.com/zclconf/go-cty/cty"
)

// appendJSON writes a cty value as canonical JSON (object keys sorted, compact), the form
// state, plans and providers share. Unknown values are written as null; callers list
// them separately.
func appendJSON(buf *bytes.Buffer, v cty.Value) {
	if v.IsMarked() || (!v.Type().IsPrimitiveType() && v.ContainsMarked()) {
		v, _ = v.UnmarkDeep()
	}
	appendUnmarked(buf, v)
}

func appendUnmarked(buf *bytes.Buffer, v cty.Value) {
	switch {
	case v == cty.NilVal || v.IsNull() || !v.IsKnown():
		buf.WriteString("null")
	case v.Type() == cty.String:
		appendString(buf, v.AsString())
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact && i != 0 {
			var b [24]byte
			buf.Write(strconv.AppendInt(b[:0], i, 10))
		} else if bf.IsInt() {
			buf.WriteString(bf.Text('f', 0))
		} else {
			f, _ := bf.Float64()
			var b [32]byte
			buf.Write(strconv.AppendFloat(b[:0], f, 'g', -1, 64))
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
			appendString(buf, k)
			buf.WriteByte(':')
			appendUnmarked(buf, m[k])
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
			appendUnmarked(buf, e)
		}
		buf.WriteByte(']')
	default:
		buf.WriteString("null")
	}
}

// appendStrings writes a list of strings as appendUnmarked writes a cty list of them.
func appendStrings(buf *bytes.Buffer, strs []string) {
	buf.WriteByte('[')
	for i, s := range strs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if !plainJSONString(s) {
			s = cty.StringVal(s).AsString() // normalized (NFC) as the list's element was
		}
		appendString(buf, s)
	}
	buf.WriteByte(']')
}

// appendString writes s as encoding/json does.
func appendString(buf *bytes.Buffer, s string) {
	if !plainJSONString(s) {
		b, _ := json.Marshal(s)
		buf.Write(b)
		return
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

// plainJSONString reports whether encoding/json writes s as it is between quotes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// valueJSON returns a cty value as canonical JSON.
func valueJSON(v cty.Value) json.RawMessage {
	var buf bytes.Buffer
	appendJSON(&buf, v)
	return buf.Bytes()
}
