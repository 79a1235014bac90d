package planner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fabrica-iac/fabrica/schema"
)

// FuzzLoad feeds arbitrary bytes through loading and evaluation: whatever the input, the
// result is diagnostics, never a panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.fab.hcl")
	more, _ := filepath.Glob("testdata/invalid/*.fab.hcl")
	for _, p := range append(seeds, more...) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, false)
	}
	f.Add([]byte(`{"facility": {"x": {"it_power_kw": 1, "design_pue": 1.2}}}`), true)
	f.Fuzz(func(t *testing.T, src []byte, json bool) {
		name := "fuzz.fab.hcl"
		if json {
			name = "fuzz.fab.json"
		}
		cfg, diags := schema.LoadSources(map[string][]byte{name: src})
		if diags.HasErrors() {
			return
		}
		evaluate(cfg, InputVars{}, 2000, len(src)%2 == 0) // a low limit keeps each run fast; dependency lists eager or lazy
	})
}
