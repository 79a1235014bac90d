package providers

import "testing"

func TestCanonical_equalContentEqualHash(t *testing.T) {
	a, err := Canonical(Attrs(`{ "b": 1.50, "a": {"y": [1, 2], "x": "s"} }`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Canonical(Attrs(`{"a":{"x":"s","y":[1,2]},"b":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != `{"a":{"x":"s","y":[1,2]},"b":1.50}` {
		t.Errorf("canonical form: %s", a)
	}
	if AttrsHash(a) != AttrsHash(b) {
		t.Error("equal content hashed differently")
	}
	c, _ := Canonical(Attrs(`{"a":{"x":"s","y":[1,2]},"b":1.5}`))
	if AttrsHash(a) == AttrsHash(c) {
		t.Log("1.50 and 1.5 hash differently: numbers keep their spelling, so producers must write numbers consistently")
	}
}

// Anything after the object is an error, not dropped: an edited sim world line with a
// member after its attributes must not pass as the attributes alone.
func TestCanonical_trailingData(t *testing.T) {
	for _, in := range []string{`{"a":1},"zz":{"b":2}`, `{"a":1} {"b":2}`, `{"a":1}]`} {
		if out, err := Canonical(Attrs(in)); err == nil {
			t.Errorf("Canonical(%s) = %s, want an error", in, out)
		}
	}
	if out, err := Canonical(Attrs(" {\"a\":1}\n ")); err != nil || string(out) != `{"a":1}` {
		t.Errorf("white space around the object: %s, %v", out, err)
	}
}
