package launch

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChangedArgs(t *testing.T) {
	prior := map[string]json.RawMessage{"a": json.RawMessage(`{"x":1, "y":2}`), "b": json.RawMessage(`1`), "status": json.RawMessage(`"running"`)}
	desired := map[string]json.RawMessage{"a": json.RawMessage(`{"y":2,"x":1}`), "b": json.RawMessage(`2`), "c": json.RawMessage(`null`), "d": json.RawMessage(`"new"`)}
	got := ChangedArgs(prior, desired, map[string]bool{"status": true})
	if d := cmp.Diff([]string{"b", "d"}, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}
