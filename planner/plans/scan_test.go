package plans

import (
	"encoding/json"
	"slices"
	"testing"
)

// Members agrees with json.Unmarshal into a map of raw messages, for objects well formed
// or not.
func TestMembers(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"b":{"c":[1,"}"]},"d":"x\"y","a":2}`,
		`{ "k\u0065y" : [ ] , "e":null }`,
		`{}`, `{"a":`, `{"a" 1}`, `{"a":1} x`, `{} {}`, `[1]`, `null`, `"s"`, ``, `{"a":1,}`,
	} {
		var want map[string]json.RawMessage
		if json.Unmarshal([]byte(in), &want) != nil || want == nil {
			if got := Members(json.RawMessage(in)); got != nil {
				t.Errorf("Members(%s) = %v, want nil", in, got)
			}
			continue
		}
		got := Members(json.RawMessage(in))
		if len(got) != len(want) {
			t.Errorf("Members(%s) = %v, want %v", in, got, want)
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Errorf("Members(%s)[%q] = %s, want %s", in, k, got[k], v)
			}
		}
	}
}

func TestMemberNames(t *testing.T) {
	got := MemberNames(json.RawMessage(`{"b":[1,{"x":2}],"a\u0062":null,"a":"}"}`))
	if want := []string{"b", "ab", "a"}; !slices.Equal(got, want) {
		t.Errorf("MemberNames = %q, want %q", got, want)
	}
	if got := MemberNames(json.RawMessage(`{"b":1`)); got != nil {
		t.Errorf("MemberNames of a cut object = %q, want nil", got)
	}
}
