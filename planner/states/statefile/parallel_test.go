package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// parallelCase returns a state file of n instances, with every parse made parallel.
func parallelCase(t *testing.T, n int) []byte {
	t.Helper()
	old := parallelMin
	parallelMin = 1024
	oldProcs := runtime.GOMAXPROCS(4)
	t.Cleanup(func() {
		parallelMin = old
		runtime.GOMAXPROCS(oldProcs)
	})
	s := &states.State{Lineage: "l", Serial: 1}
	for i := range n {
		s.Put(&states.Instance{Address: fmt.Sprintf("hardware.n[%d]", i), Kind: "hardware",
			Attrs: json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":"%0100d"}`, i, i))})
	}
	data, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParse_parallel(t *testing.T) {
	data := parallelCase(t, 1000)
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1000 || s.Addresses()[999] != "hardware.n[999]" {
		t.Fatalf("parsed %d instances", s.Len())
	}
	again, _ := Marshal(s)
	if !bytes.Equal(again, data) {
		t.Error("parallel parse and marshal do not round-trip")
	}
}

func TestParse_parallelErrorsMatchSequential(t *testing.T) {
	data := parallelCase(t, 1000)
	lookalike := data
	for i := 0; i < 1000; i += 3 {
		lookalike = bytes.Replace(lookalike, []byte(fmt.Sprintf(`{"i":%d,`, i)),
			[]byte(fmt.Sprintf("{\"i\":%d,\"x\":[\n    {\"address\":1}],", i)), 1)
	}
	tests := map[string][]byte{
		// A duplicate far from the first piece.
		"duplicate": bytes.Replace(data, []byte(`"hardware.n[900]"`), []byte(`"hardware.n[100]"`), 1),
		// Broken JSON late in the list.
		"syntax": bytes.Replace(data, []byte(`{"i":800,`), []byte(`{"i":800,,`), 1),
		// Hand-edited attributes that look like the start of an instance line.
		"lookalike": lookalike,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, perr := Parse(in)
			old := parallelMin
			parallelMin = 1 << 40
			_, serr := Parse(in)
			parallelMin = old
			if name == "lookalike" {
				if perr != nil || serr != nil {
					t.Fatalf("lookalike: parallel %v, sequential %v", perr, serr)
				}
				return
			}
			var pe, se *Error
			if !errors.As(perr, &pe) || !errors.As(serr, &se) || *pe != *se {
				t.Errorf("parallel error %v, sequential %v", perr, serr)
			}
		})
	}
}
