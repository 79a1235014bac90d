package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFacility(t *testing.T) {
	tests := []struct {
		name                         string
		itLoad, pue, itPower, carbon float64
		want                         FacilityPower
		tol                          float64
	}{
		{
			// domain.md §2.2: 128 DGX H100 = 1,305.6 kW, +10 % → 1,436 kW IT;
			// PUE 1.3 → 1,867 kW, 16,355 MWh ≈ 16.4 GWh/yr; at 300 g/kWh ≈4,907 t.
			name:   "128 DGX H100",
			itLoad: 128 * 10.2 * 1.1, pue: 1.3, itPower: 2000, carbon: 300,
			want: FacilityPower{ITLoadKW: 1436, FacilityLoadKW: 1867, HeadroomKW: 564,
				AnnualMWh: 16355, AnnualCO2T: 4907, DCiE: 0.769},
			tol: 3e-3,
		},
		{
			name:   "over capacity",
			itLoad: 1000, pue: 1.2, itPower: 900, carbon: 0,
			want: FacilityPower{ITLoadKW: 1000, FacilityLoadKW: 1200, HeadroomKW: -100,
				AnnualMWh: 10512, DCiE: 1 / 1.2},
			tol: 1e-9,
		},
		{
			name:   "no pue",
			itLoad: 100,
			want:   FacilityPower{ITLoadKW: 100, HeadroomKW: -100},
			tol:    1e-9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Facility(tt.itLoad, tt.pue, tt.itPower, tt.carbon)
			if diff := cmp.Diff(tt.want, got, approx(tt.tol)); diff != "" {
				t.Errorf("Facility mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFeedCapacityKW(t *testing.T) {
	tests := []struct {
		name                 string
		volts, amps, utilPct float64
		threePhase           bool
		want                 float64
	}{
		{"415 V 3φ 63 A (domain.md §2.2)", 415, 63, 80, true, 36.2},
		{"415 V 3φ 80 A (domain.md §2.2)", 415, 80, 80, true, 46.0},
		{"utilization defaults to 80 %", 415, 80, 0, true, 46.0},
		{"NetBox default 120 V 15 A", 120, 15, 80, false, 1.44},
		{"no derating", 230, 32, 100, false, 7.36},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FeedCapacityKW(tt.volts, tt.amps, tt.utilPct, tt.threePhase)
			if diff := cmp.Diff(tt.want, got, approx(2e-3)); diff != "" {
				t.Errorf("FeedCapacityKW mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
