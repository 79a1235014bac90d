package bench

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/fabrica-iac/fabrica/schema/format"
)

// evaluate loads and evaluates generated files, failing the test on any diagnostic:
// a generated configuration must be clean, warnings included.
func evaluate(t *testing.T, files map[string][]byte) *planner.Evaluated {
	t.Helper()
	cfg, diags := schema.LoadSources(files)
	if !diags.HasErrors() {
		var d diag.Diagnostics
		_, d = planner.Evaluate(cfg, planner.InputVars{})
		diags = diags.Append(d)
	}
	if len(diags) > 0 {
		var b strings.Builder
		for i, d := range diags {
			if i == 10 {
				fmt.Fprintf(&b, "… and %d more\n", len(diags)-i)
				break
			}
			rng := ""
			if d.Subject != nil {
				rng = d.Subject.String()
			}
			fmt.Fprintf(&b, "%s: %s: %s: %s\n", d.Severity, rng, d.Summary, d.Detail)
		}
		t.Fatalf("generated configuration has %d diagnostics:\n%s", len(diags), b.String())
	}
	ev, _ := planner.Evaluate(cfg, planner.InputVars{})
	return ev
}

func TestGenerate_valid(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"count/1k", Options{Nodes: 1000, Style: StyleCountPerRack}},
		{"node/1k", Options{Nodes: 1000, Style: StyleBlockPerNode}},
		// Partial racks and pods, several facilities, a pod of a single 3-node rack.
		{"count/uneven", Options{Nodes: 1003, NodesPerRack: 4, RacksPerPod: 24, RacksPerFacility: 100, StorageServers: 4}},
		{"node/uneven", Options{Nodes: 1003, NodesPerRack: 4, RacksPerPod: 24, RacksPerFacility: 100, StorageServers: 4, Style: StyleBlockPerNode}},
		// Eight-node racks of 256-node pods: the largest two-tier rail-optimized fabric.
		{"count/b200", Options{Nodes: 600, NodesPerRack: 8, DeviceType: "dgx-b200"}},
		// Pods above 256 nodes need a three-tier compute fabric.
		{"count/bigpod", Options{Nodes: 700, NodesPerRack: 8, RacksPerPod: 80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := Generate(tc.o)
			shape := tc.o.Shape()
			if len(files) != shape.Facilities {
				t.Errorf("Generate wrote %d files, want one per facility (%d)", len(files), shape.Facilities)
			}
			ev := evaluate(t, files)

			if got := len(ev.Instances); got != shape.Instances {
				t.Errorf("instances = %d, want %d", got, shape.Instances)
			}
			kinds := map[string]int{}
			compute := 0
			for _, inst := range ev.Instances {
				kinds[inst.Kind()]++
				if inst.Kind() == schema.KindHardware && inst.Str("role") == "compute" {
					compute++
				}
			}
			if compute != tc.o.Nodes {
				t.Errorf("compute hardware instances = %d, want Nodes = %d", compute, tc.o.Nodes)
			}
			want := map[string]int{
				schema.KindFacility:        shape.Facilities,
				schema.KindHardware:        shape.ComputeNodes + shape.StorageServers,
				schema.KindStorage:         shape.Facilities,
				schema.KindFabric:          2*shape.Facilities + shape.Pods, // storage and oob per facility, compute per pod
				schema.KindTrainingCluster: shape.Pods,
				schema.KindTrainingJob:     shape.Pods,
			}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("%s instances = %d, want %d", k, kinds[k], n)
				}
			}

			gpus, racks := 0, 0
			for _, f := range ev.Facilities {
				gpus += f.GPUs
				racks += f.Racks
				if f.HeadroomKW < 0 {
					t.Errorf("%s: IT load %.1f kW exceeds it_power_kw %.1f", f.Address, f.ITLoadKW, f.ITPowerKW)
				}
			}
			if gpus != shape.GPUs {
				t.Errorf("GPUs over the facility summaries = %d, want %d", gpus, shape.GPUs)
			}
			if want := shape.Racks + shape.Facilities; racks != want { // + one storage rack each
				t.Errorf("racks over the facility summaries = %d, want %d", racks, want)
			}
		})
	}
}

func TestGenerate_formattedAndDeterministic(t *testing.T) {
	for _, style := range []Style{StyleCountPerRack, StyleBlockPerNode} {
		o := Options{Nodes: 300, RacksPerPod: 8, RacksPerFacility: 40, Style: style}
		a, b := Generate(o), Generate(o)
		for name, src := range a {
			if !bytes.Equal(src, b[name]) {
				t.Errorf("%s/%s differs between two runs", style, name)
			}
			out, diags := format.Source(src, name)
			if diags.HasErrors() {
				t.Fatalf("%s/%s: %s", style, name, diags.Error())
			}
			if !bytes.Equal(out, src) {
				t.Errorf("%s/%s is not formatted as fabrica fmt writes it:\n%s", style, name, firstDiff(src, out))
			}
		}
	}
}

func TestGenerate_noNodes(t *testing.T) {
	if files := Generate(Options{}); len(files) != 0 {
		t.Errorf("Generate(Options{}) wrote %d files, want none", len(files))
	}
}

func TestParseStyle(t *testing.T) {
	for _, s := range []Style{StyleCountPerRack, StyleBlockPerNode} {
		if got, err := ParseStyle(s.String()); err != nil || got != s {
			t.Errorf("ParseStyle(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseStyle("rack"); err == nil {
		t.Error("ParseStyle(\"rack\") succeeded, want an error")
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}
