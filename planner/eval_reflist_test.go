package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/zclconf/go-cty/cty"
)

// refListCases are reference lists the shortcut takes, and near misses it must leave
// to the general evaluation, with the errors that gives.
var refListCases = map[string]string{
	"concat":         `endpoints = concat(hardware.a, hardware.none, hardware.b)`,
	"bare":           `endpoints = hardware.b`,
	"empty":          `endpoints = concat(hardware.none, hardware.none)`,
	"bare empty":     `endpoints = hardware.none`,
	"duplicate":      `endpoints = concat(hardware.a, hardware.b, hardware.a)`,
	"tuple arg":      `endpoints = concat(hardware.a, [hardware.single])`,
	"indexed":        `endpoints = concat(hardware.a, [hardware.b[1]])`,
	"for_each":       `endpoints = concat(hardware.a, hardware.keyed)`,
	"values":         `endpoints = concat(hardware.a, values(hardware.keyed))`,
	"single":         `endpoints = concat(hardware.single)`,
	"wrong kind":     `endpoints = concat(hardware.a, facility.f)`,
	"expand":         `endpoints = concat([hardware.a, hardware.b]...)`,
	"splat":          `endpoints = concat(hardware.a[*].address, hardware.b)`,
	"other func":     `endpoints = flatten([hardware.a, hardware.b])`,
	"no args":        `endpoints = concat()`,
	"attribute":      `endpoints = concat(hardware.a.gpus)`,
	"string":         `endpoints = "hardware.a"`,
	"failed":         `endpoints = concat(hardware.a, hardware.broken)`,
	"singles":        `endpoints = [hardware.single, hardware.single2]`,
	"singles dup":    `endpoints = [hardware.single, hardware.single2, hardware.single]`,
	"singles comma":  `endpoints = [hardware.single,]`,
	"singles mixed":  `endpoints = [hardware.single, hardware.a]`,
	"singles keyed":  `endpoints = [hardware.single, hardware.keyed]`,
	"singles failed": `endpoints = [hardware.single, hardware.lone_broken]`,
	"singles none":   `endpoints = [hardware.single, hardware.nowhere]`,
	"singles index":  `endpoints = [hardware.single, hardware.a[0]]`,
	"singles kind":   `endpoints = [hardware.single, facility.f]`,
	"singles attr":   `endpoints = [hardware.single.address]`,
	"singles quoted": `endpoints = [hardware.single, "hardware.single2"]`,
	"tuple empty":    `endpoints = []`,
	"one single":     `endpoints = hardware.single`,
	"facility":       `facility = facility.f`,
	"facility index": `facility = facility.f[0]`,
	"facility list":  `facility = [facility.f]`,
	"facility kind":  `facility = hardware.single`,
	"facility none":  `facility = facility.nowhere`,
	"cluster only":   ``,
	"sensitive":      ``,
}

// refListValid are the cases that evaluate without errors.
var refListValid = map[string]bool{
	"concat": true, "bare": true, "tuple arg": true, "indexed": true, "values": true,
	"splat": true, "other func": true, "expand": true, "cluster only": true, "sensitive": true,
	"one single": true, "facility": true,
	"singles": true, "singles comma": true, "singles index": true, "singles attr": true, "singles quoted": true,
}

const refListBase = `
facility "f" {
  it_power_kw = 500
  design_pue  = 1.2
}
hardware "a" {
  count       = 3
  facility    = facility.f
  device_type = "dgx-h100"
  rack        = "r${count.index}"
}
hardware "b" {
  count       = 2
  facility    = facility.f
  device_type = "dgx-h100"
  rack        = "rb"
}
hardware "none" {
  count       = 0
  facility    = facility.f
  device_type = "dgx-h100"
}
hardware "single" {
  facility    = facility.f
  device_type = "cpu-server"
}
hardware "single2" {
  facility    = facility.f
  device_type = "cpu-server"
  rack        = "r2"
}
hardware "keyed" {
  for_each    = toset(["x", "y"])
  facility    = facility.f
  device_type = "cpu-server"
}
training_cluster "c" {
  facility  = facility.f
  scheduler = "slurm"
  partition = "batch"
  hardware  = concat(hardware.a, hardware.b)
}
`

// TestReferenceListShortcut requires the shortcuts (see evalShortcuts) to give what
// the general evaluation gives, values and diagnostics, on the cases above, every
// example and every invalid fixture.
func TestReferenceListShortcut(t *testing.T) {
	inputs := map[string]map[string][]byte{}
	for name, endpoints := range refListCases {
		src := refListBase
		if name == "sensitive" {
			src += "variable \"secret_rack\" {\n  default   = \"rs\"\n  sensitive = true\n}\nhardware \"secret\" {\n  count       = 3\n  facility    = facility.f\n  device_type = \"dgx-h100\"\n  rack        = var.secret_rack\n}\n"
		}
		if name == "singles failed" {
			src += "hardware \"lone_broken\" {\n  facility = facility.f\n  device_type = \"no-such-device\"\n}\n"
		}
		if name == "failed" {
			src += "hardware \"broken\" {\n  count = 2\n  facility = facility.f\n  device_type = \"no-such-device\"\n}\n"
		}
		if endpoints != "" {
			if strings.HasPrefix(endpoints, "facility") {
				endpoints += "\n  endpoints = concat(hardware.a)"
			} else {
				endpoints = "facility = facility.f\n  " + endpoints
			}
			src += fmt.Sprintf("fabric \"x\" {\n  kind = \"compute\"\n  transport = \"infiniband\"\n  topology = \"leaf_spine\"\n  switch_radix = 64\n  %s\n}\n", endpoints)
		}
		inputs["case "+name] = map[string][]byte{"main.fab.hcl": []byte(src)}
	}
	for _, pattern := range []string{"../examples/*/*.fab.hcl", "testdata/invalid/*.fab.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			key := p
			if strings.HasPrefix(p, "../examples/") {
				key = filepath.Dir(p) // an example is its directory's files together
			}
			if inputs[key] == nil {
				inputs[key] = map[string][]byte{}
			}
			inputs[key][filepath.Base(p)] = src
		}
	}
	if len(inputs) < len(refListCases)+40 {
		t.Fatalf("only %d inputs: the examples or fixtures were not found", len(inputs))
	}
	for name, files := range inputs {
		fast, fastDiags := evaluateWithShortcut(t, files, true)
		slow, slowDiags := evaluateWithShortcut(t, files, false)
		if c, ok := strings.CutPrefix(name, "case "); ok {
			if fast == nil {
				t.Fatalf("%s does not load: %s", name, fastDiags)
			}
			if valid := refListValid[c]; valid != !strings.Contains(fastDiags, "error ") {
				t.Errorf("%s: want valid %v, got diagnostics:\n%s", name, valid, fastDiags)
			}
		}
		if fastDiags != slowDiags {
			t.Errorf("%s: diagnostics differ\nshortcut:\n%s\ngeneral:\n%s", name, fastDiags, slowDiags)
		}
		if fast == nil || slow == nil {
			continue
		}
		if len(fast.Instances) != len(slow.Instances) {
			t.Errorf("%s: %d instances with the shortcut, %d without", name, len(fast.Instances), len(slow.Instances))
			continue
		}
		for i, f := range fast.Instances {
			s := slow.Instances[i]
			for j := range f.Values {
				if !f.Values[j].RawEquals(s.Values[j]) {
					t.Errorf("%s: %s.%s is %#v with the shortcut, %#v without",
						name, f.Address(), f.Resource.Spec.Attrs[j].Name, f.Values[j], s.Values[j])
				}
			}
			for _, a := range f.Resource.Spec.Attrs {
				if a.Ref != "" && !a.Type.Equals(cty.String) {
					if got, want := f.Strings(a.Name), s.Strings(a.Name); !slices.Equal(got, want) || (got == nil) != (want == nil) {
						t.Errorf("%s: %s.%s as strings is %q with the shortcut, %q without", name, f.Address(), a.Name, got, want)
					}
				}
			}
			if !slices.Equal(f.Sensitive, s.Sensitive) {
				t.Errorf("%s: %s has sensitive %q with the shortcut, %q without", name, f.Address(), f.Sensitive, s.Sensitive)
			}
			if len(f.Derived) != len(s.Derived) {
				t.Errorf("%s: %s has %d derived figures with the shortcut, %d without", name, f.Address(), len(f.Derived), len(s.Derived))
			}
			for k, v := range f.Derived {
				if !v.RawEquals(s.Derived[k]) {
					t.Errorf("%s: %s derived %s is %#v with the shortcut, %#v without", name, f.Address(), k, v, s.Derived[k])
				}
			}
		}
	}
}

func evaluateWithShortcut(t *testing.T, files map[string][]byte, on bool) (*Evaluated, string) {
	t.Helper()
	defer func(was bool) { evalShortcuts = was }(evalShortcuts)
	evalShortcuts = on
	cfg, diags := schema.LoadSources(files)
	if diags.HasErrors() {
		return nil, fmt.Sprint(diags)
	}
	ev, d := Evaluate(cfg, InputVars{})
	var b strings.Builder
	for _, x := range diags.Append(d) {
		fmt.Fprintf(&b, "%s %s: %s: %s\n", x.Severity, x.Subject, x.Summary, x.Detail)
	}
	return ev, b.String()
}

// TestReferenceListShortcutIsTaken checks that the shortcut applies where it should,
// by what it saves: evaluating a fabric of 512 nodes, written as 64 counted blocks or
// as a block per node, allocates far less with it.
func TestReferenceListShortcutIsTaken(t *testing.T) {
	for _, perNode := range []bool{false, true} {
		var b strings.Builder
		b.WriteString("facility \"f\" {\n  it_power_kw = 50000\n  design_pue = 1.2\n}\n")
		var parts []string
		if perNode {
			for i := range 512 {
				fmt.Fprintf(&b, "hardware \"n%d\" {\n  facility = facility.f\n  device_type = \"dgx-h100\"\n}\n", i)
				parts = append(parts, fmt.Sprintf("hardware.n%d", i))
			}
		} else {
			for i := range 64 {
				fmt.Fprintf(&b, "hardware \"r%d\" {\n  count = 8\n  facility = facility.f\n  device_type = \"dgx-h100\"\n}\n", i)
				parts = append(parts, fmt.Sprintf("hardware.r%d", i))
			}
		}
		list := "concat(" + strings.Join(parts, ", ") + ")"
		if perNode {
			list = "[" + strings.Join(parts, ", ") + "]"
		}
		fmt.Fprintf(&b, "fabric \"x\" {\n  facility = facility.f\n  kind = \"storage\"\n  transport = \"ethernet\"\n  topology = \"leaf_spine\"\n  switch_radix = 64\n  endpoints = %s\n}\n", list)
		files := map[string][]byte{"main.fab.hcl": []byte(b.String())}
		cfg, diags := schema.LoadSources(files)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		fast, slow := evaluationAllocs(t, cfg, true), evaluationAllocs(t, cfg, false)
		if fast > slow-2000 {
			t.Errorf("per node %v: evaluating with the shortcut allocates %.0f times, without it %.0f: is it taken?", perNode, fast, slow)
		}
	}
}

// TestUniformInstancesShortcutIsTaken checks that the instances of a block that reads
// neither count nor each copy the first's values, by what that saves: a rack of 2,048
// servers allocates about one object fewer per server with the shortcut (half that is
// required).
func TestUniformInstancesShortcutIsTaken(t *testing.T) {
	const n = 2048
	src := fmt.Sprintf("facility \"f\" {\n  it_power_kw = 50000\n  design_pue = 1.2\n}\nhardware \"r\" {\n  count = %d\n  facility = facility.f\n  device_type = \"dgx-h100\"\n  rack = \"r1\"\n}\n", n)
	cfg, diags := schema.LoadSources(map[string][]byte{"main.fab.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if fast, slow := evaluationAllocs(t, cfg, true), evaluationAllocs(t, cfg, false); fast > slow-n/2 {
		t.Errorf("evaluating %d alike servers with the shortcut allocates %.0f times, without it %.0f: is it taken?", n, fast, slow)
	}
}

// evaluationAllocs is how many allocations evaluating cfg makes, with the shortcuts on
// or off.
func evaluationAllocs(t *testing.T, cfg *schema.Config, shortcuts bool) float64 {
	t.Helper()
	defer func(was bool) { evalShortcuts = was }(evalShortcuts)
	evalShortcuts = shortcuts
	return testing.AllocsPerRun(3, func() {
		if _, d := Evaluate(cfg, InputVars{}); d.HasErrors() {
			t.Fatal(d)
		}
	})
}
