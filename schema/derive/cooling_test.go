package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAirflowCFM(t *testing.T) {
	tests := []struct {
		name        string
		kw, deltaTF float64
		want        float64
	}{
		{"4 × DGX H100 at ΔT 20 °F (domain.md §2.3)", 40.8, 20, 6450},
		{"1 kW at ΔT 20 °F", 1, 20, 158},
		{"no temperature rise", 40.8, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, AirflowCFM(tt.kw, tt.deltaTF), approx(2e-3)); diff != "" {
				t.Errorf("AirflowCFM mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWaterFlowLPM(t *testing.T) {
	tests := []struct {
		name        string
		kw, deltaTK float64
		want        float64
	}{
		{"NVL72 120 kW at 10 K (domain.md §2.3)", 120, 10, 172},
		{"wider ΔT halves the flow", 120, 20, 86},
		{"no temperature rise", 120, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, WaterFlowLPM(tt.kw, tt.deltaTK), approx(2e-3)); diff != "" {
				t.Errorf("WaterFlowLPM mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRackCooling(t *testing.T) {
	type row struct {
		LimitKW           float64
		Kind              string
		HoldsAir, HoldsLq bool
	}
	want := map[string]row{
		"air":       {30, "air", true, false},
		"rdhx":      {80, "air", true, false},
		"dlc":       {150, "liquid", true, true},
		"immersion": {200, "liquid", false, true},
		"swamp":     {0, "", false, false},
	}
	got := map[string]row{}
	for c := range want {
		got[c] = row{RackCoolingLimitKW(c), CoolingKind(c), CoolingSatisfies(c, "air"), CoolingSatisfies(c, "liquid")}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rack cooling mismatch (-want +got):\n%s", diff)
	}
	if CoolingSatisfies("air", "") {
		t.Errorf("an unknown requirement must not be satisfied")
	}
}
