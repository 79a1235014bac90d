package fabrica_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/fabrica-iac/fabrica"

// layers is the layering rule of DESIGN.md §2 and STYLE.md §2: a package may import only
// packages of a lower layer. Every package of the module must be listed.
var layers = map[string]int{
	"schema/diag":               1,
	"internal/ordered":          1,
	"internal/pgtest":           1,
	"internal/atomicfile":       1,
	"internal/gcpace":           1,
	"internal/hclsyntax":        1,
	"examples/trainer":          1,
	"providers/launch":          5,
	"policies":                  8,
	"policies/report":           9,
	"schema/addrs":              2,
	"schema/catalog":            2,
	"schema/format":             2,
	"planner/dag":               2,
	"schema/derive":             3,
	"schema":                    4,
	"providers":                 4,
	"planner/states":            5,
	"planner/states/statefile":  6,
	"planner/states/local":      7,
	"planner/states/crypt":      2,
	"planner/states/pg":         7,
	"providers/proto/v1":        2,
	"providers/plugin":          5,
	"providers/sim":             5,
	"providers/local":           6,
	"providers/slurm":           6,
	"providers/providertest":    5,
	"planner/plans":             5,
	"planner":                   8,
	"cmd/fabrica/command/views": 9,
	"cmd/fabrica/command":       10,
	"cmd/fabrica":               11,
	"bench":                     11,
	"cmd/fabrica-gen":           12,
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports ","}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, " ")
		pkg := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		if pkg == "" {
			continue // the module root holds only this test
		}
		layer, ok := layers[pkg]
		if !ok {
			t.Errorf("package %s is not in the layering table; add it to layers with its layer", pkg)
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if dl, ok := layers[dep]; ok && dl >= layer {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package may only import lower layers", pkg, layer, dep, dl)
			}
		}
	}
}
