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
