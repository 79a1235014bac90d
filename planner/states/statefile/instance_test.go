package statefile

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
)

func TestInstanceRoundTrip(t *testing.T) {
	s := sample()
	full, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var d InstanceDecoder
	for inst := range s.Instances() {
		b, err := AppendInstance([]byte("prefix"), inst)
		if err != nil {
			t.Fatal(err)
		}
		line := b[len("prefix"):]
		if !bytes.Contains(full, append(append([]byte("\n    "), line...), ',')) && !bytes.Contains(full, append(append([]byte("\n    "), line...), '\n')) {
			t.Errorf("AppendInstance differs from the state file's line:\n%s", line)
		}
		var got states.Instance
		if err := d.Decode(line, &got); err != nil {
			t.Fatalf("Decode(%s): %v", line, err)
		}
		if !got.Equal(inst) {
			t.Errorf("decoded %+v, want %+v", got, *inst)
		}
	}
	var got states.Instance
	for _, bad := range []string{``, `{}`, `{"address":"a.b"}`, `{"address":"a.b","kind":"a"} x`, `{"address":"a.b","kind":"a","color":1}`} {
		if err := d.Decode([]byte(bad), &got); err == nil {
			t.Errorf("Decode(%q) succeeded", bad)
		}
	}
	if _, err := AppendInstance(nil, &states.Instance{Address: "a.b"}); err == nil {
		t.Error("AppendInstance of an instance without kind succeeded")
	}
}

func TestOutputsRoundTrip(t *testing.T) {
	outs := map[string]json.RawMessage{"b": json.RawMessage(`{ "x" : [1, 2] }`), "a": json.RawMessage(`"s"`), "c": nil}
	b, err := AppendOutputs(nil, outs)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"a":"s","b":{"x":[1,2]},"c":null}` {
		t.Errorf("AppendOutputs = %s", b)
	}
	got, err := ParseOutputs(b)
	if err != nil || len(got) != 3 || string(got["b"]) != `{"x":[1,2]}` {
		t.Errorf("ParseOutputs = %v, %v", got, err)
	}
	if b, _ := AppendOutputs(nil, nil); string(b) != "{}" {
		t.Errorf("AppendOutputs(nil) = %s", b)
	}
	if _, err := AppendOutputs(nil, map[string]json.RawMessage{"x": json.RawMessage(`{`)}); err == nil || !strings.Contains(err.Error(), "output x") {
		t.Errorf("AppendOutputs of invalid JSON = %v", err)
	}
	if _, err := ParseOutputs([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("ParseOutputs accepted a duplicate")
	}
}
