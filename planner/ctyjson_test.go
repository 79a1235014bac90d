package planner

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// The canonical JSON is hashed into state (config_hash), so its bytes must never change
// for the same value: these are the bytes encoding/json and big.Float formatting gave.
func TestValueJSON_canonicalBytes(t *testing.T) {
	big63, _ := new(big.Float).SetString("9223372036854775808")
	for _, tc := range []struct {
		v    cty.Value
		want string
	}{
		{cty.StringVal("plain"), `"plain"`},
		{cty.StringVal("<a&b>"), `"\u003ca\u0026b\u003e"`},
		{cty.StringVal("line\nbreak \"q\" \\"), `"line\nbreak \"q\" \\"`},
		{cty.StringVal("é"), `"é"`},
		{cty.NumberIntVal(0), `0`},
		{cty.NumberIntVal(-3), `-3`},
		{cty.NumberIntVal(51400), `51400`},
		{cty.NumberVal(big63), `9223372036854775808`},
		{cty.NumberFloatVal(1e20), `100000000000000000000`},
		{cty.NumberFloatVal(1.25), `1.25`},
		{cty.NumberFloatVal(0.1), `0.1`},
		{cty.True, `true`},
		{cty.NullVal(cty.String), `null`},
		{cty.UnknownVal(cty.Number), `null`},
		{cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.NumberIntVal(2)}), `["a",2]`},
		{cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}), `["a","b"]`},
		{cty.ObjectVal(map[string]cty.Value{"z": cty.NumberIntVal(1), "a<": cty.StringVal("x"), "m": cty.ListValEmpty(cty.String)}), `{"a\u003c":"x","m":[],"z":1}`},
		{cty.ObjectVal(map[string]cty.Value{"secret": cty.StringVal("s").Mark("sensitive")}), `{"secret":"s"}`},
		{cty.StringVal("s").Mark("sensitive"), `"s"`},
	} {
		if got := string(valueJSON(tc.v)); got != tc.want {
			t.Errorf("valueJSON(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

// appendStrings writes a list's kept strings as appendUnmarked writes the list, even
// for strings that cty stores normalized (NFC) or that JSON escapes.
func TestAppendStrings_sameAsList(t *testing.T) {
	strs := []string{"hardware.n1", "hardware.x[\"e\u0301\"]", "a<b", "tab\there", ""}
	elems := make([]cty.Value, len(strs))
	for i, s := range strs {
		elems[i] = cty.StringVal(s)
	}
	var want, got bytes.Buffer
	appendUnmarked(&want, cty.ListVal(elems))
	appendStrings(&got, strs)
	if got.String() != want.String() {
		t.Errorf("appendStrings = %s, want %s", got.String(), want.String())
	}
}
