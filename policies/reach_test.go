package policies

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/fabrica-iac/fabrica/planner/plans"
)

// loadWith loads the bundled policies and one user module.
func loadWith(t *testing.T, module string) *Engine {
	t.Helper()
	if module == "" {
		return load(t, Options{})
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "user.rego"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, Options{Bundles: []string{"builtin", dir}})
}

// A check leaves the hardware changes out unless a rule the query reaches may read
// them, however it names them.
func TestReadsHardwareChanges(t *testing.T) {
	const head = "package fabrica.custom.u\n\nimport data.fabrica.lib\n\n"
	cases := []struct {
		name   string
		module string
		want   bool
	}{
		{"the bundle alone", "", false},
		{"lib.changes and the aggregates", head + `deny contains f if {
	some fab in lib.changes.fabric
	some agg in input.aggregates
	agg.after.gpus > count(fab.after.endpoints) * 100
	f := lib.finding("too many GPUs", fab.address, "endpoints")
}`, false},
		{"a helper no rule calls", head + `helper := [rc | rc := input.resource_changes[_]]

deny contains "x" if false`, false},
		{"lib.hardware", head + `warn contains rc.address if {
	some rc in lib.hardware
	rc.after.gpus > 8
}`, true},
		{"lib.by_kind for another kind", head + `warn contains rc.address if {
	some rc in lib.by_kind.fabric
}`, true},
		{"input.resource_changes", head + `deny contains rc.address if {
	some rc in input.resource_changes
	rc.after.rack == "r1"
}`, true},
		{"an import of input.resource_changes", "package fabrica.custom.u\n\nimport input.resource_changes as rcs\n\n" +
			`deny contains rc.address if {
	some rc in rcs
	rc.kind == "hardware"
}`, true},
		{"a member of input named at run time", head + `deny contains k if {
	some k, v in input
	is_array(v)
	count(v) > 1000
}`, true},
		{"input as a whole", head + `deny contains "big" if {
	walk(input, [path, v])
	v == "dgx-h100"
}`, true},
		{"lib's rules named at run time", head + `deny contains name if {
	some name, v in lib
	is_array(v)
	count(v) > 1000
}`, true},
		{"a helper a rule calls", head + `servers := [rc | rc := input.resource_changes[_]; rc.kind == "hardware"]

warn contains "many" if count(servers) > 10`, true},
		{"a module naming the intrinsic (the bundle's Rego then runs)", head + `internal_fabrica_not_kind := 1

deny contains "x" if false`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := loadWith(t, c.module).readsHardware; got != c.want {
				t.Errorf("readsHardware = %v, want %v", got, c.want)
			}
		})
	}
}

// Leaving the hardware changes out changes no finding, not even one about a server
// that a rule names from another resource (its range comes from the change left out).
func TestDroppedHardwareSameFindings(t *testing.T) {
	module := `package fabrica.custom.endpoints

import data.fabrica.lib

warn contains f if {
	some fab in lib.changes.fabric
	fab.name == "oob"
	some ep in fab.after.endpoints
	endswith(ep, "7]")
	f := lib.finding("an OOB endpoint", ep, "rack")
}

deny contains f if {
	some fab in lib.changes.fabric
	fab.name == "storage"
	f := lib.finding("a storage fabric", fab.address, "isolation")
}
`
	e := loadWith(t, module)
	if e.readsHardware {
		t.Fatal("the engine reads hardware changes; nothing would be left out")
	}
	all := *e
	all.readsHardware = true
	p, err := plans.Decode(synthPlan(3000))
	if err != nil {
		t.Fatal(err)
	}
	p.ResourceChanges = append(p.ResourceChanges, handPlan().ResourceChanges...)
	want, err := all.CheckPlan(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.CheckPlan(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) < 300 {
		t.Fatalf("%d findings, want one per server ending in 7 and more", len(want.Findings))
	}
	for _, f := range want.Findings {
		if f.Range == nil {
			t.Fatalf("finding %s on %s has no range", f.RuleID, f.Address)
		}
	}
	if diff := cmp.Diff(want.Findings, got.Findings); diff != "" {
		t.Errorf("findings with the hardware left out (-all +without):\n%s", diff)
	}
	in, err := planInputOf(p, hardwareKind)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range in.kinds.kinds {
		if k == hardwareKind || in.kinds.changes.Elem(i).Get(keyKind).Value.Compare(ast.String(k)) != 0 {
			t.Fatalf("change %d of the input: kind %q, member %v", i, k, in.kinds.changes.Elem(i).Get(keyKind))
		}
	}
}

// A plan that cannot be checked with the hardware is not checked without it either: a
// server's attributes that are not JSON, or nested too deep for the decoder, or an
// index no plan makes, are the same error either way.
func TestDroppedHardwareSameErrors(t *testing.T) {
	e := loadWith(t, "")
	if e.readsHardware {
		t.Fatal("the bundle reads hardware changes; nothing would be left out")
	}
	all := *e
	all.readsHardware = true
	deep := strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10)
	cases := map[string]func(*plans.ResourceChange){
		"not JSON":       func(rc *plans.ResourceChange) { rc.After = json.RawMessage(`{"gpus":}`) },
		"nested deeper":  func(rc *plans.ResourceChange) { rc.After = json.RawMessage(`{"a":` + deep + `}`) },
		"odd index":      func(rc *plans.ResourceChange) { rc.Index = map[string]any{"x": func() {}} },
		"infinite index": func(rc *plans.ResourceChange) { rc.Index = math.Inf(1) },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			p := handPlan()
			rc := p.ResourceChanges[2]
			if rc.Kind != hardwareKind {
				t.Fatalf("change 2 is %s, want a server", rc.Address)
			}
			spoil(rc)
			_, want := all.CheckPlan(context.Background(), p)
			_, got := e.CheckPlan(context.Background(), p)
			var perr *PlanError
			if !errors.As(want, &perr) {
				t.Fatalf("with the hardware: %v, want a PlanError", want)
			}
			if got == nil || got.Error() != want.Error() {
				t.Errorf("without the hardware: %v, want %v", got, want)
			}
		})
	}
	if !acceptable(handPlan().ResourceChanges[2], new([]byte)) {
		t.Error("a sound server change is not acceptable: every check would convert it")
	}
}
