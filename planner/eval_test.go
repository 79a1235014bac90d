package planner

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func evalSource(t *testing.T, src string) *Evaluated {
	t.Helper()
	cfg, diags := schema.LoadSources(map[string][]byte{"main.fab.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags.Err())
	}
	ev, diags := Evaluate(cfg, InputVars{})
	if diags.HasErrors() {
		t.Fatalf("evaluate: %v", diags.Err())
	}
	return ev
}

const poolSource = `
facility "f" {
  it_power_kw = 100
  design_pue  = 1.2
}
hardware "gpu" {
  count       = 3
  facility    = facility.f
  device_type = "dgx-h100"
  rack        = "r${count.index % 2}"
}
hardware "keyed" {
  for_each    = toset(["b", "a"])
  facility    = facility.f
  device_type = "cpu-server"
  tags        = { name = each.key }
}
locals {
  second_gpus = hardware.gpu[1].gpus
  all_racks   = hardware.gpu[*].rack
}
output "second" { value = local.second_gpus }
output "racks"  { value = local.all_racks }
output "keyed"  { value = hardware.keyed["a"].tags.name }
output "load"   { value = facility.f.it_load_kw }
`

func TestEvaluate_expansionAndReferences(t *testing.T) {
	ev := evalSource(t, poolSource)
	var addrs []string
	for _, inst := range ev.Instances {
		addrs = append(addrs, inst.Addr.String())
	}
	want := []string{"facility.f", "hardware.gpu[0]", "hardware.gpu[1]", "hardware.gpu[2]", `hardware.keyed["a"]`, `hardware.keyed["b"]`}
	if d := cmp.Diff(want, addrs); d != "" {
		t.Errorf("instances (-want +got):\n%s", d)
	}
	outputs := map[string]string{}
	for k, v := range ev.Outputs {
		outputs[k] = renderValue(v)
	}
	wantOut := map[string]string{
		"second": "8",
		"racks":  `["r0","r1","r0"]`,
		"keyed":  `"a"`,
		"load":   "32.2", // 3 × 10.2 kW DGX H100 + 2 × 0.8 kW CPU servers
	}
	if d := cmp.Diff(wantOut, outputs); d != "" {
		t.Errorf("outputs (-want +got):\n%s", d)
	}
	f := ev.Facilities[0]
	if f.GPUs != 24 || f.Racks != 2 || f.Nodes != 5 {
		t.Errorf("facility summary: gpus %d racks %d nodes %d, want 24, 2, 5", f.GPUs, f.Racks, f.Nodes)
	}
}

func TestEvaluate_dependencyOrderIsNotDeclarationOrder(t *testing.T) {
	ev := evalSource(t, `
output "n" { value = length(hardware.late) }
hardware "late" {
  count       = local.n
  facility    = facility.f
  device_type = "cpu-server"
}
locals { n = 2 }
facility "f" {
  it_power_kw = 10
  design_pue  = 1.1
}
`)
	if got := renderValue(ev.Outputs["n"]); got != "2" {
		t.Errorf("output n = %s, want 2", got)
	}
}

func renderValue(v cty.Value) string {
	switch {
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.String:
		return `"` + v.AsString() + `"`
	case v.Type().IsTupleType() || v.Type().IsListType():
		s := "["
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			if i > 0 {
				s += ","
			}
			s += renderValue(e)
		}
		return s + "]"
	}
	return v.GoString()
}

// A job carries its cluster's partition (a derived attribute), so the scheduler
// provider submits there; a cluster without one adds nothing to the job.
func TestEvaluate_jobCarriesClusterPartition(t *testing.T) {
	ev := evalSource(t, `
facility "f" {
  it_power_kw = 100
  design_pue  = 1.2
}
hardware "n" {
  count       = 2
  facility    = facility.f
  device_type = "cpu-server"
}
training_cluster "with" {
  facility  = facility.f
  scheduler = "slurm"
  partition = "h100"
  hardware  = hardware.n
}
training_cluster "without" {
  facility  = facility.f
  scheduler = "slurm"
  hardware  = hardware.n
}
training_job "a" {
  cluster = training_cluster.with
  command = ["true"]
}
training_job "b" {
  cluster = training_cluster.without
  command = ["true"]
}
`)
	if got := ev.Instance("training_job.a").Derived["partition"]; got != cty.StringVal("h100") {
		t.Errorf("training_job.a partition = %#v, want h100", got)
	}
	if got, ok := ev.Instance("training_job.b").Derived["partition"]; ok {
		t.Errorf("training_job.b has partition %#v; its cluster has none", got)
	}
	desired := map[string]string{}
	for _, d := range ev.DesiredInstances() {
		desired[d.Address] = string(d.Attrs)
	}
	if a := desired["training_job.a"]; !strings.Contains(a, `"partition":"h100"`) {
		t.Errorf("training_job.a attributes lack the partition: %s", a)
	}
}

// A uniform block's instances share one encoding of their attributes; it must be what
// encoding each of them gives, here and in every example.
func TestDesiredInstancesShareOnlyEqualAttributes(t *testing.T) {
	sources := map[string]map[string][]byte{"inline": {"main.fab.hcl": []byte(`
facility "f" {
  count       = 2
  it_power_kw = 500
  design_pue  = 1.2
}
hardware "uniform" {
  count       = 4
  facility    = facility.f[0]
  device_type = "dgx-h100"
  rack        = "r1"
}
hardware "indexed" {
  count       = 4
  facility    = facility.f[count.index % 2]
  device_type = "dgx-h100"
  rack        = "r${count.index}"
}
hardware "keyed" {
  for_each    = toset(["a", "b", "c"])
  facility    = facility.f[1]
  device_type = "cpu-server"
  rack        = each.key
}
hardware "keyed_uniform" {
  for_each    = toset(["a", "b"])
  facility    = facility.f[1]
  device_type = "cpu-server"
  rack        = "r9"
}
`)}}
	paths, _ := filepath.Glob("../examples/*/*.fab.hcl")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if sources[filepath.Dir(p)] == nil {
			sources[filepath.Dir(p)] = map[string][]byte{}
		}
		sources[filepath.Dir(p)][filepath.Base(p)] = src
	}
	if len(sources) < 5 {
		t.Fatalf("only %d configurations: the examples were not found", len(sources))
	}
	shared := 0
	for name, files := range sources {
		cfg, diags := schema.LoadSources(files)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags.Err())
		}
		ev, diags := Evaluate(cfg, InputVars{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags.Err())
		}
		for _, inst := range ev.Instances {
			want := inst.Resource.Addr.Name != "indexed" && inst.Resource.Addr.Name != "keyed"
			if name == "inline" && inst.Kind() == "hardware" && inst.Uniform != want {
				t.Errorf("%s is uniform %v, want %v", inst.Address(), inst.Uniform, want)
			}
		}
		var prev *Desired
		for _, d := range ev.DesiredInstances() {
			if want := instanceJSON(d.Instance, true); !bytes.Equal(d.Attrs, want) {
				t.Errorf("%s: %s has attributes %s, want %s", name, d.Address, d.Attrs, want)
			}
			if prev != nil && &prev.Attrs[0] == &d.Attrs[0] {
				shared++
			}
			prev = d
		}
	}
	if shared < 4 { // uniform[1..3], keyed_uniform["b"], at least
		t.Errorf("only %d instances share their predecessor's encoding", shared)
	}
}

// A quoted string's value is its part's, as the template would build it.
func TestLiteralValueIsTheTemplates(t *testing.T) {
	for _, src := range []string{`"dgx-h100"`, `""`, `"e\u0301"`, "\"e\u0301\"", `"a\nb"`, `"$${x}"`, `"%%{y}"`, `"\u00e9\u0301\u0327"`} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.fab.hcl", hcl.InitialPos)
		if diags.HasErrors() || !isLiteral(expr) {
			t.Fatalf("%s: not a literal (%v)", src, diags)
		}
		want, _ := expr.Value(nil)
		got, d := literalValue(expr)
		if d.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s: literalValue %#v, the template's value %#v", src, got, want)
		}
	}
}

// TestResourceGraph checks each resource's dependencies: direct references (repeated
// or not), references through local values, depends_on, and none.
func TestResourceGraph(t *testing.T) {
	src := `
facility "f" {
  it_power_kw = 100
  design_pue  = 1.2
}
facility "g" {
  it_power_kw = 100
  design_pue  = 1.2
}
locals {
  home  = facility.g
  homes = [local.home, facility.f]
}
hardware "direct" {
  facility    = facility.f
  device_type = "cpu-server"
  rack        = facility.f.name
}
hardware "via_local" {
  facility    = local.homes[0]
  device_type = "cpu-server"
}
hardware "after" {
  facility    = facility.g
  device_type = "cpu-server"
  depends_on  = [hardware.direct]
}
fabric "net" {
  facility     = facility.f
  kind         = "storage"
  transport    = "ethernet"
  topology     = "leaf_spine"
  switch_radix = 64
  endpoints    = [hardware.via_local, hardware.direct, hardware.after]
}
`
	ev := evalSource(t, src)
	want := map[string][]string{
		"facility.f":         nil,
		"facility.g":         nil,
		"hardware.direct":    {"facility.f"},
		"hardware.via_local": {"facility.f", "facility.g"},
		"hardware.after":     {"facility.g", "hardware.direct"},
		"fabric.net":         {"facility.f", "hardware.after", "hardware.direct", "hardware.via_local"},
	}
	if d := cmp.Diff(want, ev.ResourceGraph()); d != "" {
		t.Errorf("dependencies (-want +got):\n%s", d)
	}
	// validate's evaluation works them out when asked, to the same lists
	cfg, diags := schema.LoadSources(map[string][]byte{"main.fab.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	lazy, diags := EvaluateForValidation(cfg, InputVars{})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if d := cmp.Diff(want, lazy.ResourceGraph()); d != "" {
		t.Errorf("dependencies worked out on first use (-want +got):\n%s", d)
	}
}

// TestVariablesIsTheWalks checks plainTraversals against the walk of
// Expression.Variables, on every argument of the examples and fixtures and on lists
// the shortcut takes or leaves.
func TestVariablesIsTheWalks(t *testing.T) {
	var exprs []hcl.Expression
	for _, src := range []string{"a = [x.y, z]", "a = [x.y, z[0]]", "a = []", "a = [x, [y]]", "a = [for v in w : v]", "a = x.y"} {
		e, d := hclsyntax.ParseExpression([]byte(src[4:]), "e", hcl.InitialPos)
		if d.HasErrors() {
			t.Fatal(d)
		}
		exprs = append(exprs, e)
	}
	paths, _ := filepath.Glob("../examples/*/*.fab.hcl")
	fixtures, _ := filepath.Glob("testdata/invalid/*.fab.hcl")
	for _, p := range append(paths, fixtures...) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			if a, ok := n.(*hclsyntax.Attribute); ok {
				exprs = append(exprs, a.Expr)
			}
			return nil
		})
	}
	if len(exprs) < 100 {
		t.Fatalf("only %d expressions", len(exprs))
	}
	plain := 0
	for _, e := range exprs {
		got, ok := plainTraversals(e)
		if !ok {
			continue
		}
		plain++
		if want := e.Variables(); !reflect.DeepEqual(want, got) {
			t.Errorf("%s: plainTraversals gives %#v, Variables %#v", e.Range(), got, want)
		}
	}
	if plain < 50 {
		t.Errorf("only %d of %d expressions are plain references or lists of them", plain, len(exprs))
	}
}
