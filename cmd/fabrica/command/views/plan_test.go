package views

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/plans"
	"github.com/fabrica-iac/fabrica/schema"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// samplePlan has every action, a group of like creates, and a facility whose figures
// change.
func samplePlan() *plans.Plan {
	p := &plans.Plan{FormatVersion: plans.FormatVersion, FabricaVersion: "0.1.0", Mode: plans.ModeNormal,
		Lineage: "1a2b", PriorSerial: 4, ConfigHash: "c0ffee", Outputs: map[string]json.RawMessage{}}
	add := func(rc *plans.ResourceChange) { p.ResourceChanges = append(p.ResourceChanges, rc) }
	add(&plans.ResourceChange{Address: "facility.lab", Kind: "facility", Name: "lab", Provider: "sim", Action: plans.NoOp,
		Before: json.RawMessage(`{"design_pue":1.2,"id":"sim-facility-1"}`), After: json.RawMessage(`{"design_pue":1.2,"id":"sim-facility-1"}`)})
	add(&plans.ResourceChange{Address: "fabric.old", Kind: "fabric", Name: "old", Provider: "sim", Action: plans.Delete,
		Reason: "removed from configuration", Before: json.RawMessage(`{"transport":"ethernet"}`)})
	for i := range 5 {
		add(&plans.ResourceChange{Address: fmt.Sprintf("hardware.gpu[%d]", i), Kind: "hardware", Name: "gpu", Index: i, Provider: "sim",
			Action: plans.Create, Reason: "new", After: json.RawMessage(`{"device_type":"dgx-h100","gpus":8,"rack":"r1"}`),
			AfterUnknown: []string{"id"}, Derived: []string{"gpus"}})
	}
	add(&plans.ResourceChange{Address: "hardware.mgmt", Kind: "hardware", Name: "mgmt", Provider: "sim", Action: plans.Create,
		After: json.RawMessage(`{"device_type":"cpu-server","rack":"r2"}`), AfterUnknown: []string{"id"}})
	add(&plans.ResourceChange{Address: "hardware.node[1]", Kind: "hardware", Name: "node", Index: 1, Provider: "sim",
		Action: plans.Update, Reason: "drift", ChangedAttributes: []string{"role"},
		Before: json.RawMessage(`{"role":"management"}`), After: json.RawMessage(`{"role":"compute"}`)})
	add(&plans.ResourceChange{Address: "hardware.node[2]", Kind: "hardware", Name: "node", Index: 2, Provider: "sim",
		Action: plans.Replace, Reason: "config changed", ChangedAttributes: []string{"device_type"}, ReplacePaths: []string{"device_type"},
		Before: json.RawMessage(`{"device_type":"cpu-server"}`), After: json.RawMessage(`{"device_type":"dgx-h200"}`)})
	p.Aggregates = []*plans.FacilityImpact{{Address: "facility.lab",
		Before: &schema.FacilitySummary{Address: "facility.lab", ITLoadKW: 10, FacilityKW: 12, HeadroomKW: 90, AnnualMWh: 105.12, AnnualCO2T: 42.05, Racks: 1, Switches: 1},
		After: &schema.FacilitySummary{Address: "facility.lab", ITLoadKW: 71.4, FacilityKW: 85.68, HeadroomKW: 28.6, AnnualMWh: 750.56, AnnualCO2T: 300.22,
			GPUs: 48, Racks: 2, Switches: 1, UsableTB: 15.36}}}
	return p
}

func TestPlanRendering_golden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		render func(*bytes.Buffer, *plans.Plan)
	}{
		{"plan.golden", func(b *bytes.Buffer, p *plans.Plan) { PlanText(b, p, false) }},
		{"plan.md.golden", func(b *bytes.Buffer, p *plans.Plan) { PlanMarkdown(b, p) }},
		{"plan.json.golden", func(b *bytes.Buffer, p *plans.Plan) { _ = PlanJSON(b, p) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got bytes.Buffer
			tc.render(&got, samplePlan())
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/fabrica/command/views -update)", err)
			}
			if d := cmp.Diff(string(want), got.String()); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.file, d)
			}
		})
	}
}

func TestPlanJSON_roundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := PlanJSON(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	var back plans.Plan
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.FormatVersion != plans.FormatVersion || len(back.ResourceChanges) != 10 {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestShortValue(t *testing.T) {
	s80 := `"` + strings.Repeat("é", 78) + `"` // 80 characters
	for _, tc := range []struct{ in, want string }{
		{`{ "a" : [1, 2] }`, `{"a":[1,2]}`},
		{`"a b"`, `"a b"`},
		{s80, s80},
		{s80 + "x", s80[:len(`"`)+76*len("é")] + "…"},
		{`[` + strings.Repeat(`"hardware.n",`, 20) + `1]`, `["hardware.n","hardware.n","hardware.n","hardware.n","hardware.n","hardware.n…`},
		{`not json`, `not json`},
	} {
		if got := shortValue(json.RawMessage(tc.in)); got != tc.want {
			t.Errorf("shortValue(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := shortValue(nil); got != "(none)" {
		t.Errorf("shortValue(nil) = %s", got)
	}
}
